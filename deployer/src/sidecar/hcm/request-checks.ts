import type { HttpProtocol } from '../../host/api.js';
import { authorityIsValid, stripTrailingHostDot } from './authority.js';
import type { HcmConfig } from './config.js';
import { normalizeRequestPath } from './path.js';

/** nghttp2 error codes used for RST_STREAM (RFC 9113 §7). */
export const H2_PROTOCOL_ERROR = 0x1;
export const H2_INTERNAL_ERROR = 0x2;

/**
 * A request the HCM refuses before any filter runs, with Envoy's status, body and response code
 * details. `codec` rejections come from Envoy's codec (source/common/http/http1/codec_impl.cc
 * sendProtocolError): they carry the DPE flag and close an HTTP/1 connection; for HTTP/2 the
 * codec resets the stream instead (`h2ResetCode`).
 */
export interface HcmRejection {
  readonly status: number;
  readonly body: string;
  readonly details: string;
  readonly codec: boolean;
  readonly h2ResetCode?: number;
  readonly location?: string;
}

const REASON: Readonly<Record<number, string>> = {
  307: 'Temporary Redirect', 400: 'Bad Request', 404: 'Not Found', 408: 'Request Timeout', 413: 'Payload Too Large',
  426: 'Upgrade Required', 431: 'Request Header Fields Too Large', 501: 'Not Implemented', 503: 'Service Unavailable',
};

/** The reason phrase Envoy writes for a status (source/common/http/codes.cc CodeUtility::toString). */
export function statusText(status: number): string {
  return REASON[status] ?? 'Unknown';
}

/** Envoy's codec replies carry the status text as the body (CodeUtility::toString). */
export function codecRejection(status: number, details: string): HcmRejection {
  return { status, body: statusText(status), details, codec: true };
}

/**
 * The HCM's checks and rewrites on request headers, in Envoy's order: the codec's limits
 * (max_headers_count, max_request_headers_kb), Transfer-Encoding and authority validity
 * (HeaderUtility::requestHeadersValid), then ConnectionManagerImpl::ActiveStream::decodeHeaders:
 * HTTP/1.0 without accept_http_10 (426), missing Host (400), non-relative path (404), path
 * normalization (400 / 307), trailing host dot. `headers` is rewritten in place.
 */
export function decodeRequestHeaders(headers: [string, string][], rawHeaders: readonly string[], protocol: HttpProtocol, config: HcmConfig): HcmRejection | undefined {
  const http2 = protocol === 'HTTP/2';
  let bytes = 0;
  let transferEncoding: string | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    bytes += rawHeaders[i]!.length + rawHeaders[i + 1]!.length;
    if (!http2 && rawHeaders[i]!.length === 17 && rawHeaders[i]!.toLowerCase() === 'transfer-encoding') {
      transferEncoding = transferEncoding === undefined ? rawHeaders[i + 1]! : `${transferEncoding},${rawHeaders[i + 1]!}`;
    }
  }
  const count = rawHeaders.length / 2;
  if (count > config.maxHeadersCount) {
    return http2 ? h2Reset('http2.too_many_headers') : codecRejection(431, 'http1.too_many_headers');
  }
  if (bytes > config.maxRequestHeadersKb * 1024) {
    return http2 ? h2Reset('http2.too_many_headers') : codecRejection(431, 'http1.headers_too_large');
  }
  // RFC 9112 §6.1: Envoy understands only `chunked` and answers 501 for any other coding.
  if (transferEncoding !== undefined && transferEncoding.trim().toLowerCase() !== 'chunked') {
    return codecRejection(501, 'http1.invalid_transfer_encoding');
  }
  const authorityAt = indexOf(headers, ':authority');
  const authority = authorityAt < 0 ? '' : headers[authorityAt]![1];
  if (authority !== '' && !authorityIsValid(authority)) {
    return http2 ? { ...h2Reset('http.invalid_authority'), h2ResetCode: H2_PROTOCOL_ERROR } : codecRejection(400, 'http.invalid_authority');
  }
  if (protocol === 'HTTP/1.0' && !config.acceptHttp10) {
    return { status: 426, body: '', details: 'low_version', codec: false };
  }
  if (authority === '') return { status: 400, body: '', details: 'missing_host_header', codec: false };
  const pathAt = indexOf(headers, ':path');
  const path = pathAt < 0 ? '' : headers[pathAt]![1];
  if (path === '') return { status: 404, body: '', details: 'missing_path', codec: false };
  if (path[0] !== '/') return { status: 404, body: '', details: 'absolute_path', codec: false };
  const verdict = normalizeRequestPath(path, config);
  if (verdict.action === 'reject') return { status: 400, body: '', details: 'path_normalization_failed', codec: false };
  if (verdict.action === 'redirect') {
    // gRPC clients do not follow redirects: Envoy rejects them instead.
    const grpc = (headerValue(headers, 'content-type') ?? '').startsWith('application/grpc');
    return grpc
      ? { status: 400, body: '', details: 'path_normalization_failed', codec: false }
      : { status: 307, body: '', details: 'path_normalization_failed', codec: false, location: verdict.path };
  }
  if (verdict.path !== path) headers[pathAt]![1] = verdict.path;
  if (config.stripTrailingHostDot) headers[authorityAt]![1] = stripTrailingHostDot(authority);
  return undefined;
}

function h2Reset(details: string): HcmRejection {
  return { status: 0, body: '', details, codec: true, h2ResetCode: H2_INTERNAL_ERROR };
}

function indexOf(headers: readonly (readonly [string, string])[], name: string): number {
  for (let i = 0; i < headers.length; i++) if (headers[i]![0] === name) return i;
  return -1;
}

function headerValue(headers: readonly (readonly [string, string])[], name: string): string | undefined {
  const at = indexOf(headers, name);
  return at < 0 ? undefined : headers[at]![1];
}
