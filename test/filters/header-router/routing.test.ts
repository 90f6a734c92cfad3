/**
 * Routing decisions table-driven from test/fixtures/header-router/*.json: every match kind,
 * every action, Istio's Bookinfo examples — on the built module in the host emulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostEmulator } from '../../../deployer/src/host/testing/emulator.js';
import { headerOf, loadFixtures, loadRouter, runRequest, type RoutingCase, type RoutingFixture } from './harness.js';

const decoder = new TextDecoder();

describe.each(loadFixtures())('header-router: %s', (_file, fixture: RoutingFixture) => {
  let emulator: HostEmulator;
  beforeAll(async () => { emulator = await loadRouter(fixture.config); });
  afterAll(async () => { await emulator.close(); });

  it.each(fixture.cases.map((c): [string, RoutingCase] => [c.name, c]))('header-router: onRequestHeaders %s', (_name, c) => {
    const vsName = (fixture.config as { virtualServices: { name: string; hosts?: string[] }[] }).virtualServices;
    const counters = (rule: string) => vsName.map((vs) => emulator.getCounterMetric(`wasmesh_header_router.rule.${vs.name}.${rule}`) ?? 0).reduce((a, b) => a + b, 0);
    const ruleBefore = c.rule ? counters(c.rule) : 0;
    const noMatchBefore = emulator.getCounterMetric('wasmesh_header_router.no_match') ?? 0;
    const outcome = runRequest(emulator, c.request);
    if (c.status !== undefined) {
      expect(outcome.reply?.status).toBe(c.status);
      if (c.body !== undefined) expect(decoder.decode(outcome.reply!.body)).toBe(c.body);
      if (c.location !== undefined) expect(headerOf(outcome.reply!.headers, 'location')).toBe(c.location);
      for (const [name, value] of Object.entries(c.localHeaders ?? {})) expect(headerOf(outcome.reply!.headers, name)).toBe(value);
    } else {
      expect(outcome.reply, 'no local reply').toBeUndefined();
      expect(outcome.action).toBe('Continue');
    }
    if (c.route !== undefined) expect(outcome.route ?? null).toBe(c.route);
    if (c.rule) expect(counters(c.rule)).toBe(ruleBefore + 1);
    if (c.rule === null) expect(emulator.getCounterMetric('wasmesh_header_router.no_match')).toBe(noMatchBefore + 1);
    for (const [name, value] of Object.entries(c.requestHeaders ?? {})) expect(headerOf(outcome.requestHeaders, name), name).toBe(value);
    if (c.responseHeaders !== undefined) {
      const upstream: [string, string][] = [[':status', '200'], ...Object.entries(c.response ?? {})];
      emulator.callOnResponseHeaders(outcome.id, upstream, true);
      const response = emulator.getCurrentResponseHeaders(outcome.id);
      for (const [name, value] of Object.entries(c.responseHeaders)) expect(headerOf(response, name), name).toBe(value);
    }
    emulator.completeHttpContext(outcome.id);
  });
});
