/**
 * The filter's shipped examples stay true: Istio examples validate against the CRDs and carry
 * exactly what `deployer translate` produces; envoy.yaml validates against Envoy's protos and its
 * configuration is accepted by the built module.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { validateIstioResource } from '../../../deployer/src/istio/validate.js';
import { validateEnvoyMessage } from '../../../deployer/src/envoy/validate.js';
import { parseIstioResources, translateResources } from '../../../deployer/src/translate/index.js';
import { repoRoot } from '../../setup/paths.js';
import { loadJwtAuth } from './filter-harness.js';

const dir = path.join(repoRoot, 'filters/jwt-auth');
const read = (file: string): string => readFileSync(path.join(dir, file), 'utf8');

describe('jwt-auth: examples', () => {
  it.each(['istio/requestauthentication.yaml', 'istio/wasmplugin.yaml', 'istio/envoyfilter.yaml'])('jwt-auth: %s validates against its Istio CRD', (file) => {
    for (const doc of parseAllDocuments(read(file))) expect(() => validateIstioResource(doc.toJS())).not.toThrow();
  });

  it('jwt-auth: the WasmPlugin and EnvoyFilter examples carry the translated RequestAuthentication', () => {
    const [translation] = translateResources(parseIstioResources(read('istio/requestauthentication.yaml')));
    const wasmPlugin = parse(read('istio/wasmplugin.yaml')) as { spec: { pluginConfig: unknown } };
    expect(wasmPlugin.spec.pluginConfig).toEqual(translation?.config);
    const envoyFilter = parse(read('istio/envoyfilter.yaml')) as { spec: { configPatches: { patch: { value: { typed_config: { config: { configuration: { value: string } } } } } }[] } };
    expect(JSON.parse(envoyFilter.spec.configPatches[0]!.patch.value.typed_config.config.configuration.value)).toEqual(translation?.config);
  });

  it('jwt-auth: envoy.yaml wasm filter validates against Envoy protos and the built module accepts its configuration', async () => {
    type HttpFilter = { name: string; typed_config: { config?: { configuration: { value: string } } } };
    const bootstrap = parse(read('envoy.yaml')) as { static_resources: { listeners: { filter_chains: { filters: { typed_config: { http_filters: HttpFilter[] } }[] }[] }[] } };
    const httpFilter = bootstrap.static_resources.listeners[0]!.filter_chains[0]!.filters[0]!.typed_config.http_filters[0]!;
    expect(() => validateEnvoyMessage('envoy.config.core.v3.TypedExtensionConfig', httpFilter)).not.toThrow();
    const wasm = httpFilter.typed_config.config!;
    const emu = await loadJwtAuth(JSON.parse(wasm.configuration.value));
    expect(emu.getHttpCalls()[0]?.cluster).toBe('jwks_idp');
  });
});
