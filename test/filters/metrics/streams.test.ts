/**
 * onLog: one stream per case (test/fixtures/metrics/streams.json) on a fresh VM; the recorded
 * istio_requests_total series carries exactly Istio's labels, with Istio's values.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ListenerDirection } from '../../../deployer/src/host/api.js';
import type { HostEmulator } from '../../../deployer/src/host/testing/emulator.js';
import { LABEL_ORDER } from './labels.js';
import { type StreamSpec, loadMetrics, readFixture, runStream, seriesNamed } from './harness.js';

interface StreamCase extends StreamSpec {
  readonly name: string;
  readonly local: string;
  readonly direction?: ListenerDirection;
  readonly config?: unknown;
  readonly expect: Readonly<Record<string, string>>;
}

const { cases } = readFixture<{ cases: StreamCase[] }>('streams.json');

describe('metrics: onLog labels', () => {
  let emu: HostEmulator | undefined;
  afterEach(async () => { await emu?.close(); emu = undefined; });

  it.each(cases.map((c): [string, StreamCase] => [c.name, c]))('metrics: onLog %s', async (_name, testCase) => {
    emu = await loadMetrics({ local: testCase.local, ...(testCase.direction ? { direction: testCase.direction } : {}), config: testCase.config });
    runStream(emu, testCase);
    const series = seriesNamed(emu, 'istio_requests_total');
    expect(series).toHaveLength(1);
    const labels = series[0]!.labels;
    expect(Object.keys(labels).sort()).toEqual([...LABEL_ORDER].sort());
    expect(labels).toMatchObject(testCase.expect);
    expect(series[0]!.sample.value).toBe(1);
  });
});
