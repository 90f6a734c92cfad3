import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePairs } from '../../deployer/src/host/abi/pairs.js';
import { createProxyWasmHost } from '../../deployer/src/host/host.js';
import { HostEmulator } from '../../deployer/src/host/testing/emulator.js';
import { repoRoot } from '../setup/paths.js';
import { COMPLETION, STREAM_INFO, header, testFilter, withAction } from './helpers.js';

interface Case {
  path: string;
  expect: { text?: string; int64?: number; uint64?: number; hex?: string; missing?: boolean };
}
const cases = JSON.parse(readFileSync(path.join(repoRoot, 'test', 'fixtures', 'host', 'properties.json'), 'utf8')) as Case[];

function expected(c: Case): string {
  if (c.expect.missing) return '<missing>';
  if (c.expect.text !== undefined) return Buffer.from(c.expect.text).toString('hex');
  if (c.expect.hex !== undefined) return c.expect.hex;
  const out = Buffer.alloc(8);
  if (c.expect.int64 !== undefined) out.writeBigInt64LE(BigInt(c.expect.int64));
  else out.writeBigUint64LE(BigInt(c.expect.uint64!));
  return out.toString('hex');
}

async function emulator(): Promise<HostEmulator> {
  const emu = await HostEmulator.load({
    wasm: testFilter('conformance'), rootId: 'conformance', name: 'props', vmId: 'vm-7', listenerDirection: 'INBOUND',
    node: { id: 'sidecar~10.0.0.1~web.shop', cluster: 'web.shop', metadata: { NAMESPACE: 'shop', LABELS: { app: 'web' } } },
    startTimeMs: Date.UTC(2026, 0, 1),
  });
  emu.setProperty('source.address', '10.1.2.3:5555');
  emu.setProperty('destination.address', '10.0.0.1:8080');
  emu.setProperty('connection.id', '9');
  emu.setProperty('connection.uri_san_peer_certificate', 'spiffe://cluster.local/ns/shop/sa/web');
  emu.setProperty('connection.subject_peer_certificate', 'CN=web,O=shop');
  emu.setProperty('connection.requested_server_name', 'shop.local');
  emu.setProperty('wasmesh.injected', 'from-emulator');
  return emu;
}

describe('host: proxy_get_property with Envoy attribute paths', () => {
  it.each(cases)('host: proxy_get_property $path', async (c) => {
    const emu = await emulator();
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, withAction('get-property', [['x-property', c.path]]), true);
    expect(header(emu.getCurrentRequestHeaders(id), 'x-property-value')).toBe(expected(c));
  });

  it('host: proxy_get_property request.headers serializes the map as header pairs', async () => {
    const emu = await emulator();
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, withAction('get-property', [['x-property', 'request/headers']]), true);
    const pairs = parsePairs(Buffer.from(header(emu.getCurrentRequestHeaders(id), 'x-property-value')!, 'hex'));
    expect(pairs).toEqual(expect.arrayContaining([[':path', '/items?id=7'], ['x-action', 'get-property']]));
  });

  it('host: proxy_get_property connection.mtls is false and the SAN missing on plaintext', async () => {
    const emu = await HostEmulator.load({ wasm: testFilter('conformance'), rootId: 'conformance' });
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, withAction('get-property', [['x-property', 'connection/mtls']]), true);
    expect(header(emu.getCurrentRequestHeaders(id), 'x-property-value')).toBe('00');
    const other = emu.initializeHttpContext();
    emu.callOnRequestHeaders(other, withAction('get-property', [['x-property', 'connection/uri_san_peer_certificate']]), true);
    expect(header(emu.getCurrentRequestHeaders(other), 'x-property-value')).toBe('<missing>');
  });
});

describe('host: proxy_set_property and filter state', () => {
  it('host: proxy_set_property is read by proxy_get_property of a later filter in the chain', async () => {
    const host = createProxyWasmHost({ onLog: () => undefined });
    const load = (name: string, configuration: string) => host.loadPlugin({ name, rootId: 'conformance', wasm: testFilter('conformance'), configuration, failOpen: false });
    const writer = await load('jwt-auth', 'action:set-property');
    const reader = await load('rbac', 'action:get-property');
    const stream = host.newFilterChain([writer, reader]).newStream(STREAM_INFO);
    const outcome = await stream.requestHeaders(withAction('ignored', [['x-property', 'wasmesh.jwt.sub'], ['x-value', 'alice']]), true);
    const headers = outcome.action === 'continue' ? outcome.headers : [];
    expect(header(headers, 'x-set-result')).toBe('0');
    expect(header(headers, 'x-property-value')).toBe(Buffer.from('alice').toString('hex'));
    stream.complete(COMPLETION);
    // A new stream does not see the old stream's filter state.
    const next = host.newFilterChain([reader]).newStream(STREAM_INFO);
    const again = await next.requestHeaders(withAction('get-property', [['x-property', 'wasmesh.jwt.sub']]), true);
    expect(header(again.action === 'continue' ? again.headers : [], 'x-property-value')).toBe('<missing>');
    await host.close();
  });

  it('host: proxy_get_property filter_state/wasm.<key> reads the raw filter state', async () => {
    const emu = await emulator();
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, withAction('get-property', [['x-property', 'filter_state/wasm.wasmesh.injected']]), true);
    expect(header(emu.getCurrentRequestHeaders(id), 'x-property-value')).toBe(Buffer.from('from-emulator').toString('hex'));
  });
});
