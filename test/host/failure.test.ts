import { afterEach, describe, expect, it } from 'vitest';
import type { HeadersOutcome } from '../../deployer/src/host/api.js';
import { createProxyWasmHost, type WasmProxyHost } from '../../deployer/src/host/host.js';
import { COMPLETION, GET, STREAM_INFO, testFilter, withAction } from './helpers.js';

let host: WasmProxyHost;
afterEach(() => host.close());

async function chainOf(failOpen: boolean, workers = 1) {
  host = createProxyWasmHost({ onLog: () => undefined });
  const plugin = await host.loadPlugin({ name: 'conformance', rootId: 'conformance', wasm: testFilter('conformance'), configuration: '', failOpen, workers });
  return { plugin, chain: host.newFilterChain([plugin]) };
}

describe('host: failure policy', () => {
  it('host: proxy_on_request_headers trap fails the stream with 503 wasm_fail_stream and reloads the VM', async () => {
    const { plugin, chain } = await chainOf(false);
    const stream = chain.newStream(STREAM_INFO);
    const outcome = await stream.requestHeaders(withAction('trap'), true);
    expect(outcome).toMatchObject({ action: 'localReply', reply: { status: 503, details: 'wasm_fail_stream', grpcStatus: 14 } });
    stream.complete({ ...COMPLETION, responseCode: 503 });
    expect(plugin.instances[0]!.failed).toBe(true);
    const next = chain.newStream(STREAM_INFO);
    expect(await next.requestHeaders(GET, true)).toMatchObject({ action: 'continue' });
    next.complete(COMPLETION);
    expect(plugin.reloadCount).toBe(1);
    expect(plugin.instances[0]!.failed).toBe(false);
    expect(host.metrics()).toContainEqual({ name: 'wasm.conformance.vm_reloads', type: 'counter', value: 1 });
  });

  it('host: proxy_on_request_headers trap passes the stream when fail_open', async () => {
    const { chain } = await chainOf(true);
    const stream = chain.newStream(STREAM_INFO);
    const outcome = await stream.requestHeaders(withAction('trap'), true) as Extract<HeadersOutcome, { action: 'continue' }>;
    expect(outcome.action).toBe('continue');
    // The failed filter no longer sees this stream; the response passes untouched.
    const response = await stream.responseHeaders([[':status', '200']], true);
    expect(response).toMatchObject({ action: 'continue', headers: [[':status', '200']] });
    stream.complete(COMPLETION);
  });

  it('host: proxy_on_response_headers trap replaces the response with 503', async () => {
    const { chain } = await chainOf(false);
    const stream = chain.newStream(STREAM_INFO);
    await stream.requestHeaders(withAction('trap-response'), true);
    expect(await stream.responseHeaders([[':status', '200']], true)).toMatchObject({ action: 'localReply', reply: { status: 503, details: 'wasm_fail_stream' } });
    stream.complete(COMPLETION);
  });

  it('host: proxy_on_request_body trap at end of stream fails the stream', async () => {
    const { chain } = await chainOf(false);
    const stream = chain.newStream(STREAM_INFO);
    await stream.requestHeaders(withAction('body-trap'), false);
    expect(await stream.requestBody(new TextEncoder().encode('x'), true)).toMatchObject({ action: 'localReply', reply: { status: 503 } });
    stream.complete(COMPLETION);
  });

  it('host: a trap on one worker VM leaves the other VMs serving', async () => {
    const { plugin, chain } = await chainOf(false, 2);
    const first = chain.newStream(STREAM_INFO);
    await first.requestHeaders(withAction('trap'), true);
    first.complete(COMPLETION);
    expect(plugin.instances.map((vm) => vm.failed)).toEqual([true, false]);
    const second = chain.newStream(STREAM_INFO);
    expect(await second.requestHeaders(GET, true)).toMatchObject({ action: 'continue' });
    second.complete(COMPLETION);
    expect(plugin.reloadCount).toBe(0);
  });
});
