/**
 * JWS Compact Serialization parsing (RFC 7515 §7.1, validation steps §5.2) for JWTs (RFC 7519 §7.2).
 * Strict: three segments, canonical unpadded base64url, UTF-8 JSON objects without duplicate
 * member names, `alg` from the supported list (never "none", RFC 8725 §3.1), `crit` rejected
 * because we implement no extension (RFC 7515 §4.1.11), `b64: false` (RFC 7797) therefore too.
 */
import { JsonValue, parseJson, parseJsonBytes, utf8TextOrNull } from "../../lib/json";
import { base64UrlDecodeAscii, base64UrlDecodeRange } from "../../lib/base64";
import { JwtStatus } from "./status";

export enum Alg { RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, HS256, HS384, HS512, EdDSA }

/** RFC 7518 §3.1 names of the algorithms we verify; anything else is "not supported". */
export function algFromName(name: string): i32 {
  if (name == "RS256") return Alg.RS256;
  if (name == "RS384") return Alg.RS384;
  if (name == "RS512") return Alg.RS512;
  if (name == "PS256") return Alg.PS256;
  if (name == "PS384") return Alg.PS384;
  if (name == "PS512") return Alg.PS512;
  if (name == "ES256") return Alg.ES256;
  if (name == "ES384") return Alg.ES384;
  if (name == "HS256") return Alg.HS256;
  if (name == "HS384") return Alg.HS384;
  if (name == "HS512") return Alg.HS512;
  if (name == "EdDSA") return Alg.EdDSA;
  return -1;
}

export class Jws {
  alg: Alg = Alg.RS256;
  algName: string = "";
  kid: string | null = null;
  header: JsonValue = JsonValue.makeNull();
  payload: JsonValue = JsonValue.makeNull();
  /** The payload segment as sent (base64url), for output_payload_to_header. */
  payloadSegment: string = "";
  /** Decoded payload bytes (validated UTF-8 JSON), handed to later filters as is. */
  payloadUtf8: ArrayBuffer = new ArrayBuffer(0);
  /** ASCII bytes of `header.payload`: the JWS Signing Input (RFC 7515 §5.1 step 7). */
  signingInput: Uint8Array = new Uint8Array(0);
  signature: Uint8Array = new Uint8Array(0);
}

export let jwsStatus: JwtStatus = JwtStatus.Ok;

function failed(status: JwtStatus): Jws | null {
  jwsStatus = status;
  return null;
}

/**
 * Token scan result: the dots and the first character outside the base64url alphabet, found in
 * one pass that also copies the ASCII signing input into bytes (the old path made three indexOf
 * scans, a validation scan and a copy; each is a walk over the whole token per request).
 */
class TokenScan {
  dots: i32 = 0;
  firstDot: i32 = -1;
  secondDot: i32 = -1;
  /** Index of the first non-base64url, non-dot code unit before the second dot, or -1. */
  firstBadBeforeSignature: i32 = -1;
}

const scan = new TokenScan();

/**
 * Scans `token` (UTF-16) once: records the dots and the first foreign character before the
 * second dot, and writes the low byte of each code unit before the second dot to `out` (only
 * meaningful when that part is all base64url, which the caller checks before using `out`).
 * RFC 7515 §7.1: the JWS Signing Input is ASCII(BASE64URL(header) || '.' || BASE64URL(payload)).
 */
function scanToken(token: string, out: usize): TokenScan {
  const result = scan;
  result.dots = 0;
  result.firstDot = -1;
  result.secondDot = -1;
  result.firstBadBeforeSignature = -1;
  const chars = changetype<usize>(token);
  const n = token.length;
  let dots = 0;
  let i = 0;
  for (; i < n; i++) {
    const c = <u32>load<u16>(chars + (<usize>i << 1));
    if (c == 0x2e) {
      dots++;
      if (dots == 1) result.firstDot = i;
      else { result.secondDot = i; break; }
    } else if (!isBase64UrlUnit(c) && result.firstBadBeforeSignature < 0) {
      result.firstBadBeforeSignature = i;
    }
    store<u8>(out + <usize>i, <u8>c);
  }
  // The signature segment is validated by its decoder; here only further dots matter.
  for (i++; i < n; i++) {
    if (load<u16>(chars + (<usize>i << 1)) == 0x2e) dots++;
  }
  result.dots = dots;
  return result;
}

