/**
 * Cardinality guard: at most maxSeriesPerMetric label sets per metric; the rest fold into one
 * series whose varying labels read "overflow" (this workload's own labels keep their value) and
 * wasmesh_metrics_overflow_total{metric=…} counts the folded streams.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostEmulator } from '../../../deployer/src/host/testing/emulator.js';
import { allSeries, loadMetrics, runStream, seriesNamed } from './harness.js';
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
