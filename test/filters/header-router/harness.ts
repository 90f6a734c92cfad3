/**
 * Shared helpers for the header-router filter tests: the BUILT module in the host emulator,
 * requests described by fixture rows (test/fixtures/header-router/*.json).
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { HeaderList, LocalReply } from '../../../deployer/src/host/api.js';
import { HostEmulator, type HttpStreamAction } from '../../../deployer/src/host/testing/emulator.js';
import { builtFilter, repoRoot } from '../../setup/paths.js';

export const fixtureDir = path.join(repoRoot, 'test', 'fixtures', 'header-router');
export const ROUTE_HEADER = 'x-wasmesh-route';

export interface RequestSpec {
  readonly method?: string;
  readonly path?: string;
  readonly authority?: string;
  readonly scheme?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Verified JWT payload, handed over as jwt-auth does on a host without set_property. */
  readonly jwt?: Readonly<Record<string, unknown>>;
  readonly principal?: string;
  readonly destinationPort?: number;
  readonly sourceAddress?: string;
}

export interface RoutingCase {
  readonly name: string;
  readonly request: RequestSpec;
  /** Expected routing header; null: none set. */
  readonly route?: string | null;
  /** Rule whose counter must move; null: no rule (no_match). */
  readonly rule?: string | null;
  readonly status?: number;
  readonly body?: string;
  readonly location?: string;
  readonly localHeaders?: Readonly<Record<string, string>>;
  readonly requestHeaders?: Readonly<Record<string, string | null>>;
  /** Upstream response headers handed to onResponseHeaders. */
  readonly response?: Readonly<Record<string, string>>;
  readonly responseHeaders?: Readonly<Record<string, string | null>>;
}

export interface RoutingFixture {
  readonly title: string;
  readonly config: unknown;
  readonly cases: readonly RoutingCase[];
}

export function loadFixtures(): Array<[string, RoutingFixture]> {
  return readdirSync(fixtureDir)
    .filter((f) => f.endsWith('.json') && !f.startsWith('config-'))
    .sort()
    .map((f) => [f, JSON.parse(readFileSync(path.join(fixtureDir, f), 'utf8')) as RoutingFixture]);
}

export function readFixture<T>(name: string): T {
  return JSON.parse(readFileSync(path.join(fixtureDir, name), 'utf8')) as T;
}

export async function loadRouter(config: unknown, extra: { readonly start?: boolean; readonly node?: ConstructorParameters<typeof Object>[0] } = {}): Promise<HostEmulator> {
  return HostEmulator.load({
    wasm: builtFilter('header-router'),
    rootId: 'header-router',
    name: 'header-router',
    configuration: typeof config === 'string' ? config : JSON.stringify(config),
    logLevel: 'info',
    ...(extra.start === false ? { start: false } : {}),
    ...(extra.node ? { node: extra.node as never } : {}),
  });
}

export function headersFor(request: RequestSpec): HeaderList {
  const headers: Array<[string, string]> = [
    [':method', request.method ?? 'GET'],
    [':path', request.path ?? '/'],
    [':authority', request.authority ?? 'api.default.svc.cluster.local'],
    [':scheme', request.scheme ?? 'http'],
  ];
  for (const [name, value] of Object.entries(request.headers ?? {})) headers.push([name.toLowerCase(), value]);
  if (request.jwt !== undefined) headers.push(['x-wasmesh-jwt-payload', Buffer.from(JSON.stringify(request.jwt)).toString('base64url')]);
  return headers;
}

let connectionId = 1000;

export interface Outcome {
  readonly id: number;
  readonly action: HttpStreamAction;
  readonly reply: LocalReply | undefined;
  readonly requestHeaders: [string, string][];
  readonly route: string | undefined;
}

export function runRequest(emulator: HostEmulator, request: RequestSpec): Outcome {
  const [ip, port] = (request.sourceAddress ?? '10.0.0.1:40000').split(':');
  const id = emulator.initializeHttpContext({
    streamInfo: {
      protocol: 'HTTP/1.1',
      connection: {
        id: connectionId++, sourceAddress: ip!, sourcePort: Number(port), destinationAddress: '10.0.0.2', destinationPort: request.destinationPort ?? 8080,
        ...(request.principal ? { tls: { peerCertificate: { uriSans: [request.principal], dnsSans: [], subject: '' } } } : {}),
      },
    },
  });
  const action = emulator.callOnRequestHeaders(id, headersFor(request), true);
  const requestHeaders = emulator.getCurrentRequestHeaders(id);
  return { id, action, reply: emulator.getSentLocalResponse(id), requestHeaders, route: requestHeaders.find(([n]) => n === ROUTE_HEADER)?.[1] };
}

export function headerOf(headers: readonly (readonly [string, string])[], name: string): string | null {
  return headers.find(([n]) => n === name)?.[1] ?? null;
}
