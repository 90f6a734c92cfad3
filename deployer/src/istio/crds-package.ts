import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { CompiledValidate, CompiledValidateError, CrdVersionSchema } from './crds.js';
import { requireImportOnly } from './import-only-require.js';

/**
 * Istio's schemas as shipped by the npm package @kubernetes-models/istio: the kubernetes-models
 * project generates it from istio/istio's crd-all.gen.yaml (its package.json names the Istio
 * release) and compiles each kind's openAPIV3Schema into an ajv standalone validator
 * (`<group>/<version>/<Kind>.js`, whose model class carries the validator).
 *
 * What the compiled validators check: types, enums, required fields, formats, patterns, lengths,
 * oneOf. What they do not — unknown fields, CEL `x-kubernetes-validations`, list-map keys (the
 * generator drops them) — packaged-strict.ts adds from generated tables, so this source is as
 * strict as a CRD file (DEPLOYER_ISTIO_CRDS, crds.ts).
 *
 * The package is ESM with an import-only exports map; validation is synchronous, so the modules
 * are loaded by file path with require() (Node ≥ 20.19 loads ES modules that way; under a CommonJS
 * transform hook such as `node --import tsx`, import-only-require.ts keeps their imports resolving).
 */
const PACKAGE = '@kubernetes-models/istio';
const require = createRequire(import.meta.url);

interface ModelsPackage {
  readonly name: string;
  readonly version: string;
  readonly dir: string;
  /** The Istio release whose crd-all.gen.yaml the package was generated from (its `crd-generate` input). */
  readonly istioRelease?: string;
}

let located: ModelsPackage | undefined;

/** The installed @kubernetes-models/istio: its folder (resolved like require() would) and version. */
export function istioModelsPackage(): ModelsPackage {
  if (located) return located;
  for (const base of require.resolve.paths(PACKAGE) ?? []) {
    const dir = path.join(base, PACKAGE);
    const manifest = path.join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const { version, 'crd-generate': generate } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string; 'crd-generate'?: { input?: string[] } };
    const istioRelease = generate?.input?.map((url) => /\/istio\/istio\/([^/]+)\/manifests\/charts\/base\/files\/crd-all\.gen\.yaml$/.exec(url)?.[1]).find(Boolean);
    located = { name: PACKAGE, version, dir, ...(istioRelease ? { istioRelease } : {}) };
    return located;
  }
  throw new Error(`${PACKAGE} is not installed: the deployer validates Istio resources with its schemas (reinstall the deployer, or set DEPLOYER_ISTIO_CRDS to Istio's CRD YAML)`);
}

/** "Istio 1.29.2's schemas, shipped with the deployer in @kubernetes-models/istio@3.0.1", for messages. */
export function packagedSchemasSource(): string {
  const { name, version, istioRelease } = istioModelsPackage();
  return `${istioRelease ? `Istio ${istioRelease}'s schemas` : 'the Istio schemas'}, shipped with the deployer in ${name}@${version}`;
}

interface PackagedKind { readonly group: string; readonly version: string; readonly kind: string; readonly file: string }

let kinds: readonly PackagedKind[] | undefined;

/** Every group/version/kind the package has a model for (its `<group>/<version>/<Kind>.js` files). */
export function packagedIstioKinds(): readonly PackagedKind[] {
  if (kinds) return kinds;
  const { dir } = istioModelsPackage();
  const found: PackagedKind[] = [];
  for (const group of readdirSync(dir, { withFileTypes: true })) {
    if (!group.isDirectory() || !group.name.endsWith('.istio.io')) continue;
    for (const version of readdirSync(path.join(dir, group.name), { withFileTypes: true })) {
      if (!version.isDirectory()) continue;
      for (const file of readdirSync(path.join(dir, group.name, version.name))) {
        const kind = /^([A-Z]\w*)\.js$/.exec(file)?.[1];
        if (kind) found.push({ group: group.name, version: version.name, kind, file: path.join(dir, group.name, version.name, file) });
      }
    }
  }
  kinds = found;
  return found;
}

/** The plural Kubernetes derives for these kinds (lowercase + "s"; "…y" → "…ies"), as Istio's CRDs name them. */
const pluralOf = (kind: string): string => (kind.endsWith('y') ? `${kind.slice(0, -1).toLowerCase()}ies` : `${kind.toLowerCase()}s`);

const schemaCache = new Map<string, CrdVersionSchema>();

export function packagedIstioSchema(group: string, version: string, kind: string): CrdVersionSchema | undefined {
  const key = `${group}/${version}/${kind}`;
  const hit = schemaCache.get(key);
  if (hit) return hit;
  const entry = packagedIstioKinds().find((k) => k.group === group && k.version === version && k.kind === kind);
  if (!entry) return undefined;
  const model = (requireImportOnly(entry.file) as Record<string, { prototype: { validate(this: unknown): void } } | undefined>)[kind];
  if (!model) throw new Error(`${PACKAGE}: ${entry.file} has no ${kind} model`);
  // Every Istio kind is namespaced (the CRDs' scope: Namespaced).
  const schema: CrdVersionSchema = { group, version, kind, plural: pluralOf(kind), served: true, namespaced: true, compiledValidate: adaptModel(model.prototype.validate) };
  schemaCache.set(key, schema);
  return schema;
}

/**
 * The model's validate() throws ajv's ValidationError with `.errors`; turn it into the ajv
 * ValidateFunction shape, adding each error's offending value (`data`, as ajv's verbose mode would)
 * so messages can say what was found.
 */
function adaptModel(validateModel: (this: unknown) => void): CompiledValidate {
  const validate: CompiledValidate = (resource: unknown): boolean => {
    try {
      validateModel.call(resource);
      validate.errors = null;
      return true;
    } catch (error) {
      const errors = (error as { errors?: CompiledValidateError[] }).errors;
      if (!Array.isArray(errors)) throw error;
      validate.errors = errors.map((e) => ({ ...e, data: valueAtPointer(resource, e.instancePath) }));
      return false;
    }
  };
  return validate;
}

function valueAtPointer(root: unknown, pointer: string): unknown {
  let value = root;
  for (const part of pointer.split('/').slice(1)) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return value;
}
