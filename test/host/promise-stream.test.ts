/**
 * The promise API over the chain core (chain.ts PromiseStream): a call that settles during the
 * call is answered with an already-resolved promise; a call that pauses stays pending until the
 * filter continues (or the VM fails), through the same per-direction callback.
 */
import { describe, expect, it } from 'vitest';
import type { FilterChainStream, HeadersOutcome } from '../../deployer/src/host/api.js';
import { createProxyWasmHost } from '../../deployer/src/host/host.js';
import type { TimerScheduler } from '../../deployer/src/host/services.js';
import { COMPLETION, header, STREAM_INFO, testFilter, withAction } from './helpers.js';

/** Timers driven by the test: tick() runs every registered proxy_on_tick once. */
function manualTimers(): TimerScheduler & { tick(): void } {
  const ticks = new Set<() => void>();
  return {
    every(_periodMs, tick) {
      ticks.add(tick);
      return { cancel: () => ticks.delete(tick) };
    },
    tick() {
      for (const tick of [...ticks]) tick();
    },
  };
}

async function conformanceStream(configuration = ''): Promise<{ stream: () => FilterChainStream; timers: ReturnType<typeof manualTimers> }> {
  const timers = manualTimers();
  const host = createProxyWasmHost({ timers, onLog: () => undefined });
  const plugin = await host.loadPlugin({ name: 'conformance', rootId: 'conformance', wasm: testFilter('conformance'), configuration, failOpen: false });
  const chain = host.newFilterChain([plugin]);
  return { stream: () => chain.newStream(STREAM_INFO), timers };
}

/** Whether the promise has settled after the microtasks queued so far ran. */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => { settled = true; });
  await new Promise<void>((resolve) => setImmediate(resolve));
  return settled;
}

describe('host: FilterChainStream promises', () => {
  it.each([
    ['continue', withAction('none'), 'continue'],
    ['local reply', withAction('local-reply'), 'localReply'],
  ] as const)('host: requestHeaders settles at once when no filter pauses (%s)', async (_name, headers, action) => {
    const { stream } = await conformanceStream();
    const s = stream();
    const pending = s.requestHeaders(headers, true);
    expect(await isSettled(pending)).toBe(true);
    expect((await pending).action).toBe(action);
    s.complete(COMPLETION);
  });

  it('host: requestHeaders paused by the filter stays pending until proxy_continue_stream from proxy_on_tick', async () => {
    const { stream, timers } = await conformanceStream('tick:250');
    const s = stream();
    const pending = s.requestHeaders(withAction('pause-tick'), true);
    expect(await isSettled(pending)).toBe(false);
    timers.tick();
    const outcome: HeadersOutcome = await pending;
    expect(outcome.action).toBe('continue');
    if (outcome.action === 'continue') expect(header(outcome.headers, 'x-resumed-by')).toBe('tick');
    // The next call of the same stream takes the synchronous path again.
    const response = s.responseHeaders([[':status', '200']], true);
    expect(await isSettled(response)).toBe(true);
    expect((await response).action).toBe('continue');
    s.complete(COMPLETION);
  });

  it('host: a paused stream does not receive the outcome of another stream of the same chain', async () => {
    const { stream, timers } = await conformanceStream('tick:250');
    const paused = stream();
    const other = stream();
    const pending = paused.requestHeaders(withAction('pause-tick'), true);
    const quick = await other.requestHeaders(withAction('none', [['x-which', 'other']]), true);
    expect(quick.action).toBe('continue');
    expect(await isSettled(pending)).toBe(false);
    timers.tick();
    const outcome = await pending;
    expect(outcome.action).toBe('continue');
    if (outcome.action === 'continue') expect(header(outcome.headers, 'x-which')).toBeUndefined();
    paused.complete(COMPLETION);
    other.complete(COMPLETION);
  });
});
