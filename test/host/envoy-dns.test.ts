/**
 * Envoy's own import env.envoy_resolve_dns (source/extensions/common/wasm/wasm.cc resolve_dns,
 * context.cc onResolveDns) on the built test filter test/fixtures/filters/envoy-dns.
 */
import { describe, expect, it } from 'vitest';
import { dnsAnswerBuffer, systemDnsResolver } from '../../deployer/src/host/abi/dns.js';
import { HostEmulator } from '../../deployer/src/host/testing/emulator.js';
import { GET, testFilter } from './helpers.js';

const load = () => HostEmulator.load({ wasm: testFilter('envoy-dns'), rootId: '', configuration: '' });

describe('host: envoy_resolve_dns', () => {
  it('host: envoy_resolve_dns writes a token and answers on the root context through envoy_on_resolve_dns', async () => {
    const emu = await load();
    emu.setDnsAnswers('svc.local', [{ address: '10.0.0.7', ttlSeconds: 30 }, { address: 'fd00::7', ttlSeconds: 5 }]);
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, [...GET, ['x-resolve', 'svc.local']], true);
    emu.callOnRequestHeaders(emu.initializeHttpContext(), [...GET, ['x-resolve', 'nowhere.local']], true);
    expect(emu.getLogs('info')).toEqual(['resolve: result=0 token=1', 'resolve: result=0 token=2']);
    await emu.flushDns();
    // Root context 1 gets the answers (Envoy prints addresses with port 0); a failed lookup has size 0.
    expect(emu.getLogs('info').slice(2).sort()).toEqual(['dns 1 on 1: 10.0.0.7:0/30,[fd00::7]:0/5', 'dns 2 on 1: failed']);
  });

  it('host: the envoy_on_resolve_dns buffer is u32 count, u32 TTLs, NUL-terminated addresses', () => {
    const bytes = Buffer.from(dnsAnswerBuffer([{ address: '127.0.0.1', ttlSeconds: 7 }]));
    expect([...bytes]).toEqual([1, 0, 0, 0, 7, 0, 0, 0, ...Buffer.from('127.0.0.1:0\0')]);
  });

  it('host: the system resolver answers an IP literal with itself and resolves localhost from the hosts file', async () => {
    expect(await systemDnsResolver('10.1.2.3')).toEqual([{ address: '10.1.2.3', ttlSeconds: 0 }]);
    const local = await systemDnsResolver('localhost');
    expect(local.length).toBeGreaterThan(0);
    expect(local.every((a) => a.address === '::1' || a.address.startsWith('127.'))).toBe(true);
  });
});
