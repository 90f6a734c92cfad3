/**
 * Host values read without allocating on the steady path: header map values by pre-encoded name,
 * and text that reuses the previous string when the host hands over the same bytes again (the
 * authority, cluster and certificate names repeat across the requests of a workload).
 */
import { fetchProperty, propertyBytes, propertyLength, releaseProperty } from "../../lib/properties";
import { fetchHeader, fetchedBytes, fetchedLength, releaseFetched } from "../../lib/host-values";

@external("env", "proxy_replace_header_map_value")
declare function proxy_replace_header_map_value(type: u32, keyPtr: usize, keySize: usize, valuePtr: usize, valueSize: usize): u32;
@external("env", "proxy_remove_header_map_value")
declare function proxy_remove_header_map_value(type: u32, keyPtr: usize, keySize: usize): u32;

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
