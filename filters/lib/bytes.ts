/**
 * Byte-range helpers for per-request matching on raw pointers (the host's header buffer against
 * UTF-8 built once per configuration), with unaligned 8-byte loads: wasm allows unaligned access,
 * and AssemblyScript's memory.compare falls back to a byte-at-a-time loop whenever the two
 * pointers differ in alignment, which a header in the host's buffer and a configured value
 * usually do.
 */

/** True when the `length` bytes at `a` and `b` are equal. */
export function bytesEqual(a: usize, b: usize, length: usize): bool {
  let i: usize = 0;
  for (; i + 8 <= length; i += 8) if (load<u64>(a + i) != load<u64>(b + i)) return false;
  for (; i < length; i++) if (load<u8>(a + i) != load<u8>(b + i)) return false;
  return true;
}

/** True when the `length` bytes at `ptr` equal `expected` (length included). */
// @ts-ignore: decorator
@inline export function spanEquals(ptr: usize, length: i32, expected: ArrayBuffer): bool {
  return expected.byteLength == length && bytesEqual(ptr, changetype<usize>(expected), <usize>length);
}

/** True when the `length` bytes at `ptr` start with `prefix`. */
// @ts-ignore: decorator
@inline export function spanStartsWith(ptr: usize, length: i32, prefix: ArrayBuffer): bool {
  return prefix.byteLength <= length && bytesEqual(ptr, changetype<usize>(prefix), <usize>prefix.byteLength);
}

/**
 * True when the `length` bytes at `a` equal the lower-case ASCII bytes at `lower` once `a` is
 * ASCII-lower-cased (host names, Envoy's case-insensitive path match: ASCII only, as Envoy's
 * absl::EqualsIgnoreCase).
 */
export function foldedEqual(a: usize, lower: usize, length: usize): bool {
  for (let i: usize = 0; i < length; i++) {
    let c = load<u8>(a + i);
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c != load<u8>(lower + i)) return false;
  }
  return true;
}

/** FNV-1a 64 of the `length` bytes at `ptr`, continuing from `h` (start with FNV_OFFSET). */
export function fnv1a64(ptr: usize, length: usize, h: u64): u64 {
  for (let i: usize = 0; i < length; i++) {
    h ^= <u64>load<u8>(ptr + i);
    h *= 0x100000001b3;
  }
  return h;
}

export const FNV_OFFSET: u64 = 0xcbf29ce484222325;

/** `text` as UTF-8 (configuration time: built once, compared per request). */
export function utf8(text: string): ArrayBuffer {
  return String.UTF8.encode(text);
}
