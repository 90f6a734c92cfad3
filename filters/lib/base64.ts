/**
 * Strict Base64 / Base64url (RFC 4648 §4 and §5) for AssemblyScript filters.
 *
 * JWS (RFC 7515 §2, "Base64url Encoding") uses the URL-safe alphabet with all trailing '='
 * omitted and no line breaks, whitespace or other characters. We also reject non-canonical
 * encodings (RFC 4648 §3.5: the unused low bits of the last character must be zero), so that a
 * token has exactly one spelling: otherwise `...Q` and `...R` decode to the same signature and
 * caches/replay checks keyed by the token text can be bypassed.
 * Decoders return null on any violation (no exceptions in AssemblyScript).
 */
import { codeUnitLabel } from "./json";

const ALPHABET_STD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const ALPHABET_URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** Reverse table for both alphabets: value 0..63, or -1. Built once. */
const STD_VALUES = buildReverse(ALPHABET_STD);
const URL_VALUES = buildReverse(ALPHABET_URL);

function buildReverse(alphabet: string): StaticArray<i8> {
  const table = new StaticArray<i8>(128);
  for (let i = 0; i < 128; i++) table[i] = -1;
  for (let i = 0; i < 64; i++) table[alphabet.charCodeAt(i)] = <i8>i;
  return table;
}

/** Why the last decode returned null, e.g. `invalid base64url character '=' at offset 12`. */
export let base64Error: string = "";

/** Decodes unpadded base64url (RFC 7515 §2). Null on padding, foreign characters, bad length or non-zero trailing bits. */
export function base64UrlDecode(s: string): Uint8Array | null {
  return decodeBody(s, 0, s.length, URL_VALUES, "base64url");
}

/**
 * base64UrlDecode of s.substring(start, end) without building the substring (JWS segments are
 * decoded in place in the token). Offsets in base64Error are relative to `start`.
 */
export function base64UrlDecodeRange(s: string, start: i32, end: i32): Uint8Array | null {
  if (start < 0 || end > s.length || start > end) {
    base64Error = "range [" + start.toString() + ", " + end.toString() + ") is outside the " + s.length.toString() + "-character input";
    return null;
  }
  return decodeBody(s, start, end - start, URL_VALUES, "base64url");
}

/** Decodes padded standard base64 (RFC 4648 §4): length a multiple of 4, '=' only as final padding, canonical trailing bits. */
export function base64Decode(s: string): Uint8Array | null {
  const n = s.length;
  if (n % 4 != 0) {
    base64Error = "base64 length " + n.toString() + " is not a multiple of 4";
    return null;
  }
  let body = n;
  if (body > 0 && s.charCodeAt(body - 1) == 0x3d) body--;
  if (body > 0 && s.charCodeAt(body - 1) == 0x3d) body--;
  return decodeBody(s, 0, body, STD_VALUES, "base64");
}

/**
 * Decodes base64url held as ASCII bytes at `ptr` (`length` bytes), e.g. a JWS segment already
 * copied out of the token as the signing input: same rules and errors as base64UrlDecode,
 * without converting back to a string first.
 */
export function base64UrlDecodeAscii(ptr: usize, length: i32): Uint8Array | null {
  return decodeUnits<u8>(ptr, length, URL_VALUES, "base64url");
}

/** Decodes the `n` characters of `s` from `start` (caller guarantees start + n <= s.length). */
function decodeBody(s: string, start: i32, n: i32, table: StaticArray<i8>, name: string): Uint8Array | null {
  return decodeUnits<u16>(changetype<usize>(s) + (<usize>start << 1), n, table, name);
}

/** Alphabet value of code unit `c`, or -1. */
// @ts-ignore: decorator
@inline function valueOf(c: u32, table: StaticArray<i8>): i32 {
  return c < 128 ? <i32>unchecked(table[c]) : -1;
}

/**
 * Decodes `n` code units (T = u16: UTF-16 string, T = u8: ASCII bytes) at `src`. Whole quads are
 * decoded 4 characters → 3 bytes at once; a foreign character (value -1) makes the OR of the
 * quad negative, and only then is the quad rescanned for the offset the error reports.
 */
