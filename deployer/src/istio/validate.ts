import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { celProblemMessage, evaluateRule } from './cel.js';
import { findCrdSchema, istioCrdsPath, IstioCrdsUnavailableError } from './crds.js';
import { packagedSchemasSource } from './crds-package.js';
import { didYouMean } from '../envoy/suggest.js';
import { packagedStrictProblems } from './packaged-strict.js';
import { duplicateListMapEntry, unknownFieldMessage, withValueFound } from './problems.js';
import { metadataProblems } from './metadata.js';
import { toAjvSchema, type JsonSchema } from './schema-convert.js';

/**
 * Validates Istio resources (EnvoyFilter, WasmPlugin, RequestAuthentication, AuthorizationPolicy,
 * …) against the `openAPIV3Schema` of the matching CRD version, plus ObjectMeta rules and the
 * CRD's CEL `x-kubernetes-validations` — what the API server checks on create/apply.
 */
export interface IstioValidationProblem {
  /** Dotted path into the resource, e.g. `spec.configPatches[0].applyTo`. */
  readonly path: string;
  readonly message: string;
}

const problemLine = (p: IstioValidationProblem): string => `${p.path || '<root>'}: ${p.message}`;

/** One resource and every problem in it: one line for one problem, else one indented line each. */
export class IstioValidationError extends Error {
  constructor(readonly kind: string, readonly resourceName: string, readonly problems: readonly IstioValidationProblem[]) {
    super(problems.length === 1
      ? `${kind} "${resourceName}" is invalid: ${problemLine(problems[0]!)}`
      : `${kind} "${resourceName}" is invalid (${problems.length} problems):\n${problems.map((p) => `  ${problemLine(p)}`).join('\n')}`);
    this.name = 'IstioValidationError';
  }
}

/** What is wrong with one document of an input: its YAML, or the resource in it. */
export type IstioDocumentProblem =
  | { readonly document: number; readonly yamlError: string }
  | { readonly document: number; readonly error: IstioValidationError };

/**
 * Several documents of one input (a file, a directory's files, stdin) that are invalid, each
 * problem on its own line, so one run shows everything to fix: `apply` would refuse each one.
 */
export class IstioInputInvalidError extends Error {
  constructor(readonly source: string, readonly documents: readonly IstioDocumentProblem[]) {
    const lines = documents.flatMap((d) => ('yamlError' in d
      ? [`document ${d.document}: YAML error: ${d.yamlError}`]
      : d.error.problems.map((p) => `document ${d.document}: ${d.error.kind} "${d.error.resourceName}": ${problemLine(p)}`)));
    super(`${source}: ${lines.length} problems in ${documents.length} documents:\n${lines.map((l) => `  ${l}`).join('\n')}`);
    this.name = 'IstioInputInvalidError';
  }
}

/**
 * Collects the problems of an input's documents; `throwIfAny` throws one error listing them all
 * (a lone problem keeps the form it always had: the resource's IstioValidationError, or the YAML error).
 */
export class IstioInputProblems {
  private readonly documents: IstioDocumentProblem[] = [];

  constructor(private readonly source: string) {}

  yamlError(document: number, message: string): void {
    this.documents.push({ document, yamlError: message.split('\n')[0]!.replace(/:$/, '') });
  }

  /** Validates `resource` (document `document` of the input); false, with its problems kept, if invalid. */
  check(document: number, resource: unknown): boolean {
    const problems = istioResourceProblems(resource);
    if (problems.length === 0) return true;
    const r = resource as { kind?: unknown; metadata?: { name?: unknown } } | null;
    this.documents.push({ document, error: new IstioValidationError(String(r?.kind ?? '<no kind>'), String(r?.metadata?.name ?? '<no name>'), problems) });
    return false;
  }

  throwIfAny(): void {
    if (this.documents.length === 0) return;
    const only = this.documents.length === 1 ? this.documents[0]! : undefined;
    if (only && 'error' in only) throw only.error;
    if (only && 'yamlError' in only) throw new Error(`${this.source}: document ${only.document}: YAML error: ${only.yamlError}`);
    throw new IstioInputInvalidError(this.source, this.documents);
  }
}

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

interface CelRule { readonly rule: string; readonly message?: string; readonly messageExpression?: string }

function createAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: true, verbose: true });
  addFormats(ajv);
  // Kubernetes OpenAPI numeric/byte formats (k8s.io/kube-openapi/pkg/validation/strfmt).
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n <= 2 ** 31 - 1 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv.addFormat('uint32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= 0 && n <= 2 ** 32 - 1 });
  ajv.addFormat('double', { type: 'number', validate: () => true });
  ajv.addFormat('float', { type: 'number', validate: () => true });
  ajv.addFormat('byte', /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/);
  ajv.addKeyword({
    keyword: 'x-wasmesh-cel',
    errors: true,
    validate: function celRules(rules: readonly CelRule[], data: unknown): boolean {
      const errors: Partial<ErrorObject>[] = [];
      for (const { rule, message } of rules) {
        const outcome = evaluateRule(rule, data);
        if (!outcome.ok) errors.push({ keyword: 'x-wasmesh-cel', message: celProblemMessage(rule, message, outcome.reason), params: { rule } });
      }
      (celRules as { errors?: Partial<ErrorObject>[] }).errors = errors;
      return errors.length === 0;
    },
  });
  ajv.addKeyword({
    keyword: 'x-wasmesh-unique-by',
    errors: true,
    validate: function uniqueBy(keys: readonly string[], data: unknown): boolean {
      const duplicate = duplicateListMapEntry(keys, data);
      (uniqueBy as { errors?: Partial<ErrorObject>[] }).errors = duplicate ? [{ keyword: 'x-wasmesh-unique-by', message: duplicate, params: { keys } }] : [];
      return duplicate === undefined;
    },
  });
  return ajv;
}

