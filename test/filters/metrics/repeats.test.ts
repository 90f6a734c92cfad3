/**
 * onLog reuses the previous stream's labels (and series) when its inputs repeat
 * (filters/metrics/assembly/stream-inputs.ts). Differential check: a sequence of streams whose
 * inputs repeat, change one at a time and come back (test/fixtures/metrics/repeats.json) runs on
 * one VM; every stream must land in the series it gets alone on a fresh VM, and each series
 * must count exactly the streams that belong to it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ListenerDirection } from '../../../deployer/src/host/api.js';
import type { HostEmulator } from '../../../deployer/src/host/testing/emulator.js';
import { type StreamSpec, loadMetrics, readFixture, runStream, seriesNamed } from './harness.js';

interface RepeatStream extends StreamSpec {
  /** connection.id of the stream's downstream connection (default: the emulator's). */
  readonly connection?: number;
}

interface Sequence {
  readonly name: string;
  readonly local: string;
  readonly direction: ListenerDirection;
  readonly config?: unknown;
  readonly streams: readonly RepeatStream[];
}

const fixture = readFixture<{ sequences: Sequence[] }>('repeats.json');

/**
 * Values the host copies in go to a scratch area up to 64 KiB (filters/lib/host-memory.ts) and
 * to an ordinary buffer beyond: a label value on either side of that, and back.
 */
const user = (name: string): RepeatStream => ({ request: { authority: 'reviews', headers: { 'x-user': name } }, response: { status: 200 } });
const large: Sequence = {
  name: 'custom label values larger than the scratch area',
  local: 'reviews',
  direction: 'INBOUND',
  config: { metrics: [{ tagOverrides: { user: { value: "request.headers['x-user']" } } }] },
  streams: [user('a'.repeat(70_000)), user('small'), user('b'.repeat(65_537)), user('a'.repeat(70_000)), user('small')],
};
const sequences = [...fixture.sequences, large];

/** A label set as one comparable string (label order fixed by sorting). */
function key(labels: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
}

function run(emu: HostEmulator, stream: RepeatStream): void {
  if (stream.connection !== undefined) emu.setProperty('connection.id', String(stream.connection));
  runStream(emu, stream);
}

describe('metrics: onLog repeated inputs', () => {
  let emu: HostEmulator | undefined;
  afterEach(async () => { await emu?.close(); emu = undefined; });

  it.each(sequences.map((s): [string, Sequence] => [s.name, s]))('metrics: onLog a stream after others gets its own labels (%s)', async (_name, sequence) => {
    const load = () => loadMetrics({ local: sequence.local, direction: sequence.direction, config: sequence.config });
    // Alone on a fresh VM: the reference label set of each stream.
    const expected = new Map<string, number>();
    for (const stream of sequence.streams) {
      const fresh = await load();
      run(fresh, stream);
      const series = seriesNamed(fresh, 'istio_requests_total');
      await fresh.close();
      expect(series).toHaveLength(1);
      const k = key(series[0]!.labels);
      expected.set(k, (expected.get(k) ?? 0) + 1);
    }
    // The whole sequence on one VM.
    emu = await load();
    for (const stream of sequence.streams) run(emu, stream);
    const shared = seriesNamed(emu, 'istio_requests_total');
    const counts = new Map(shared.map((s) => [key(s.labels), s.sample.value]));
    expect(counts).toEqual(expected);
    // The histograms follow the same series.
    const durations = seriesNamed(emu, 'istio_request_duration_milliseconds');
    expect(new Set(durations.map((s) => key(s.labels)))).toEqual(new Set(expected.keys()));
  });
});
