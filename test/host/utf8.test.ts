/**
 * abi/utf8.ts writes strings into module memory without TextEncoder for ASCII (JS loops for
 * short strings, Buffer.byteLength + encodeInto for long ones). Whatever the path, the bytes
 * must be exactly TextEncoder's (lone surrogates → U+FFFD) and pairs must round-trip.
 */
import { describe, expect, it } from 'vitest';
import { parsePairs, serializePairs } from '../../deployer/src/host/abi/pairs.js';
import { nonAsciiBytes, utf8Length, writeAscii } from '../../deployer/src/host/abi/utf8.js';

const token = `Bearer ${'eyJhbGciOiJSUzI1NiJ9'.repeat(30)}`;
const cases: readonly [string, string][] = [
  ['short ASCII', 'x-request-id'],
  ['empty', ''],
  ['ASCII at the native threshold', 'a'.repeat(32)],
  ['ASCII just past the threshold', 'a'.repeat(33)],
  ['long ASCII (a bearer token)', token],
  ['short non-ASCII', 'caf\u00e9'],
  ['long non-ASCII at the end', `${token}\u00e9`],
  ['long with an emoji', `${token}\u{1F600}`],
  ['long with a lone surrogate', `${token}\ud800`],
  ['short with a lone surrogate', 'x\udc00'],
];

describe('host: UTF-8 copy-out of header names and values', () => {
  it.each(cases)('host: %s is written as TextEncoder writes it', (_name, value) => {
    const expected = new TextEncoder().encode(value);
    expect(utf8Length(value)).toBe(expected.length);
    const encoded = nonAsciiBytes(value);
    if (encoded !== undefined) {
      expect(encoded).toEqual(expected);
      return;
    }
    expect(value.length).toBe(expected.length);
    const out = new Uint8Array(value.length + 4).fill(0xee);
    writeAscii(out, 2, value);
    expect(out.subarray(2, 2 + value.length)).toEqual(expected);
    expect([out[0], out[1], out[value.length + 2], out[value.length + 3]]).toEqual([0xee, 0xee, 0xee, 0xee]);
  });

  it.each(cases)('host: proxy_get_header_map_pairs round-trips a %s value', (_name, value) => {
    const pairs: [string, string][] = [['authorization', value], ['x-after', 'ok']];
    const expected = pairs.map(([k, v]) => [k, new TextDecoder().decode(new TextEncoder().encode(v))]);
    expect(parsePairs(serializePairs(pairs))).toEqual(expected);
  });
});
