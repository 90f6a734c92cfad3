import type { HeaderList, LocalReply } from '../host/api.js';

const EMPTY = new Uint8Array(0);

/**
 * Replies the router itself generates, with Envoy's status, body, response code details and
 * response flags (source/common/router/router.cc; flags as in StreamInfo::ResponseFlagUtils:
 * NR no route, UF upstream connection failure, UC upstream connection termination,
 * UT upstream request timeout).
 */
export interface RouterReply {
  readonly status: number;
  readonly details: string;
  readonly flags: string;
  readonly body: Uint8Array;
}

export function noRouteReply(): RouterReply {
  return { status: 404, details: 'route_not_found', flags: 'NR', body: EMPTY };
}

export function upstreamResetReply(resetReason: 'connection failure' | 'connection timeout' | 'connection termination', transportReason: string | undefined): RouterReply {
  const flag = resetReason === 'connection termination' ? 'UC' : 'UF';
  const detailReason = resetReason.replace(' ', '_');
  const text = `upstream connect error or disconnect/reset before headers. reset reason: ${resetReason}` +
    (transportReason ? `, transport failure reason: ${transportReason}` : '');
  return { status: 503, details: `upstream_reset_before_response_started{${detailReason}}`, flags: flag, body: new TextEncoder().encode(text) };
}

export function upstreamTimeoutReply(): RouterReply {
  return { status: 504, details: 'upstream_response_timeout', flags: 'UT', body: new TextEncoder().encode('upstream request timeout') };
}

/**
 * Headers of a local reply as Envoy's sendLocalReply writes them: `:status`, the filter's
 * headers, then content-length and content-type text/plain for a non-empty body unless set
 * (source/common/http/utility.cc Utility::sendLocalReply). A gRPC status becomes grpc-status.
 */
export function localReplyHeaders(status: number, body: Uint8Array, extra: HeaderList, grpcStatus?: number): [string, string][] {
  const headers: [string, string][] = [[':status', String(status)], ...extra.filter(([name]) => name !== ':status' && name !== 'content-length').map(([n, v]): [string, string] => [n, v])];
  if (grpcStatus !== undefined && !headers.some(([n]) => n === 'grpc-status')) headers.push(['grpc-status', String(grpcStatus)]);
  if (body.byteLength > 0 && !headers.some(([n]) => n === 'content-type')) headers.push(['content-type', 'text/plain']);
  headers.push(['content-length', String(body.byteLength)]);
  return headers;
}

export function filterLocalReplyHeaders(reply: LocalReply): [string, string][] {
  return localReplyHeaders(reply.status, reply.body, reply.headers, reply.grpcStatus);
}
