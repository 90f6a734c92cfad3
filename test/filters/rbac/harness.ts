/**
 * Shared helpers for the rbac filter tests: load the BUILT module in the host emulator and
 * drive one request described by a fixture row (test/fixtures/rbac/*.json).
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { ConnectionInfo, HeaderList, NodeInfo } from '../../../deployer/src/host/api.js';
import { HostEmulator } from '../../../deployer/src/host/testing/emulator.js';
import { builtFilter, repoRoot } from '../../setup/paths.js';

export const fixtureDir = path.join(repoRoot, 'test', 'fixtures', 'rbac');

/** One request as the fixtures describe it; everything optional has a plain-HTTP default. */
export interface RequestSpec {
  readonly method?: string;
  readonly path?: string;
  readonly authority?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Direct peer `ip:port` / `[v6]:port` (default 10.0.0.1:40000). */
  readonly peer?: string;
  /** Local address `ip:port` (default 10.0.0.2:8080). */
  readonly destination?: string;
  /** Peer certificate URI SAN; absent = plaintext. */
  readonly principal?: string;
  readonly sni?: string;
  /** Verified JWT payload, handed over as the jwt-auth filter does (header fallback). */
  readonly jwt?: Readonly<Record<string, unknown>>;
  /** Envoy `connection.id` of the downstream connection; absent = a connection never used before. */
  readonly connection?: number;
}

export interface DecisionCase {
  readonly name: string;
  readonly request: RequestSpec;
  /** 200: the filter let the request through; otherwise the local reply status. */
  readonly status: number;
  /** The `:path` forwarded upstream, when the case checks normalization. */
  readonly forwardedPath?: string;
  /** Substring of the local reply details (e.g. the deciding policy). */
  readonly details?: string;
}

export interface DecisionFixture {
  readonly title: string;
  /** Where the policies and expected decisions come from. */
  readonly reference?: string;
  readonly config: unknown;
  readonly cases: readonly DecisionCase[];
}

export function loadFixtures(prefix: string): Array<[string, DecisionFixture]> {
  return readdirSync(fixtureDir)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.json'))
    .sort()
    .map((f) => [f, JSON.parse(readFileSync(path.join(fixtureDir, f), 'utf8')) as DecisionFixture]);
}

export function readFixture<T>(name: string): T {
  return JSON.parse(readFileSync(path.join(fixtureDir, name), 'utf8')) as T;
}

export async function loadRbac(config: unknown, options: { readonly logLevel?: 'trace' | 'debug' | 'info'; readonly node?: NodeInfo } = {}): Promise<HostEmulator> {
  return HostEmulator.load({
    ...(options.node ? { node: options.node } : {}),
    wasm: builtFilter('rbac'),
    rootId: 'rbac',
    name: 'rbac',
    configuration: typeof config === 'string' ? config : JSON.stringify(config),
    logLevel: options.logLevel ?? 'debug',
  });
}

function splitAddress(value: string): [string, number] {
  const v6 = /^\[(.*)\]:(\d+)$/.exec(value);
  if (v6) return [v6[1]!, Number(v6[2])];
  const v4 = /^([^:]+):(\d+)$/.exec(value);
  if (v4) return [v4[1]!, Number(v4[2])];
  throw new Error(`address ${JSON.stringify(value)}: expected ip:port or [v6]:port`);
}

let connectionId = 100;

export function connectionFor(request: RequestSpec): ConnectionInfo {
  const [sourceAddress, sourcePort] = splitAddress(request.peer ?? '10.0.0.1:40000');
  const [destinationAddress, destinationPort] = splitAddress(request.destination ?? '10.0.0.2:8080');
  const tls = request.principal !== undefined || request.sni !== undefined
    ? {
      ...(request.principal !== undefined ? { peerCertificate: { uriSans: [request.principal], dnsSans: [], subject: '' } } : {}),
      ...(request.sni !== undefined ? { requestedServerName: request.sni } : {}),
    }
    : undefined;
  return { id: request.connection ?? connectionId++, sourceAddress, sourcePort, destinationAddress, destinationPort, ...(tls ? { tls } : {}) };
}

export function headersFor(request: RequestSpec): HeaderList {
  // An empty `path` means no :path at all (CONNECT, RFC 9113 §8.5).
  const headers: Array<[string, string]> = [
    [':method', request.method ?? 'GET'],
    ...(request.path === '' ? [] : [[':path', request.path ?? '/'] as [string, string]]),
    [':authority', request.authority ?? 'httpbin.foo.svc.cluster.local'],
    ...(request.path === '' ? [] : [[':scheme', 'http'] as [string, string]]),
  ];
  for (const [name, value] of Object.entries(request.headers ?? {})) headers.push([name.toLowerCase(), value]);
  if (request.jwt !== undefined) headers.push(['x-wasmesh-jwt-payload', Buffer.from(JSON.stringify(request.jwt)).toString('base64url')]);
  return headers;
}

export interface Outcome {
  readonly status: number;
  readonly details: string;
  readonly body: string;
  readonly forwardedPath: string | undefined;
  readonly id: number;
}

/** Runs one request through the filter; status 200 means it continued to the upstream. */
export function runRequest(emulator: HostEmulator, request: RequestSpec): Outcome {
  const id = emulator.initializeHttpContext({ streamInfo: { connection: connectionFor(request), protocol: 'HTTP/1.1' } });
  const action = emulator.callOnRequestHeaders(id, headersFor(request), true);
  const reply = emulator.getSentLocalResponse(id);
  const forwarded = emulator.getCurrentRequestHeaders(id).find(([n]) => n === ':path')?.[1];
  if (action === 'Pause') return { status: 0, details: 'paused', body: '', forwardedPath: forwarded, id };
  const outcome: Outcome = reply === undefined
    ? { status: 200, details: '', body: '', forwardedPath: forwarded, id }
    : { status: reply.status, details: reply.details, body: new TextDecoder().decode(reply.body), forwardedPath: forwarded, id };
  return outcome;
}

export function finish(emulator: HostEmulator, id: number): void {
  emulator.completeHttpContext(id);
}
