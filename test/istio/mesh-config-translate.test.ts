import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { register, translatePolicyFile } from '../../deployer/src/cli/commands/translate.js';
import { loadPluginConfig } from '../../deployer/src/push/cli-options.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'istio-mesh');
const policy = (name: string) => path.join(fixtures, 'policies', name);
const mesh = (name: string) => path.join(fixtures, 'valid', name);

describe('deployer translate --mesh-config', () => {
  afterEach(() => { vi.restoreAllMocks(); });

  it('translate: a CUSTOM policy without --mesh-config is refused (no provider to call)', async () => {
    await expect(translatePolicyFile(policy('custom-ext-authz.yaml'), { output: 'json' }))
      .rejects.toThrow('AuthorizationPolicy "shop/ext-authz": CUSTOM provider "ext-authz-http" is not defined; expected one of the mesh extensionProviders (none given)');
  });

  it('translate: a CUSTOM policy with --mesh-config carries the provider, normalization and trusted hops', async () => {
    const notes: string[] = [];
    const [rbac] = await translatePolicyFile(policy('custom-ext-authz.yaml'), { output: 'json', meshConfig: mesh('configmap.yaml') }, (line) => notes.push(line));
    expect(notes).toEqual([
      expect.stringContaining('(ConfigMap, data.mesh): pathNormalization DECODE_AND_MERGE_SLASHES, ext_authz providers ext-authz-http'),
      'deployer translate: rbac: 1 resource read; 1 applies to shop/app=cart (AuthorizationPolicy shop/ext-authz)',
    ]);
    expect(rbac).toMatchObject({ filter: 'rbac', kind: 'AuthorizationPolicy', sources: ['shop/ext-authz'] });
    expect(rbac!.config).toEqual({
      pathNormalization: 'DECODE_AND_MERGE_SLASHES',
      remoteIpTrustedHops: 2,
      // Only envoyExtAuthzHttp providers reach the filter; the zipkin one stays out.
      extensionProviders: [{ name: 'ext-authz-http', envoyExtAuthzHttp: {
        service: 'ext-authz.foo.svc.cluster.local', port: 8000, timeout: '0.5s', includeRequestHeadersInCheck: ['x-ext-authz'], headersToUpstreamOnAllow: ['x-user'] } }],
      policies: [{ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'ext-authz', namespace: 'shop' },
        spec: { action: 'CUSTOM', provider: { name: 'ext-authz-http' }, rules: [{ to: [{ operation: { paths: ['/api/*'] } }] }] } }],
    });
  });

  it.each([
    { meshConfig: undefined, normalization: 'BASE' },
    { meshConfig: 'configmap.yaml', normalization: 'DECODE_AND_MERGE_SLASHES' },
    { meshConfig: 'mesh-key.yaml', normalization: 'MERGE_SLASHES' },
    { meshConfig: 'mesh-key-nested.yaml', normalization: 'NONE' },
    { meshConfig: 'bare.yaml', normalization: 'BASE' },
  ])('translate: --mesh-config $meshConfig → pathNormalization $normalization', async ({ meshConfig, normalization }) => {
    const [rbac] = await translatePolicyFile(policy('deny-admin.yaml'), { output: 'json', ...(meshConfig ? { meshConfig: mesh(meshConfig) } : {}) });
    expect(rbac!.config['pathNormalization']).toBe(normalization);
  });

  it('translate: a bad --mesh-config is refused before any policy is read', async () => {
    const bad = path.join(fixtures, 'invalid', 'bad-normalization.yaml');
    await expect(translatePolicyFile('/nonexistent.yaml', { output: 'json', meshConfig: bad }))
      .rejects.toThrow(`${bad}: pathNormalization.normalization: "MERGE": expected one of`);
  });

  it('translate: the CLI command takes --mesh-config and prints the translated configs', async () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => { out.push(String(chunk)); return true; });
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const program = new Command().exitOverride();
    register(program);
    await program.parseAsync(['translate', policy('custom-ext-authz.yaml'), '--mesh-config', mesh('configmap.yaml'), '-o', 'yaml'], { from: 'user' });
    expect(out.join('')).toContain('pathNormalization: DECODE_AND_MERGE_SLASHES');
    expect(out.join('')).toContain('service: ext-authz.foo.svc.cluster.local');
    expect(err).toHaveBeenCalledWith(expect.stringContaining('deployer translate: mesh config'));
  });
});

describe('deployer push/render --istio --mesh-config', () => {
  const wiring = { format: 'compat', namespace: 'shop', direction: 'inbound', via: 'envoyfilter', failStrategy: 'close', output: 'yaml' } as const;

  it('push: a CUSTOM policy is refused without --mesh-config, as translate refuses it', async () => {
    await expect(loadPluginConfig({ ...wiring, istio: policy('custom-ext-authz.yaml') }, 'rbac')).rejects.toThrow(/CUSTOM provider "ext-authz-http" is not defined/);
  });

  it('push: with --mesh-config the pushed rbac config is the one translate prints', async () => {
    const pushed = await loadPluginConfig({ ...wiring, istio: policy('custom-ext-authz.yaml'), meshConfig: mesh('configmap.yaml') }, 'rbac');
    const [translated] = await translatePolicyFile(policy('custom-ext-authz.yaml'), { output: 'json', meshConfig: mesh('configmap.yaml') }, () => undefined);
    expect(pushed).toEqual(translated!.config);
  });
});
