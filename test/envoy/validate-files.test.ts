/**
 * `deployer validate`: a table of deliberately broken configs (one per rule; fixtures in
 * test/fixtures/envoy/broken/, expectations in its cases.json), every config the repo ships
 * validating, and the exit codes through the real command.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { register } from '../../deployer/src/cli/commands/validate.js';
import { validateConfigFile, validateConfigFiles } from '../../deployer/src/envoy/validate-files.js';
import { repoRoot } from '../setup/paths.js';
import { runCommand } from '../support/cli.js';

const brokenDir = path.join(repoRoot, 'test', 'fixtures', 'envoy', 'broken');
interface BrokenCase { readonly file: string; readonly kind: string; readonly path: string; readonly message: string }
const cases = JSON.parse(readFileSync(path.join(brokenDir, 'cases.json'), 'utf8')) as BrokenCase[];

/** Every config the repository ships: envoy-configs/ and each filter's envoy.yaml and istio/ examples. */
function shippedConfigs(): string[] {
  const files = readdirSync(path.join(repoRoot, 'envoy-configs'), { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join('envoy-configs', f));
  const filters = path.join(repoRoot, 'filters');
  for (const name of readdirSync(filters)) {
    if (existsSync(path.join(filters, name, 'envoy.yaml'))) files.push(path.join('filters', name, 'envoy.yaml'));
    const istio = path.join(filters, name, 'istio');
    if (existsSync(istio)) files.push(...readdirSync(istio).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join('filters', name, 'istio', f)));
  }
  return files;
}

const deployer = (args: readonly string[]) => runCommand(register, args);

describe('validate: broken configs are refused naming the field', () => {
  it.each(cases)('validate: $file → $path', async ({ file, kind, path: fieldPath, message }) => {
    const result = await validateConfigFile(path.join(brokenDir, file));
    expect(result.status).toBe('invalid');
    const doc = result.documents[0]!;
    expect(doc.kind).toContain(kind);
    const issue = doc.issues.find((i) => i.path === fieldPath);
    expect(issue, `issues: ${JSON.stringify(doc.issues)}`).toBeDefined();
    expect(issue!.message).toContain(message);
  });

  it('validate: the table covers every broken fixture', () => {
    const files = readdirSync(brokenDir).filter((f) => f !== 'cases.json' && f !== 'not-yaml.yaml');
    expect(files.sort()).toEqual(cases.map((c) => c.file).sort());
  });

  it.each([
    ['not-yaml.yaml', /^not valid YAML\/JSON \(document 1\)/],
    ['missing.yaml', /^ENOENT$/],
  ])('validate: %s is unreadable', async (file, error) => {
    const result = await validateConfigFile(path.join(brokenDir, file));
    expect(result.status).toBe('unreadable');
    expect(result.error).toMatch(error);
  });
});

describe('validate: everything the repository ships validates', () => {
  it.each(shippedConfigs())('validate: %s', async (file) => {
    const result = await validateConfigFile(path.join(repoRoot, file));
    expect(result.documents.flatMap((d) => d.issues.map((i) => `${d.kind} ${i.path}: ${i.message}`))).toEqual([]);
    expect(result.status).toBe('valid');
  });
});

describe('deployer validate (command)', () => {
  it.each([
    { name: 'all valid', files: ['envoy-configs/envoy.yaml'], code: 0, line: 'envoy-configs/envoy.yaml: valid — Envoy Bootstrap (envoy.config.bootstrap.v3.Bootstrap)' },
    { name: 'one invalid', files: ['envoy-configs/envoy.yaml', 'test/fixtures/envoy/broken/unknown-field.yaml'], code: 1, line: '  static_resources.listeners[0].adress: unknown field; did you mean "address"?' },
    { name: 'one unreadable (the worst code wins)', files: ['test/fixtures/envoy/broken/unknown-field.yaml', 'test/fixtures/envoy/broken/missing.yaml'], code: 2, line: 'missing.yaml: UNREADABLE — ENOENT' },
  ])('deployer validate: $name exits $code', async ({ files, code, line }) => {
    const result = await deployer(['validate', ...files.map((f) => path.join(repoRoot, f))]);
    expect(result.code).toBe(code);
    expect(result.stdout).toContain(line);
  });

  it('deployer validate --type checks every document as the named message', async () => {
    const { files, exitCode } = await validateConfigFiles([path.join(brokenDir, 'bad-enum.json')], { type: 'envoy.config.cluster.v3.Cluster' });
    expect(exitCode).toBe(1);
    expect(files[0]!.documents[0]!.kind).toContain('as requested');
  });

  it('deployer validate -o json prints the results and the exit code', async () => {
    const result = await deployer(['validate', path.join(brokenDir, 'bad-enum.json'), '-o', 'json']);
    const printed = JSON.parse(result.stdout) as { exitCode: number; files: { status: string }[] };
    expect(printed).toMatchObject({ exitCode: 1, files: [{ status: 'invalid' }] });
  });
});