function decodeUnits<T>(src: usize, n: i32, table: StaticArray<i8>, name: string): Uint8Array | null {
  const rem = n & 3;
  if (rem == 1) {
    base64Error = name + " length " + n.toString() + " is impossible (one character left over)";
    return null;
  }
  const out = new Uint8Array((n >> 2) * 3 + (rem == 0 ? 0 : rem - 1));
  // Raw loads/stores: the caller guarantees n units at src, and every store stays below
  // out.length by the length arithmetic above.
  const shift = alignof<T>();
  let dst = out.dataStart;
  const quadEnd = n & ~3;
  for (let i = 0; i < quadEnd; i += 4) {
    const at = src + (<usize>i << shift);
    const v0 = valueOf(<u32>load<T>(at), table);
    const v1 = valueOf(<u32>load<T>(at + (<usize>1 << shift)), table);
    const v2 = valueOf(<u32>load<T>(at + (<usize>2 << shift)), table);
    const v3 = valueOf(<u32>load<T>(at + (<usize>3 << shift)), table);
    if ((v0 | v1 | v2 | v3) < 0) return invalidCharacter<T>(src, i, table, name);
    const bits = (<u32>v0 << 18) | (<u32>v1 << 12) | (<u32>v2 << 6) | <u32>v3;
    store<u8>(dst, <u8>(bits >> 16));
    store<u8>(dst, <u8>(bits >> 8), 1);
    store<u8>(dst, <u8>bits, 2);
    dst += 3;
  }
  if (rem != 0) {
    const at = src + (<usize>quadEnd << shift);
    const v0 = valueOf(<u32>load<T>(at), table);
    const v1 = valueOf(<u32>load<T>(at + (<usize>1 << shift)), table);
    const v2 = rem == 3 ? valueOf(<u32>load<T>(at + (<usize>2 << shift)), table) : 0;
    if ((v0 | v1 | v2) < 0) return invalidCharacter<T>(src, quadEnd, table, name);
    // RFC 4648 §3.5: the bits below the last whole byte must be zero (one spelling per value).
    let leftover: u32;
    if (rem == 2) {
      store<u8>(dst, <u8>((<u32>v0 << 2) | (<u32>v1 >> 4)));
      leftover = <u32>v1 & 0xf;
    } else {
      const bits = (<u32>v0 << 12) | (<u32>v1 << 6) | <u32>v2;
      store<u8>(dst, <u8>(bits >> 10));
      store<u8>(dst, <u8>(bits >> 2), 1);
      leftover = <u32>v2 & 3;
    }
    if (leftover != 0) {
      base64Error = "non-canonical " + name + ": unused trailing bits are not zero";
      return null;
    }
  }
  base64Error = "";
  return out;
}

/** Error for the first foreign character at or after offset `from` (the caller knows there is one). */
function invalidCharacter<T>(src: usize, from: i32, table: StaticArray<i8>, name: string): Uint8Array | null {
  const shift = alignof<T>();
  let i = from;
  let c = <i32>load<T>(src + (<usize>i << shift));
  while (valueOf(<u32>c, table) >= 0) {
    i++;
    c = <i32>load<T>(src + (<usize>i << shift));
  }
  base64Error = "invalid " + name + " character " + describe(c) + " at offset " + i.toString();
  return null;
}

function describe(c: i32): string {
  if (c < 0x21 || c > 0x7e) return codeUnitLabel(c);
  return "'" + String.fromCharCode(c) + "'";
}

function encodeWith(b: Uint8Array, alphabet: string, pad: bool): string {
  const n = b.length;
  const full = n / 3 * 3;
  // Build through a UTF-16 buffer: one code unit per output character.
  const outLen = pad ? ((n + 2) / 3) * 4 : (n * 4 + 2) / 3;
  const buffer = new Uint16Array(outLen);
  let o = 0;
  let i = 0;
  for (; i < full; i += 3) {
    const v = (<u32>unchecked(b[i]) << 16) | (<u32>unchecked(b[i + 1]) << 8) | <u32>unchecked(b[i + 2]);
    unchecked(buffer[o++] = <u16>alphabet.charCodeAt((v >> 18) & 63));
    unchecked(buffer[o++] = <u16>alphabet.charCodeAt((v >> 12) & 63));
    unchecked(buffer[o++] = <u16>alphabet.charCodeAt((v >> 6) & 63));
    unchecked(buffer[o++] = <u16>alphabet.charCodeAt(v & 63));
  }
  const rest = n - full;
  if (rest == 1) {
    const v = <u32>b[i] << 16;
    buffer[o++] = <u16>alphabet.charCodeAt((v >> 18) & 63);
    buffer[o++] = <u16>alphabet.charCodeAt((v >> 12) & 63);
    if (pad) { buffer[o++] = 0x3d; buffer[o++] = 0x3d; }
  } else if (rest == 2) {
    const v = (<u32>b[i] << 16) | (<u32>b[i + 1] << 8);
    buffer[o++] = <u16>alphabet.charCodeAt((v >> 18) & 63);
    buffer[o++] = <u16>alphabet.charCodeAt((v >> 12) & 63);
    buffer[o++] = <u16>alphabet.charCodeAt((v >> 6) & 63);
    if (pad) buffer[o++] = 0x3d;
  }
  return String.UTF16.decode(buffer.buffer);
}

/** Unpadded base64url (RFC 7515 §2). */
export function base64UrlEncode(b: Uint8Array): string {
  return encodeWith(b, ALPHABET_URL, false);
}

/** Padded standard base64 (RFC 4648 §4). */
export function base64Encode(b: Uint8Array): string {
  return encodeWith(b, ALPHABET_STD, true);
}

/** base64url of a string's UTF-8 bytes. */
export function base64UrlEncodeString(s: string): string {
  return base64UrlEncode(Uint8Array.wrap(String.UTF8.encode(s)));
}
