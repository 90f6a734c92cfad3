/**
 * Property paths as modules pass them to proxy_get_property: NUL-separated segments, decoded
 * once per VM and remembered by address (address-table.ts), with what resolving them needs
 * chosen once: the direct resolver of a hot stream path (property-fast-paths.ts) or the
 * filter-state key of a name only filter state answers.
 */
import { AddressTable, KnownBytes } from './address-table.js';
import { fastResolver, type FastResolver } from './property-fast-paths.js';
import { decodeMostlyAscii } from './utf8.js';

/** Filter state written by proxy_set_property lives under `wasm.<path>` (envoy:context.cc setProperty). */
export const FILTER_STATE_PREFIX = 'wasm.';

/** NUL-separated path → segments (a trailing NUL, as some SDKs send, ends the path). */
export function pathSegments(path: string): readonly string[] {
  const parts = path.split('\0');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/**
 * Decoded property paths of one VM, by address (address-table.ts): SDKs pass paths from buffers that
 * live as long as the VM (constants), so the same few paths come back on every request. An
 * entry is reused only when the bytes still match, so a reused buffer with another path is
 * decoded afresh. Bounded: a module building paths on the fly just misses.
 */
export class PathCache {
  private readonly entries = new AddressTable<PathEntry>(PATH_CACHE_SLOTS);
  private readonly decoder = new TextDecoder();

  segments(ptr: number, bytes: Uint8Array): readonly string[] {
    return this.entryAt(ptr, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0, bytes.length).parts;
  }

  /**
   * The path at memory[start, start + length) (a module's memory, `ptr` its address there),
   * compared in place, so a hit allocates nothing; with its direct resolver chosen once.
   * `memoryWords`: the same memory as words from offset 0, for aligned compares (WasmVm.memoryWords).
   */
  entryAt(ptr: number, memory: DataView, start: number, length: number, memoryWords?: Int32Array): PathEntry {
    const cacheable = length < PATH_CACHE_MAX_LENGTH;
    const entry = cacheable ? this.entries.get(ptr) : undefined;
    if (entry !== undefined && entry.bytes.length === length && entry.bytes.at(memory, start, memoryWords)) return entry;
    const bytes = new KnownBytes(memory, start, length);
    const parts = pathSegments(decodeMostlyAscii(bytes.bytes, this.decoder));
    const fresh: PathEntry = { ptr, bytes, parts, fast: fastResolver(parts) ?? null, stateKey: filterStateKey(parts) };
    if (cacheable) this.entries.set(fresh);
    return fresh;
  }
}

export interface PathEntry {
  readonly ptr: number;
  readonly bytes: KnownBytes;
  readonly parts: readonly string[];
  /** Direct resolver of a hot stream path (property-fast-paths.ts); null: the path is walked. */
  readonly fast: FastResolver | null;
  /** For a name only filter state can answer (`wasm.<name>`, see topLevel): its key, built once. */
  readonly stateKey: string | null;
}

/** Top-level names topLevel() resolves itself; any other single name reads filter state. */
const TOP_LEVEL_NAMES: ReadonlySet<string> = new Set([
  'plugin_name', 'plugin_root_id', 'plugin_vm_id', 'listener_direction', 'node', 'xds', 'request', 'response',
  'connection', 'source', 'destination', 'upstream', 'connection_id', 'cluster_name', 'route_name', 'filter_state',
]);

function filterStateKey(parts: readonly string[]): string | null {
  return parts.length === 1 && !TOP_LEVEL_NAMES.has(parts[0]!) ? FILTER_STATE_PREFIX + parts[0]! : null;
}

const PATH_CACHE_MAX_LENGTH = 1024;
const PATH_CACHE_SLOTS = 256;

