/**
 * The rbac filter reads connection facts (peer URI SAN, source/destination address and port,
 * SNI) once per Envoy connection id and keeps the 16 most recently used connections per VM
 * (filters/rbac/assembly/connection-facts.ts). Each case runs its streams in order on a fresh
 * VM; `connections: [first, last]` is one stream per id in that range; `reconfigure` applies a
 * new configuration first.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HostEmulator } from '../../../deployer/src/host/testing/emulator.js';
import { type RequestSpec, finish, loadRbac, readFixture, runRequest } from './harness.js';

interface StreamStep {
  /** Configuration applied (proxy_on_configure) before this step's streams. */
  readonly reconfigure?: unknown;
  readonly connection?: number;
  readonly connections?: readonly [number, number];
  readonly request: RequestSpec;
  readonly status: number;
}

interface CacheFixture {
  readonly title: string;
  readonly config: unknown;
  readonly cases: ReadonlyArray<{ readonly name: string; readonly streams: readonly StreamStep[] }>;
}

const fixture = readFixture<CacheFixture>('connection-cache.json');

/** One entry per stream: the step's connection id, or each id of its range. */
function expand(steps: readonly StreamStep[]): Array<{ readonly connection: number; readonly step: StreamStep }> {
  return steps.flatMap((step) => {
    if (step.connections !== undefined) {
      const [first, last] = step.connections;
      return Array.from({ length: last - first + 1 }, (_, i) => ({ connection: first + i, step }));
    }
    if (step.connection === undefined) throw new Error(`stream ${JSON.stringify(step)}: expected "connection" or "connections"`);
    return [{ connection: step.connection, step }];
  });
}

describe('rbac: onRequestHeaders connection facts cache', () => {
  let emulator: HostEmulator;
  beforeEach(async () => { emulator = await loadRbac(fixture.config); });
  afterEach(async () => { await emulator.close(); });

  it.each(fixture.cases.map((c) => [c.name, c] as const))(`rbac: onRequestHeaders ${fixture.title}: %s`, async (_name, testCase) => {
    let index = 0;
    for (const step of testCase.streams) {
      if (step.reconfigure !== undefined) await emulator.reconfigure(JSON.stringify(step.reconfigure));
      for (const { connection } of expand([step])) {
        const outcome = runRequest(emulator, { ...step.request, connection });
        expect(outcome.status, `stream ${index++} on connection ${connection}: ${outcome.details}`).toBe(step.status);
        finish(emulator, outcome.id);
      }
    }
  });
});
