import { describe, expect, it } from 'vitest';
import { DEFAULT_HISTOGRAM_BUCKETS } from '../../deployer/src/host/abi/metrics.js';
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
