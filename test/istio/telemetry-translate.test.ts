/**
 * Telemetry → metrics filter configuration: Istio's documented examples translate to the expected
 * configuration (test/fixtures/metrics/telemetry/<case>.yaml → <case>.expected.json), invalid ones
 * are refused naming the resource and field (<case>.error.txt); each translated configuration is
 * accepted by the built filter.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HostEmulator } from '../../deployer/src/host/testing/emulator.js';
import { parseIstioResources, translateResources } from '../../deployer/src/translate/index.js';
import { builtFilter, repoRoot } from '../setup/paths.js';

const dir = path.join(repoRoot, 'test', 'fixtures', 'metrics', 'telemetry');
const cases = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().map((f) => f.replace(/\.yaml$/, ''));
const valid = cases.filter((c) => existsSync(path.join(dir, `${c}.expected.json`)));
const invalid = cases.filter((c) => existsSync(path.join(dir, `${c}.error.txt`)));

function translate(name: string) {
  const file = path.join(dir, `${name}.yaml`);
  return translateResources(parseIstioResources(readFileSync(file, 'utf8'), file));
}

describe('translate: Telemetry → metrics', () => {
  it('translate: every fixture has an expectation', () => {
    expect(valid.length + invalid.length).toBe(cases.length);
  });

  it.each(valid)('translate: Telemetry %s', async (name) => {
    const [translation] = translate(name);
    expect(translation!.filter).toBe('metrics');
    const expected = JSON.parse(readFileSync(path.join(dir, `${name}.expected.json`), 'utf8')) as unknown;
    expect(translation!.config).toEqual(expected);
    const emu = await HostEmulator.load({ wasm: builtFilter('metrics'), rootId: 'metrics', configuration: JSON.stringify(translation!.config), start: false });
    expect(await emu.startPlugin(), emu.getLogs('error').join('\n')).toBe(true);
    await emu.close();
  });

  it.each(invalid)('translate: Telemetry %s is refused naming the resource and field', (name) => {
    const expected = readFileSync(path.join(dir, `${name}.error.txt`), 'utf8').trim();
    expect(() => translate(name)).toThrow(expected);
  });
});
