import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../setup/paths.js';
import { loadLibHarness, type LibHarness } from './harness.js';

interface Accepted { readonly name: string; readonly input: string; readonly canonical: string; readonly kind: string }
interface Rejected { readonly name: string; readonly input: string; readonly error: string }
const cases = JSON.parse(readFileSync(path.join(repoRoot, 'test/fixtures/jwt/lib/json-cases.json'), 'utf8')) as {
  readonly accepted: readonly Accepted[];
  readonly rejected: readonly Rejected[];
};

let lib: LibHarness;
beforeAll(() => { lib = loadLibHarness(); });

describe('filters/lib/json.ts', () => {
  it.each(cases.accepted)('parses $name', ({ input, canonical, kind }) => {
    expect(lib.json(input)).toBe(`ok ${canonical} ${kind}`);
  });

  it.each(cases.rejected)('rejects $name', ({ input, error }) => {
    expect(lib.json(input)).toBe(`error ${error}`);
  });

  // Integers of ≤ 15 digits take a direct f64 sum instead of strtod: both paths must agree.
  it.each([
    ['999999999999999', '999999999999999'], ['-999999999999999', '-999999999999999'],
    ['1000000000000000', '1000000000000000'], ['-1234567890123456', '-1234567890123456'],
    ['0', '0'], ['-0', '0'], ['1700000000', '1700000000'], ['[1,-2,30]', '[1,-2,30]'],
  ])('parses integer %s exactly on both number paths', (input, canonical) => {
    expect(lib.json(input)).toMatch(new RegExp(`^ok ${canonical.replace(/[[\]]/g, '\\$&')} `));
  });

  it('keeps duplicates when asked to (first one wins on get)', () => {
    expect(lib.json('{"a":1,"a":2}', { allowDuplicates: true })).toBe('ok {"a":1,"a":2} object(2)');
  });

  it('detects duplicates in large objects (set-backed path)', () => {
    const members = Array.from({ length: 40 }, (_, i) => `"k${i}":${i}`);
    expect(lib.json(`{${members.join(',')}}`)).toMatch(/^ok /);
    expect(lib.json(`{${members.join(',')},"k7":0}`)).toMatch(/^error duplicate key "k7" at offset \d+$/);
  });

  it.each([
    ['array', (d: number) => '['.repeat(d) + ']'.repeat(d)],
    ['object', (d: number) => '{"a":'.repeat(d) + '1' + '}'.repeat(d)],
  ])('bounds %s nesting depth', (_kind, build) => {
    expect(lib.json(build(64))).toMatch(/^ok /);
    expect(lib.json(build(65))).toMatch(/^error nesting deeper than 64 levels at offset \d+$/);
    expect(lib.json(build(100_000))).toMatch(/^error nesting deeper than 64 levels/);
    expect(lib.json(build(3), { maxDepth: 2 })).toMatch(/^error nesting deeper than 2 levels/);
  });

  it.each([
    ['overlong encoding', [0x22, 0xc0, 0xaf, 0x22], 1],
    ['encoded surrogate', [0x22, 0xed, 0xa0, 0x80, 0x22], 1],
    ['above U+10FFFF', [0x22, 0xf4, 0x90, 0x80, 0x80, 0x22], 1],
    ['truncated sequence', [0x22, 0x61, 0xe2, 0x82], 2],
    ['stray continuation byte', [0x22, 0x80, 0x22], 1],
  ])('rejects invalid UTF-8: %s', (_name, bytes, offset) => {
    expect(lib.json(Uint8Array.from(bytes))).toBe(`error invalid UTF-8 at byte offset ${offset}`);
  });

  it.each([
    ['a.b', '{"a":{"b":"x"}}', 'ok "x"'],
    ['a', '{"a":{"b":"x"}}', 'ok {"b":"x"}'],
    ['a.c', '{"a":{"b":"x"}}', 'missing'],
    ['a.b.c', '{"a":{"b":"x"}}', 'missing'],
    ['', '{"":1}', 'ok 1'],
  ])('getPath(%s) on %s', (p, json, expected) => {
    expect(lib.jsonPath(json, p)).toBe(expected);
  });

  it('round-trips what JSON.stringify produces', () => {
    const value = { iss: 'https://issuer.example', sub: 'u\u0000"\\', aud: ['a', 'b'], exp: 1700000000, n: -12.25, nested: { ok: true, none: null } };
    const text = JSON.stringify(value);
    expect(lib.json(text)).toBe(`ok ${text} object(6)`);
  });
});
