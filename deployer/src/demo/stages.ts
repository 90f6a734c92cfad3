/**
 * The demo's filter chain, one stage per filter, in chain order. A stage brings its filter's
 * embedded configuration and the requests that show what the filter does; `deployer demo` runs
 * every stage whose module is built (build/filters/<name>.wasm).
 *
 * Adding a filter to the demo is adding a stage here: jwt-auth and rbac plug in before `example`
 * (authentication, then authorization, as Istio orders them), with their configs built from the
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
}

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
