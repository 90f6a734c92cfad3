import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SidecarConfigError } from '../../deployer/src/sidecar/config/errors.js';
import { loadRunConfigFile } from '../../deployer/src/sidecar/config/from-envoy-bootstrap.js';
import { register } from '../../deployer/src/cli/commands/run.js';
import { validateConfigFile } from '../../deployer/src/envoy/validate-files.js';
import { runCommand } from '../support/cli.js';
import { repoRoot } from '../setup/paths.js';

/**
 * Config errors are reported all at once: each fixture holds several mistakes and lists, one
 * `# expect: <field>: <problem>` line each, every problem one run must report, in order.
 */
const dir = path.join(repoRoot, 'test', 'fixtures', 'sidecar', 'several-errors');
const cases = readdirSync(dir).filter((name) => name.endsWith('.yaml')).sort().map((name) => {
  const file = path.join(dir, name);
  const expected = [...readFileSync(file, 'utf8').matchAll(/^# expect: (.+)$/gm)].map((m) => m[1]!);
  if (expected.length < 2) throw new Error(`${file}: expected several "# expect: <field>: <problem>" lines`);
  return { name, file, expected };
});

function refusal(file: string): SidecarConfigError {
  try {
    loadRunConfigFile(file, repoRoot);
  } catch (error) {
    if (error instanceof SidecarConfigError) return error;
    throw error;
  }
  throw new Error(`${file} was accepted`);
}

describe('sidecar config: every problem in one run', () => {
  it.each(cases)('$name: refused once, listing each problem on its own line', ({ file, expected }) => {
    const error = refusal(file);
    expect(error.problems.map((p) => `${p.field}: ${p.problem}`)).toEqual(expected);
    expect(error.message.split('\n')).toEqual([`${file}: ${expected.length} problems:`, ...expected.map((line) => `  ${line}`)]);
  });

  // `deployer validate` tells a sidecar.yaml by its `listen` field (a file without one is reported as unrecognised).
  it.each(cases.filter((c) => /^listen:/m.test(readFileSync(c.file, 'utf8'))))('$name: deployer validate lists the same problems', async ({ file, expected }) => {
    const cwd = process.cwd();
    process.chdir(repoRoot); // `deployer validate` resolves module paths against the working directory, as run does
    try {
      const result = await validateConfigFile(file);
      expect(result.status).toBe('invalid');
      expect(result.documents[0]!.issues.map((i) => `${i.path}: ${i.message}`)).toEqual(expected);
    } finally {
      process.chdir(cwd);
    }
  });

  it('deployer run -c: exit code 1, every problem on its own line of stderr, nothing started', async () => {
    const { file, expected } = cases.find((c) => c.name === 'broken-parts-skipped.yaml')!;
    const result = await runCommand(register, ['run', '-c', file, '--no-watch'], { asMain: true });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`deployer: ${file}: ${expected.length} problems:\n${expected.map((line) => `  ${line}`).join('\n')}\n`);
  });

  it('one problem keeps the one-line form: file: field: problem', () => {
    const error = new SidecarConfigError('sidecar.yaml', 'listen', 'is required but missing');
    expect(error.message).toBe('sidecar.yaml: listen: is required but missing');
    expect([error.field, error.problem]).toEqual(['listen', 'is required but missing']);
  });
});
