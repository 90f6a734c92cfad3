/**
 * The prefix/suffix tables (filters/rbac/assembly/affix-table.ts) on the built rbac.wasm:
 * same-length patterns sorted and binary-searched in place, several length groups.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostEmulator } from '../../../deployer/src/host/testing/emulator.js';
import { type DecisionCase, type DecisionFixture, finish, loadRbac, runRequest } from './harness.js';

const fixture = JSON.parse(readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'affix-tables.json'), 'utf8')) as DecisionFixture;

describe('rbac: onRequestHeaders prefix/suffix tables', () => {
  let emulator: HostEmulator;
  beforeAll(async () => { emulator = await loadRbac(fixture.config); });
  afterAll(async () => { await emulator.close(); });

  it.each(fixture.cases.map((c): [string, DecisionCase] => [c.name, c]))('rbac: onRequestHeaders %s', (_name, testCase) => {
    const outcome = runRequest(emulator, testCase.request);
    expect(outcome.status, outcome.details).toBe(testCase.status);
    finish(emulator, outcome.id);
  });
});
