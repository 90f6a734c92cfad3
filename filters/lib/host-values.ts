/**
 * Header values and body bytes read into the scratch area (lib/host-memory.ts) without a managed
 * buffer per read: `fetch*` leaves (pointer, length) for fetchedBytes()/fetchedLength(), valid
 * until releaseFetched() or the next fetch. Shared by every filter that reads single headers
 * (metrics' exchange headers, rbac's pseudo-headers, jwt-auth's by-value reads); lib/properties.ts
 * does the same for properties.
 */
import { armScratch, disarmScratch, releaseScratch } from "./host-memory";

@external("env", "proxy_get_header_map_value")
declare function proxy_get_header_map_value(type: u32, keyPtr: usize, keySize: usize, valuePtrPtr: usize, valueSizePtr: usize): u32;
@external("env", "proxy_get_buffer_bytes")
declare function proxy_get_buffer_bytes(type: u32, start: u32, length: u32, valuePtrPtr: usize, valueSizePtr: usize): u32;

const cells = new StaticArray<u32>(2);

/** A header's value of map `map` (HeaderMapType); false when absent (an empty value is present, length 0). */
export function fetchHeader(map: u32, name: ArrayBuffer): bool {
  const c = changetype<usize>(cells);
  armScratch();
  const status = proxy_get_header_map_value(map, changetype<usize>(name), name.byteLength, c, c + 4);
  disarmScratch();
  return status == 0 && (load<u32>(c) != 0 || load<u32>(c + 4) == 0);
}

/** Up to `length` bytes of a body buffer from `start` (fewer at its end). */
export function fetchBuffer(type: u32, start: u32, length: u32): bool {
  const c = changetype<usize>(cells);
  armScratch();
  const status = proxy_get_buffer_bytes(type, start, length, c, c + 4);
  disarmScratch();
  return status == 0;
}

export function fetchedBytes(): usize {
  return <usize>load<u32>(changetype<usize>(cells));
}

export function fetchedLength(): i32 {
  return <i32>load<u32>(changetype<usize>(cells) + 4);
}

/** Gives the fetched bytes back (nothing to do for the scratch area; unpins an SDK buffer). */
export function releaseFetched(): void {
  releaseScratch(fetchedBytes());
}
