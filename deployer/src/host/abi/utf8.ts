/**
 * UTF-8 writing without a TextEncoder call per string. Header names, values and most
 * property values are ASCII: for those a charCode loop measures and writes the bytes directly
 * (TextEncoder.encode allocates a fresh Uint8Array per call, which dominated the host's
 * per-request profile). Non-ASCII strings take the encoder, so the bytes are exactly what
 * TextEncoder produces (lone surrogates → U+FFFD).
 */
const encoder = new TextEncoder();

/**
 * Strings longer than this are measured and written by native code (Buffer.byteLength,
 * TextEncoder.encodeInto): a bearer token of ~600 characters took ~1 µs to scan and as much to
 * write char by char, the native calls ~0.1–0.2 µs; shorter strings stay in the JS loops, which
 * beat the cost of a native call.
 */
const NATIVE_MIN_LENGTH = 32;

/** Encoded bytes of `s` when it is not ASCII; undefined for ASCII (its length is then s.length). */
export function nonAsciiBytes(s: string): Uint8Array | undefined {
  if (s.length > NATIVE_MIN_LENGTH) {
    // Every non-ASCII UTF-16 unit makes the UTF-8 form longer (2–3 bytes per unit; a lone
    // surrogate becomes the 3-byte U+FFFD), so an equal length means all ASCII.
    return Buffer.byteLength(s, 'utf8') === s.length ? undefined : encoder.encode(s);
  }
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return encoder.encode(s);
  }
  return undefined;
}

/** UTF-8 byte length of `s`. */
export function utf8Length(s: string): number {
  return nonAsciiBytes(s)?.length ?? s.length;
}

/** Writes ASCII `s` at `offset` (caller checked it is ASCII and fits). */
export function writeAscii(out: Uint8Array, offset: number, s: string): void {
  if (s.length > NATIVE_MIN_LENGTH) {
    encoder.encodeInto(s, out.subarray(offset, offset + s.length));
    return;
  }
  for (let i = 0; i < s.length; i++) out[offset + i] = s.charCodeAt(i);
}

/**
 * Writes `s` at `offset` if it is ASCII (the caller made s.length bytes of room) and says whether
 * it was: a non-ASCII string leaves partial bytes behind for the caller to overwrite. Checking
 * while writing reads each string once, where nonAsciiBytes + writeAscii read it twice.
 */
export function tryWriteAscii(out: Uint8Array, offset: number, s: string): boolean {
  const length = s.length;
  if (length > NATIVE_MIN_LENGTH) {
    // Non-ASCII needs more bytes than the room given, so encoding stops before the end.
    const { read, written } = encoder.encodeInto(s, out.subarray(offset, offset + length));
    return read === length && written === length;
  }
  for (let i = 0; i < length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return false;
    out[offset + i] = c;
  }
  return true;
}

/** Little-endian u32 at `offset`. */
export function writeU32(out: Uint8Array, offset: number, value: number): void {
  out[offset] = value & 0xff;
  out[offset + 1] = (value >>> 8) & 0xff;
  out[offset + 2] = (value >>> 16) & 0xff;
  out[offset + 3] = (value >>> 24) & 0xff;
}

/**
 * Decodes a short byte range that is usually ASCII (property paths, header names) without
 * TextDecoder; falls back to `decoder` as soon as a non-ASCII byte appears.
 */
export function decodeMostlyAscii(bytes: Uint8Array, decoder: TextDecoder): string {
  if (bytes.length > 64) return decoder.decode(bytes);
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! > 0x7f) return decoder.decode(bytes);
  // All ASCII: one fromCharCode over the bytes (array-like, ≤ 64 arguments) builds the string
  // at once; appending a char at a time built a rope V8 then had to flatten (≈ 2× slower for a
  // 13–21-byte header or property name).
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}
