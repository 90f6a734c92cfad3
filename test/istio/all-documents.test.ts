import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatValidation, validateConfigFile } from '../../deployer/src/envoy/validate-files.js';
import { IstioInputInvalidError } from '../../deployer/src/istio/validate.js';
import { parseIstioInputs, parseIstioResources } from '../../deployer/src/translate/index.js';
import { repoRoot } from '../setup/paths.js';

/**
 * Istio YAML with several bad documents is refused once, naming every problem of every document
 * (`translate`, `push`/`render --istio`, `run --istio`, `deployer validate`), not one per run.
 */
const file = path.join(repoRoot, 'test', 'fixtures', 'istio-validate', 'several-invalid.yaml');
const text = readFileSync(file, 'utf8');
const CEL_JWKS = 'only one of jwks or jwksUri can be set (CEL: (has(self.jwksUri) ? 1 : 0) + (has(self.jwks_uri) ? 1 : 0) + (has(self.jwks) ? 1 : 0) <= 1; rule evaluated to false)';

describe('istio: every invalid document reported at once', () => {
  let saved: string | undefined;
  beforeEach(() => { saved = process.env.DEPLOYER_ISTIO_CRDS; delete process.env.DEPLOYER_ISTIO_CRDS; });
  afterEach(() => { if (saved !== undefined) process.env.DEPLOYER_ISTIO_CRDS = saved; });

  it('one multi-document input: every problem, one line each, with its document', () => {
    let caught: unknown;
    try { parseIstioResources(text, 'several-invalid.yaml'); } catch (error) { caught = error; }
    expect(caught).toBeInstanceOf(IstioInputInvalidError);
    expect((caught as Error).message.split('\n')).toEqual([
      'several-invalid.yaml: 4 problems in 3 documents:',
      '  document 1: AuthorizationPolicy "typos": spec.action: expected one of "ALLOW", "DENY", "AUDIT", "CUSTOM", got "PERMIT"',
      '  document 1: AuthorizationPolicy "typos": spec.rulez: unknown field; did you mean "rules"?',
      '  document 3: YAML error: Flow map in block collection must be sufficiently indented and end with a } at line 19, column 1',
      `  document 4: RequestAuthentication "both": spec.jwtRules[0]: ${CEL_JWKS}`,
    ]);
  });

  it('several inputs (a folder\'s files, run --istio): every invalid one, a resource\'s problems indented under it', () => {
    const bad = (name: string, spec: string) => ({ source: `${name}.yaml`, text: `apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: ${name}, namespace: shop}\nspec: ${spec}\n` });
    expect(() => parseIstioInputs([bad('a', '{action: PERMIT, rulez: []}'), bad('ok', '{action: DENY}'), bad('b', '{selector: {matchLabels: {app: "x*"}}}')])).toThrow([
      '2 invalid resources:',
      '  a.yaml: AuthorizationPolicy "a" is invalid (2 problems):',
      '    spec.action: expected one of "ALLOW", "DENY", "AUDIT", "CUSTOM", got "PERMIT"',
      '    spec.rulez: unknown field; did you mean "rules"?',
      '  b.yaml: AuthorizationPolicy "b" is invalid: spec.selector.matchLabels.app: wildcard not allowed in label value match (CEL: !self.contains("*"); rule evaluated to false), got "x*"',
    ].join('\n'));
  });

  it('a lone invalid resource keeps its one-line form', () => {
    expect(() => parseIstioResources(text.split('---')[0]!, 'one.yaml')).toThrow(/^AuthorizationPolicy "typos" is invalid \(2 problems\):\n {2}spec\.action: .*\n {2}spec\.rulez: /);
  });

  it('deployer validate: the unparseable document named, every other document still checked', async () => {
    const result = await validateConfigFile(file);
    expect(result.status).toBe('unreadable');
    expect(result.documents.map((d) => [d.index, d.issues.map((i) => i.path)])).toEqual([
      [1, ['spec.action', 'spec.rulez']],
      [2, []],
      [4, ['spec.jwtRules[0]']],
    ]);
    const out = formatValidation([result]);
    expect(out).toContain(`${file}: UNREADABLE — not valid YAML/JSON (document 3): Flow map in block collection`);
    expect(out).toContain(`${file}#4: INVALID — RequestAuthentication "both" (security.istio.io/v1)`);
    expect(out).toContain(`  spec.jwtRules[0]: ${CEL_JWKS}`);
  });
});
