/**
 * Counts gRPC messages in a body as it streams by: each message is a 5-byte prefix (compressed
 * flag, 4-byte big-endian length) then the message (gRPC over HTTP/2, PROTOCOL-HTTP2.md
 * "Length-Prefixed-Message"). Only the prefixes are read from the host, never the messages, and
 * a prefix split across chunks is carried over. This is what Envoy's grpc_stats filter counts
 * for Istio's istio_request_messages_total / istio_response_messages_total.
 */
import { BufferTypeValues } from "@solo-io/proxy-runtime/assembly";
import { fetchBuffer, fetchedBytes, fetchedLength, releaseFetched } from "../../lib/host-values";

const PREFIX_BYTES: i32 = 5;

export class GrpcFrameCounter {
  messages: u64 = 0;
  /** Bytes of the current message still to pass over. */
  private skip: i64 = 0;
  /** The prefix bytes read so far, big-endian (no array: one object per counter). */
  private prefix: u64 = 0;
  private have: i32 = 0;

  constructor(readonly buffer: BufferTypeValues) {}

  /** A new chunk of `length` bytes is in the body buffer. */
  feed(length: i32): void {
    let pos = 0;
    while (pos < length) {
      if (this.skip > 0) {
        const take = <i32>min<i64>(this.skip, <i64>(length - pos));
        this.skip -= take;
        pos += take;
        continue;
      }
      const take = min<i32>(PREFIX_BYTES - this.have, length - pos);
      // Only the prefix bytes are copied out of the host (into the scratch area, bytes.ts).
      if (!fetchBuffer(this.buffer, <u32>pos, <u32>take)) return;
      const bytes = fetchedBytes();
      const complete = fetchedLength() >= take;
      if (complete) for (let i = 0; i < take; i++) this.prefix = (this.prefix << 8) | <u64>load<u8>(bytes + <usize>i);
      releaseFetched();
      if (!complete) return;
      this.have += take;
      pos += take;
      if (this.have == PREFIX_BYTES) {
        this.messages++;
        this.have = 0;
        // The low four bytes are the message length (the fifth from the end is the compressed flag).
        this.skip = <i64>(this.prefix & 0xffffffff);
        this.prefix = 0;
      }
    }
  }
}
