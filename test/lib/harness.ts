/**
 * Loads build/test-filters/jwt-lib-harness.wasm (compiled by the vitest global setup) with every
 * import stubbed: the harness exports never call into the host.
 */
import { readFileSync } from 'node:fs';
import { builtTestFilter } from '../setup/paths.js';

export interface LibHarness {
  json(text: string | Uint8Array, options?: { readonly allowDuplicates?: boolean; readonly maxDepth?: number }): string;
  jsonPath(json: string, path: string): string;
  base64(input: string | Uint8Array, mode: 'urlDecode' | 'stdDecode' | 'urlEncode' | 'stdEncode'): string;
}

interface HarnessExports {
  readonly memory: WebAssembly.Memory;
  malloc(size: number): number;
  harness_result_ptr(): number;
  harness_result_len(): number;
  harness_json(ptr: number, len: number, flags: number, maxDepth: number): void;
  harness_json_path(ptr: number, len: number): void;
  harness_base64(ptr: number, len: number, mode: number): void;
  _initialize?: () => void;
}

export function loadLibHarness(): LibHarness {
  const module = new WebAssembly.Module(readFileSync(builtTestFilter('jwt-lib-harness')));
  const imports: Record<string, Record<string, () => number>> = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.kind !== 'function') continue;
    (imports[imp.module] ??= {})[imp.name] = () => {
      throw new Error(`harness called host import ${imp.module}.${imp.name}`);
    };
  }
  const instance = new WebAssembly.Instance(module, imports);
  const exp = instance.exports as unknown as HarnessExports;
  exp._initialize?.();
  const put = (data: string | Uint8Array): [number, number] => {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    const ptr = exp.malloc(Math.max(bytes.length, 1));
    new Uint8Array(exp.memory.buffer, ptr, bytes.length).set(bytes);
    return [ptr, bytes.length];
  };
  const result = (): string =>
    new TextDecoder().decode(new Uint8Array(exp.memory.buffer, exp.harness_result_ptr(), exp.harness_result_len()));
  const modes = { urlDecode: 0, stdDecode: 1, urlEncode: 2, stdEncode: 3 } as const;
  return {
    json(text, options) {
      const [ptr, len] = put(text);
      exp.harness_json(ptr, len, options?.allowDuplicates ? 1 : 0, options?.maxDepth ?? 64);
      return result();
    },
    jsonPath(json, path) {
      const [ptr, len] = put(`${path}\0${json}`);
      exp.harness_json_path(ptr, len);
      return result();
    },
    base64(input, mode) {
      const [ptr, len] = put(input);
      exp.harness_base64(ptr, len, modes[mode]);
      return result();
    },
  };
}
