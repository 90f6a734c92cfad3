import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type {
  DataOutcome, FilterChain, FilterChainStream, HeaderList, HeadersOutcome, LocalReply, StreamCompletion, StreamInfo, TrailersOutcome,
} from '../../deployer/src/host/api.js';
import { validateSidecarConfig } from '../../deployer/src/sidecar/config/validate.js';
import type { SidecarConfig } from '../../deployer/src/sidecar/config/types.js';
import { startSidecar, type RunningSidecar, type SidecarOptions } from '../../deployer/src/sidecar/sidecar.js';
import { repoRoot } from '../setup/paths.js';

export interface TestUpstream {
  readonly url: string;
  readonly port: number;
  readonly requests: http.IncomingMessage[];
  close(): Promise<void>;
}

/** A real HTTP/1.1 server on loopback; the handler answers each request. */
export async function startUpstream(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<TestUpstream> {
  const requests: http.IncomingMessage[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () => new Promise((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}

/** Answers with a JSON echo of what arrived: method, url, headers, body. */
export function echoHandler(name = 'upstream'): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.stringify({ upstream: name, method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    });
  };
}

/**
 * An echo upstream that holds `/slow` requests: `nextHeld()` (called before the request is sent)
 * resolves, once the next one arrives, with the function that answers it.
 */
export async function startHoldingUpstream(): Promise<TestUpstream & { nextHeld(): Promise<() => void> }> {
  const echo = echoHandler();
  let onHeld: (release: () => void) => void = () => undefined;
  const upstream = await startUpstream((req, res) => {
    if (req.url === '/slow') onHeld(() => echo(req, res));
    else echo(req, res);
  });
  return Object.assign(upstream, { nextHeld: () => new Promise<() => void>((resolve) => { onHeld = resolve; }) });
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export function sidecarConfig(raw: Record<string, unknown>): SidecarConfig {
  return validateSidecarConfig({ listen: '127.0.0.1:0', admin: '127.0.0.1:0', ...raw }, { source: '<test>', baseDir: repoRoot });
}

export interface StartedSidecar extends RunningSidecar {
  readonly accessLog: string[];
}

export async function startTestSidecar(config: SidecarConfig, options: SidecarOptions = {}): Promise<StartedSidecar> {
  const accessLog: string[] = [];
  const sidecar = await startSidecar(config, { accessLog: (line) => accessLog.push(line), onLog: () => undefined, ...options });
  // The prototype carries everything, getters included (config and version change on reload).
  return Object.assign(Object.create(sidecar) as RunningSidecar, { accessLog });
}

export interface FetchResult {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** One HTTP/1.1 request with node:http (no connection reuse, so each test is independent). */
export function request1(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<FetchResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** One request over h2c with prior knowledge (no Upgrade), as `curl --http2-prior-knowledge`. */
export async function request2(url: string, options: { method?: string; path?: string; headers?: Record<string, string>; body?: string } = {}): Promise<FetchResult> {
  const session = http2.connect(url);
  try {
    return await new Promise<FetchResult>((resolve, reject) => {
      session.on('error', reject);
      const stream = session.request({ ':method': options.method ?? 'GET', ':path': options.path ?? '/', ...options.headers }, { endStream: options.body === undefined });
      let status = 0;
      let headers: http.IncomingHttpHeaders = {};
      stream.on('response', (h) => {
        status = Number(h[':status']);
        headers = h as http.IncomingHttpHeaders;
      });
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => resolve({ status, headers, body: Buffer.concat(chunks).toString() }));
      stream.on('error', reject);
      if (options.body !== undefined) stream.end(options.body);
    });
  } finally {
    session.close();
  }
}

export interface FakeFilterHooks {
  onRequestHeaders?(headers: HeaderList, info: StreamInfo): HeadersOutcome | undefined;
  onResponseHeaders?(headers: HeaderList): HeadersOutcome | undefined;
  onRequestBody?(chunk: Uint8Array, endOfStream: boolean): DataOutcome | undefined;
  onResponseBody?(chunk: Uint8Array, endOfStream: boolean): DataOutcome | undefined;
}

export interface FakeChain extends FilterChain {
  readonly calls: string[];
  readonly completions: StreamCompletion[];
  readonly infos: StreamInfo[];
}

/** A stand-in for the wasm chain: records each callback and lets a test change the outcome. */
export function fakeChain(hooks: FakeFilterHooks = {}): FakeChain {
  const calls: string[] = [];
  const completions: StreamCompletion[] = [];
  const infos: StreamInfo[] = [];
  return {
    plugins: [],
    calls,
    completions,
    infos,
    newStream(info: StreamInfo): FilterChainStream {
      infos.push(info);
      const cont = (headers: HeaderList, endOfStream: boolean): HeadersOutcome => ({ action: 'continue', headers, endOfStream, routeCacheCleared: false });
      return {
        requestHeaders: async (headers, eos) => { calls.push(`requestHeaders eos=${eos}`); return hooks.onRequestHeaders?.(headers, info) ?? cont(headers, eos); },
        requestBody: async (data, eos) => { calls.push(`requestBody ${data.byteLength} eos=${eos}`); return hooks.onRequestBody?.(data, eos) ?? { action: 'continue', data, endOfStream: eos }; },
        requestTrailers: async (trailers): Promise<TrailersOutcome> => { calls.push('requestTrailers'); return { action: 'continue', trailers, bufferedData: new Uint8Array(0) }; },
        responseHeaders: async (headers, eos) => { calls.push(`responseHeaders eos=${eos}`); return hooks.onResponseHeaders?.(headers) ?? cont(headers, eos); },
        responseBody: async (data, eos) => { calls.push(`responseBody ${data.byteLength} eos=${eos}`); return hooks.onResponseBody?.(data, eos) ?? { action: 'continue', data, endOfStream: eos }; },
        responseTrailers: async (trailers): Promise<TrailersOutcome> => { calls.push('responseTrailers'); return { action: 'continue', trailers, bufferedData: new Uint8Array(0) }; },
        complete: (completion) => { calls.push('complete'); completions.push(completion); },
      };
    },
  };
}

export function localReply(status: number, body: string, headers: HeaderList = []): HeadersOutcome {
  const reply: LocalReply = { status, details: 'test_local_reply', body: new TextEncoder().encode(body), headers };
  return { action: 'localReply', reply };
}

/** Waits until `predicate` holds (access log lines are written when the response closes). */
export async function eventually(predicate: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
