/**
 * Hand-written protobuf wire format (https://protobuf.dev/programming-guides/encoding/) for the
 * two messages of Envoy's `verify_signature` foreign function
 * (envoy source/extensions/common/wasm/ext/verify_signature.proto):
 *   VerifySignatureArguments { string hash_function = 1; bytes public_key = 2; bytes signature = 3; bytes text = 4; }
 *   VerifySignatureResult    { bool result = 1; string error = 2; }
 * A generated protobuf runtime would cost more module size than these 80 lines.
 */

class ProtoWriter {
  private out: Uint8Array;
  private length: i32 = 0;

  constructor(capacity: i32) { this.out = new Uint8Array(capacity); }

  private ensure(extra: i32): void {
    if (this.length + extra <= this.out.length) return;
    let capacity = this.out.length * 2;
    while (capacity < this.length + extra) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.out.subarray(0, this.length));
    this.out = grown;
  }

  varint(value: u64): void {
    this.ensure(10);
    while (value >= 0x80) {
      this.out[this.length++] = <u8>(value | 0x80);
      value >>= 7;
    }
    this.out[this.length++] = <u8>value;
  }

  /** Length-delimited field (wire type 2). Proto3 omits empty fields. */
  bytesField(fieldNumber: u32, data: Uint8Array): void {
    if (data.length == 0) return;
    this.varint(<u64>((fieldNumber << 3) | 2));
    this.varint(<u64>data.length);
    this.ensure(data.length);
    this.out.set(data, this.length);
    this.length += data.length;
  }

  finish(): ArrayBuffer {
    return this.out.buffer.slice(0, this.length);
  }
}

export function encodeVerifySignatureArguments(hashFunction: string, publicKeyDer: Uint8Array, signature: Uint8Array, text: Uint8Array): ArrayBuffer {
  const w = new ProtoWriter(64 + publicKeyDer.length + signature.length + text.length);
  w.bytesField(1, Uint8Array.wrap(String.UTF8.encode(hashFunction)));
  w.bytesField(2, publicKeyDer);
  w.bytesField(3, signature);
  w.bytesField(4, text);
  return w.finish();
}

export class VerifySignatureResult {
  /** False when the message could not be decoded. */
  decoded: bool = false;
  result: bool = false;
  error: string = "";
}

/** Decodes VerifySignatureResult, skipping unknown fields as protobuf parsers do. */
export function decodeVerifySignatureResult(buffer: ArrayBuffer): VerifySignatureResult {
  const out = new VerifySignatureResult();
  const b = Uint8Array.wrap(buffer);
  let p = 0;
  const n = b.length;
  while (p < n) {
    // tag
    let tag: u64 = 0;
    let shift: u64 = 0;
    while (true) {
      if (p >= n || shift > 63) return out;
      const byte = b[p++];
      tag |= (<u64>(byte & 0x7f)) << shift;
      if (byte < 0x80) break;
      shift += 7;
    }
    const fieldNumber = <u32>(tag >> 3);
    const wireType = <u32>(tag & 7);
    if (wireType == 0) {
      let value: u64 = 0;
      shift = 0;
      while (true) {
        if (p >= n || shift > 63) return out;
        const byte = b[p++];
        value |= (<u64>(byte & 0x7f)) << shift;
        if (byte < 0x80) break;
        shift += 7;
      }
      if (fieldNumber == 1) out.result = value != 0;
    } else if (wireType == 2) {
      let len: u64 = 0;
      shift = 0;
      while (true) {
        if (p >= n || shift > 63) return out;
        const byte = b[p++];
        len |= (<u64>(byte & 0x7f)) << shift;
        if (byte < 0x80) break;
        shift += 7;
      }
      if (len > <u64>(n - p)) return out;
      if (fieldNumber == 2) out.error = String.UTF8.decode(buffer.slice(p, p + <i32>len));
      p += <i32>len;
    } else if (wireType == 5) {
      p += 4;
    } else if (wireType == 1) {
      p += 8;
    } else {
      return out;
    }
  }
  out.decoded = p == n;
  return out;
}
