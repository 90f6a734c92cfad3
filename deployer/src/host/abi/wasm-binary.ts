/**
 * Reads what a proxy-wasm host links against from a module's bytes: the function types, the
 * imports (with their types) and the exports in section order. Node's WebAssembly API gives
 * names but no types, and Envoy's V8 link (cpp-host src/v8/v8.cc `V8::link`,
 * `getModuleFunctionImpl`) compares the types of every import and of every callback it looks
 * up, so the host needs them. Export *order* matters too: cpp-host src/bytecode_util.cc
 * `getAbiVersion` takes the first `proxy_abi_version_*` function export it meets.
 * Spec: https://webassembly.github.io/spec/core/binary/modules.html
 */

export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'funcref' | 'externref';
export type ExternKind = 'function' | 'table' | 'memory' | 'global' | 'tag';

export interface FuncType {
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
}

export interface Limits {
  readonly initial: number;
  readonly maximum?: number;
  readonly shared?: boolean;
}

export interface ModuleImport {
  readonly module: string;
  readonly name: string;
  readonly kind: ExternKind;
  /** Functions only. */
  readonly type?: FuncType;
  /** Memories and tables: the engine creates them with these limits (cpp-host v8.cc link). */
  readonly limits?: Limits;
  /** Tables only. */
  readonly element?: ValType;
}

export interface ModuleExport {
  readonly name: string;
  readonly kind: ExternKind;
  /** Functions only. */
  readonly type?: FuncType;
}

export interface ModuleShape {
  readonly imports: readonly ModuleImport[];
  /** In export-section order. */
  readonly exports: readonly ModuleExport[];
}

export class WasmBinaryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WasmBinaryError';
  }
}

const VAL_TYPES: Readonly<Record<number, ValType>> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref' };
const KINDS: readonly ExternKind[] = ['function', 'table', 'memory', 'global', 'tag'];

/** `i32 i32 -> i32`, the notation of cpp-host's V8 error messages. */
export function formatFuncType(type: FuncType): string {
  return `${type.params.join(' ') || 'void'} -> ${type.results.join(' ') || 'void'}`;
}

export function sameFuncType(a: FuncType, b: FuncType): boolean {
  return a.params.length === b.params.length && a.results.length === b.results.length
    && a.params.every((t, i) => t === b.params[i]) && a.results.every((t, i) => t === b.results[i]);
}

class Reader {
  pos = 0;
  constructor(private readonly bytes: Uint8Array, readonly end: number = bytes.length) {}

  byte(): number {
    if (this.pos >= this.end) throw new WasmBinaryError(`unexpected end of section at byte ${this.pos}`);
    return this.bytes[this.pos++]!;
  }

  u32(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
    }
    throw new WasmBinaryError(`LEB128 integer too long at byte ${this.pos}`);
  }

  name(): string {
    const length = this.u32();
    if (this.pos + length > this.end) throw new WasmBinaryError(`name runs past its section at byte ${this.pos}`);
    const text = new TextDecoder('utf-8', { fatal: false }).decode(this.bytes.subarray(this.pos, this.pos + length));
    this.pos += length;
    return text;
  }

  valType(): ValType {
    const code = this.byte();
    const type = VAL_TYPES[code];
    if (type === undefined) throw new WasmBinaryError(`unknown value type 0x${code.toString(16)} at byte ${this.pos - 1}`);
    return type;
  }

  limits(): Limits {
    const flags = this.byte();
    const initial = this.u32();
    const maximum = flags & 1 ? this.u32() : undefined;
    return { initial, ...(maximum !== undefined ? { maximum } : {}), ...(flags & 2 ? { shared: true } : {}) };
  }
}

/** Parses the sections the host needs; throws WasmBinaryError on a truncated or malformed module. */
export function readModuleShape(bytes: Uint8Array): ModuleShape {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new WasmBinaryError('not a Wasm module (no \\0asm header)');
  }
  const types: FuncType[] = [];
  const funcTypes: (FuncType | undefined)[] = []; // by function index: imported first, then defined
  const imports: ModuleImport[] = [];
  const rawExports: { name: string; kind: ExternKind; index: number }[] = [];
  const top = new Reader(bytes);
  top.pos = 8;
  while (top.pos < bytes.length) {
    const id = top.byte();
    const size = top.u32();
    const end = top.pos + size;
    if (end > bytes.length) throw new WasmBinaryError(`section ${id} runs past the end of the module`);
    const r = new Reader(bytes, end);
    r.pos = top.pos;
    if (id === 1) {
      for (let n = r.u32(); n > 0; n--) {
        if (r.byte() !== 0x60) throw new WasmBinaryError(`type section entry is not a function type at byte ${r.pos - 1}`);
        const params = Array.from({ length: r.u32() }, () => r.valType());
        const results = Array.from({ length: r.u32() }, () => r.valType());
        types.push({ params, results });
      }
    } else if (id === 2) {
      for (let n = r.u32(); n > 0; n--) {
        const module = r.name();
        const name = r.name();
        const kind = KINDS[r.byte()] ?? 'tag';
        if (kind === 'function') {
          const type = types[r.u32()];
          funcTypes.push(type);
          imports.push({ module, name, kind, ...(type ? { type } : {}) });
          continue;
        }
        if (kind === 'table') {
          const element = r.valType();
          imports.push({ module, name, kind, element, limits: r.limits() });
        } else if (kind === 'memory') {
          imports.push({ module, name, kind, limits: r.limits() });
        } else {
          if (kind === 'global') { r.valType(); r.byte(); } else { r.byte(); r.u32(); }
          imports.push({ module, name, kind });
        }
      }
    } else if (id === 3) {
      for (let n = r.u32(); n > 0; n--) funcTypes.push(types[r.u32()]);
    } else if (id === 7) {
      for (let n = r.u32(); n > 0; n--) {
        const name = r.name();
        const kind = KINDS[r.byte()] ?? 'tag';
        rawExports.push({ name, kind, index: r.u32() });
      }
    }
    top.pos = end;
  }
  const exports = rawExports.map(({ name, kind, index }): ModuleExport => {
    const type = kind === 'function' ? funcTypes[index] : undefined;
    return { name, kind, ...(type ? { type } : {}) };
  });
  return { imports, exports };
}
