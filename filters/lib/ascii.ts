/**
 * ASCII lower-casing. Host names (RFC 4343: DNS names compare case-insensitively in ASCII;
 * internationalized names travel as punycode), header names and the dry-run flag are ASCII.
 * AssemblyScript's String#toLowerCase does full Unicode case mapping and pulls its tables
 * into the module (tens of KB), for no behaviour we want.
 */
export function asciiLower(text: string): string {
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) break;
    i++;
  }
  if (i == n) return text;
  const out = new Uint16Array(n);
  for (let j = 0; j < n; j++) {
    const c = text.charCodeAt(j);
    out[j] = <u16>(c >= 0x41 && c <= 0x5a ? c + 0x20 : c);
  }
  return String.UTF16.decodeUnsafe(out.dataStart, n << 1);
}
