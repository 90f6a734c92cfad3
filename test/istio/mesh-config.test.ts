import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeMeshConfig, loadMeshConfigFile, MeshConfigError, type MeshConfigForm, type MeshSettings } from '../../deployer/src/istio/mesh-config.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'istio-mesh');

interface Cases {
  readonly valid: readonly { readonly file: string; readonly form: MeshConfigForm; readonly settings: MeshSettings }[];
  readonly invalid: readonly { readonly file: string; readonly error: string }[];
}
const cases = JSON.parse(readFileSync(path.join(fixtures, 'cases.json'), 'utf8')) as Cases;

describe('mesh-config: --mesh-config parsing', () => {
  it.each(cases.valid)('mesh-config: $file is read as $form', ({ file, form, settings }) => {
    const loaded = loadMeshConfigFile(path.join(fixtures, 'valid', file));
    expect(loaded.form).toBe(form);
    expect(loaded.settings).toEqual(settings);
  });

  it.each(cases.invalid)('mesh-config: $file is refused naming the field', ({ file, error }) => {
    const source = path.join(fixtures, 'invalid', file);
    let thrown: unknown;
    try {
      loadMeshConfigFile(source);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(MeshConfigError);
    expect((thrown as Error).message).toContain(`${source}: ${error}`);
  });

  it('mesh-config: every problem of every setting is listed in one run, one per line', () => {
    const file = path.join(fixtures, 'several-errors', 'mesh.yaml');
    const expected = [...readFileSync(file, 'utf8').matchAll(/^# expect: (.+)$/gm)].map((m) => m[1]!);
    let thrown: unknown;
    try { loadMeshConfigFile(file); } catch (e) { thrown = e; }
    expect(thrown).toBeInstanceOf(MeshConfigError);
    expect((thrown as MeshConfigError).problems.map((p) => `${p.field}: ${p.problem}`)).toEqual(expected);
    expect((thrown as Error).message.split('\n')).toEqual([`${file}: ${expected.length} problems:`, ...expected.map((line) => `  ${line}`)]);
  });

  it('mesh-config: a missing file is refused with its name', () => {
    expect(() => loadMeshConfigFile('/nonexistent/mesh.yaml')).toThrow('/nonexistent/mesh.yaml: file not found: expected an Istio MeshConfig YAML file');
  });

  it('mesh-config: every invalid fixture has a case (and every case a fixture)', async () => {
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(path.join(fixtures, 'invalid')).sort()).toEqual(cases.invalid.map((c) => c.file).sort());
    expect(readdirSync(path.join(fixtures, 'valid')).sort()).toEqual(cases.valid.map((c) => c.file).sort());
  });

  it('mesh-config: the summary line says which layout was found and what it sets', () => {
    const loaded = loadMeshConfigFile(path.join(fixtures, 'valid', 'configmap.yaml'));
    expect(describeMeshConfig(loaded)).toBe(`mesh config ${loaded.source} (ConfigMap, data.mesh): pathNormalization DECODE_AND_MERGE_SLASHES, ext_authz providers ext-authz-http, numTrustedProxies 2, rootNamespace istio-system`);
  });
});
