/**
 * Filter-state keys of the property paths a module sets, looked up by the path's bytes.
 *
 * Why: modules set the same few paths on every request (jwt-auth: wasmesh.jwt.principal and
 * wasmesh.jwt.payload for rbac). Decoding the path, prefixing `wasm.` and hashing the new
 * string for the filter-state Map cost more than the Map write itself. A hit here compares the
 * bytes against the known paths and answers strings V8 has already hashed. The table is
 * bounded, so a module that sets ever-new paths only falls back to decoding (same result).
 */
import { KnownBytes } from './address-table.js';
import { decodeMostlyAscii } from './utf8.js';

const MAX_KNOWN_PATHS = 16;
const decoder = new TextDecoder();

export interface PropertyKey {
  /** The property path as the module wrote it (declare_property names are matched on this). */
  readonly path: string;
  /** The filter-state key (`wasm.` + path, envoy:context.cc setProperty → WasmState). */
  readonly key: string;
}

export class PropertyKeys {
  private readonly bytes: KnownBytes[] = [];
  private readonly known: PropertyKey[] = [];

  constructor(private readonly prefix: string) {}

  /** The key of the path at memory[start, start + length) (module memory: only read, never kept; the caller checked the range). */
  lookup(memory: DataView, start: number, length: number, memoryWords?: Int32Array): PropertyKey {
    const count = this.bytes.length;
    for (let i = 0; i < count; i++) {
      const candidate = this.bytes[i]!;
      if (candidate.length === length && candidate.at(memory, start, memoryWords)) return this.known[i]!;
    }
    const bytes = new KnownBytes(memory, start, length);
    const name = decodeMostlyAscii(bytes.bytes, decoder);
    // The same string object on every hit: V8 flattens and hashes it on the first Map use and
    // keeps the hash in the string, so later filter-state writes skip both.
    const entry: PropertyKey = { path: name, key: `${this.prefix}${name}` };
    if (count < MAX_KNOWN_PATHS) {
      this.bytes.push(bytes);
      this.known.push(entry);
    }
    return entry;
  }
}
