import { mkdtempSync, mkdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { keepKinds, readInputs } from '../../deployer/src/cli/inputs.js';
import { register as registerTranslate, translatePolicyFile } from '../../deployer/src/cli/commands/translate.js';
import { TRANSLATORS } from '../../deployer/src/translate/index.js';
import { repoRoot } from '../setup/paths.js';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'cli');
const mixed = path.join(fixtures, 'mixed-policies.yaml');
const TRANSLATED = TRANSLATORS.map((t) => t.kind);

describe('cli: -f inputs (file, folder, -)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'wasmesh-inputs-'));
  mkdirSync(path.join(dir, 'policies'));
  copyFileSync(mixed, path.join(dir, 'policies', 'b-mixed.yaml'));
  writeFileSync(path.join(dir, 'policies', 'a-jwt.yml'), 'apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: {name: jwt, namespace: shop}\nspec:\n  jwtRules: [{issuer: "https://issuer.example", jwksUri: "https://issuer.example/jwks"}]\n');
  writeFileSync(path.join(dir, 'policies', 'notes.txt'), 'not yaml');

  it.each([
    ['a file', mixed, [mixed]],
    ['a folder: its .yaml/.yml/.json files sorted, nothing else', path.join(dir, 'policies'), [path.join(dir, 'policies', 'a-jwt.yml'), path.join(dir, 'policies', 'b-mixed.yaml')]],
    ['- for standard input', '-', ['<stdin>']],
  ])('cli: -f %s', (_name, spec, sources) => {
    expect(readInputs(spec, () => 'kind: X\n').map((i) => i.source)).toEqual(sources);
  });

  it('cli: -f names a missing path and an empty folder', () => {
    expect(() => readInputs(path.join(dir, 'nope.yaml'))).toThrow(/-f .*nope\.yaml: not found: expected a YAML file, a folder of them, or - for standard input/);
    mkdirSync(path.join(dir, 'empty'));
    expect(() => readInputs(path.join(dir, 'empty'))).toThrow(/no \.yaml, \.yml or \.json files in this folder/);
  });

  it('cli: kinds nobody translates are skipped and listed, each kept document named by file and position', () => {
    const { kept, skipped } = keepKinds(readInputs(mixed), TRANSLATED);
    expect(kept.map((k) => k.source)).toEqual([`${mixed}#2`]);
    expect(skipped).toEqual([
      { source: mixed, kind: 'PeerAuthentication', name: 'shop/default' },
      { source: mixed, kind: 'Gateway', name: 'shop/edge' },
    ]);
  });

  it('cli: YAML errors in several files are reported in one go', () => {
    expect(() => keepKinds([{ source: 'a.yaml', text: 'kind: [' }, { source: 'b.yaml', text: 'a: b: c' }], TRANSLATED)).toThrow(/2 YAML errors:\n {2}a\.yaml: document 1: YAML error: .*\n {2}b\.yaml: document 1: YAML error/);
  });
});

describe('cli: deployer translate', () => {
  it('cli: translate -f folder translates what it can and notes what it skipped', async () => {
    const notes: string[] = [];
    const result = await translatePolicyFile([mixed], { output: 'json' }, (l) => notes.push(l));
    expect(result.map((r) => [r.filter, r.sources])).toEqual([['rbac', ['shop/allow-get']]]);
    expect(notes).toEqual([
      `deployer translate: skipped PeerAuthentication shop/default (${mixed}): wasmesh does not translate this kind (it translates ${TRANSLATED.join(', ')})`,
      `deployer translate: skipped Gateway shop/edge (${mixed}): wasmesh does not translate this kind (it translates ${TRANSLATED.join(', ')})`,
      expect.stringMatching(/^deployer translate: rbac: 1 resource read; 1 applies to shop\/\* \(AuthorizationPolicy shop\/allow-get\)$/),
    ]);
  });

  it('cli: translate reports every invalid resource at once', async () => {
    const file = path.join(fixtures, 'two-invalid.yaml');
    const error = await translatePolicyFile(file, { output: 'json' }).catch((e: Error) => e);
    expect((error as Error).message).toMatch(/^2 invalid resources:\n {2}.*two-invalid\.yaml#1: .*AuthorizationPolicy "bad-action".*spec\.action.*\n {2}.*two-invalid\.yaml#2: .*RequestAuthentication "bad-rules".*spec\.jwtRules/);
  });

  it('cli: translate with only other kinds says what it found', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wasmesh-translate-'));
    const file = path.join(dir, 'gw.yaml');
    writeFileSync(file, 'apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: g}\nspec: {}\n');
    await expect(translatePolicyFile(file, { output: 'json' })).rejects.toThrow(`nothing to translate: expected ${TRANSLATED.join(' or ')} resources (found only Gateway)`);
  });

  it("cli: translate's help lists exactly the kinds it translates", () => {
    const program = new Command('deployer');
    registerTranslate(program);
    const description = program.commands[0]!.description();
    for (const t of TRANSLATORS) expect(description).toContain(`${t.kind} (→ ${t.filter})`);
    for (const kind of ['VirtualService', 'Telemetry', 'PeerAuthentication'].filter((k) => !TRANSLATED.includes(k))) expect(description).not.toContain(kind);
  });
});
