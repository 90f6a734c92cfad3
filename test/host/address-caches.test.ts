/**
 * The host's per-call caches of module memory (abi/address-table.ts, abi/string-cache.ts) and
 * of values handed out (abi/copy-out.ts): whatever is cached, a call must answer exactly what
 * decoding or encoding afresh answers — a buffer rewritten at the same address is read anew,
 * and every copy-out is TextEncoder's bytes.
 */
import binaryen from 'binaryen';
import { describe, expect, it } from 'vitest';
import { AddressTable, KnownBytes } from '../../deployer/src/host/abi/address-table.js';
import { copyStringOut } from '../../deployer/src/host/abi/copy-out.js';
import { removeHeader, replaceHeader } from '../../deployer/src/host/abi/headers.js';
import type { MutablePair } from '../../deployer/src/host/abi/pairs.js';
import { StringCache } from '../../deployer/src/host/abi/string-cache.js';
import { WasmVm } from '../../deployer/src/host/vm.js';

/** A module with 4 pages of memory whose `malloc` bumps a pointer from 64 KiB on. */
function bumpVm(): WasmVm {
  const m = new binaryen.Module();
  m.setMemory(4, 4, 'memory');
  m.addGlobal('next', binaryen.i32, true, m.i32.const(65536));
  m.addFunction('malloc', binaryen.createType([binaryen.i32]), binaryen.i32, [binaryen.i32], m.block(null, [
    m.local.set(1, m.global.get('next', binaryen.i32)),
    m.global.set('next', m.i32.add(m.global.get('next', binaryen.i32), m.local.get(0, binaryen.i32))),
    m.local.get(1, binaryen.i32),
  ], binaryen.i32));
  m.addFunctionExport('malloc', 'malloc');
  const bytes = new Uint8Array(m.emitBinary());
  m.dispose();
  return new WasmVm(new WebAssembly.Module(bytes), {}, '0_2_1');
}

const encoder = new TextEncoder();
const PTR = 0;
const SIZE = 4;

function write(vm: WasmVm, at: number, text: string): number {
  const bytes = encoder.encode(text);
  vm.setBytes(at, bytes);
  return bytes.length;
}

function copiedOut(vm: WasmVm, value: string): Uint8Array {
  expect(copyStringOut(vm, value, PTR, SIZE)).toBe(true);
  const size = vm.getU32(SIZE);
  return size === 0 ? new Uint8Array(0) : vm.copyBytes(vm.getU32(PTR), size)!;
}

describe('host: known bytes compared in place', () => {
  const buffer = new ArrayBuffer(256);
  const memory = new DataView(buffer);
  const words = new Int32Array(buffer);
  const fill = (text: string, at: number) => encoder.encode(text).forEach((b, i) => memory.setUint8(at + i, b));
  const cases = [
    ['equal', 'x-envoy-peer-metadata', 'x-envoy-peer-metadata', true],
    ['first byte differs', 'x-envoy-peer-metadata', 'y-envoy-peer-metadata', false],
    ['a byte in the word part differs', 'x-envoy-peer-metadata', 'x-envoy-peeR-metadata', false],
    ['a tail byte differs', 'x-envoy-peer-metadata', 'x-envoy-peer-metadatA', false],
    ['the last byte of a whole-word length differs', 'request\0headers', 'request\0headerS', false],
    ['under one word, equal', 'abc', 'abc', true],
    ['under one word, differs', 'abc', 'abd', false],
  ] as const;
  // 40: aligned, compared through the memory's Int32Array; 41: unaligned, through DataViews;
  // 40 without the word view: the DataView path at an aligned address.
  const placements = [['aligned, word view', 40, true], ['unaligned', 41, true], ['aligned, no word view', 40, false]] as const;

  it.each(placements.flatMap(([where, at, withWords]) => cases.map(([name, known, now, same]) => [`${name} (${where})`, known, now, same, at, withWords] as const)))(
    'host: %s', (_name, known, now, same, at, withWords) => {
      fill(known, at);
      const bytes = new KnownBytes(memory, at, known.length);
      fill(now, at);
      expect(bytes.at(memory, at, withWords ? words : undefined)).toBe(same);
      expect(bytes.length).toBe(known.length);
      expect(new TextDecoder().decode(bytes.bytes)).toBe(known);
    });

  it('host: an address table answers only the address stored, and a colliding address replaces it', () => {
    const table = new AddressTable<{ readonly ptr: number; readonly name: string }>(4);
    table.set({ ptr: 8, name: 'a' });
    expect(table.get(8)?.name).toBe('a');
    expect(table.get(16)).toBeUndefined();
    // 8 and 8 + 4 slots × 8 bytes share a slot.
    table.set({ ptr: 40, name: 'b' });
    expect(table.get(40)?.name).toBe('b');
    expect(table.get(8)).toBeUndefined();
  });
});

