/** Helpers of the filter chain: byte concatenation, header copies, local reply headers. */
import type { HeaderList, LocalReply } from './api.js';
import type { MutablePair } from './abi/pairs.js';

/** Envoy's response code details for a failed VM / a reset stream (envoy:context.cc). */
export const FAIL_STREAM_DETAILS = 'wasm_fail_stream';
export const CLOSE_STREAM_DETAILS = 'wasm_close_stream';
export const GRPC_UNAVAILABLE = 14;
/**
 * Envoy's replies when buffered body exceeds the stream's buffer limit
 * (source/common/http/filter_manager.cc requestDataTooLarge / responseDataTooLarge: 413
 * "Payload Too Large" sent through the encoder filters; 500 "Internal Server Error" sent
 * directly, or a stream reset once the response headers went out).
 */
export const REQUEST_PAYLOAD_TOO_LARGE = 'request_payload_too_large';
export const RESPONSE_PAYLOAD_TOO_LARGE = 'response_payload_too_large';

export function concat(a: Uint8Array | null, b: Uint8Array): Uint8Array {
  if (a === null || a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/**
 * The stream's own copy of an embedder's list, for editing. Only the array is copied: pairs
 * are immutable (MutablePair is a readonly tuple; edits replace whole pairs), so sharing them
 * is safe and saves an array per header on every first write (e.g. jwt-auth removing the
 * authorization header of each request).
 */
export function toMutable(list: HeaderList): MutablePair[] {
  return list.slice();
}

/**
 * Response headers of a local reply as Envoy's sendLocalReply builds them: `:status`, the
 * filter's headers, `content-type: text/plain` and `content-length` when there is a body, and
 * `grpc-status` when the filter passed one.
 */
export function localReplyHeaders(reply: LocalReply): MutablePair[] {
  const headers: MutablePair[] = [[':status', String(reply.status)]];
  for (const [k, v] of reply.headers) headers.push([k, v]);
  if (reply.body.length > 0) {
    if (!headers.some(([k]) => k === 'content-type')) headers.push(['content-type', 'text/plain']);
    headers.push(['content-length', String(reply.body.length)]);
  }
  if (reply.grpcStatus !== undefined && !headers.some(([k]) => k === 'grpc-status')) headers.push(['grpc-status', String(reply.grpcStatus)]);
  return headers;
}
