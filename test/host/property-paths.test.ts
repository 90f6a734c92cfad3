import { describe, expect, it } from 'vitest';
import { PathCache } from '../../deployer/src/host/abi/properties.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('host: property path decoding cache', () => {
  it.each([
    ['source\0address', ['source', 'address']],
    ['request\0headers\0x-a\0', ['request', 'headers', 'x-a']],
    ['plugin_root_id', ['plugin_root_id']],
    ['wasm.caf\u00e9', ['wasm.caf\u00e9']],
  ])('host: proxy_get_property path %j splits into its segments', (path, expected) => {
    const cache = new PathCache();
    expect(cache.segments(64, bytes(path))).toEqual(expected);
    expect(cache.segments(64, bytes(path))).toEqual(expected);
  });

  it('host: proxy_get_property path reused buffer with other bytes is decoded afresh', () => {
    const cache = new PathCache();
    expect(cache.segments(128, bytes('source\0address'))).toEqual(['source', 'address']);
    expect(cache.segments(128, bytes('source\0port\0\0\0\0'))).toEqual(['source', 'port', '', '', '']);
    expect(cache.segments(128, bytes('destination\0a'))).toEqual(['destination', 'a']);
  });
});