describe('host: strings read from module memory (StringCache)', () => {
  it('host: proxy_get_header_map_value the same bytes at the same address answer the same string', () => {
    const vm = bumpVm();
    const cache = new StringCache(() => vm);
    const n = write(vm, 100, 'X-Envoy-Peer-Metadata');
    const first = cache.read(100, n);
    expect(first).toBe('X-Envoy-Peer-Metadata');
    expect(cache.read(100, n)).toBe(first);
    expect(cache.readLower(100, n)).toBe('x-envoy-peer-metadata');
  });

  it.each([
    ['a short name', 'x-request-id', 'x-request-iD'],
    ['a long value (native compare)', 'v'.repeat(300), `${'v'.repeat(150)}w${'v'.repeat(149)}`],
    ['a value just under the native threshold', 'q'.repeat(127), `${'q'.repeat(126)}r`],
  ])('host: proxy_replace_header_map_value %s rewritten at the same address is read anew', (_name, before, after) => {
    const vm = bumpVm();
    const cache = new StringCache(() => vm);
    const n = write(vm, 200, before);
    expect(cache.read(200, n)).toBe(before);
    expect(cache.readLower(200, n)).toBe(before.toLowerCase());
    write(vm, 200, after);
    expect(cache.read(200, n)).toBe(after);
    expect(cache.readLower(200, n)).toBe(after.toLowerCase());
  });

  it('host: a shorter string at the same address and an out-of-bounds range', () => {
    const vm = bumpVm();
    const cache = new StringCache(() => vm);
    write(vm, 300, 'content-type');
    expect(cache.read(300, 12)).toBe('content-type');
    expect(cache.read(300, 8)).toBe('content-');
    expect(cache.read(4 * 65536 - 2, 4)).toBeUndefined();
  });
});

describe('host: string values copied out (copyStringOut and its encoded-values cache)', () => {
  const long = 'eyJhbGciOiJSUzI1NiJ9'.repeat(30);
  it.each([
    ['short ASCII', 'inbound|9080||'],
    ['long ASCII', long],
    ['long non-ASCII', `${long}caf\u00e9`],
    ['long with an emoji', `${long}\u{1F600}`],
    ['long with a lone surrogate', `${long}\ud800`],
    ['short with a lone surrogate', 'x\udc00'],
    ['empty', ''],
  ])('host: proxy_get_property %s value is TextEncoder\'s bytes on every read (first, admitted, cached)', (_name, value) => {
    const vm = bumpVm();
    for (let i = 0; i < 4; i++) expect(copiedOut(vm, value)).toEqual(encoder.encode(value));
    // An equal string that is another object takes the same cached bytes.
    expect(copiedOut(vm, `${value.slice(0, 1)}${value.slice(1)}`)).toEqual(encoder.encode(value));
  });

  it('host: proxy_get_header_map_value values of the same length alternate without mixing up', () => {
    const vm = bumpVm();
    const a = `a${'x'.repeat(60)}`;
    const b = `b${'x'.repeat(60)}`;
    for (let i = 0; i < 3; i++) {
      expect(copiedOut(vm, a)).toEqual(encoder.encode(a));
      expect(copiedOut(vm, a)).toEqual(encoder.encode(a));
      expect(copiedOut(vm, b)).toEqual(encoder.encode(b));
    }
  });

  it('host: a pointer or size address out of bounds is a fault, nothing written', () => {
    const vm = bumpVm();
    expect(copyStringOut(vm, 'x'.repeat(40), 4 * 65536 - 2, SIZE)).toBe(false);
    expect(copyStringOut(vm, 'short', PTR, 4 * 65536)).toBe(false);
  });
});

describe('host: header map edits (Envoy HeaderMapImpl remove / setCopy)', () => {
  const map = (): MutablePair[] => [[':path', '/'], ['a', '1'], ['b', '2'], ['a', '3'], ['c', '4']];
  it.each<[string, string, MutablePair[]]>([
    ['every entry of a repeated key', 'a', [[':path', '/'], ['b', '2'], ['c', '4']]],
    ['the last entry', 'c', [[':path', '/'], ['a', '1'], ['b', '2'], ['a', '3']]],
    ['an absent key (nothing changes)', 'x', map()],
    ['a pseudo-header', ':path', [['a', '1'], ['b', '2'], ['a', '3'], ['c', '4']]],
  ])('host: proxy_remove_header_map_value removes %s', (_name, key, expected) => {
    const edited = map();
    removeHeader(edited, key);
    expect(edited).toEqual(expected);
  });

  it('host: proxy_replace_header_map_value of a repeated key leaves one entry, at the end', () => {
    const edited = map();
    replaceHeader(edited, 'a', '9');
    expect(edited).toEqual([[':path', '/'], ['b', '2'], ['c', '4'], ['a', '9']]);
  });
});
