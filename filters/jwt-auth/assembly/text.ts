/**
 * ASCII-only string helpers. Header names, HTTP methods and auth schemes are ASCII (RFC 9110
 * §5.1, §9.1); String#toLowerCase/toUpperCase would pull AssemblyScript's full Unicode case
 * tables into the module for nothing.
 */
export function asciiLower(s: string): string {
  let changed = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) { changed = true; break; }
  }
  if (!changed) return s;
  const out = new Uint16Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out[i] = <u16>(c >= 0x41 && c <= 0x5a ? c + 32 : c);
  }
  return String.UTF16.decode(out.buffer);
}

export function asciiUpper(s: string): string {
  const out = new Uint16Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out[i] = <u16>(c >= 0x61 && c <= 0x7a ? c - 32 : c);
  }
  return String.UTF16.decode(out.buffer);
}

/** Case-insensitive (ASCII) prefix test. */
export function startsWithIgnoreAsciiCase(s: string, prefix: string): bool {
  if (s.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    let a = s.charCodeAt(i);
    let b = prefix.charCodeAt(i);
    if (a >= 0x41 && a <= 0x5a) a += 32;
    if (b >= 0x41 && b <= 0x5a) b += 32;
    if (a != b) return false;
  }
  return true;
}

/** Non-negative decimal integer, or -1 when `s` is not one (no sign, no spaces, ≤ 18 digits). */
export function parseDecimal(s: string): i64 {
  if (s.length == 0 || s.length > 18) return -1;
  let v: i64 = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    v = v * 10 + <i64>(c - 0x30);
  }
  return v;
}

/** `s` with every space replaced by `_` (Envoy's response-code-details rule). */
export function spacesToUnderscores(s: string): string {
  const out = new Uint16Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out[i] = <u16>(c == 0x20 ? 0x5f : c);
  }
  return String.UTF16.decode(out.buffer);
}