let ajvInstance: Ajv | undefined;
const validators = new Map<string, ValidateFunction>();

interface Checker {
  readonly validate: ValidateFunction;
  readonly namespaced: boolean;
  /** What the compiled packaged validators leave out: unknown fields, CEL rules, list-map keys. */
  readonly strict?: (resource: Record<string, unknown>) => IstioValidationProblem[];
}

function validatorFor(apiVersion: string, kind: string): Checker {
  const crd = findCrdSchema(apiVersion, kind);
  // The packaged schemas come compiled (crds-package.ts); same calling convention as ajv's.
  if (crd.compiledValidate) {
    const hint = ` (${packagedSchemasSource()}; for another Istio release set DEPLOYER_ISTIO_CRDS to its CRDs)`;
    return {
      validate: crd.compiledValidate as unknown as ValidateFunction,
      namespaced: crd.namespaced,
      strict: (resource) => packagedStrictProblems(resource, crd.group, crd.version, crd.kind, hint),
    };
  }
  const key = `${istioCrdsPath()}|${apiVersion}|${kind}`;
  let validate = validators.get(key);
  if (!validate) {
    ajvInstance ??= createAjv();
    const schema = toAjvSchema((crd.openAPIV3Schema ?? {}) as JsonSchema);
    // apiVersion/kind/metadata are checked separately; the CRD schema may or may not list them.
    const properties = { ...(schema.properties as JsonSchema | undefined), apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' } };
    validate = ajvInstance.compile({ ...schema, type: 'object', properties, additionalProperties: false });
    validators.set(key, validate);
  }
  return { validate, namespaced: crd.namespaced };
}

/** `/spec/configPatches/0/applyTo` → `spec.configPatches[0].applyTo` */
function toDottedPath(pointer: string): string {
  return pointer.split('/').slice(1).map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '');
}

function describeAjvError(error: ErrorObject): IstioValidationProblem {
  let path = toDottedPath(error.instancePath);
  let message = error.message ?? 'is invalid';
  switch (error.keyword) {
    case 'additionalProperties': {
      const field = (error.params as { additionalProperty: string }).additionalProperty;
      path = path ? `${path}.${field}` : field;
      message = unknownFieldMessage(field, Object.keys((error.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {}));
      break;
    }
    case 'enum': {
      const allowed = (error.params as { allowedValues: unknown[] }).allowedValues;
      message = `expected one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(error.data)}`;
      if (typeof error.data === 'string') message += didYouMean(error.data, allowed.filter((v): v is string => typeof v === 'string'));
      break;
    }
    case 'required': {
      const field = (error.params as { missingProperty: string }).missingProperty;
      path = path ? `${path}.${field}` : field;
      message = 'required field is missing';
      break;
    }
    case 'type':
      message = `expected ${(error.params as { type: string }).type}, got ${JSON.stringify(error.data)}`;
      break;
    default:
      message = withValueFound(message, error.data);
  }
  return { path, message };
}

/** Throws IstioValidationError (naming kind, name, JSON path and what was expected) unless `resource` is valid. */
export function validateIstioResource(resource: unknown): void {
  const problems = istioResourceProblems(resource);
  if (problems.length > 0) {
    const r = resource as { kind?: unknown; metadata?: { name?: unknown } } | null;
    throw new IstioValidationError(String(r?.kind ?? '<no kind>'), String(r?.metadata?.name ?? '<no name>'), problems);
  }
}

export function istioResourceProblems(resource: unknown): IstioValidationProblem[] {
  if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) {
    return [{ path: '', message: `expected a Kubernetes object, got ${JSON.stringify(resource)}` }];
  }
  const { apiVersion, kind, metadata } = resource as Record<string, unknown>;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
    return [{ path: typeof apiVersion !== 'string' ? 'apiVersion' : 'kind', message: 'required string field is missing' }];
  }
  let checker: Checker;
  try {
    checker = validatorFor(apiVersion, kind);
  } catch (error) {
    if (error instanceof IstioCrdsUnavailableError) throw error;
    return [{ path: 'apiVersion', message: error instanceof Error ? error.message : String(error) }];
  }
  const problems: IstioValidationProblem[] = metadataProblems(metadata, checker.namespaced)
    .map((p) => ({ path: p.path, message: `expected ${p.expected}, got ${JSON.stringify(p.actual)}` }));
  const seen = new Set<string>();
  const add = (problem: IstioValidationProblem) => {
    const key = `${problem.path}|${problem.message}`;
    if (!seen.has(key)) { seen.add(key); problems.push(problem); }
  };
  if (!checker.validate(resource)) {
    const before = problems.length;
    // anyOf/oneOf failures repeat their branch errors; keep the first of each path+message.
    for (const error of checker.validate.errors ?? []) if (error.keyword !== 'anyOf' && error.keyword !== 'oneOf') add(describeAjvError(error));
    if (problems.length === before) problems.push({ path: '', message: 'does not match the CRD schema' });
  }
  checker.strict?.(resource as Record<string, unknown>).forEach(add);
  return problems;
}
