/**
 * Weighted splits, sticky assignment (weighted rendezvous hashing), pin cookies and fault delays
 * on the built module in the host emulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostEmulator } from '../../../deployer/src/host/testing/emulator.js';
import { headerOf, loadRouter, runRequest } from './harness.js';

const V1 = 'outbound|9080|v1|reviews.default.svc.cluster.local';
const V2 = 'outbound|9080|v2|reviews.default.svc.cluster.local';

function splitConfig(v1: number, v2: number, sticky?: unknown): unknown {
  return {
    debugHeader: 'x-debug',
    virtualServices: [{ name: 'default/reviews', ...(sticky ? { sticky } : {}), http: [{ name: 'split', route: [{ destination: V1, weight: v1 }, { destination: V2, weight: v2 }] }] }],
  };
}

function route(emulator: HostEmulator, headers: Record<string, string> = {}): string | undefined {
  const outcome = runRequest(emulator, { headers });
  emulator.completeHttpContext(outcome.id);
  return outcome.route;
}

describe('header-router: weighted split', () => {
  it('header-router: onRequestHeaders 10/90 split over 100,000 requests lands within ±1% of the weights', async () => {
    const emulator = await loadRouter(splitConfig(10, 90));
    let v1 = 0;
    const total = 100_000;
    for (let i = 0; i < total; i++) if (route(emulator) === V1) v1++;
    expect(Math.abs(v1 / total - 0.1)).toBeLessThan(0.01);
    expect(emulator.getCounterMetric(`wasmesh_header_router.destination.${V1}`)).toBe(v1);
    expect(emulator.getCounterMetric('wasmesh_header_router.rule.default/reviews.split')).toBe(total);
    await emulator.close();
  });
});

describe('header-router: sticky split (HRW)', () => {
  const keys = Array.from({ length: 20_000 }, (_, i) => `user-${i}-${(i * 2654435761) % 1000003}`);

  it('header-router: onRequestHeaders keeps every key on its destination over repeated requests', async () => {
    const emulator = await loadRouter(splitConfig(50, 50, { key: 'header:x-user' }));
    const first = keys.slice(0, 2000).map((k) => route(emulator, { 'x-user': k }));
    for (let round = 0; round < 2; round++) {
      keys.slice(0, 2000).forEach((k, i) => expect(route(emulator, { 'x-user': k })).toBe(first[i]));
    }
    const onV1 = first.filter((d) => d === V1).length / first.length;
    expect(Math.abs(onV1 - 0.5)).toBeLessThan(0.04);
    await emulator.close();
  });

  it('header-router: onConfigure raising a weight 10 → 20 moves 9–11% of keys, all of them to the grown destination', async () => {
    const emulator = await loadRouter(splitConfig(10, 90, { key: 'header:x-user' }));
    const before = keys.map((k) => route(emulator, { 'x-user': k }));
    await emulator.reconfigure(JSON.stringify(splitConfig(20, 80, { key: 'header:x-user' })));
    const after = keys.map((k) => route(emulator, { 'x-user': k }));
    let moved = 0;
    let movedAway = 0;
    before.forEach((d, i) => {
      if (d === after[i]) return;
      moved++;
      if (d === V1) movedAway++;
    });
    expect(movedAway).toBe(0);
    expect(moved / keys.length).toBeGreaterThan(0.09);
    expect(moved / keys.length).toBeLessThan(0.11);
    await emulator.close();
  });

  it.each([
    ['cookie:session', { cookie: 'session=abc123' }],
    ['query:user', {}],
    ['claim:sub', {}],
  ])('header-router: onRequestHeaders sticky on %s shows the key hash in the decision header', async (key, headers) => {
    const emulator = await loadRouter(splitConfig(50, 50, { key }));
    const path = key === 'query:user' ? '/?user=bob' : '/';
    const jwt = key === 'claim:sub' ? { sub: 'alice' } : undefined;
    const decisions = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const outcome = runRequest(emulator, { path, headers: { ...headers, 'x-debug': '1' }, ...(jwt ? { jwt } : {}) });
      emulator.callOnResponseHeaders(outcome.id, [[':status', '200']], true);
      decisions.add(headerOf(emulator.getCurrentResponseHeaders(outcome.id), 'x-wasmesh-route-decision') ?? '');
      emulator.completeHttpContext(outcome.id);
    }
    expect(decisions.size).toBe(1);
    expect([...decisions][0]).toMatch(/^rule=split;destination=outbound\|9080\|v[12]\|reviews\.default\.svc\.cluster\.local;sticky=[0-9a-f]{16}$/);
    await emulator.close();
  });

  it('header-router: onRequestHeaders sticky on source-ip', async () => {
    const emulator = await loadRouter(splitConfig(50, 50, { key: 'source-ip' }));
    const first = runRequest(emulator, { sourceAddress: '10.1.2.3:5000' });
    emulator.completeHttpContext(first.id);
    for (let port = 5001; port < 5020; port++) {
      const again = runRequest(emulator, { sourceAddress: `10.1.2.3:${port}` });
      expect(again.route).toBe(first.route);
      emulator.completeHttpContext(again.id);
    }
    await emulator.close();
  });
});

describe('header-router: pin cookie', () => {
  let emulator: HostEmulator;
  beforeAll(async () => { emulator = await loadRouter(splitConfig(50, 50, { cookie: { name: 'wasmesh-pin', ttl: '3600s' } })); });
  afterAll(async () => { await emulator.close(); });

  it('header-router: onResponseHeaders pins the chosen destination with Set-Cookie, and the cookie is honoured', () => {
    const first = runRequest(emulator, {});
    emulator.callOnResponseHeaders(first.id, [[':status', '200']], true);
    const setCookie = headerOf(emulator.getCurrentResponseHeaders(first.id), 'set-cookie');
    emulator.completeHttpContext(first.id);
    expect(setCookie).toMatch(/^wasmesh-pin=[0-9a-f]+; Path=\/; HttpOnly; Max-Age=3600$/);
    const pin = setCookie!.split(';')[0]!;
    for (let i = 0; i < 50; i++) {
      const next = runRequest(emulator, { headers: { cookie: `other=1; ${pin}` } });
      expect(next.route).toBe(first.route);
      emulator.completeHttpContext(next.id);
    }
  });
});

describe('header-router: fault delay', () => {
  it('header-router: onRequestHeaders a 2 s fault delay pauses its stream only; the host timer resumes it', async () => {
    const emulator = await loadRouter({
      virtualServices: [{ name: 'default/ratings', http: [
        { name: 'slow', match: [{ headers: { 'end-user': { exact: 'jason' } } }], fault: { delay: { fixedDelay: '2s', percentage: { value: 100 } } }, route: [{ destination: 'v1' }] },
        { name: 'fast', route: [{ destination: 'v1' }] },
      ] }],
    });
    const slow = runRequest(emulator, { headers: { 'end-user': 'jason' } });
    expect(slow.action).toBe('Pause');
    // A concurrent stream on the same VM is not held.
    const fast = runRequest(emulator, {});
    expect(fast.action).toBe('Continue');
    expect(fast.route).toBe('v1');
    expect(emulator.getTickPeriod()).toBe(2000);
    emulator.advanceTimeMs(1999);
    emulator.tick();
    expect(emulator.getCurrentHttpStreamAction(slow.id)).toBe('Pause');
    emulator.advanceTimeMs(1);
    emulator.tick();
    expect(emulator.getCurrentHttpStreamAction(slow.id)).toBe('Continue');
    expect(headerOf(emulator.getCurrentRequestHeaders(slow.id), 'x-wasmesh-route')).toBe('v1');
    expect(emulator.getTickPeriod()).toBe(0);
    expect(emulator.getCounterMetric('wasmesh_header_router.fault.delayed')).toBe(1);
    emulator.completeHttpContext(slow.id);
    emulator.completeHttpContext(fast.id);
    await emulator.close();
  });

  it('header-router: onRequestHeaders delay then abort answers after the delay', async () => {
    const emulator = await loadRouter({
      virtualServices: [{ name: 'a', http: [{ fault: { delay: { fixedDelay: '0.5s' }, abort: { httpStatus: 503 } }, route: [{ destination: 'v1' }] }] }],
    });
    const outcome = runRequest(emulator, {});
    expect(outcome.action).toBe('Pause');
    emulator.advanceTimeMs(500);
    emulator.tick();
    expect(emulator.getSentLocalResponse(outcome.id)?.status).toBe(503);
    await emulator.close();
  });
});
