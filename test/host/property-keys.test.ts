import { describe, expect, it } from 'vitest';
import { ByteSlab } from '../../deployer/src/host/abi/byte-slab.js';
import { PropertyKeys } from '../../deployer/src/host/abi/property-keys.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
/** A path as module memory holds it, at an offset. */
const at = (keys: PropertyKeys, path: Uint8Array) => {
  const memory = new Uint8Array(path.length + 8);
  memory.set(path, 5);
  return keys.lookup(new DataView(memory.buffer), 5, path.length);
};

describe('PropertyKeys (proxy_set_property path → filter-state key)', () => {
  it.each([
    ['wasmesh.jwt.principal'],
    ['wasmesh.jwt.payload'],
    ['a'],
    ['déjà'],
    [''],
  ])('host: proxy_set_property key of %j is wasm.<path> on a miss and on a hit', (path) => {
    const keys = new PropertyKeys('wasm.');
    const first = at(keys, bytes(path));
    const again = at(keys, bytes(path));
    expect(first).toEqual({ path, key: `wasm.${path}` });
    expect(again).toBe(first);
  });

  it('host: proxy_set_property keys tell apart paths of the same length', () => {
    const keys = new PropertyKeys('wasm.');
    expect(at(keys, bytes('abc')).path).toBe('abc');
    expect(at(keys, bytes('abd')).path).toBe('abd');
    expect(at(keys, bytes('abc')).path).toBe('abc');
  });

  it('host: proxy_set_property keys do not alias module memory that changes after the call', () => {
    const keys = new PropertyKeys('wasm.');
    const memory = bytes('path.one');
    keys.lookup(new DataView(memory.buffer), 0, memory.length);
    memory.set(bytes('path.two'));
    expect(keys.lookup(new DataView(memory.buffer), 0, memory.length).path).toBe('path.two');
    expect(at(keys, bytes('path.one')).path).toBe('path.one');
  });

  it('host: proxy_set_property keys stay right past the bounded table (decoded, not cached)', () => {
    const keys = new PropertyKeys('wasm.');
    for (let i = 0; i < 40; i++) expect(at(keys, bytes(`p${i}`)).key).toBe(`wasm.p${i}`);
    for (let i = 39; i >= 0; i--) expect(at(keys, bytes(`p${i}`)).path).toBe(`p${i}`);
  });
});

describe('ByteSlab (filter-state value copies)', () => {
  it.each([[0], [1], [64], [65], [200], [2047], [2048], [10_000]])('host: proxy_set_property value of %i bytes is copied, not aliased', (size) => {
    const slab = new ByteSlab();
    const source = new Uint8Array(size).map((_, i) => i & 0xff);
    const copy = slab.copy(source);
    source.fill(0xee);
    expect(copy.length).toBe(size);
    expect([...copy]).toEqual(Array.from({ length: size }, (_, i) => i & 0xff));
  });

  it.each([[0], [1], [64], [65], [200], [2048]])('host: proxy_set_property value of %i bytes copied from module memory is not aliased', (size) => {
    const slab = new ByteSlab();
    const memory = new Uint8Array(size + 16).map((_, i) => i & 0xff);
    const copy = slab.copyFrom(memory, 16, size);
    memory.fill(0xee);
    expect([...copy]).toEqual(Array.from({ length: size }, (_, i) => (i + 16) & 0xff));
  });

  it('host: proxy_set_property value copies never overlap, across slab refills', () => {
    const slab = new ByteSlab();
    const copies: Uint8Array[] = [];
    for (let i = 0; i < 400; i++) copies.push(slab.copy(new Uint8Array(100 + (i % 50)).fill(i & 0xff)));
    copies.forEach((copy, i) => {
      expect(copy.length).toBe(100 + (i % 50));
      expect(copy.every((b) => b === (i & 0xff))).toBe(true);
    });
  });
});
