/**
 * The demo's filter chain, one stage per filter, in chain order. A stage brings its filter's
 * embedded configuration and the requests that show what the filter does; `deployer demo` runs
 * every stage whose module is built (build/filters/<name>.wasm).
 *
 * Stages follow the suite order (deployer/src/suite.ts: jwt-auth → rbac → header-router →
 * metrics), then `example`, the template filter outside the suite. Configs are built from the
 * demo's key material (`DemoKeys`: an in-process JWKS and a signer for tokens).
 */
export interface DemoKeys {
  /** JWKS JSON text with the demo's public key. */
  readonly jwks: string;
  readonly issuer: string;
  readonly audience: string;
  /** A signed RS256 token for `subject` with the given extra claims. */
  signToken(subject: string, claims?: Readonly<Record<string, unknown>>): string;
}

export interface DemoRequest {
  /** What the request shows, printed in the report. */
  readonly title: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers?: (keys: DemoKeys) => Readonly<Record<string, string>>;
  /** The outcome the demo expects; a mismatch makes `deployer demo` exit 1. */
  readonly expectStatus: number;
  readonly expectResponseHeaders?: Readonly<Record<string, string>>;
  /** Request headers the upstream must have seen (a routing decision, say). */
  readonly expectUpstreamHeaders?: Readonly<Record<string, string>>;
}

/** The demo's upstream clusters: `app`, and two versions of it for header-router to choose between. */
export const DEMO_CLUSTERS = ['app', 'app-v1', 'app-v2'] as const;
/** header-router's routing header (its default); the demo's routes match it exactly, one per version. */
export const DEMO_ROUTE_HEADER = 'x-wasmesh-route';

export interface DemoStage {
  /** Filter name = module build/filters/<filter>.wasm = root_id. */
  readonly filter: string;
  readonly describe: string;
  readonly configuration: (keys: DemoKeys) => unknown;
  readonly requests: readonly DemoRequest[];
}

const bearer = (token: string): Readonly<Record<string, string>> => ({ authorization: `Bearer ${token}` });

export const DEMO_STAGES: readonly DemoStage[] = [
  {
    filter: 'jwt-auth',
    describe: 'verifies RS256 bearer tokens against an inline JWKS; copies sub to x-jwt-sub',
    configuration: (keys) => ({
      providers: {
        demo: {
          issuer: keys.issuer,
          audiences: [keys.audience],
          jwks: keys.jwks,
          output_claim_to_headers: [{ header: 'x-jwt-sub', claim: 'sub' }],
        },
      },
      rules: [{ match: { prefix: '/' }, requires: ['demo'] }],
    }),
    requests: [
      { title: 'valid token for alice', method: 'GET', path: '/products/7', headers: (keys) => bearer(keys.signToken('alice')), expectStatus: 200 },
      { title: 'no token', method: 'GET', path: '/products/7', expectStatus: 401 },
      { title: 'token with a forged signature', method: 'GET', path: '/products/7', headers: (keys) => bearer(`${keys.signToken('mallory').slice(0, -8)}AAAAAAAA`), expectStatus: 401 },
    ],
  },
  {
    filter: 'rbac',
    describe: 'Istio AuthorizationPolicy: DENY /admin/* for everyone',
    configuration: () => ({
      policies: [{
        metadata: { name: 'deny-admin', namespace: 'demo' },
        spec: { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin/*'] } }] }] },
      }],
    }),
    requests: [
      { title: 'alice reads a product', method: 'GET', path: '/products/9', headers: (keys) => bearer(keys.signToken('alice')), expectStatus: 200 },
      { title: 'alice tries an admin path', method: 'GET', path: '/admin/users', headers: (keys) => bearer(keys.signToken('alice')), expectStatus: 403 },
    ],
  },
  {
    filter: 'header-router',
    describe: 'VirtualService routing: end-user jason → v2; others a 90/10 canary, sticky per user; /old redirects',
    configuration: () => ({
      debugHeader: 'x-wasmesh-debug',
      clusters: ['app-v1', 'app-v2'],
      virtualServices: [{
        name: 'demo/app',
        sticky: { key: 'header:end-user' },
        http: [
          { name: 'old-path', match: [{ uri: { prefix: '/old/' } }], redirect: { uri: '/products/', redirectCode: 301 } },
          { name: 'jason', match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [{ destination: 'app-v2' }] },
          { name: 'canary', route: [{ destination: 'app-v1', weight: 90 }, { destination: 'app-v2', weight: 10 }] },
        ],
      }],
    }),
    requests: [
      { title: 'end-user jason', method: 'GET', path: '/reviews/1', headers: (keys) => ({ ...bearer(keys.signToken('jason')), 'end-user': 'jason' }), expectStatus: 200, expectUpstreamHeaders: { [DEMO_ROUTE_HEADER]: 'app-v2' } },
      {
        title: 'end-user alice, with the debug header',
        method: 'GET',
        path: '/reviews/1',
        // A sticky split: alice's key hashes to the same version on every request.
        headers: (keys) => ({ ...bearer(keys.signToken('alice')), 'end-user': 'alice', 'x-wasmesh-debug': '1' }),
        expectStatus: 200,
      },
      { title: 'a client-sent routing header is ignored', method: 'GET', path: '/reviews/1', headers: (keys) => ({ ...bearer(keys.signToken('jason')), 'end-user': 'jason', [DEMO_ROUTE_HEADER]: 'app-v1' }), expectStatus: 200, expectUpstreamHeaders: { [DEMO_ROUTE_HEADER]: 'app-v2' } },
      { title: 'an old path', method: 'GET', path: '/old/7', headers: (keys) => bearer(keys.signToken('alice')), expectStatus: 301 },
    ],
  },
  {
    filter: 'metrics',
    describe: "Istio's standard metrics (istio_requests_total, durations, sizes) for every stream, local replies included",
    configuration: () => ({}),
    requests: [
      { title: 'counted like every other request', method: 'GET', path: '/products/3', headers: (keys) => bearer(keys.signToken('bob')), expectStatus: 200 },
    ],
  },
  {
    filter: 'example',
    describe: 'adds configured headers to requests and responses, counts streams',
    configuration: () => ({
      request_headers: { 'x-wasmesh-tenant': 'demo' },
      response_headers: { 'x-wasmesh-example': 'hello' },
    }),
    requests: [
      { title: 'GET through the whole chain', method: 'GET', path: '/products/42', headers: (keys) => bearer(keys.signToken('bob')), expectStatus: 200, expectResponseHeaders: { 'x-wasmesh-example': 'hello' } },
      { title: 'POST with a body', method: 'POST', path: '/orders', headers: (keys) => bearer(keys.signToken('bob')), expectStatus: 200, expectResponseHeaders: { 'x-wasmesh-example': 'hello' } },
    ],
  },
];
