/**
 * request.duration's end on the system clock (filter-chain.ts completedAtNanos): unknown before
 * the stream completes, then the wall-clock instant of completion to the millisecond, the same on
 * every read (Envoy's final_time_). The nanoseconds are built on the first read.
 */
import { describe, expect, it } from 'vitest';
import { createProxyWasmHost } from '../../deployer/src/host/host.js';
import type { WasmFilterChain } from '../../deployer/src/host/chain.js';
import { COMPLETION, STREAM_INFO, testFilter } from './helpers.js';

describe('host: stream completion time on the system clock', () => {
  it('host: complete fixes completedAtNanos at the completion millisecond, stable across reads', async () => {
    const host = createProxyWasmHost({ onLog: () => undefined });
    const plugin = await host.loadPlugin({ name: 'empty', rootId: 'empty', wasm: testFilter('empty'), configuration: '', failOpen: false });
    const chain = host.newFilterChain([plugin]) as WasmFilterChain;
    const core = chain.newCore(STREAM_INFO);
    expect(core.completedAtNanos).toBeUndefined();
    const before = Date.now();
    core.complete(COMPLETION);
    const after = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const end = core.completedAtNanos!;
    expect(typeof end).toBe('bigint');
    expect(end >= BigInt(before) * 1_000_000n && end < (BigInt(after) + 1n) * 1_000_000n).toBe(true);
    expect(core.completedAtNanos).toBe(end);
    await host.close();
  });
});
