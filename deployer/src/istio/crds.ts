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

/**
 * The wasmesh checkout this code runs from: the nearest folder upwards holding asconfig.json.
 * Walked, not counted, because the same code runs from deployer/src/istio/ (tsx, tests) and from
 * the esbuild bundle in build/ — fixed `..` hops resolved outside the repo in the bundle.
 */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'asconfig.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

export function istioCrdsPath(): string {
  const fromEnv = process.env.DEPLOYER_ISTIO_CRDS;
  if (fromEnv) return path.resolve(fromEnv);
  return path.resolve(packageRoot(), '..', 'shared', 'testdata', 'istio', 'customresourcedefinitions.gen.yaml');
}

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
    throw new IstioCrdsUnavailableError(`Istio CRDs not found at ${file}: expected customresourcedefinitions.gen.yaml (set DEPLOYER_ISTIO_CRDS to its path)`);
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

/** Every CRD version schema in the file (parses the whole file: slow, for tools rather than hot paths). */
export function loadIstioCrds(file = istioCrdsPath()): readonly CrdVersionSchema[] {
  return crdChunks(file).flatMap((chunk) => parseChunk(file, chunk));
}

export function findCrdSchema(apiVersion: string, kind: string, file = istioCrdsPath()): CrdVersionSchema {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) as [string, string] : ['', apiVersion];
  const chunks = crdChunks(file);
  const candidates = chunks.filter((c) => c.kind === kind).flatMap((c) => parseChunk(file, c));
  const match = candidates.find((s) => s.group === group && s.version === version);
  if (match) return match;
  throw new Error(candidates.length > 0
    ? `${kind} ${apiVersion}: no such version in the Istio CRDs; expected apiVersion one of ${candidates.map((s) => `${s.group}/${s.version}`).join(', ')}`
    : `kind "${kind}" (${apiVersion}) is not an Istio resource: expected one of ${[...new Set(chunks.map((c) => c.kind))].join(', ')}`);
}
