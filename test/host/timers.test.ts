import { describe, expect, it } from 'vitest';
import { createProxyWasmHost } from '../../deployer/src/host/host.js';
import { HttpClusterDispatcher } from '../../deployer/src/host/http-cluster-dispatcher.js';
import { conformance, testFilter, withAction, header } from './helpers.js';

describe('host: timers and host lifecycle', () => {
  it('host: proxy_set_tick_period_milliseconds fires proxy_on_tick on the real timer until close', async () => {
    const logs: string[] = [];
    const host = createProxyWasmHost({ onLog: (e) => logs.push(e.message) });
    await host.loadPlugin({ name: 'ticker', rootId: 'conformance', wasm: testFilter('conformance'), configuration: 'tick:10', failOpen: false });
    await new Promise((resolve) => setTimeout(resolve, 120));
    const ticks = logs.filter((l) => l === 'tick').length;
    expect(ticks).toBeGreaterThanOrEqual(2);
    await host.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(logs.filter((l) => l === 'tick').length).toBe(ticks);
  });

  it('host: newFilterChain refuses a handle the host did not load', async () => {
    const host = createProxyWasmHost({ onLog: () => undefined });
    const other = createProxyWasmHost({ onLog: () => undefined });
    const plugin = await other.loadPlugin({ name: 'foreign-handle', rootId: 'empty', wasm: testFilter('empty'), configuration: '', failOpen: false });
    expect(() => host.newFilterChain([plugin])).toThrow('filter chain entry 0 (foreign-handle) was not loaded by this host; expected a handle returned by loadPlugin');
    await other.close();
    await host.close();
  });

  it('host: HttpClusterDispatcher names a cluster whose URL is not http(s)', () => {
    expect(() => new HttpClusterDispatcher({ clusters: { idp: 'ftp://x' } })).toThrow('cluster "idp": scheme ftp: is not supported; expected http: or https:');
    expect(() => new HttpClusterDispatcher({ clusters: { idp: 'not a url' } })).toThrow('cluster "idp": "not a url" is not a URL');
  });
});

describe('host: emulator state helpers', () => {
  it('host: proxy_enqueue_shared_queue items are visible with getQueueData until dequeued', async () => {
    const emu = await conformance({ vmId: 'qv' });
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, withAction('enqueue', [['x-vm-id', 'qv'], ['x-queue', 'conformance_q'], ['x-value', 'item']]), true);
    expect(header(emu.getCurrentRequestHeaders(id), 'x-queue-result')).toBe('0');
    expect(emu.getQueueData('conformance_q').map((b) => Buffer.from(b).toString())).toEqual(['item']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(emu.getQueueData('conformance_q')).toEqual([]);
    expect(emu.getLogs('info')).toContain('queue_ready: item');
  });

  it('host: setSharedData from the test is read by proxy_get_shared_data', async () => {
    const emu = await conformance();
    expect(emu.setSharedData('k', 'from-test')).toBe(0);
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, withAction('shared-get', [['x-key', 'k']]), true);
    expect(header(emu.getCurrentRequestHeaders(id), 'x-shared-value')).toBe('from-test');
    expect(header(emu.getCurrentRequestHeaders(id), 'x-shared-cas')).toBe(String(emu.getSharedData('k')!.cas));
  });

  it('host: isVmFailed and getVmReloadCount follow a trap and the reload', async () => {
    const emu = await conformance();
    const id = emu.initializeHttpContext();
    expect(emu.callOnRequestHeaders(id, withAction('trap'), true)).toBe('EndWithLocalResponse');
    expect(emu.getSentLocalResponse(id)).toMatchObject({ status: 503, details: 'wasm_fail_stream' });
    expect(emu.isVmFailed()).toBe(true);
    const next = emu.initializeHttpContext();
    expect(emu.callOnRequestHeaders(next, withAction('continue'), true)).toBe('Continue');
    expect(emu.isVmFailed()).toBe(false);
    expect(emu.getVmReloadCount()).toBe(1);
  });
});
