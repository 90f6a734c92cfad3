import { codecRejection, statusText, type HcmRejection } from './request-checks.js';

/** What node's HTTP/1 parser (llhttp) reports on a `clientError`. */
export interface ParserError {
  readonly code?: string;
  readonly reason?: string;
}

/**
 * Envoy's reply for an HTTP/1 request its codec refuses (source/common/http/http1/codec_impl.cc
 * Http1ResponseCodeDetailValues; the status text is the body): too large → 431
 * http1.headers_too_large; Content-Length with Transfer-Encoding → 400
 * http1.content_length_and_chunked_not_allowed; a coding other than chunked → 501
 * http1.invalid_transfer_encoding; a bad character in a header value → 400
 * http1.invalid_characters; every other parse failure (duplicate Content-Length, obs-fold, bare
 * LF, an unknown or lower-case method, a malformed request line or chunk) → 400 http1.codec_error.
 * `undefined`: not a protocol error (the socket failed); the connection is just closed.
 */
export function rejectionForParserError(error: ParserError): HcmRejection | undefined {
  const code = error.code ?? '';
  const reason = error.reason ?? '';
  // llhttp reports Content-Length + Transfer-Encoding under either code, depending on order.
  if ((code === 'HPE_UNEXPECTED_CONTENT_LENGTH' || code === 'HPE_INVALID_TRANSFER_ENCODING') && /content-length/i.test(reason) && /transfer-encoding/i.test(reason)) {
    return codecRejection(400, 'http1.content_length_and_chunked_not_allowed');
  }
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return codecRejection(431, 'http1.headers_too_large');
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return codecRejection(400, 'http1.codec_error');
    case 'HPE_INVALID_TRANSFER_ENCODING':
      return codecRejection(501, 'http1.invalid_transfer_encoding');
    case 'HPE_INVALID_HEADER_TOKEN':
      return /value/i.test(reason) ? codecRejection(400, 'http1.invalid_characters') : codecRejection(400, 'http1.codec_error');
    case 'ECONNRESET': case 'EPIPE': case 'ERR_STREAM_DESTROYED':
      return undefined;
    default:
      return code.startsWith('HPE_') ? codecRejection(400, 'http1.codec_error') : undefined;
  }
}

/**
 * The bytes Envoy writes for a codec-level local reply on HTTP/1: the status, a text/plain body,
 * `server: envoy` and `connection: close` (the codec error ends the connection).
 */
export function http1RejectionBytes(rejection: HcmRejection, date = new Date()): Buffer {
  const body = Buffer.from(rejection.body, 'latin1');
  const head = `HTTP/1.1 ${rejection.status} ${statusText(rejection.status)}\r\n` +
    `content-length: ${body.byteLength}\r\n` +
    (body.byteLength > 0 ? 'content-type: text/plain\r\n' : '') +
    `date: ${date.toUTCString()}\r\nserver: envoy\r\nconnection: close\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}
