/**
 * Envoy properties read straight from the bytes the host hands over. Paths and encodings:
 * Envoy attributes (envoyproxy.io/docs/envoy/latest/intro/arch_overview/advanced/attributes,
 * source/extensions/common/wasm/context.cc): path segments separated by NUL, integers as 8 bytes
 * little-endian, strings as-is.
 */
import { armScratch, disarmScratch, releaseScratch } from "./host-memory";

@external("env", "proxy_get_property")
declare function proxy_get_property(path_ptr: usize, path_size: usize, return_ptr: usize, return_size: usize): u32;

const propertyCells = new StaticArray<u32>(2);

/**
 * The property's bytes as (pointer, length) in propertyCells; false when the host has none. The
 * bytes go to the scratch area when the filter exports lib/host-memory's allocator.
 */
export function fetchProperty(path: ArrayBuffer): bool {
  const cells = changetype<usize>(propertyCells);
  armScratch();
  const status = proxy_get_property(changetype<usize>(path), path.byteLength, cells, cells + 4);
  disarmScratch();
  if (status != 0) return false;
  return load<u32>(cells) != 0 || load<u32>(cells + 4) == 0;
}

/** Where the last fetched property's bytes are (valid until releaseProperty or the next fetch). */
export function propertyBytes(): usize {
  return <usize>load<u32>(changetype<usize>(propertyCells));
}

export function propertyLength(): i32 {
  return <i32>load<u32>(changetype<usize>(propertyCells) + 4);
}

/** Gives the bytes back: the SDK's allocator pinned them; the scratch area needs nothing. */
export function releaseProperty(): void {
  releaseScratch(propertyBytes());
}

export function propertyString(path: ArrayBuffer): string | null {
  if (!fetchProperty(path)) return null;
  const value = String.UTF8.decodeUnsafe(propertyBytes(), <usize>propertyLength());
  releaseProperty();
  return value;
}

/**
 * An 8-byte integer property (int64 or uint64, same little-endian bytes); `fallback` when absent
 * or not 8 bytes long.
 */
export function propertyInt(path: ArrayBuffer, fallback: i64): i64 {
  if (!fetchProperty(path)) return fallback;
  const value = propertyLength() == 8 ? load<i64>(propertyBytes()) : fallback;
  releaseProperty();
  return value;
}
