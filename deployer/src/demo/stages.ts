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

export const DEMO_STAGES: readonly DemoStage[] = [
  {
    filter: 'example',
    describe: 'adds configured headers to requests and responses, counts streams',
    configuration: () => ({
      request_headers: { 'x-wasmesh-tenant': 'demo' },
      response_headers: { 'x-wasmesh-example': 'hello' },
    }),
    requests: [
      { title: 'plain GET through the chain', method: 'GET', path: '/products/42', expectStatus: 200, expectResponseHeaders: { 'x-wasmesh-example': 'hello' } },
      { title: 'POST with a body', method: 'POST', path: '/orders', expectStatus: 200, expectResponseHeaders: { 'x-wasmesh-example': 'hello' } },
    ],
  },
];
