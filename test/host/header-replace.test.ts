/**
 * proxy_replace_header_map_value ordering, as current Envoy: HeaderMapImpl::setCopy removes every
 * entry of the key and adds one (ordinary headers move to the end, pseudo-headers to the end of
 * the pseudo-header block). Cases: test/fixtures/host/header-replace.json, driven through the
 * ABI with the built abi010 filter (x-action: replace-from-headers) and through the host's
 * header-map function directly.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { replaceHeader } from '../../deployer/src/host/abi/headers.js';
import { HostEmulator } from '../../deployer/src/host/testing/emulator.js';
import { repoRoot } from '../setup/paths.js';
import { testFilter } from './helpers.js';

type Pair = [string, string];
interface ReplaceCase { readonly name: string; readonly headers: Pair[]; readonly key: string; readonly value: string; readonly expected: Pair[] }
const { cases } = JSON.parse(readFileSync(path.join(repoRoot, 'test', 'fixtures', 'host', 'header-replace.json'), 'utf8')) as { cases: ReplaceCase[] };

const pseudo = (list: Pair[]) => list.filter(([k]) => k.startsWith(':'));
const ordinary = (list: Pair[]) => list.filter(([k]) => !k.startsWith(':'));

describe('host: proxy_replace_header_map_value ordering (Envoy HeaderMapImpl::setCopy)', () => {
  it.each(cases)('host: proxy_replace_header_map_value: $name', async ({ headers, key, value, expected }) => {
    const emu = await HostEmulator.load({ wasm: testFilter('abi010'), rootId: '', configuration: '' });
    // The control headers go right after the pseudo-headers, ahead of every header of the case,
    // so they do not change the case's relative order.
    const control: Pair[] = [['x-action', 'replace-from-headers'], ['x-replace-key', key], ['x-replace-value', value]];
    const id = emu.initializeHttpContext();
    expect(emu.callOnRequestHeaders(id, [...pseudo(headers), ...control, ...ordinary(headers)], true)).toBe('Continue');
    expect(emu.getCurrentRequestHeaders(id)).toEqual([...pseudo(expected), ...control, ...ordinary(expected)]);
  });

  it.each(cases)('host: replaceHeader (the map edit behind the import): $name', ({ headers, key, value, expected }) => {
    const map = headers.map(([k, v]): Pair => [k, v]);
    replaceHeader(map, key.toLowerCase(), value);
    expect(map).toEqual(expected);
  });
});
