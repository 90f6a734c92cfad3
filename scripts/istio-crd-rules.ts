/**
 * What Istio's CRDs check beyond the fields and types that @kubernetes-models/istio's compiled
 * validators cover: CEL `x-kubernetes-validations` (which the kubernetes-models generator drops,
 * and which no maintained npm package ships), `x-kubernetes-preserve-unknown-fields` and
 * `x-kubernetes-list-type: map` keys — read from a CRD file, per kind, version and field path.
 * `npm run gen:istio` writes them to deployer/src/istio/crd-rules.gen.ts from the shared testdata
 * CRDs; test/istio/packaged-strict.test.ts fails when that table drifts from the CRDs.
 */
import { loadIstioCrds } from '../deployer/src/istio/crds.js';
import type { CrdRuleSet } from '../deployer/src/istio/crd-rules.js';

type Schema = { readonly [key: string]: unknown };
interface Found { path: string; rules?: { rule: string; message?: string }[]; preserveUnknownFields?: true; listMapKeys?: string[] }

function walk(node: Schema, path: string, out: Found[]): void {
  const found: Found = { path };
  const validations = node['x-kubernetes-validations'] as { rule: string; message?: string }[] | undefined;
  if (validations?.length) found.rules = validations.map(({ rule, message }) => (message === undefined ? { rule } : { rule, message }));
  if (node['x-kubernetes-preserve-unknown-fields'] === true) found.preserveUnknownFields = true;
  if (node['x-kubernetes-list-type'] === 'map') found.listMapKeys = [...(node['x-kubernetes-list-map-keys'] as string[])];
  if (Object.keys(found).length > 1) out.push(found);
  for (const [name, child] of Object.entries((node.properties ?? {}) as Record<string, Schema>)) walk(child, path ? `${path}.${name}` : name, out);
  if (typeof node.items === 'object' && node.items !== null) walk(node.items as Schema, `${path}[]`, out);
  if (typeof node.additionalProperties === 'object' && node.additionalProperties !== null) walk(node.additionalProperties as Schema, `${path}{}`, out);
}

/** Every rule set of every served version in a CRD file; identical sets of one kind share one entry listing its versions. */
export function crdRulesFromCrds(file: string): CrdRuleSet[] {
  const byKey = new Map<string, CrdRuleSet & { versions: string[] }>();
  for (const crd of loadIstioCrds(file)) {
    if (!crd.served) continue;
    const found: Found[] = [];
    walk((crd.openAPIV3Schema ?? {}) as Schema, '', found);
    for (const { path, ...checks } of found) {
      const key = JSON.stringify([crd.group, crd.kind, path, checks]);
      const entry = byKey.get(key);
      if (entry) entry.versions.push(crd.version);
      else byKey.set(key, { group: crd.group, kind: crd.kind, versions: [crd.version], path, ...checks });
    }
  }
  return [...byKey.values()].map((entry) => ({ ...entry, versions: [...entry.versions].sort() }));
}
