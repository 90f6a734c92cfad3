import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PushDebouncer } from '../../deployer/src/control-plane/push-debounce.js';
import { buildResource, createSnapshot } from '../../deployer/src/control-plane/snapshot.js';
import { SnapshotCache } from '../../deployer/src/control-plane/snapshot-cache.js';
import { TypeUrl, type NodeIdentity, type SnapshotSource } from '../../deployer/src/control-plane/types.js';

/** Requests at the given times (ms) → the times pushes happen, with after=100 ms, max=1000 ms. */
function pushTimes(requests: readonly number[], endMs = 5000): number[] {
  const pushes: number[] = [];
  const debouncer = new PushDebouncer({ afterMs: 100, maxMs: 1000, now: () => Date.now() }, () => pushes.push(Date.now()));
  const start = Date.now();
  for (const at of requests) {
    if (start + at > Date.now()) vi.advanceTimersByTime(start + at - Date.now());
    debouncer.request();
  }
  vi.advanceTimersByTime(start + endMs - Date.now());
  debouncer.close();
  return pushes.map((t) => t - start);
}

describe('control-plane: push debounce', () => {
  beforeEach(() => { vi.useFakeTimers(); vi.setSystemTime(1_000_000); });
  afterEach(() => { vi.useRealTimers(); });

  it.each([
    ['a lone edit pushes at once', [0], [0]],
    ['a burst in one turn is one push', [0, 0, 0, 0, 0], [0]],
    ['a burst after a leading push becomes one more push, after the quiet period', [0, 20, 40, 60, 80], [0, 180]],
    ['edits further apart than the quiet period each push at once', [0, 300, 600], [0, 300, 600]],
    ['an edit just after a push waits the quiet period (the burst has begun)', [0, 50], [0, 150]],
    ['a constant stream is pushed every max period', Array.from({ length: 40 }, (_, i) => 10 + i * 50), [10, 1060, 2060]],
    ['after a burst, quiet again: the next edit leads', [0, 20, 500], [0, 120, 500]],
  ])('%s', (_label, requests, expected) => {
    expect(pushTimes(requests)).toEqual(expected);
  });

  it.each([
    [{ afterMs: -1, maxMs: 10 }],
    [{ afterMs: 100, maxMs: 10 }],
  ])('refuses %o', (options) => {
    expect(() => new PushDebouncer(options, () => {})).toThrow(/expected 0 ≤ after ≤ max/);
  });
});

describe('control-plane: push debounce in the snapshot cache', () => {
  /** A source whose every node gets one cluster named after `n` (each n a new version). */
  const source = (n: number): SnapshotSource => ({
    groupOf: () => 'g',
    snapshotFor: () => createSnapshot('g', [buildResource({ typeUrl: TypeUrl.cluster, name: `c${n}`, message: { name: `c${n}`, type: 'STATIC' } })]),
  });
  const node: NodeIdentity = { id: 'sidecar~10.0.0.1~cart-1.shop~shop.svc.cluster.local', cluster: '', generator: 'sidecar', namespace: 'shop', labels: {}, dnsDomain: 'shop.svc.cluster.local' };

  it('a lone edit is pushed without waiting the quiet period; a burst after it becomes one push of the last edit', async () => {
    const cache = new SnapshotCache(source(0), { debounceAfterMs: 60_000, debounceMaxMs: 120_000 });
    const given: string[] = [];
    cache.watch(node, (snapshot) => given.push([...snapshot.resources.get(TypeUrl.cluster)!.keys()].join()));
    cache.setSource(source(1));
    await new Promise((r) => setTimeout(r, 20));
    expect(given).toEqual(['c1']);
    for (let n = 2; n <= 6; n += 1) cache.setSource(source(n));
    await new Promise((r) => setTimeout(r, 50));
    expect(given).toEqual(['c1']);
    const settled = cache.settled();
    cache.flush();
    await settled;
    expect(given).toEqual(['c1', 'c6']);
    cache.close();
  });
});
