import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { crdRulesFor } from '../../deployer/src/istio/crd-rules.js';
import { packagedIstioKinds } from '../../deployer/src/istio/crds-package.js';
import { IstioValidationError, istioResourceProblems, validateIstioResource } from '../../deployer/src/istio/validate.js';
import { crdRulesFile, packagedFieldsFile, renderCrdRules, renderPackagedFields } from '../../scripts/istio-tables.js';
import { repoRoot, sharedTestdata } from '../setup/paths.js';

/**
 * The schemas shipped with the deployer (@kubernetes-models/istio, DEPLOYER_ISTIO_CRDS unset)
 * refuse what Istio's CRDs refuse: unknown fields at any depth, CEL x-kubernetes-validations and
 * list-map keys, while keeping x-kubernetes-preserve-unknown-fields open; and they agree with the
 * CRD source (the shared testdata CRDs) on every Istio resource among the test fixtures.
 */
const sharedCrdFile = path.join(sharedTestdata, 'istio', 'customresourcedefinitions.gen.yaml');
const meta = { name: 'p', namespace: 'shop' };
const authz = (spec: Record<string, unknown>) => ({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: meta, spec });
const wasmPlugin = (spec: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ apiVersion: 'extensions.istio.io/v1alpha1', kind: 'WasmPlugin', metadata: meta, spec: { url: 'oci://registry.local/rbac:1', ...spec }, ...extra });
const requestAuthn = (spec: Record<string, unknown>) => ({ apiVersion: 'security.istio.io/v1', kind: 'RequestAuthentication', metadata: meta, spec });
const virtualService = (spec: Record<string, unknown>) => ({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: meta, spec: { hosts: ['reviews'], ...spec } });
const envoyFilter = (spec: Record<string, unknown>) => ({ apiVersion: 'networking.istio.io/v1alpha3', kind: 'EnvoyFilter', metadata: meta, spec });

function withSource<T>(crds: string | undefined, run: () => T): T {
  const saved = process.env.DEPLOYER_ISTIO_CRDS;
  if (crds === undefined) delete process.env.DEPLOYER_ISTIO_CRDS;
  else process.env.DEPLOYER_ISTIO_CRDS = crds;
  try {
    return run();
  } finally {
    if (saved === undefined) delete process.env.DEPLOYER_ISTIO_CRDS;
    else process.env.DEPLOYER_ISTIO_CRDS = saved;
  }
}

/** Both sources' problems as comparable lines, without the words that name the source (the release, the file). */
const lines = (resource: unknown, crds: string | undefined) => withSource(crds, () => istioResourceProblems(resource))
  .map((p) => `${p.path}: ${p.message.replace(/ \(Istio [^)]*'s schemas, shipped with the deployer in [^)]*\)$/, '').replace(/no such version in .*?; /, 'no such version in <source>; ')}`).sort();

