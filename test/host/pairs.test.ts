import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePairs, PairsFormatError, serializePairs } from '../../deployer/src/host/abi/pairs.js';
import { repoRoot } from '../setup/paths.js';

const dir = path.join(repoRoot, 'test', 'fixtures', 'host');
const cases = JSON.parse(readFileSync(path.join(dir, 'pairs-cases.json'), 'utf8')) as { name: string; file: string; pairs: [string, string][] }[];

describe('host: header map pair serialization (Envoy format)', () => {
  it.each(cases)('host: proxy_get_header_map_pairs serializes $name as the byte fixture', ({ file, pairs }) => {
    expect(Buffer.from(serializePairs(pairs))).toEqual(readFileSync(path.join(dir, file)));
  });

  it.each(cases)('host: proxy_set_header_map_pairs parses the $name byte fixture', ({ file, pairs }) => {
    expect(parsePairs(new Uint8Array(readFileSync(path.join(dir, file))))).toEqual(pairs);
  });

  it('host: proxy_set_header_map_pairs rejects a truncated buffer naming the sizes', () => {
    expect(() => parsePairs(new Uint8Array(readFileSync(path.join(dir, 'pairs-truncated.bin'))))).toThrow(PairsFormatError);
    expect(() => parsePairs(new Uint8Array(readFileSync(path.join(dir, 'pairs-truncated.bin'))))).toThrow(/pair count 2 needs 20 bytes/);
  });

  it('host: proxy_set_header_map_pairs reads an empty buffer as no headers', () => {
    expect(parsePairs(new Uint8Array(0))).toEqual([]);
  });
});
