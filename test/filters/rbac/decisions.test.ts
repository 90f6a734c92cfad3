/**
 * Table-driven decisions on the built rbac.wasm: every fixture in test/fixtures/rbac whose name
 * starts with decisions-/fields-/cve-/normalization- holds one configuration and the requests
 * with the decision Istio documents (or Envoy's behaviour for normalization).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostEmulator } from '../../../deployer/src/host/testing/emulator.js';
import { type DecisionCase, finish, loadFixtures, loadRbac, runRequest } from './harness.js';

const fixtures = [
  ...loadFixtures('decisions-'),
  ...loadFixtures('fields-'),
  ...loadFixtures('cve-'),
  ...loadFixtures('normalization-'),
];

describe.each(fixtures)('rbac: onRequestHeaders %s', (_file, fixture) => {
  let emulator: HostEmulator;
  beforeAll(async () => { emulator = await loadRbac(fixture.config); });
  afterAll(async () => { await emulator.close(); });

  it.each(fixture.cases.map((c): [string, DecisionCase] => [c.name, c]))(`${fixture.title}: %s`, (_name, testCase) => {
    const outcome = runRequest(emulator, testCase.request);
    expect(outcome.status, outcome.details).toBe(testCase.status);
    if (testCase.status === 403 && outcome.details.startsWith('rbac_')) expect(outcome.body).toBe('RBAC: access denied');
    if (testCase.details !== undefined) expect(outcome.details).toContain(testCase.details);
    if (testCase.forwardedPath !== undefined) expect(outcome.forwardedPath).toBe(testCase.forwardedPath);
    finish(emulator, outcome.id);
  });
});
