import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findCrdSchema, istioCrdsPath, loadIstioCrds, type CrdVersionSchema } from '../../deployer/src/istio/crds.js';
import { istioModelsPackage, packagedIstioKinds } from '../../deployer/src/istio/crds-package.js';
import { IstioValidationError, validateIstioResource } from '../../deployer/src/istio/validate.js';
import { renderFilter } from '../../deployer/src/render/index.js';
import { SUITE } from '../../deployer/src/suite.js';
import { renderInput } from '../render/support.js';
import { sharedTestdata } from '../setup/paths.js';

/**
 * The deployer's default Istio schemas come from @kubernetes-models/istio (crds-package.ts); the
 * shared testdata CRDs are the cross-check: for every kind wasmesh reads or renders, the package
 * must know every served version, every field and every enum value the CRDs declare.
 */
const sharedCrdFile = path.join(sharedTestdata, 'istio', 'customresourcedefinitions.gen.yaml');
const KINDS_WE_USE = ['WasmPlugin', 'EnvoyFilter', 'RequestAuthentication', 'AuthorizationPolicy', 'VirtualService', 'DestinationRule', 'Telemetry'] as const;

/**
 * What the shared CRDs (a newer Istio) declare and the package's Istio release does not yet.
 * Without DEPLOYER_ISTIO_CRDS these fields are refused as unknown (the message names the release
 * and DEPLOYER_ISTIO_CRDS); a new difference fails the test, and an entry the package catches up
 * with must be removed.
 */
const NEWER_THAN_PACKAGE: readonly string[] = [
  'AuthorizationPolicy.spec.rules[].from[].source.notTrustDomains',
  'AuthorizationPolicy.spec.rules[].from[].source.trustDomains',
  ...['spec.trafficPolicy', 'spec.subsets[].trafficPolicy'].flatMap((policy) => [
    ...['', '.portLevelSettings[]'].flatMap((level) => [
      `${policy}${level}.connectionPool.http.http2KeepAlive`,
      `${policy}${level}.connectionPool.http.http2KeepAlive.timeout`,
      `${policy}${level}.loadBalancer.zoneAwareLbSetting`,
      `${policy}${level}.loadBalancer.zoneAwareLbSetting.minClusterSize`,
      `${policy}${level}.outlierDetection.outlierDetectionHttpErrorCodes`,
    ]),
    `${policy}.retryBudget.budgetInterval`,
  ].map((field) => `DestinationRule.${field}`)),
  'EnvoyFilter.spec.configPatches[].patch.operation=MERGE_AND_REPLACE_LIST',
  'VirtualService.spec.http[].redirect.prefixRewrite',
  'Telemetry.spec.tracing[].disableContextPropagation',
];

type Schema = { [key: string]: unknown };

/** Every property name and every enum value list in a structural schema, with where it was seen. */
function walk(node: Schema, at: string, out: { fields: Map<string, string>; enums: Map<string, readonly string[]> }): void {
  if (Array.isArray(node.enum)) out.enums.set(at, node.enum.filter((v): v is string => typeof v === 'string'));
  for (const [name, child] of Object.entries((node.properties ?? {}) as Record<string, Schema>)) {
    out.fields.set(`${at}.${name}`, name);
    walk(child, `${at}.${name}`, out);
  }
  for (const key of ['items', 'additionalProperties'] as const) {
    if (typeof node[key] === 'object' && node[key] !== null) walk(node[key] as Schema, `${at}[]`, out);
  }
}

function withPackageSource<T>(run: () => T): T {
  const saved = process.env.DEPLOYER_ISTIO_CRDS;
  delete process.env.DEPLOYER_ISTIO_CRDS;
  try {
    return run();
  } finally {
    if (saved !== undefined) process.env.DEPLOYER_ISTIO_CRDS = saved;
  }
}

