import { afterEach, describe, expect, it } from 'vitest';
import type { HeaderList, HeadersOutcome } from '../../deployer/src/host/api.js';
import { createProxyWasmHost, type WasmProxyHost } from '../../deployer/src/host/host.js';
import type { WasmFilterChain } from '../../deployer/src/host/chain.js';
import { COMPLETION, STREAM_INFO, header, testFilter, withAction } from './helpers.js';

let host: WasmProxyHost;
const logs: string[] = [];
afterEach(() => host.close());

async function setup(vmId = '', workers = 2): Promise<WasmFilterChain> {
  logs.length = 0;
  host = createProxyWasmHost({ onLog: (e) => logs.push(e.message) });
  const plugin = await host.loadPlugin({ name: 'shared', rootId: 'conformance', vmId, wasm: testFilter('conformance'), configuration: '', failOpen: false, workers });
  return host.newFilterChain([plugin]);
}

async function request(chain: WasmFilterChain, action: string, extra: HeaderList): Promise<HeaderList> {
  const stream = chain.newStream(STREAM_INFO);
  const outcome: HeadersOutcome = await stream.requestHeaders(withAction(action, extra), true);
  stream.complete(COMPLETION);
  return outcome.action === 'continue' ? outcome.headers : [];
}

describe('host: shared data across VMs', () => {
  it('host: proxy_set_shared_data on one VM is read by proxy_get_shared_data on another, with CAS', async () => {
    const chain = await setup();
    // Streams go round-robin: VM 0, VM 1, VM 0, ...
    expect(header(await request(chain, 'shared-set', [['x-key', 'k'], ['x-value', 'v1'], ['x-cas', '0']]), 'x-shared-result')).toBe('0');
    const read = await request(chain, 'shared-get', [['x-key', 'k']]);
    expect(header(read, 'x-shared-value')).toBe('v1');
    const cas = header(read, 'x-shared-cas')!;
    expect(header(await request(chain, 'shared-set', [['x-key', 'k'], ['x-value', 'v2'], ['x-cas', String(Number(cas) + 1)]]), 'x-shared-result')).toBe('8');
    expect(header(await request(chain, 'shared-set', [['x-key', 'k'], ['x-value', 'v2'], ['x-cas', cas]]), 'x-shared-result')).toBe('0');
    expect(header(await request(chain, 'shared-get', [['x-key', 'missing']]), 'x-shared-result')).toBe('1');
  });

  it('host: proxy_get_shared_data is scoped by vm_id', async () => {
    const chain = await setup('tenant-a');
    await request(chain, 'shared-set', [['x-key', 'k'], ['x-value', 'a'], ['x-cas', '0']]);
    const other = await host.loadPlugin({ name: 'other', rootId: 'conformance', vmId: 'tenant-b', wasm: testFilter('conformance'), configuration: '', failOpen: false });
    const otherChain = host.newFilterChain([other]);
    expect(header(await request(otherChain, 'shared-get', [['x-key', 'k']]), 'x-shared-result')).toBe('1');
  });
});

describe('host: shared queues across VMs', () => {
  it('host: proxy_enqueue_shared_queue wakes proxy_on_queue_ready on the registering VM', async () => {
    const chain = await setup('q-vm');
    const result = await request(chain, 'enqueue', [['x-vm-id', 'q-vm'], ['x-queue', 'conformance_q'], ['x-value', 'job-1']]);
    expect(header(result, 'x-queue-result')).toBe('0');
    await new Promise((resolve) => setImmediate(resolve));
    expect(logs).toContain('queue_ready: job-1');
  });

  it('host: proxy_resolve_shared_queue answers NotFound for an unknown queue', async () => {
    const chain = await setup();
    expect(header(await request(chain, 'enqueue', [['x-vm-id', ''], ['x-queue', 'nope'], ['x-value', 'x']]), 'x-queue-token')).toBe('0');
  });
});
