/**
 * onConfigure: bad configurations are refused naming the field and what was expected
 * (test/fixtures/metrics/config-errors.json); a refused reconfiguration keeps the last good one.
 */
import { describe, expect, it } from 'vitest';
import { HostEmulator } from '../../../deployer/src/host/testing/emulator.js';
import { builtFilter } from '../../setup/paths.js';
import { loadMetrics, node, readFixture, runStream, seriesNamed } from './harness.js';

interface ConfigErrorCase { readonly name: string; readonly configuration: string; readonly error: string }
const { cases } = readFixture<{ cases: ConfigErrorCase[] }>('config-errors.json');

describe('metrics: onConfigure refuses bad configurations', () => {
  it.each(cases.map((c): [string, ConfigErrorCase] => [c.name, c]))('metrics: onConfigure refuses %s', async (_name, testCase) => {
    const emu = await HostEmulator.load({ wasm: builtFilter('metrics'), rootId: 'metrics', configuration: testCase.configuration, node: node('reviews'), start: false });
    expect(await emu.startPlugin()).toBe(false);
    const errors = emu.getLogs('error').join('\n');
    expect(errors).toContain('metrics: configuration refused: ');
    expect(errors).toContain(testCase.error);
    await emu.close();
  });

  it('metrics: onConfigure refused reconfiguration keeps the last good overrides', async () => {
    const emu = await loadMetrics({ local: 'reviews', direction: 'INBOUND', config: { metrics: [{ tagOverrides: { tier: { value: "'gold'" } } }] } });
    await expect(emu.reconfigure(JSON.stringify({ metrics: [{ tagOverrides: { tier: { value: 'node.id' } } }] }))).rejects.toThrow();
    runStream(emu, { response: { status: 200 } });
    expect(seriesNamed(emu, 'istio_requests_total')[0]!.labels.tier).toBe('gold');
    await emu.close();
  });

  it('metrics: onConfigure with empty node metadata reports unknown for the local workload', async () => {
    const emu = await loadMetrics({ direction: 'INBOUND' });
    runStream(emu, { response: { status: 200 } });
    const labels = seriesNamed(emu, 'istio_requests_total')[0]!.labels;
    expect(labels).toMatchObject({ destination_workload: 'unknown', destination_workload_namespace: 'unknown', destination_canonical_revision: 'latest' });
    await emu.close();
  });
});
