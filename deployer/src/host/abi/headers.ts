/**
 * Header map functions (envoy:context.cc getMap/getConstMap & co): keys are lower-cased
 * (Http::LowerCaseString); a map not available in the current callback answers BadArgument;
 * a missing key answers NotFound (0.2.x) or Ok with an empty value (0.1.0, envoy:context.cc
 * getHeaderMapValue keys this on the ABI version); get returns the first value; replace is
 * HeaderMapImpl::setCopy — remove every entry, then add one (see replaceHeader); remove drops
 * all; get_header_map_size answers the map's *byte size* (Envoy: HeaderMap::byteSize, sum of
 * key and value lengths), not the pair count.
 */
import type { HeaderList } from '../api.js';
import type { StreamBinding } from '../context.js';
import type { PluginVm } from '../plugin-vm.js';
import type { ImportModule } from '../vm.js';
import { HeaderMapType, WasmResult } from './constants.js';
import { u32 } from './memory.js';
import { StringCache } from './string-cache.js';
import { copyPairsOut, copySerializedPairsOut, copyStringOut } from './copy-out.js';
import { parsePairs, PairsFormatError, type MutablePair } from './pairs.js';
import { utf8Length } from './utf8.js';

/**
 * The map a read may see now, or the WasmResult refusing it. Answers a number or the list
 * itself (no result object per call: this runs for every header read of every request).
 */
function readableMap(h: PluginVm, type: number): HeaderList | number {
  if (type > HeaderMapType.Max) return WasmResult.BadArgument;
  if (type === HeaderMapType.HttpCallResponseHeaders || type === HeaderMapType.HttpCallResponseTrailers) {
    const response = h.httpCallResponse;
    if (response === null) return WasmResult.BadArgument;
    return type === HeaderMapType.HttpCallResponseHeaders ? response.headers : response.trailers;
  }
  if (type > HeaderMapType.ResponseTrailers) return WasmResult.BadArgument;
  const stream = h.context()?.stream;
  if (stream === undefined) return WasmResult.BadArgument;
  const map = stream.headerMap(type);
  if (map === null) return stream.accessLogPhase ? WasmResult.NotFound : WasmResult.BadArgument;
  return map;
}

/** Inserts keeping pseudo-headers (`:name`) ahead of regular ones, as Envoy's header map does. */
export function addHeader(map: MutablePair[], key: string, value: string): void {
  if (key.startsWith(':')) {
    let i = 0;
    while (i < map.length && map[i]![0].startsWith(':')) i++;
    map.splice(i, 0, [key, value]);
  } else {
    map.push([key, value]);
  }
}

/**
 * Envoy's HeaderMapImpl::setCopy (source/common/http/header_map_impl.cc): `remove(key);
 * addCopy(key, value)` since the `http_set_copy_replace_all_headers` runtime guard became the
 * only path (Envoy 1.16 default, guard removed in 1.20). So a replaced header leaves its place:
 * an ordinary header moves to the end of the map, a pseudo-header to the end of the
 * pseudo-header block (HeaderList::insert keeps pseudo-headers first).
 */
export function replaceHeader(map: MutablePair[], key: string, value: string): void {
  removeHeader(map, key);
  addHeader(map, key, value);
}

/**
 * Drops every entry of `key` (HeaderMapImpl::remove) by compacting the array in place: one
 * pass, and no array of removed elements per hit as Array#splice returns.
 */
export function removeHeader(map: MutablePair[], key: string): void {
  const n = map.length;
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const pair = map[i]!;
    if (pair[0] !== key) {
      if (kept !== i) map[kept] = pair;
      kept++;
    }
  }
  // pop() rather than `length = kept`: setting an array's length goes through the runtime
  // (Accessors::ArrayLengthSetter, ≈ 50 ns), pop is an inlined fast path.
  for (let i = kept; i < n; i++) map.pop();
}

export function headerValue(map: HeaderList, key: string): string | undefined {
  for (let i = 0; i < map.length; i++) if (map[i]![0] === key) return map[i]![1];
  return undefined;
}

export function headerByteSize(map: HeaderList): number {
  let size = 0;
  for (const [k, v] of map) size += utf8Length(k) + utf8Length(v);
  return size;
}

const NO_PAIRS: HeaderList = [];

