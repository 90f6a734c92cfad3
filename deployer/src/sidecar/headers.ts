import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import { randomUUID } from 'node:crypto';
import type { HeaderList } from '../host/api.js';

/**
 * Connection-specific headers that never cross a proxy hop (RFC 9110 §7.6.1) and that HTTP/2
 * forbids (RFC 9113 §8.2.2). Envoy strips them on both sides of its codecs.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'http2-settings', 'host']);

export type DownstreamRequest = IncomingMessage | Http2ServerRequest;

/**
 * The request as the filter chain sees it: pseudo-headers first (`:authority`, `:path`,
 * `:method`, `:scheme`), then the remaining headers lower-cased in wire order. Like Envoy's
 * connection manager, fills `x-request-id` (generate_request_id) and `x-forwarded-proto` when
 * absent (https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/headers).
 */
export function downstreamRequestHeaders(req: DownstreamRequest, scheme: 'http' | 'https'): HeaderList {
  const headers = req.headers as IncomingHttpHeaders & Record<string, string | string[] | undefined>;
  const authority = (headers[':authority'] as string | undefined) ?? headers.host ?? '';
  const list: [string, string][] = [
    [':authority', authority],
    [':path', (headers[':path'] as string | undefined) ?? req.url ?? '/'],
    [':method', (headers[':method'] as string | undefined) ?? req.method ?? 'GET'],
    [':scheme', scheme],
  ];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name.startsWith(':') || HOP_BY_HOP.has(name)) continue;
    list.push([name, raw[i + 1]!]);
  }
  if (!list.some(([name]) => name === 'x-forwarded-proto')) list.push(['x-forwarded-proto', scheme]);
  if (!list.some(([name]) => name === 'x-request-id')) list.push(['x-request-id', randomUUID()]);
  return list;
}

/** An upstream (or http-call) response's headers: `:status` first, hop-by-hop removed. */
export function responseHeaderList(status: number, rawHeaders: readonly string[]): [string, string][] {
  const list: [string, string][] = [[':status', String(status)]];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name)) continue;
    list.push([name, rawHeaders[i + 1]!]);
  }
  return list;
}

/** responseHeaderList over undici's raw header buffers (latin1, as node's HTTP parser decodes them). */
export function responseHeaderListOfBuffers(status: number, rawHeaders: readonly Buffer[]): [string, string][] {
  const list: [string, string][] = [[':status', String(status)]];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toString('latin1').toLowerCase();
    if (HOP_BY_HOP.has(name)) continue;
    list.push([name, rawHeaders[i + 1]!.toString('latin1')]);
  }
  return list;
}

export function trailerListOfBuffers(rawTrailers: readonly (Buffer | string)[]): [string, string][] {
  const text = (raw: Buffer | string) => (typeof raw === 'string' ? raw : raw.toString('latin1'));
  const list: [string, string][] = [];
  for (let i = 0; i + 1 < rawTrailers.length; i += 2) list.push([text(rawTrailers[i]!).toLowerCase(), text(rawTrailers[i + 1]!)]);
  return list;
}

/**
 * Request headers for undici, flat (`name, value, …`): pseudo-headers and hop-by-hop ones
 * dropped, `:authority` as Host. `expect` is dropped too: Envoy answers 100-continue itself and
 * strips it (proxy_100_continue off), and undici refuses it.
 */
export function upstreamHeaderArray(list: HeaderList): string[] {
  const out: string[] = [];
  for (const [name, value] of list) {
    if (name === ':authority') {
      if (value !== '') out.push('host', value);
      continue;
    }
    if (name.charCodeAt(0) === 0x3a || HOP_BY_HOP.has(name) || name === 'expect') continue;
    out.push(name, value);
  }
  return out;
}

export function trailerList(rawTrailers: readonly string[]): [string, string][] {
  const list: [string, string][] = [];
  for (let i = 0; i + 1 < rawTrailers.length; i += 2) list.push([rawTrailers[i]!.toLowerCase(), rawTrailers[i + 1]!]);
  return list;
}

/** Regular (non-pseudo, non-hop-by-hop) headers as a Node header object; repeats become arrays. */
export function toNodeHeaders(list: HeaderList): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of list) {
    if (name.startsWith(':') || HOP_BY_HOP.has(name)) continue;
    const previous = out[name];
    if (previous === undefined) out[name] = value;
    else if (Array.isArray(previous)) previous.push(value);
    else out[name] = [previous, value];
  }
  return out;
}

export function pseudo(list: HeaderList, name: string): string | undefined {
  for (const [key, value] of list) if (key === name) return value;
  return undefined;
}
