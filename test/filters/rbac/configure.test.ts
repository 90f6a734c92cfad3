/**
 * onConfigure: bad configurations are refused with a message naming the policy, field and what
 * was expected (test/fixtures/rbac/config-errors.json), and a refused reconfiguration leaves
 * the previous policies enforcing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostEmulator } from '../../../deployer/src/host/testing/emulator.js';
import { builtFilter } from '../../setup/paths.js';
import { finish, loadRbac, readFixture, runRequest } from './harness.js';

interface ConfigErrorCase { readonly name: string; readonly configuration: string; readonly error: string }
const { cases } = readFixture<{ cases: ConfigErrorCase[] }>('config-errors.json');

describe('rbac: onConfigure refuses bad configurations', () => {
  it.each(cases.map((c): [string, ConfigErrorCase] => [c.name, c]))('rbac: onConfigure refuses %s', async (_name, testCase) => {
    const emulator = await HostEmulator.load({ wasm: builtFilter('rbac'), rootId: 'rbac', configuration: testCase.configuration, start: false });
    expect(await emulator.startPlugin()).toBe(false);
    const errors = emulator.getLogs('error').join('\n');
    expect(errors).toContain('rbac: configuration refused: ');
    expect(errors).toContain(testCase.error);
    await emulator.close();
  });
});

describe('rbac: onConfigure keeps the previous policies when a new configuration is refused', () => {
  const denyAdmin = { policies: [{ metadata: { name: 'deny-admin', namespace: 'foo' }, spec: { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin*'] } }] }] } }] };
  let emulator: HostEmulator;
  beforeAll(async () => { emulator = await loadRbac(denyAdmin); });
  afterAll(async () => { await emulator.close(); });

  it('rbac: onConfigure refused reconfiguration keeps enforcing the last good policies', async () => {
    const broken = { policies: [{ metadata: { name: 'allow-all', namespace: 'foo' }, spec: { rules: [{ from: [{ source: { ipBlocks: ['not-an-ip'] } }] }] } }] };
    await expect(emulator.reconfigure(JSON.stringify(broken))).rejects.toThrow();
    expect(emulator.getLogs('error').join('\n')).toContain('policy "foo/allow-all": spec.rules[0].from[0].source.ipBlocks[0]: "not-an-ip"');
    const outcome = runRequest(emulator, { path: '/admin/users' });
    expect(outcome.status).toBe(403);
    expect(outcome.details).toContain('policy[deny-admin]');
    finish(emulator, outcome.id);
  });

  it('rbac: onConfigure accepted reconfiguration replaces the policies', async () => {
    await emulator.reconfigure(JSON.stringify({ policies: [] }));
    const outcome = runRequest(emulator, { path: '/admin/users' });
    expect(outcome.status).toBe(200);
    finish(emulator, outcome.id);
  });
});