export function headerImports(h: PluginVm): ImportModule {
  const abi010 = h.abiVersion === '0_1_0';
  // Names and sent values come from the module's constants: decoded once (string-cache.ts).
  const strings = new StringCache(() => h.vm);
  /**
   * The stream whose map of `type` a write may change now, or the WasmResult refusing the
   * write — what readableMap refuses, and besides: http call response maps are read-only
   * (every type past ResponseTrailers), stream maps are not writable in proxy_on_log. One
   * context lookup serves the whole edit.
   */
  const writableStream = (type: number): StreamBinding | number => {
    if (type > HeaderMapType.ResponseTrailers) return WasmResult.BadArgument;
    const stream = h.context()?.stream;
    if (stream === undefined) return WasmResult.BadArgument;
    if (stream.headerMap(type) === null) return stream.accessLogPhase ? WasmResult.NotFound : WasmResult.BadArgument;
    return stream.headersMutable(type) ? stream : WasmResult.BadArgument;
  };
  /** The stream's own copy of the map, for writing in place (copied from the embedder's list on first write). */
  const mutableMap = (stream: StreamBinding, type: number): MutablePair[] | number => stream.mutableHeaderMap(type) ?? WasmResult.BadArgument;
  return {
    proxy_get_header_map_value(type: number, keyPtr: number, keySize: number, valuePtrPtr: number, valueSizePtr: number): number {
      const found = readableMap(h, u32(type));
      // envoy:context.cc getHeaderMapValue: under ABI 0.1.0 an absent header — or a map absent in
      // the access-log phase — reads as an empty value (Ok); 0.2.x answers NotFound.
      if (found === WasmResult.NotFound && abi010) return copyStringOut(h.vm, '', valuePtrPtr, valueSizePtr) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
      if (typeof found === 'number') return found;
      const key = strings.readLower(keyPtr, keySize);
      if (key === undefined) return WasmResult.InvalidMemoryAccess;
      const value = headerValue(found, key);
      if (value === undefined) {
        if (!abi010) return WasmResult.NotFound;
        return copyStringOut(h.vm, '', valuePtrPtr, valueSizePtr) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
      }
      return copyStringOut(h.vm, value, valuePtrPtr, valueSizePtr) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_add_header_map_value(type: number, keyPtr: number, keySize: number, valuePtr: number, valueSize: number): number {
      type = u32(type);
      const stream = writableStream(type);
      if (typeof stream === 'number') return stream;
      const map = mutableMap(stream, type);
      if (typeof map === 'number') return map;
      const key = strings.readLower(keyPtr, keySize);
      const value = strings.read(valuePtr, valueSize);
      if (key === undefined || value === undefined) return WasmResult.InvalidMemoryAccess;
      addHeader(map, key, value);
      stream.headersModified(type);
      return WasmResult.Ok;
    },
    proxy_replace_header_map_value(type: number, keyPtr: number, keySize: number, valuePtr: number, valueSize: number): number {
      type = u32(type);
      const stream = writableStream(type);
      if (typeof stream === 'number') return stream;
      const map = mutableMap(stream, type);
      if (typeof map === 'number') return map;
      const key = strings.readLower(keyPtr, keySize);
      const value = strings.read(valuePtr, valueSize);
      if (key === undefined || value === undefined) return WasmResult.InvalidMemoryAccess;
      replaceHeader(map, key, value);
      stream.headersModified(type);
      return WasmResult.Ok;
    },
    proxy_remove_header_map_value(type: number, keyPtr: number, keySize: number): number {
      type = u32(type);
      const stream = writableStream(type);
      if (typeof stream === 'number') return stream;
      const key = strings.readLower(keyPtr, keySize);
      if (key === undefined) return WasmResult.InvalidMemoryAccess;
      // Removing an absent header changes nothing, so the stream's map is not copied for writing
      // (filters commonly strip headers that are rarely present). It is still reported as a
      // modification, as it always was here, so the route-cache outcome does not change.
      if (headerValue(stream.headerMap(type)!, key) !== undefined) {
        const map = mutableMap(stream, type);
        if (typeof map === 'number') return map;
        removeHeader(map, key);
      }
      stream.headersModified(type);
      return WasmResult.Ok;
    },
    // envoy:context.cc getHeaderMapPairs: an unavailable map reads as empty (Ok).
    proxy_get_header_map_pairs(type: number, ptrPtr: number, sizePtr: number): number {
      type = u32(type);
      if (type > HeaderMapType.Max) return WasmResult.BadArgument;
      let copied: boolean;
      if (type <= HeaderMapType.ResponseTrailers) {
        // Stream maps: the stream keeps the serialization until the map changes (filter-chain.ts).
        const serialized = h.context()?.stream?.serializedHeaderMap(type) ?? null;
        copied = copySerializedPairsOut(h.vm, serialized, ptrPtr, sizePtr);
      } else {
        const found = readableMap(h, type);
        copied = copyPairsOut(h.vm, typeof found === 'number' ? NO_PAIRS : found, ptrPtr, sizePtr);
      }
      return copied ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
    proxy_set_header_map_pairs(type: number, ptr: number, size: number): number {
      type = u32(type);
      const stream = writableStream(type);
      if (typeof stream === 'number') return stream;
      const map = mutableMap(stream, type);
      if (typeof map === 'number') return map;
      const bytes = h.vm.bytes(ptr, size);
      if (bytes === undefined) return WasmResult.InvalidMemoryAccess;
      let pairs: MutablePair[];
      try {
        pairs = parsePairs(bytes);
      } catch (error) {
        if (error instanceof PairsFormatError) return WasmResult.BadArgument;
        throw error;
      }
      map.length = 0;
      for (const [k, v] of pairs) addHeader(map, k.toLowerCase(), v);
      stream.headersModified(type);
      return WasmResult.Ok;
    },
    proxy_get_header_map_size(type: number, resultPtr: number): number {
      const found = readableMap(h, u32(type));
      if (typeof found === 'number') return found;
      return h.vm.setU32(resultPtr, headerByteSize(found)) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
    },
  };
}
