import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../setup/paths.js';
import { loadLibHarness, type LibHarness } from './harness.js';

interface Decoded { readonly name: string; readonly input: string; readonly hex: string }
interface Rejected { readonly name: string; readonly input: string; readonly error: string }
const cases = JSON.parse(readFileSync(path.join(repoRoot, 'test/fixtures/jwt/lib/base64-cases.json'), 'utf8')) as {
  readonly urlDecode: readonly Decoded[]; readonly urlRejected: readonly Rejected[];
  readonly stdDecode: readonly Decoded[]; readonly stdRejected: readonly Rejected[];
};

let lib: LibHarness;
beforeAll(() => { lib = loadLibHarness(); });

describe('filters/lib/base64.ts', () => {
  it.each(cases.urlDecode)('base64UrlDecode: $name', ({ input, hex }) => {
    expect(lib.base64(input, 'urlDecode')).toBe(`ok ${hex}`);
  });
  it.each(cases.urlRejected)('base64UrlDecode rejects $name', ({ input, error }) => {
    expect(lib.base64(input, 'urlDecode')).toBe(`error ${error}`);
  });
  it.each(cases.stdDecode)('base64Decode: $name', ({ input, hex }) => {
    expect(lib.base64(input, 'stdDecode')).toBe(`ok ${hex}`);
  });
  it.each(cases.stdRejected)('base64Decode rejects $name', ({ input, error }) => {
    expect(lib.base64(input, 'stdDecode')).toBe(`error ${error}`);
  });

  it.each([0, 1, 2, 3, 4, 5, 31, 32, 33, 255, 256, 4097])('encodes and decodes %i random bytes like node:buffer', (size) => {
    const bytes = randomBytes(size);
    const url = bytes.toString('base64url');
    const std = bytes.toString('base64');
    expect(lib.base64(bytes, 'urlEncode')).toBe(`ok ${url}`);
    expect(lib.base64(bytes, 'stdEncode')).toBe(`ok ${std}`);
    expect(lib.base64(url, 'urlDecode')).toBe(`ok ${bytes.toString('hex')}`);
    expect(lib.base64(std, 'stdDecode')).toBe(`ok ${bytes.toString('hex')}`);
  });
});
