/**
 * Properties read in proxy_on_log, where the completion is known: the stream paths answered by
 * direct resolvers (abi/property-fast-paths.ts) and Envoy's `upstream.*` attributes from the
 * completion's upstream connection. Expected values: test/fixtures/host/log-properties.json.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StreamCompletion } from '../../deployer/src/host/api.js';
import { createProxyWasmHost } from '../../deployer/src/host/host.js';
import { repoRoot } from '../setup/paths.js';
import { COMPLETION, STREAM_INFO, testFilter } from './helpers.js';

interface Case {
  readonly name: string;
  readonly completion: Partial<StreamCompletion>;
  /** path → expected hex, text (UTF-8), int64, or "<missing>". */
  readonly expect: Record<string, { text?: string; int64?: number; hex?: string; missing?: true }>;
}
const cases = JSON.parse(readFileSync(path.join(repoRoot, 'test', 'fixtures', 'host', 'log-properties.json'), 'utf8')) as Case[];

function expectedHex(e: Case['expect'][string]): string {
  if (e.missing) return '<missing>';
  if (e.text !== undefined) return Buffer.from(e.text).toString('hex');
  if (e.hex !== undefined) return e.hex;
  const out = Buffer.alloc(8);
  out.writeBigInt64LE(BigInt(e.int64!));
  return out.toString('hex');
}

describe('host: proxy_get_property in proxy_on_log', () => {
  it.each(cases)('host: proxy_get_property in proxy_on_log $name', async (c) => {
    const logs: string[] = [];
    const host = createProxyWasmHost({ logLevel: 'info', onLog: (e) => logs.push(e.message) });
    const plugin = await host.loadPlugin({ name: 'conformance', rootId: 'conformance', wasm: testFilter('conformance'), configuration: '', failOpen: false });
    const stream = host.newFilterChain([plugin]).newStream(STREAM_INFO);
    const paths = Object.keys(c.expect);
    await stream.requestHeaders([[':method', 'GET'], [':path', '/p'], [':authority', 'svc.ns:80'], ['x-log-property', paths.join(',')]], true);
    await stream.responseHeaders([[':status', '503'], ['content-type', 'application/grpc']], true);
    stream.complete({ ...COMPLETION, ...c.completion });
    const read = Object.fromEntries(logs.filter((l) => l.startsWith('on_log property ')).map((l) => l.slice('on_log property '.length).split('=') as [string, string]));
    expect(read).toEqual(Object.fromEntries(paths.map((p) => [p, expectedHex(c.expect[p]!)])));
    await host.close();
  });
});
