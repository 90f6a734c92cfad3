/**
 * Cardinality guard: at most maxSeriesPerMetric label sets per metric; the rest fold into one
 * series whose varying labels read "overflow" (this workload's own labels keep their value) and
 * wasmesh_metrics_overflow_total{metric=…} counts the folded streams.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamInfo } from '../../../deployer/src/host/api.js';
import { createProxyWasmHost } from '../../../deployer/src/host/host.js';
import { builtFilter } from '../../setup/paths.js';
import type { HostEmulator } from '../../../deployer/src/host/testing/emulator.js';
import { allSeries, loadMetrics, node, runStream, seriesNamed } from './harness.js';
import { LABEL_ORDER } from './labels.js';

const MAX = 50;
const DISTINCT = 2000;

describe('metrics: onLog cardinality guard', () => {
  let emu: HostEmulator;
  beforeAll(async () => {
    emu = await loadMetrics({
      local: 'reviews', direction: 'INBOUND',
      config: { maxSeriesPerMetric: MAX, metrics: [{ tagOverrides: { user: { value: "request.headers['x-user']" } } }] },
    });
    for (let i = 0; i < DISTINCT; i++) runStream(emu, { request: { headers: { 'x-user': `user-${i}` } }, response: { status: 200 }, durationMs: 1 });
  });
  afterAll(async () => { await emu.close(); });

  it('metrics: onLog keeps at most maxSeriesPerMetric series plus one overflow series per metric', () => {
    for (const name of ['istio_requests_total', 'istio_request_duration_milliseconds', 'istio_request_bytes', 'istio_response_bytes']) {
      expect(seriesNamed(emu, name)).toHaveLength(MAX + 1);
    }
  });

  it('metrics: onLog overflow series folds the varying labels and keeps the local workload', () => {
    const overflow = seriesNamed(emu, 'istio_requests_total').find((s) => s.labels.user === 'overflow')!;
    expect(overflow.sample.value).toBe(DISTINCT - MAX);
    expect(overflow.labels).toMatchObject({
      reporter: 'destination', destination_workload: 'reviews-v2', destination_workload_namespace: 'bookinfo',
      source_workload: 'overflow', response_code: 'overflow',
    });
  });

  it('metrics: onLog overflow counter equals the folded streams, per metric', () => {
    const counters = seriesNamed(emu, 'wasmesh_metrics_overflow_total');
    const byMetric = Object.fromEntries(counters.map((c) => [c.labels.metric, c.sample.value]));
    expect(byMetric).toEqual({
      istio_requests_total: DISTINCT - MAX, istio_request_duration_milliseconds: DISTINCT - MAX,
      istio_request_bytes: DISTINCT - MAX, istio_response_bytes: DISTINCT - MAX,
    });
  });

  it('metrics: onLog no label outside Istio\'s set and the configured ones appears', () => {
    const allowed = new Set([...LABEL_ORDER, 'user', 'metric']);
    for (const series of allSeries(emu)) for (const label of Object.keys(series.labels)) expect(allowed).toContain(label);
  });
});

describe('metrics: onLog cardinality guard at its default under 100,000 distinct label values', () => {
  it('metrics: onLog 100,000 distinct values keep 10,000 series, fold the rest and bound VM memory', async () => {
    // Driven through the in-process host's filter chain (no sockets, no emulator bookkeeping).
    const host = createProxyWasmHost({ logLevel: 'warn', onLog: () => undefined, node: node('reviews'), listenerDirection: 'INBOUND' });
    const plugin = await host.loadPlugin({
      name: 'metrics', rootId: 'metrics', wasm: new Uint8Array(readFileSync(builtFilter('metrics'))), failOpen: false,
      configuration: JSON.stringify({ metrics: [{ tagOverrides: { user: { value: "request.headers['x-user']" } } }] }),
    });
    const chain = host.newFilterChain([plugin]);
    const info: StreamInfo = { connection: { id: 1, sourceAddress: '10.0.0.7', sourcePort: 40000, destinationAddress: '10.0.0.9', destinationPort: 9080 }, protocol: 'HTTP/1.1', startTime: new Date() };
    const done = { responseCode: 200, responseCodeDetails: 'via_upstream', responseFlags: '-', bytesReceived: 0, bytesSent: 0 };
    const pages: number[] = [];
    for (let i = 0; i < 100_000; i++) {
      const stream = chain.newStream(info);
      await stream.requestHeaders([[':method', 'GET'], [':path', '/'], [':authority', 'reviews'], ['x-user', `u${i}`]], true);
      stream.complete(done);
      if ((i + 1) % 50_000 === 0) pages.push(plugin.instances[0]!.vm.pages);
    }
    // 40,000 stat names: matched by suffix here rather than through the 40 stats_tags regexes each.
    const metrics = host.metrics();
    const requests = metrics.filter((m) => m.name.endsWith(';.;istio_requests_total'));
    expect(requests).toHaveLength(10_001);
    expect(requests.find((m) => m.name.includes(';.;user=.=overflow;.;'))!.value).toBe(90_000);
    expect(metrics.find((m) => m.name === 'metric=.=istio_requests_total;.;wasmesh_metrics_overflow_total')!.value).toBe(90_000);
    // Past the guard nothing new is kept: the second 50,000 streams do not grow the VM.
    expect(pages[1]).toBe(pages[0]);
    await host.close();
  }, 120_000);
});