// @ts-ignore: decorator
@inline function isBase64UrlUnit(c: u32): bool {
  // Branch-light class test: letters (case folded with | 0x20), digits, '-' and '_'.
  const lower = c | 0x20;
  return (lower - 0x61 < 26) || (c - 0x30 < 10) || c == 0x2d || c == 0x5f;
}

export function parseJws(token: string): Jws | null {
  // Sized for the whole token; the signing input is the view of its first secondDot bytes.
  const ascii = new Uint8Array(token.length);
  const found = scanToken(token, ascii.dataStart);
  const firstDot = found.firstDot;
  const secondDot = found.secondDot;
  if (firstDot <= 0 || secondDot < 0 || found.dots != 2) return failed(JwtStatus.JwtBadFormat);
  // The signing input is built from the raw text: it must be pure base64url ASCII so that
  // the bytes we verify are exactly the bytes the issuer signed.
  const bad = found.firstBadBeforeSignature;
  if (bad >= 0) {
    return failed(bad < firstDot ? JwtStatus.JwtHeaderParseErrorBadBase64 : JwtStatus.JwtPayloadParseErrorBadBase64);
  }
  const payloadSegment = token.substring(firstDot + 1, secondDot);

  // Header and payload decode from the checked ASCII bytes (no second pass over UTF-16).
  const headerBytes = base64UrlDecodeAscii(ascii.dataStart, firstDot);
  if (headerBytes === null) return failed(JwtStatus.JwtHeaderParseErrorBadBase64);
  const header = parseJsonBytes(headerBytes, true, 16);
  if (header === null || !header.isObject()) return failed(JwtStatus.JwtHeaderParseErrorBadJson);

  const algValue = header.get("alg");
  if (algValue === null || !algValue.isString()) return failed(JwtStatus.JwtHeaderBadAlg);
  const alg = algFromName(algValue.stringValue);
  if (alg < 0) return failed(JwtStatus.JwtHeaderNotImplementedAlg);
  if (header.has("crit") || header.has("b64")) return failed(JwtStatus.JwtHeaderCritNotSupported);
  const kidValue = header.get("kid");
  if (kidValue !== null && !kidValue.isString()) return failed(JwtStatus.JwtHeaderBadKid);

  const payloadBytes = base64UrlDecodeAscii(ascii.dataStart + <usize>(firstDot + 1), secondDot - firstDot - 1);
  if (payloadBytes === null) return failed(JwtStatus.JwtPayloadParseErrorBadBase64);
  // Same checks as parseJsonBytes, keeping the decoded text's bytes for the outputs.
  const payloadText = utf8TextOrNull(payloadBytes);
  if (payloadText === null) return failed(JwtStatus.JwtPayloadParseErrorBadJson);
  const payload = parseJson(payloadText, true, 32);
  if (payload === null || !payload.isObject()) return failed(JwtStatus.JwtPayloadParseErrorBadJson);

  const signature = base64UrlDecodeRange(token, secondDot + 1, token.length);
  if (signature === null || signature.length == 0) return failed(JwtStatus.JwtSignatureParseErrorBadBase64);
  if (alg == Alg.EdDSA && signature.length != 64) return failed(JwtStatus.JwtEd25519SignatureWrongLength);

  const jws = new Jws();
  jws.alg = <Alg>alg;
  jws.algName = algValue.stringValue;
  jws.kid = kidValue === null ? null : kidValue.stringValue;
  jws.header = header;
  jws.payload = payload;
  jws.payloadSegment = payloadSegment;
  // base64UrlDecodeAscii returns a fresh, exactly sized array: its buffer is the payload's UTF-8.
  jws.payloadUtf8 = payloadBytes.buffer;
  jws.signingInput = ascii.subarray(0, secondDot);
  jws.signature = signature;
  jwsStatus = JwtStatus.Ok;
  return jws;
}
