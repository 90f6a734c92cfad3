import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { IstioValidationError, validateIstioResource } from '../../deployer/src/istio/validate.js';
import { renderFilter } from '../../deployer/src/render/index.js';
import { validateManifest } from '../../deployer/src/render/validate.js';
import { EnvoyConfigError, validateEnvoyMessage } from '../../deployer/src/envoy/validate.js';
import { SUITE } from '../../deployer/src/suite.js';
import { renderInput } from '../render/support.js';

const invalidDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'render', 'invalid');
const invalidCases = readdirSync(invalidDir).filter((f) => f.endsWith('.yaml')).sort().map((file) => {
  const text = readFileSync(path.join(invalidDir, file), 'utf8');
  const expected = /^# expect: (.+)$/m.exec(text)![1]!.trim();
  return [file, expected, parse(text) as unknown] as const;
});

describe('istio CRD validation', () => {
  it.each(invalidCases)('istio: %s is rejected naming %s', (_file, expectedPath, resource) => {
    let error: unknown;
    try {
      validateIstioResource(resource);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(IstioValidationError);
    const problems = (error as IstioValidationError).problems.map((p) => p.path);
    expect(problems).toContain(expectedPath);
    expect((error as Error).message).toMatch(/^(EnvoyFilter|WasmPlugin) "/);
  });

  const everything = (['envoyfilter', 'wasmplugin'] as const).flatMap((via) => (['inbound', 'outbound', 'gateway'] as const)
    .flatMap((context) => [...SUITE.map((s) => s.filter), 'example'].map((filter) => [via, context, filter] as const)));
  it.each(everything)('istio: rendered %s/%s/%s validates against the CRD schema', (via, context, filter) => {
    const failStrategy = via === 'wasmplugin' ? 'reload' as const : 'open' as const;
    for (const m of renderFilter(renderInput(filter, { via, context, failStrategy, imagePullPolicy: 'Always', selector: {} }))) {
      expect(() => validateIstioResource(m)).not.toThrow();
    }
  });

  it('istio: DEPLOYER_ISTIO_CRDS overrides where the CRDs are read from, and a missing file is named', () => {
    const saved = process.env.DEPLOYER_ISTIO_CRDS;
    process.env.DEPLOYER_ISTIO_CRDS = '/nonexistent/crds.yaml';
    try {
      expect(() => validateIstioResource(invalidCases[0]![2])).toThrow(/Istio CRDs not found at \/nonexistent\/crds\.yaml: .*DEPLOYER_ISTIO_CRDS/);
    } finally {
      if (saved === undefined) delete process.env.DEPLOYER_ISTIO_CRDS;
      else process.env.DEPLOYER_ISTIO_CRDS = saved;
    }
  });

  it('istio: a rendered RequestAuthentication-style resource of another group validates too (shared validator)', () => {
    expect(() => validateIstioResource({
      apiVersion: 'security.istio.io/v1', kind: 'RequestAuthentication', metadata: { name: 'jwt', namespace: 'shop' },
      spec: { selector: { matchLabels: { app: 'reviews' } }, jwtRules: [{ issuer: 'https://issuer.example', jwksUri: 'https://issuer.example/jwks' }] },
    })).not.toThrow();
  });
});

describe('envoy proto validation', () => {
  const wasm = (config: Record<string, unknown>) => ({ '@type': 'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm', config });
  it.each([
    ['unknown field in PluginConfig', { name: 'x', vm_confg: {} }, 'typed_config.config.vm_confg'],
    ['unknown field deep in vm_config', { vm_config: { runtime: 'envoy.wasm.runtime.v8', code: { remote: { http_uri: { uri: 'oci://x', cluster: '_', timeout: '1s' }, sha: 'x' } } } }, 'typed_config.config.vm_config.code.remote.sha'],
    ['wrong scalar type', { fail_open: 'yes' }, 'typed_config.config.fail_open'],
    ['bad duration', { vm_config: { code: { remote: { http_uri: { uri: 'oci://x', cluster: '_', timeout: '30 seconds' } } } } }, 'typed_config.config.vm_config.code.remote.http_uri.timeout'],
    ['empty uri (PGV min_len)', { vm_config: { code: { remote: { http_uri: { uri: '', cluster: '_', timeout: '1s' } } } } }, 'typed_config.config.vm_config.code.remote.http_uri.uri'],
    ['two oneof members', { vm_config: { code: { local: { filename: '/x' }, remote: { http_uri: { uri: 'oci://x', cluster: '_', timeout: '1s' } } } } }, 'typed_config.config.vm_config.code'],
  ])('envoy: %s is rejected at its path', (_name, config, expectedPath) => {
    let error: unknown;
    try {
      validateEnvoyMessage('envoy.config.core.v3.TypedExtensionConfig', { name: 'x', typed_config: wasm(config) });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EnvoyConfigError);
    expect((error as EnvoyConfigError).path).toBe(expectedPath);
  });

  it('envoy: an unknown @type in an Any is rejected', () => {
    expect(() => validateEnvoyMessage('envoy.config.core.v3.TypedExtensionConfig', { name: 'x', typed_config: { '@type': 'type.googleapis.com/envoy.Nope' } }))
      .toThrow(/typed_config\.@type/);
  });

  it('envoy: a rendered EnvoyFilter with a misspelt patch field fails validateManifest naming the Envoy message', () => {
    const [m] = renderFilter(renderInput('jwt-auth'));
    const broken = structuredClone(m!) as unknown as { spec: { configPatches: { patch: { value: Record<string, unknown> } }[] } };
    broken.spec.configPatches[1]!.patch.value.config_discovry = {};
    expect(() => validateManifest(broken as unknown as typeof m & object)).toThrow(/config_discovry.*HttpFilter/);
  });
});
