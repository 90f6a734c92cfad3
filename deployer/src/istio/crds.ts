import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { istioModelsPackage, packagedIstioSchema, packagedIstioKinds } from './crds-package.js';

/**
 * Istio's resource schemas, from one of two sources:
 * - DEPLOYER_ISTIO_CRDS: a CustomResourceDefinition YAML file (istio/istio's
 *   manifests/charts/base/files/crd-all.gen.yaml, or `kubectl get crd -o yaml` from the cluster you
 *   deploy to). The whole structural schema: unknown fields and CEL `x-kubernetes-validations` too.
 * - otherwise the schemas shipped with the npm dependency @kubernetes-models/istio (generated from
 *   Istio's CRDs by the kubernetes-models project; see crds-package.ts), so an installed deployer
 *   needs no file outside its package, made as strict as the CRDs by packaged-strict.ts (unknown
 *   fields, CEL rules, list-map keys). test/istio/crds-package.test.ts and packaged-strict.test.ts
 *   cross-check it against the shared testdata CRDs.
 */
export interface CrdVersionSchema {
  readonly group: string;
  readonly kind: string;
  readonly plural: string;
  readonly version: string;
  readonly served: boolean;
  readonly namespaced: boolean;
  /** The CRD's structural schema (CRD-file source). */
  readonly openAPIV3Schema?: Readonly<Record<string, unknown>>;
  /**
   * A compiled validator (package source): an ajv standalone function, `validate(resource)` →
   * boolean with `validate.errors`; each error carries the offending value as `data`.
   */
  readonly compiledValidate?: CompiledValidate;
}

export interface CompiledValidateError {
  readonly instancePath: string;
  readonly schemaPath: string;
  readonly keyword: string;
  readonly params: Record<string, unknown>;
  readonly message?: string;
  readonly data?: unknown;
}

export interface CompiledValidate {
  (resource: unknown): boolean;
  errors?: CompiledValidateError[] | null;
}

/** Where the schemas come from: the CRD file's path, or `package:@kubernetes-models/istio@<version>`. */
export function istioCrdsPath(): string {
  const fromEnv = process.env.DEPLOYER_ISTIO_CRDS;
  if (fromEnv) return path.resolve(fromEnv);
  return `package:${istioModelsPackage().name}@${istioModelsPackage().version}`;
}

const isPackageSource = (source: string): boolean => source.startsWith('package:');

/** The CRD file itself is missing or unreadable: a setup problem, not an invalid resource. */
export class IstioCrdsUnavailableError extends Error {
  override name = 'IstioCrdsUnavailableError';
}

interface CrdDocument {
  readonly spec?: {
    readonly scope?: string;
    readonly names?: { readonly kind?: string; readonly plural?: string };
    readonly versions?: readonly { readonly name?: string; readonly served?: boolean; readonly schema?: { readonly openAPIV3Schema?: Record<string, unknown> } }[];
  };
}

/** One CRD document of the file, indexed by group/kind from its text and parsed only when asked for. */
interface CrdChunk {
  readonly group: string;
  readonly kind: string;
  readonly text: string;
  parsed?: readonly CrdVersionSchema[];
}

const chunkCache = new Map<string, readonly CrdChunk[]>();

/**
 * The file is ~19k lines and parsing all of it takes seconds, so documents are split on `---`
 * and indexed by their `spec.group` / `spec.names.kind` lines; a document is parsed on first use.
 */
function crdChunks(file: string): readonly CrdChunk[] {
  const hit = chunkCache.get(file);
  if (hit) return hit;
  if (!existsSync(file)) {
    throw new IstioCrdsUnavailableError(`Istio CRDs not found at ${file}: expected a CustomResourceDefinition YAML file such as Istio's crd-all.gen.yaml (DEPLOYER_ISTIO_CRDS names it; unset it to use the schemas shipped with the deployer)`);
  }
  const chunks: CrdChunk[] = [];
  for (const text of readFileSync(file, 'utf8').split(/^---[ \t]*$/m)) {
    if (!/^kind: CustomResourceDefinition[ \t]*$/m.test(text)) continue;
    const group = /^ {2}group: (\S+)[ \t]*$/m.exec(text)?.[1];
    const kind = /^ {4}kind: (\S+)[ \t]*$/m.exec(text)?.[1];
    if (group && kind) chunks.push({ group, kind, text });
  }
  if (chunks.length === 0) throw new IstioCrdsUnavailableError(`${file}: no CustomResourceDefinition found: expected Istio's customresourcedefinitions.gen.yaml`);
  chunkCache.set(file, chunks);
  return chunks;
}

function parseChunk(file: string, chunk: CrdChunk): readonly CrdVersionSchema[] {
  if (chunk.parsed) return chunk.parsed;
  const doc = parseAllDocuments(chunk.text)[0];
  if (!doc || doc.errors.length > 0) throw new Error(`${file}: CRD ${chunk.kind}.${chunk.group}: YAML error: ${doc?.errors[0]?.message ?? 'empty document'}`);
  const crd = doc.toJS() as CrdDocument | null;
  const schemas: CrdVersionSchema[] = [];
  const { names, versions, scope } = crd?.spec ?? {};
  for (const version of versions ?? []) {
    const schema = version.schema?.openAPIV3Schema;
    if (!version.name || !schema || !names?.kind || !names.plural) continue;
    schemas.push({ group: chunk.group, kind: names.kind, plural: names.plural, version: version.name, served: version.served !== false, namespaced: scope !== 'Cluster', openAPIV3Schema: schema });
  }
  chunk.parsed = schemas;
  return schemas;
}

/** Every CRD version schema in a CRD file (parses the whole file: slow, for tools and tests). */
export function loadIstioCrds(file: string): readonly CrdVersionSchema[] {
  return crdChunks(file).flatMap((chunk) => parseChunk(file, chunk));
}

export function findCrdSchema(apiVersion: string, kind: string, source = istioCrdsPath()): CrdVersionSchema {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) as [string, string] : ['', apiVersion];
  if (isPackageSource(source)) {
    const match = packagedIstioSchema(group, version, kind);
    if (match) return match;
    return notFound(apiVersion, kind, packagedIstioKinds(), `the schemas of ${source.slice('package:'.length)}`);
  }
  const chunks = crdChunks(source);
  const candidates = chunks.filter((c) => c.kind === kind).flatMap((c) => parseChunk(source, c));
  const match = candidates.find((s) => s.group === group && s.version === version);
  if (match) return match;
  return notFound(apiVersion, kind, candidates.length > 0 ? candidates : chunks.map((c) => ({ group: c.group, kind: c.kind, version: '' })), source);
}

function notFound(apiVersion: string, kind: string, known: readonly { group: string; kind: string; version: string }[], where: string): never {
  const sameKind = known.filter((k) => k.kind === kind && k.version !== '');
  throw new Error(sameKind.length > 0
    ? `${kind} ${apiVersion}: no such version in ${where}; expected apiVersion one of ${sameKind.map((s) => `${s.group}/${s.version}`).join(', ')}`
    : `kind "${kind}" (${apiVersion}) is not an Istio resource: expected one of ${[...new Set(known.map((c) => c.kind))].join(', ')}`);
}