function refusal(resource: unknown): IstioValidationError {
  try {
    validateIstioResource(resource);
  } catch (error) {
    if (error instanceof IstioValidationError) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('istio: packaged schemas are as strict as the CRDs (DEPLOYER_ISTIO_CRDS unset)', () => {
  let saved: string | undefined;
  beforeEach(() => { saved = process.env.DEPLOYER_ISTIO_CRDS; delete process.env.DEPLOYER_ISTIO_CRDS; });
  afterEach(() => { if (saved !== undefined) process.env.DEPLOYER_ISTIO_CRDS = saved; });

  it.each([
    ['at the root', wasmPlugin({}, { sepc: {} }), 'sepc', /unknown field; did you mean "spec"\?/],
    ['in spec', authz({ rulez: [] }), 'spec.rulez', /unknown field; did you mean "rules"\?/],
    ['in a list item, three levels down', authz({ rules: [{ to: [{ operation: { pathz: ['/admin'] } }] }] }), 'spec.rules[0].to[0].operation.pathz', /did you mean "paths"/],
    ['in a JWT rule', requestAuthn({ jwtRules: [{ issuer: 'https://i', jwksUri: 'https://i/jwks', jwks_url: 'x' }] }), 'spec.jwtRules[0].jwks_url', /unknown field/],
    ['under a route destination', virtualService({ http: [{ route: [{ destination: { host: 'reviews', subsett: 'v2' } }] }] }), 'spec.http[0].route[0].destination.subsett', /did you mean "subset"/],
    ['with no close name, naming the schemas used', wasmPlugin({ vmConfig: { zzz: 1 } }), 'spec.vmConfig.zzz', /unknown field: expected only fields declared by the CRD schema \(Istio [0-9.]+'s schemas, shipped with the deployer in @kubernetes-models\/istio@[0-9.]+; for another Istio release set DEPLOYER_ISTIO_CRDS to its CRDs\)/],
  ])('an unknown field %s is refused naming its path', (_where, resource, field, message) => {
    const problem = refusal(resource).problems.find((p) => p.path === field);
    expect(problem?.message).toMatch(message);
  });

  it.each([
    ['AuthorizationPolicy selector and targetRef together', authz({ selector: { matchLabels: { app: 'a' } }, targetRef: { kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'gw' } }), 'spec', 'only one of targetRefs or selector can be set'],
    ['AuthorizationPolicy serviceAccounts with namespaces', authz({ rules: [{ from: [{ source: { serviceAccounts: ['shop/a'], namespaces: ['shop'] } }] }] }), 'spec.rules[0].from[0].source', 'Cannot set serviceAccounts with namespaces or principals'],
    ['a wildcard selector value', authz({ selector: { matchLabels: { app: 'web-*' } } }), 'spec.selector.matchLabels.app', 'wildcard not allowed in label value match'],
    ['a cross-namespace targetRef', authz({ targetRefs: [{ kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'gw', namespace: 'other' }] }), 'spec.targetRefs[0].namespace', 'cross namespace referencing is not currently supported'],
    ['WasmPlugin url with an ftp scheme', wasmPlugin({ url: 'ftp://host/x.wasm' }), 'spec.url', 'url must have schema one of [http, https, file, oci]'],
    ['WasmPlugin env value with valueFrom HOST', wasmPlugin({ vmConfig: { env: [{ name: 'POD', valueFrom: 'HOST', value: 'x' }] } }), 'spec.vmConfig.env[0]', 'value may only be set when valueFrom is INLINE'],
    ['RequestAuthentication jwks and jwksUri together', requestAuthn({ jwtRules: [{ issuer: 'https://i', jwksUri: 'https://i/jwks', jwks: '{"keys":[]}' }] }), 'spec.jwtRules[0]', 'only one of jwks or jwksUri can be set'],
    ['RequestAuthentication jwksUri not http(s)', requestAuthn({ jwtRules: [{ issuer: 'https://i', jwksUri: 'ftp://i/jwks' }] }), 'spec.jwtRules[0].jwksUri', 'url must have scheme http:// or https://'],
    ['VirtualService timeout under 1ms', virtualService({ http: [{ timeout: '0s', route: [{ destination: { host: 'reviews' } }] }] }), 'spec.http[0].timeout', 'must be a valid duration greater than 1ms'],
  ])('a CEL rule is enforced: %s', (_name, resource, field, message) => {
    const problem = refusal(resource).problems.find((p) => p.path === field);
    expect(problem?.message).toContain(message);
    expect(problem?.message).toContain('(CEL: ');
  });

  it('x-kubernetes-list-type map keys are enforced: WasmPlugin env names repeated', () => {
    const problem = refusal(wasmPlugin({ vmConfig: { env: [{ name: 'A', value: '1' }, { name: 'A', value: '2' }] } })).problems.find((p) => p.path === 'spec.vmConfig.env');
    expect(problem?.message).toBe('duplicate entry for list-map keys name = ["A"]');
  });

  it.each([
    ['WasmPlugin pluginConfig', wasmPlugin({ pluginConfig: { anything: { nested: [{ goes: true }] } } })],
    ['EnvoyFilter patch.value', envoyFilter({ configPatches: [{ applyTo: 'HTTP_FILTER', patch: { operation: 'INSERT_BEFORE', value: { name: 'x', typed_config: { '@type': 'type.googleapis.com/x', whatever: 1 } } } }] })],
    ['status (written by Istio)', wasmPlugin({}, { status: { somethingNew: 1, conditions: [{ type: 'Ready', newField: 'x' }] } })],
  ])('x-kubernetes-preserve-unknown-fields stays open: %s', (_name, resource) => {
    expect(istioResourceProblems(resource)).toEqual([]);
  });

  it('every problem of a resource is listed, one per line', () => {
    const error = refusal(authz({ rulez: [], action: 'PERMIT', selector: { matchLabels: { app: 'a*' } } }));
    expect(error.problems.map((p) => p.path).sort()).toEqual(['spec.action', 'spec.rulez', 'spec.selector.matchLabels.app']);
    expect(error.message.split('\n')).toHaveLength(4);
    expect(error.message.split('\n')[0]).toBe('AuthorizationPolicy "p" is invalid (3 problems):');
  });
});

describe('istio: the generated tables are current', () => {
  it(`${packagedFieldsFile} matches the installed @kubernetes-models/istio (npm run gen:istio)`, () => {
    expect(readFileSync(path.join(repoRoot, packagedFieldsFile), 'utf8')).toBe(renderPackagedFields());
  });

  it('every packaged kind has its CRD rules in the table but IstioOperator (the package takes it from the Istio 1.18 operator CRD, absent from the shared CRDs)', () => {
    const without = packagedIstioKinds().filter((k) => crdRulesFor(k.group, k.version, k.kind).length === 0).map((k) => `${k.group}/${k.version}/${k.kind}`);
    expect(without).toEqual(['install.istio.io/v1alpha1/IstioOperator']);
  });

  it(`${crdRulesFile} holds exactly the CEL rules, preserve-unknown-fields and list-map keys of the shared CRDs (npm run gen:istio)`, () => {
    expect(readFileSync(path.join(repoRoot, crdRulesFile), 'utf8')).toBe(renderCrdRules(sharedCrdFile));
  });
});

/** Every Istio resource among the test fixtures (YAML documents of a group the package has). */
function fixtureResources(): [string, unknown][] {
  const groups = new Set(packagedIstioKinds().map((k) => k.group));
  const found: [string, unknown][] = [];
  const visit = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const file = path.join(dir, name);
      if (statSync(file).isDirectory()) { visit(file); continue; }
      if (!/\.ya?ml$/.test(name)) continue;
      parseAllDocuments(readFileSync(file, 'utf8')).forEach((doc, i) => {
        if (doc.errors.length > 0) return;
        const value = doc.toJS() as { apiVersion?: unknown } | null;
        if (typeof value?.apiVersion === 'string' && groups.has(value.apiVersion.split('/')[0]!)) found.push([`${path.relative(repoRoot, file)}#${i + 1}`, value]);
      });
    }
  };
  visit(path.join(repoRoot, 'test', 'fixtures'));
  return found;
}

const goodAndBad: [string, unknown][] = [
  ['good AuthorizationPolicy', authz({ action: 'DENY', selector: { matchLabels: { app: 'a' } }, rules: [{ to: [{ operation: { paths: ['/admin'] } }] }] })],
  ['good WasmPlugin with targetRefs', wasmPlugin({ failStrategy: 'FAIL_RELOAD', targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'edge' }], pluginConfig: { a: 1 } })],
  ['good RequestAuthentication', requestAuthn({ jwtRules: [{ issuer: 'https://i', jwksUri: 'https://i/jwks', outputClaimToHeaders: [{ header: 'x-sub', claim: 'sub' }] }] })],
  ['bad AuthorizationPolicy: unknown fields, enum, CEL', authz({ rulez: [], action: 'PERMIT', selector: { matchLabels: { app: 'a*' } }, targetRef: { kind: 'Gateway', name: 'gw' } })],
  ['bad WasmPlugin: url, env, unknown', wasmPlugin({ url: 'ftp://x', vmConfig: { env: [{ name: 'A', valueFrom: 'HOST', value: 'x' }, { name: 'A' }], zzz: 1 } }, { sepc: 1 })],
  ['bad VirtualService: timeout, unknown', virtualService({ http: [{ timeout: '0s', route: [{ destination: { host: 'r', subsett: 'v1' } }] }] })],
  ['bad EnvoyFilter: selector and targetRefs', envoyFilter({ workloadSelector: { labels: { app: 'a' } }, targetRefs: [{ kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'g' }], configPatches: [] })],
];

describe('istio: the packaged schemas and the CRDs agree', () => {
  const fixtures = fixtureResources();
  it('finds the Istio fixtures of the istio tests', () => {
    expect(fixtures.length).toBeGreaterThan(20);
    expect(fixtures.some(([where]) => where.startsWith('test/fixtures/render/invalid/'))).toBe(true);
  });

  it.each([...goodAndBad, ...fixtures])('%s: same problems from both sources', (_where, resource) => {
    expect(lines(resource, undefined)).toEqual(lines(resource, sharedCrdFile));
  });
});