describe('istio schemas shipped with the deployer (@kubernetes-models/istio)', () => {
  let saved: string | undefined;
  beforeEach(() => { saved = process.env.DEPLOYER_ISTIO_CRDS; delete process.env.DEPLOYER_ISTIO_CRDS; });
  afterEach(() => { if (saved !== undefined) process.env.DEPLOYER_ISTIO_CRDS = saved; });

  const crdVersions: readonly CrdVersionSchema[] = loadIstioCrds(sharedCrdFile).filter((c) => (KINDS_WE_USE as readonly string[]).includes(c.kind) && c.served);

  it('istio: without DEPLOYER_ISTIO_CRDS the schemas come from the package, no file outside it', () => {
    expect(istioCrdsPath()).toBe(`package:@kubernetes-models/istio@${istioModelsPackage().version}`);
    expect(findCrdSchema('extensions.istio.io/v1alpha1', 'WasmPlugin').compiledValidate).toBeTypeOf('function');
  });

  it.each(crdVersions.map((c) => [`${c.group}/${c.version}`, c.kind, c] as const))('istio: package knows %s %s with every field and enum value of the shared CRD (but the listed newer ones)', (_apiVersion, kind, crd) => {
    const entry = packagedIstioKinds().find((k) => k.group === crd.group && k.version === crd.version && k.kind === kind);
    expect(entry, `${kind} ${crd.group}/${crd.version} in the package`).toBeDefined();
    const seen = { fields: new Map<string, string>(), enums: new Map<string, readonly string[]>() };
    walk(crd.openAPIV3Schema as Schema, kind, seen);
    // Field names: the package's typings declare each one as `"name"?:` or `"name":`.
    const typings = readFileSync(entry!.file.replace(/\.js$/, '.d.ts'), 'utf8');
    const missingFields = [...seen.fields].filter(([, name]) => !typings.includes(`"${name}"`)).map(([at]) => at);
    const newer = NEWER_THAN_PACKAGE.filter((at) => at.startsWith(`${kind}.`));
    expect(missingFields.sort()).toEqual(newer.filter((at) => !at.includes('=') && seen.fields.has(at)).sort());
    // Enum values: the compiled validator compares against each as a string literal.
    const validatorSource = readFileSync(path.join(istioModelsPackage().dir, '_schemas', `${crd.group.split('.').map((p) => p[0]!.toUpperCase() + p.slice(1)).join('')}${crd.version[0]!.toUpperCase()}${crd.version.slice(1)}${kind}.js`), 'utf8');
    const missingValues = [...seen.enums].flatMap(([at, values]) => values.filter((v) => !validatorSource.includes(JSON.stringify(v))).map((v) => `${at}=${v}`));
    expect(missingValues).toEqual(newer.filter((at) => at.includes('=')));
  });

  it('istio: a WasmPlugin with failStrategy FAIL_RELOAD and targetRefs validates', () => {
    expect(() => validateIstioResource({
      apiVersion: 'extensions.istio.io/v1alpha1', kind: 'WasmPlugin', metadata: { name: 'jwt-auth', namespace: 'shop' },
      spec: { url: 'oci://registry.local/wasmesh/jwt-auth@sha256:' + 'a'.repeat(64), failStrategy: 'FAIL_RELOAD', targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'edge' }] },
    })).not.toThrow();
  });

  it.each([
    ['spec.failStrategy', { failStrategy: 'FAIL_LATER', url: 'oci://r/x' }, /expected one of "FAIL_CLOSE", "FAIL_OPEN", "FAIL_RELOAD", got "FAIL_LATER"/],
    ['spec.phase', { phase: 'FIRST', url: 'oci://r/x' }, /got "FIRST"/],
    ['spec.priority', { priority: 'high', url: 'oci://r/x' }, /expected integer, got "high"/],
  ])('istio: a WasmPlugin with a bad %s is refused naming the field and the value', (field, spec, message) => {
    let error: unknown;
    try {
      validateIstioResource({ apiVersion: 'extensions.istio.io/v1alpha1', kind: 'WasmPlugin', metadata: { name: 'p', namespace: 'shop' }, spec });
    } catch (e) { error = e; }
    expect(error).toBeInstanceOf(IstioValidationError);
    const problem = (error as IstioValidationError).problems.find((p) => p.path === field);
    expect(problem?.message).toMatch(message);
  });

  it('istio: a kind the package lacks is named with the kinds it has', () => {
    expect(() => findCrdSchema('extensions.istio.io/v1alpha1', 'WasmPlugins')).toThrow(/kind "WasmPlugins" .*is not an Istio resource: expected one of .*WasmPlugin/);
    expect(() => findCrdSchema('extensions.istio.io/v9', 'WasmPlugin')).toThrow(/no such version .*expected apiVersion one of extensions\.istio\.io\/v1alpha1/);
  });

  const everything = (['envoyfilter', 'wasmplugin'] as const).flatMap((via) => [...SUITE.map((s) => s.filter), 'example'].map((filter) => [via, filter] as const));
  it.each(everything)('istio: rendered %s for %s validates against the packaged schemas', (via, filter) => {
    withPackageSource(() => {
      for (const m of renderFilter(renderInput(filter, { via, context: 'inbound', failStrategy: via === 'wasmplugin' ? 'reload' : 'open', imagePullPolicy: 'Always', selector: {} }))) {
        expect(() => validateIstioResource(m)).not.toThrow();
      }
    });
  });
});
