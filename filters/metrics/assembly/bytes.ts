/**
 * Host values read without allocating on the steady path: header map values by pre-encoded name,
 * and text that reuses the previous string when the host hands over the same bytes again (the
 * authority, cluster and certificate names repeat across the requests of a workload).
 */
import { armScratch, disarmScratch, releaseScratch } from "../../lib/host-memory";
import { fetchProperty, propertyBytes, propertyLength, releaseProperty } from "../../lib/properties";

@external("env", "proxy_get_header_map_value")
declare function proxy_get_header_map_value(type: u32, keyPtr: usize, keySize: usize, valuePtrPtr: usize, valueSizePtr: usize): u32;
@external("env", "proxy_replace_header_map_value")
declare function proxy_replace_header_map_value(type: u32, keyPtr: usize, keySize: usize, valuePtr: usize, valueSize: usize): u32;
@external("env", "proxy_remove_header_map_value")
declare function proxy_remove_header_map_value(type: u32, keyPtr: usize, keySize: usize): u32;
@external("env", "proxy_get_buffer_bytes")
declare function proxy_get_buffer_bytes(type: u32, start: u32, length: u32, valuePtrPtr: usize, valueSizePtr: usize): u32;

const cells = new StaticArray<u32>(2);

/** The last string and the bytes it was decoded from. */
export class CachedText {
  private bytes: Uint8Array = new Uint8Array(0);
  value: string = "";

  of(ptr: usize, length: i32): string {
    const last = this.bytes;
    if (length == last.length && memory.compare(ptr, last.dataStart, <usize>length) == 0) return this.value;
    const copy = new Uint8Array(length);
    memory.copy(copy.dataStart, ptr, <usize>length);
    this.bytes = copy;
    this.value = String.UTF8.decodeUnsafe(ptr, <usize>length);
    return this.value;
  }
}

/** A string property through `cache`; "" when absent. */
export function cachedProperty(path: ArrayBuffer, cache: CachedText): string {
  if (!fetchProperty(path)) return "";
  const value = cache.of(propertyBytes(), propertyLength());
  releaseProperty();
  return value;
}

/**
 * A header's value as (fetchedBytes(), fetchedLength()), read into the scratch area
 * (lib/host-memory.ts) and valid until releaseFetched or the next read; false when absent.
 */
export function fetchHeader(map: u32, name: ArrayBuffer): bool {
  const c = changetype<usize>(cells);
  armScratch();
  const status = proxy_get_header_map_value(map, changetype<usize>(name), name.byteLength, c, c + 4);
  disarmScratch();
  return status == 0;
}

/** Up to `length` bytes of a body buffer from `start`, the same way (fewer at its end). */
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

export function releaseFetched(): void {
  releaseScratch(fetchedBytes());
}

/** A header's value through `cache` ("" when absent or empty). */
export function cachedHeader(map: u32, name: ArrayBuffer, cache: CachedText): string {
  if (!fetchHeader(map, name)) return "";
  const length = fetchedLength();
  const value = length == 0 ? "" : cache.of(fetchedBytes(), length);
  releaseFetched();
  return value;
}

export function replaceHeader(map: u32, name: ArrayBuffer, value: ArrayBuffer): void {
  proxy_replace_header_map_value(map, changetype<usize>(name), name.byteLength, changetype<usize>(value), value.byteLength);
}

export function removeHeader(map: u32, name: ArrayBuffer): void {
  proxy_remove_header_map_value(map, changetype<usize>(name), name.byteLength);
}
