/**
 * onConfigure: bad configurations are refused with the virtual service, rule index and field
 * named (test/fixtures/header-router/config-errors.json); a refused reconfiguration keeps the
 * previous rules routing.
 */
import { describe, expect, it } from 'vitest';
import { loadRouter, readFixture, runRequest } from './harness.js';

interface ConfigErrorCase { readonly name: string; readonly configuration: string; readonly error: string }
const { cases } = readFixture<{ cases: ConfigErrorCase[] }>('config-errors.json');

describe('header-router: onConfigure refuses bad configurations', () => {
  it.each(cases.map((c): [string, ConfigErrorCase] => [c.name, c]))('header-router: onConfigure refuses %s', async (_name, c) => {
    const emulator = await loadRouter(c.configuration, { start: false });
    expect(await emulator.startPlugin()).toBe(false);
    const errors = emulator.getLogs('error').join('\n');
    expect(errors).toContain('header-router: configuration refused: ');
    expect(errors).toContain(c.error);
    await emulator.close();
  });

  it('header-router: onConfigure refused reconfiguration keeps the last good rules', async () => {
    const good = { virtualServices: [{ name: 'a', http: [{ route: [{ destination: 'v1' }] }] }] };
    const emulator = await loadRouter(good);
    await expect(emulator.reconfigure(JSON.stringify({ virtualServices: [{ name: 'a', http: [{ route: [{ destination: 'v1', weight: 10 }, { destination: 'v2', weight: 10 }] }] }] }))).rejects.toThrow();
    expect(emulator.getLogs('error').join('\n')).toContain('weights add up to 20, expected 100');
    const outcome = runRequest(emulator, {});
    expect(outcome.route).toBe('v1');
    emulator.completeHttpContext(outcome.id);
    await emulator.reconfigure(JSON.stringify({ virtualServices: [{ name: 'a', http: [{ route: [{ destination: 'v2' }] }] }] }));
    const after = runRequest(emulator, {});
    expect(after.route).toBe('v2');
    emulator.completeHttpContext(after.id);
    await emulator.close();
  });
});
