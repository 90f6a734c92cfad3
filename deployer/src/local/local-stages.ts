/**
 * What `deployer local test` sends: the demo's stage shape (deployer/src/demo/stages.ts) with the
 * requests that show each filter of envoy-configs/envoy.yaml ≡ sidecar.yaml, so the same table
 * comes out of the real Envoy and of the fallback on our host.
 */
import type { DemoStage } from '../demo/stages.js';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export const LOCAL_STAGES: readonly DemoStage[] = [
  {
    filter: 'jwt-auth',
    describe: 'verifies RS256 tokens against the stack\'s JWKS (fetched via cluster jwks); copies sub to x-jwt-sub',
    configuration: () => ({}),
    requests: [
      { title: 'valid token for alice', method: 'GET', path: '/products/7', headers: (keys) => bearer(keys.signToken('alice')), expectStatus: 200 },
      { title: 'no token (allowed, as RequestAuthentication)', method: 'GET', path: '/products/7', expectStatus: 200 },
      { title: 'token with a forged signature', method: 'GET', path: '/products/7', headers: (keys) => bearer(`${keys.signToken('mallory').slice(0, -8)}AAAAAAAA`), expectStatus: 401 },
    ],
  },
  {
    filter: 'rbac',
    describe: 'AuthorizationPolicy: DENY /admin/*; CUSTOM ext_authz for /orders/* (no ext_authz server runs: fails closed)',
    configuration: () => ({}),
    requests: [
      { title: 'denied path', method: 'GET', path: '/admin/users', expectStatus: 403 },
      { title: 'ext_authz unreachable → denied', method: 'GET', path: '/orders/1', expectStatus: 403 },
    ],
  },
  {
    filter: 'header-router',
    describe: 'VirtualService demo/app: end-user jason → v2, else 90/10 v1/v2; sets x-wasmesh-route',
    configuration: () => ({}),
    requests: [
      { title: 'end-user: jason → v2', method: 'GET', path: '/reviews', headers: () => ({ 'end-user': 'jason', 'x-wasmesh-debug': '1' }), expectStatus: 200 },
    ],
  },
  {
    filter: 'metrics',
    describe: 'Istio standard metrics (istio_requests_total, ...) with Istio\'s labels on /stats/prometheus',
    configuration: () => ({}),
    requests: [
      { title: 'counted request', method: 'POST', path: '/cart', expectStatus: 200 },
    ],
  },
];
