/**
 * Values written straight into module memory (abi/copy-out.ts) when the module's allocator
 * grows memory: the host must notice the detached buffer and write into the new one.
 */
import binaryen from 'binaryen';
import { describe, expect, it } from 'vitest';
import type { HeaderList } from '../../deployer/src/host/api.js';
import { copyPairsOut, copyStringOut } from '../../deployer/src/host/abi/copy-out.js';
import { parsePairs } from '../../deployer/src/host/abi/pairs.js';
import { WasmVm } from '../../deployer/src/host/vm.js';

/** A module whose `malloc` grows memory by one page per call and returns that page. */
function growingVm(): WasmVm {
  const m = new binaryen.Module();
  m.setMemory(1, 100, 'memory');
  m.addFunction('malloc', binaryen.createType([binaryen.i32]), binaryen.i32, [],
    m.i32.mul(m.memory.grow(m.i32.const(1)), m.i32.const(65536)));
  m.addFunctionExport('malloc', 'malloc');
  const bytes = new Uint8Array(m.emitBinary());
  m.dispose();
  return new WasmVm(new WebAssembly.Module(bytes), {}, '0_2_1');
}

const PTR = 0;
const SIZE = 4;

describe('host: copy-out into memory that grows during allocation', () => {
  it.each<[string, HeaderList]>([
    ['ascii', [[':method', 'GET'], [':path', '/a?b=c'], ['x-empty', '']]],
    ['non-ascii', [['x-name', 'caf\u00e9 \u{1F600}'], ['x-\u00fc', 'v']]],
  ])('host: proxy_get_header_map_pairs %s pairs land in the grown memory', (_name, pairs) => {
    const vm = growingVm();
    expect(copyPairsOut(vm, pairs, PTR, SIZE)).toBe(true);
    const ptr = vm.getU32(PTR);
    expect(ptr).toBe(65536);
    expect(vm.pages).toBe(2);
    expect(parsePairs(vm.bytes(ptr, vm.getU32(SIZE))!)).toEqual(pairs);
  });

  it.each([['ascii', 'spiffe://cluster.local/ns/a/sa/b'], ['non-ascii', 'h\u00e9llo'], ['empty', '']])(
    'host: proxy_get_property %s string value is UTF-8 in module memory', (_name, value) => {
      const vm = growingVm();
      expect(copyStringOut(vm, value, PTR, SIZE)).toBe(true);
      const size = vm.getU32(SIZE);
      expect(Buffer.from(size === 0 ? new Uint8Array(0) : vm.bytes(vm.getU32(PTR), size)!).toString('utf8')).toBe(value);
    });
});
