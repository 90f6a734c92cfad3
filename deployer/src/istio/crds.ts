import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

/**
 * Istio's CustomResourceDefinitions (the `customresourcedefinitions.gen.yaml` istio/istio ships
 * in manifests/charts/base). Location: DEPLOYER_ISTIO_CRDS, else `../shared/testdata/istio/…`
 * next to the repository root (the shared test data checkout).
 */
export interface CrdVersionSchema {
  readonly group: string;
  readonly kind: string;
  readonly plural: string;
  readonly version: string;
  readonly served: boolean;
  readonly namespaced: boolean;
  readonly openAPIV3Schema: Readonly<Record<string, unknown>>;
}

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export function istioCrdsPath(): string {
  const fromEnv = process.env.DEPLOYER_ISTIO_CRDS;
  if (fromEnv) return path.resolve(fromEnv);
  return path.resolve(REPO_ROOT, '..', 'shared', 'testdata', 'istio', 'customresourcedefinitions.gen.yaml');
}

const cache = new Map<string, readonly CrdVersionSchema[]>();

interface CrdDocument {
  readonly kind?: string;
  readonly spec?: {
    readonly group?: string;
    readonly scope?: string;
    readonly names?: { readonly kind?: string; readonly plural?: string };
    readonly versions?: readonly { readonly name?: string; readonly served?: boolean; readonly schema?: { readonly openAPIV3Schema?: Record<string, unknown> } }[];
  };
}

export function loadIstioCrds(file = istioCrdsPath()): readonly CrdVersionSchema[] {
  const hit = cache.get(file);
  if (hit) return hit;
  if (!existsSync(file)) {
    throw new Error(`Istio CRDs not found at ${file}: expected customresourcedefinitions.gen.yaml (set DEPLOYER_ISTIO_CRDS to its path)`);
  }
  const schemas: CrdVersionSchema[] = [];
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    if (doc.errors.length > 0) throw new Error(`${file}: YAML error: ${doc.errors[0]!.message}`);
    const crd = doc.toJS() as CrdDocument | null;
    if (!crd || crd.kind !== 'CustomResourceDefinition' || !crd.spec) continue;
    const { group, names, versions, scope } = crd.spec;
    if (!group || !names?.kind || !names.plural || !versions) continue;
    for (const version of versions) {
      const schema = version.schema?.openAPIV3Schema;
      if (!version.name || !schema) continue;
      schemas.push({ group, kind: names.kind, plural: names.plural, version: version.name, served: version.served !== false, namespaced: scope !== 'Cluster', openAPIV3Schema: schema });
    }
  }
  if (schemas.length === 0) throw new Error(`${file}: no CustomResourceDefinition with an openAPIV3Schema found`);
  cache.set(file, schemas);
  return schemas;
}

export function findCrdSchema(apiVersion: string, kind: string, file?: string): CrdVersionSchema {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) as [string, string] : ['', apiVersion];
  const all = loadIstioCrds(file);
  const match = all.find((s) => s.group === group && s.version === version && s.kind === kind);
  if (match) return match;
  const sameKind = all.filter((s) => s.kind === kind).map((s) => `${s.group}/${s.version}`);
  throw new Error(sameKind.length > 0
    ? `${kind} ${apiVersion}: no such version in the Istio CRDs; expected apiVersion one of ${sameKind.join(', ')}`
    : `kind "${kind}" (${apiVersion}) is not an Istio resource: expected one of ${[...new Set(all.map((s) => s.kind))].join(', ')}`);
}
