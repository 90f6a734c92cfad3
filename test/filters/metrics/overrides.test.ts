/** Telemetry-style overrides (test/fixtures/metrics/overrides.json), one fresh VM per case. */
import { afterEach, describe, expect, it } from 'vitest';
import type { HostEmulator } from '../../../deployer/src/host/testing/emulator.js';
import { type StreamSpec, loadMetrics, readFixture, runStream, seriesNamed } from './harness.js';

interface OverrideCase {
  readonly name: string;
  readonly config: unknown;
  readonly stream: StreamSpec;
  readonly filterState?: Readonly<Record<string, string>>;
  readonly metric?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly absent?: readonly string[];
  readonly otherMetricKeeps?: string;
  readonly notRecorded?: boolean;
}

const { cases } = readFixture<{ cases: OverrideCase[] }>('overrides.json');

describe('metrics: onLog Telemetry overrides', () => {
  let emu: HostEmulator | undefined;
  afterEach(async () => { await emu?.close(); emu = undefined; });

  it.each(cases.map((c): [string, OverrideCase] => [c.name, c]))('metrics: onLog override %s', async (_name, testCase) => {
    emu = await loadMetrics({ local: 'reviews', direction: 'INBOUND', config: testCase.config });
    for (const [key, value] of Object.entries(testCase.filterState ?? {})) emu.setProperty(key, value);
    runStream(emu, testCase.stream);
    const series = seriesNamed(emu, testCase.metric ?? 'istio_requests_total');
    if (testCase.notRecorded === true) {
      expect(series).toHaveLength(0);
      expect(seriesNamed(emu, 'istio_requests_total')).toHaveLength(1);
      return;
    }
    expect(series).toHaveLength(1);
    const labels = series[0]!.labels;
    if (testCase.labels) expect(labels).toMatchObject(testCase.labels);
    for (const name of testCase.absent ?? []) expect(labels).not.toHaveProperty(name);
    if (testCase.otherMetricKeeps !== undefined) {
      const other = seriesNamed(emu, testCase.otherMetricKeeps)[0]!.labels;
      for (const name of testCase.absent ?? []) expect(other).toHaveProperty(name);
    }
  });
});
