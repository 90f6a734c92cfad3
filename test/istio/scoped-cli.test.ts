/**
 * translate / render / push with overlapping scopes: one workload-scoped object at the broadest
 * covering scope, what applies where printed, and the config proven against the built module
 * once per workload it covers (with that workload's node metadata).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { register as registerPush } from '../../deployer/src/cli/commands/push.js';
import { register as registerRender } from '../../deployer/src/cli/commands/render.js';
import { translatePolicyFile } from '../../deployer/src/cli/commands/translate.js';
import { builtFilter, repoRoot } from '../setup/paths.js';
import { runCommand } from '../support/cli.js';

async function cli(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return runCommand((program) => { for (const register of [registerPush, registerRender]) register(program); }, args);
}

const scopeFixture = (name: string) => path.join(repoRoot, 'test', 'fixtures', 'istio-scope', name);
const image = 'oci://127.0.0.1:5000/wasmesh/rbac:v1';
interface Rendered { kind: string; metadata: { name: string; namespace: string }; spec: Record<string, unknown> }
interface ScopedRbac { rootNamespace?: string; policies: { metadata: { name: string; namespace: string }; spec: { selector?: unknown } }[] }

describe('overlapping scopes through the CLI', () => {
  it('translate -f filters/rbac/istio/ (no -n, no -l): one root-namespace rbac config, proven for every workload it covers', async () => {
    const notes: string[] = [];
    const result = await translatePolicyFile(path.join(repoRoot, 'filters', 'rbac', 'istio'), { output: 'json' }, (line) => notes.push(line));
    expect(result).toHaveLength(1);
    const [t] = result;
    expect(t!.scope).toEqual({ namespace: 'istio-system', selector: {} });
    const config = t!.config as unknown as ScopedRbac;
    expect(config.rootNamespace).toBe('istio-system');
    expect(config.policies.map((p) => [p.metadata.namespace, p.metadata.name, p.spec.selector])).toEqual([
      ['istio-system', 'deny-bad-range', undefined],
      ['foo', 'httpbin', { matchLabels: { app: 'httpbin' } }],
      ['foo', 'deny-method-get', { matchLabels: { app: 'httpbin' } }],
      ['foo', 'audit-writes', undefined],
      ['foo', 'try-deny-status', undefined],
    ]);
    expect(notes.join('\n')).toContain('rbac: 5 resources read; 5 apply to istio-system/* as one workload-scoped object for the overlapping scopes foo/*, foo/app=httpbin, istio-system/*, each policy deciding only where istiod applies it (AuthorizationPolicy istio-system/deny-bad-range → every namespace/*, AuthorizationPolicy foo/httpbin → foo/app=httpbin');
    expect(notes.join('\n')).toContain('skipped WasmPlugin');
  });

  it('translate: RequestAuthentication mesh-wide + workload-specific → one root jwt-auth config, proven per covered workload', async () => {
    const notes: string[] = [];
    const [t, ...rest] = await translatePolicyFile(scopeFixture('request-authentication-mesh-and-app.yaml'), { output: 'json' }, (line) => notes.push(line));
    expect(rest).toEqual([]);
    expect(t).toMatchObject({ filter: 'jwt-auth', scope: { namespace: 'istio-system', selector: {} }, config: { root_namespace: 'istio-system' } });
    expect(notes.join('\n')).toContain('jwt-auth: 2 resources read; 2 apply to istio-system/* as one workload-scoped object for the overlapping scopes bookinfo/app=productpage, istio-system/*');
  });

  it('render --istio (namespace-wide DENY + selector ALLOW, -n bookinfo): one WasmPlugin for the namespace, policies keeping their selectors', async () => {
    const { stdout, stderr } = await cli('render', builtFilter('rbac'), '--image', image, '--istio', scopeFixture('namespace-wide-and-workload.yaml'), '-n', 'bookinfo', '--via', 'wasmplugin', '-o', 'json');
    const m = JSON.parse(stdout) as Rendered;
    expect(m.metadata).toMatchObject({ name: 'wasmesh-rbac', namespace: 'bookinfo' });
    expect(m.spec['selector']).toBeUndefined();
    const config = m.spec['pluginConfig'] as ScopedRbac;
    expect(config.rootNamespace).toBe('istio-system');
    expect(config.policies.map((p) => [p.metadata.name, p.spec.selector])).toEqual([['deny-admin', undefined], ['productpage-viewer', { matchLabels: { app: 'productpage' } }]]);
    expect(stderr).toContain('2 apply to bookinfo/* as one workload-scoped object for the overlapping scopes bookinfo/*, bookinfo/app=productpage');
  });

  it('push --istio (mesh-wide DENY + app ALLOW, no -n) --dry-run=client: one EnvoyFilter in istio-system, validated for each covered workload', async () => {
    const { stdout, stderr } = await cli('push', builtFilter('rbac'), '--image', image, '--istio', scopeFixture('root-and-workload.yaml'), '--dry-run=client', '-o', 'json');
    const m = JSON.parse(stdout) as Rendered;
    expect(m).toMatchObject({ kind: 'EnvoyFilter', metadata: { namespace: 'istio-system', name: 'wasmesh-rbac' } });
    expect(m.spec['workloadSelector']).toBeUndefined();
    expect(stderr).toMatch(/✓ validate .*EnvoyFilter istio-system\/wasmesh-rbac \(istio-system\/\*\) configured by the module for 3 workloads: istio-system\/\*, bookinfo\/app=productpage, istio-system\/app=ratings/);
  });

  it('push --config with a workload-scoped config: a policy only one workload compiles is still proven, and refused naming that workload', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wasmesh-scoped-'));
    const file = path.join(dir, 'scoped.json');
    writeFileSync(file, JSON.stringify({
      rootNamespace: 'istio-system',
      policies: [
        { metadata: { name: 'ok', namespace: 'shop' }, spec: { action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin/*'] } }] }] } },
        { metadata: { name: 'bad-cidr', namespace: 'shop' }, spec: { selector: { matchLabels: { app: 'cart' } }, action: 'DENY', rules: [{ from: [{ source: { ipBlocks: ['10.0.0.0/33'] } }] }] } },
      ],
    }));
    await expect(cli('push', builtFilter('rbac'), '--image', image, '--config', file, '-n', 'shop', '--dry-run=client'))
      .rejects.toThrow(/push failed at validate: EnvoyFilter shop\/wasmesh-rbac on a workload shop\/app=cart: refused by the filter itself .*policy "shop\/bad-cidr"/);
    // -n/-l naming a workload the bad policy does not apply to: proven for that workload alone.
    const { stderr } = await cli('push', builtFilter('rbac'), '--image', image, '--config', file, '-n', 'shop', '-l', 'app=orders', '--dry-run=client');
    expect(stderr).toContain('configured by the module for shop/app=orders');
  });
});
