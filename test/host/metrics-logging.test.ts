import { describe, expect, it } from 'vitest';
import { DEFAULT_HISTOGRAM_BUCKETS, StatsStore, VmMetrics } from '../../deployer/src/host/abi/metrics.js';
import { MetricType, WasmResult } from '../../deployer/src/host/abi/constants.js';
import { conformance, header, withAction } from './helpers.js';

describe('host: metrics', () => {
  it('host: proxy_define_metric / increment / record / get follow Envoy per metric type', async () => {
    const emu = await conformance();
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, withAction('metrics', [['x-value', '42']]), true);
    const headers = emu.getCurrentRequestHeaders(id);
    expect(header(headers, 'x-counter')).toBe('1');
    expect(header(headers, 'x-gauge')).toBe('42');
    // Counters only grow (offset 0 → BadArgument); histograms cannot be read back (BadArgument).
    expect(header(headers, 'x-zero-increment')).toBe('2');
    expect(header(headers, 'x-histogram-get')).toBe('2');
    expect(emu.getCounterMetric('conformance_requests')).toBe(1);
    expect(emu.getGaugeMetric('conformance_gauge')).toBe(42);
    const histogram = emu.getHistogramMetric('conformance_latency')!;
    expect(histogram).toMatchObject({ value: 42, count: 1 });
    expect(histogram.buckets!.map(([bound]) => bound)).toEqual(DEFAULT_HISTOGRAM_BUCKETS);
    expect(histogram.buckets!.find(([bound]) => bound === 25)![1]).toBe(0);
    expect(histogram.buckets!.find(([bound]) => bound === 50)![1]).toBe(1);
  });

  it('host: proxy_define_metric with the same name on two VMs shares one stat', async () => {
    const emu = await conformance({ workers: 2 });
    for (let i = 0; i < 3; i++) {
      const id = emu.initializeHttpContext();
      emu.callOnRequestHeaders(id, withAction('continue'), true);
      emu.completeHttpContext(id);
    }
    expect(emu.getCounterMetric('conformance_requests')).toBe(3);
  });
});

describe('host: metric values are exact u64 (number arithmetic while safe, BigInt past 2^53)', () => {
  const define = (type: number) => {
    const metrics = new VmMetrics(new StatsStore());
    const { id } = metrics.define(type, 'm');
    return { metrics, id: id! };
  };
  const read = (metrics: VmMetrics, id: number) => metrics.get(id).value;

  it.each<[string, bigint[], bigint]>([
    ['small increments', [1n, 2n, 3n], 6n],
    ['across 2^53', [2n ** 53n - 1n, 1n, 1n], 2n ** 53n + 1n],
    ['one offset past 2^53', [5n, 2n ** 60n + 3n], 2n ** 60n + 8n],
    ['near u64 max', [2n ** 64n - 2n, 1n], 2n ** 64n - 1n],
  ])('host: counter %s', (_name, offsets, expected) => {
    const { metrics, id } = define(MetricType.Counter);
    for (const offset of offsets) expect(metrics.increment(id, offset)).toBe(WasmResult.Ok);
    expect(read(metrics, id)).toBe(expected);
  });

  it('host: a counter refuses a zero or negative offset and keeps its value', () => {
    const { metrics, id } = define(MetricType.Counter);
    metrics.increment(id, 7n);
    expect(metrics.increment(id, 0n)).toBe(WasmResult.BadArgument);
    expect(metrics.increment(id, -1n)).toBe(WasmResult.BadArgument);
    expect(read(metrics, id)).toBe(7n);
  });

  it.each<[string, [op: 'record' | 'increment', value: bigint][], bigint]>([
    ['set then moved down, floored at 0', [['record', 10n], ['increment', -4n], ['increment', -100n]], 0n],
    ['set past 2^53, then incremented', [['record', 2n ** 55n], ['increment', 1n]], 2n ** 55n + 1n],
    ['back into the safe range after a large value', [['record', 2n ** 60n], ['record', 3n], ['increment', 2n]], 5n],
  ])('host: gauge %s', (_name, ops, expected) => {
    const { metrics, id } = define(MetricType.Gauge);
    for (const [op, value] of ops) expect(op === 'record' ? metrics.record(id, value) : metrics.increment(id, value)).toBe(WasmResult.Ok);
    expect(read(metrics, id)).toBe(expected);
  });
});

describe('host: logging and time', () => {
  it('host: proxy_log delivers every level and proxy_get_log_level answers the host level', async () => {
    const emu = await conformance();
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, withAction('log'), true);
    expect(emu.getLogs('trace')).toContain('at trace');
    expect(emu.getLogs('critical')).toContain('at critical');
    expect(header(emu.getCurrentRequestHeaders(id), 'x-log-level')).toBe('0');
  });

  it('host: proxy_log drops lines below the configured level', async () => {
    const emu = await conformance({ logLevel: 'warn' });
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, withAction('log'), true);
    expect(emu.getLogs()).toEqual(['at warn', 'at error', 'at critical']);
    expect(header(emu.getCurrentRequestHeaders(id), 'x-log-level')).toBe('3');
  });

  it('host: proxy_get_current_time_nanoseconds reads the host clock', async () => {
    const emu = await conformance({ startTimeMs: 1_700_000_000_000 });
    emu.advanceTimeMs(5);
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, withAction('time'), true);
    expect(header(emu.getCurrentRequestHeaders(id), 'x-time')).toBe('1700000000005000000');
  });
});
