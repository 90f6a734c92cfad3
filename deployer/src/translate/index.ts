import { parseAllDocuments } from 'yaml';
import { IstioInputProblems } from '../istio/validate.js';
import type { JsonObject } from '../render/types.js';
import { authorizationPolicyTranslator, scopedAuthorizationPolicyTranslator, translateAuthorizationPolicy, type RbacMeshOptions } from './authorization-policy.js';
import { translateRequestAuthentication, translateRequestAuthenticationScoped } from './request-authentication.js';
import { translateTelemetry } from './telemetry.js';
import { translateVirtualServices } from './virtual-service.js';

/**
 * `deployer translate`: Istio policy resources → each wasmesh filter's JSON config.
 *
 * Each Istio kind has one translator in `deployer/src/translate/<kind>.ts` (written with the
 * filter it configures) exporting a `TranslateFn`. To add one: create the file and add one line
 * to TRANSLATORS below. Every input resource is first validated against its Istio CRD schema, so
 * translators only ever see well-formed resources; anything not understood must throw (a policy
 * we cannot translate exactly must never turn into a config that allows more).
 */
export interface IstioResource {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly [key: string]: unknown };
  readonly spec: JsonObject;
}

/** All resources of one kind found in the input, in file order. Returns the filter's config. */
export type TranslateFn = (resources: readonly IstioResource[]) => JsonObject;

/**
 * A workload-scoped config: the resources keep their namespace and selector, and the filter
 * applies each only where istiod would (for one object covering overlapping scopes).
 */
export type ScopedTranslateFn = (resources: readonly IstioResource[], rootNamespace: string) => JsonObject;

export interface TranslatorEntry {
  readonly kind: string;
  /** The wasmesh filter whose config this kind becomes. */
  readonly filter: string;
  readonly translate: TranslateFn;
  /** Present when the filter accepts workload-scoped configs (deployer/src/istio/scopes.ts merges overlapping scopes for it). */
  readonly scoped?: ScopedTranslateFn;
  /** Kinds read together with this one and never translated alone (DestinationRule subsets for VirtualService). */
  readonly companions?: readonly string[];
  /** Envoy routes the filter's decisions need (header-router), printed beside its config. */
  readonly routes?: (resources: readonly IstioResource[]) => readonly JsonObject[];
}

export const TRANSLATORS: readonly TranslatorEntry[] = [
  { kind: 'RequestAuthentication', filter: 'jwt-auth', translate: translateRequestAuthentication, scoped: translateRequestAuthenticationScoped },
  { kind: 'AuthorizationPolicy', filter: 'rbac', translate: translateAuthorizationPolicy, scoped: scopedAuthorizationPolicyTranslator() },
  {
    kind: 'VirtualService', filter: 'header-router', companions: ['DestinationRule'],
    translate: (resources) => translateVirtualServices(resources).config,
    routes: (resources) => translateVirtualServices(resources).routes,
  },
  { kind: 'Telemetry', filter: 'metrics', translate: translateTelemetry },
];

/** Every kind the registry reads: translated kinds and their companions (DestinationRule). */
export function translatedKinds(registry: readonly TranslatorEntry[] = TRANSLATORS): string[] {
  return registry.flatMap((t) => [t.kind, ...(t.companions ?? [])]);
}

export interface TranslateOptions {
  /** MeshConfig settings (`--mesh-config`, deployer/src/istio/mesh-config.ts) for the AuthorizationPolicy translator. */
  readonly mesh?: RbacMeshOptions;
}

/** TRANSLATORS with the mesh-level options applied (`deployer translate/run --mesh-config`). */
export function translatorsFor(options: TranslateOptions = {}): readonly TranslatorEntry[] {
  if (options.mesh === undefined) return TRANSLATORS;
  const authorizationPolicy = authorizationPolicyTranslator({ mesh: options.mesh });
  const scoped = scopedAuthorizationPolicyTranslator({ mesh: options.mesh });
  return TRANSLATORS.map((entry) => (entry.kind === 'AuthorizationPolicy' ? { ...entry, translate: authorizationPolicy, scoped } : entry));
}

export interface FilterTranslation {
  readonly filter: string;
  readonly kind: string;
  /** `namespace/name` of the resources it came from. */
  readonly sources: readonly string[];
  readonly config: JsonObject;
  /** Routes the configuration needs (TranslatorEntry.routes). */
  readonly routes?: readonly JsonObject[];
}

export function parseIstioResources(yamlText: string, source = 'input'): IstioResource[] {
  const resources: IstioResource[] = [];
  // Every invalid document is reported, not just the first (istio/validate.ts IstioInputProblems).
  const problems = new IstioInputProblems(source);
  parseAllDocuments(yamlText).forEach((doc, index) => {
    if (doc.errors.length > 0) return problems.yamlError(index + 1, doc.errors[0]!.message);
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) return;
    const items = typeof value === 'object' && (value as { kind?: unknown }).kind === 'List' ? ((value as { items?: unknown[] }).items ?? []) : [value];
    for (const item of items) {
      if (problems.check(index + 1, item)) resources.push(item as IstioResource);
    }
  });
  problems.throwIfAny();
  if (resources.length === 0) throw new Error(`${source}: no Istio resources found: expected YAML documents with apiVersion/kind/metadata/spec`);
  return resources;
}

/**
 * parseIstioResources over several inputs (a folder's files, the documents of a file, each its
 * own input): every invalid one is reported in one error, one line each (a resource with several
 * problems keeps them, indented under it).
 */
export function parseIstioInputs(inputs: readonly { readonly source: string; readonly text: string }[]): IstioResource[] {
  const resources: IstioResource[] = [];
  const problems: string[] = [];
  for (const input of inputs) {
    try {
      resources.push(...parseIstioResources(input.text, input.source));
    } catch (error) {
      problems.push(`${input.source}: ${(error instanceof Error ? error.message : String(error)).replace(/\n/g, '\n  ')}`);
    }
  }
  if (problems.length > 0) throw new Error(problems.length === 1 ? problems[0]! : `${problems.length} invalid resources:\n  ${problems.join('\n  ')}`);
  return resources;
}

export function translateResources(resources: readonly IstioResource[], registry: readonly TranslatorEntry[] = TRANSLATORS): FilterTranslation[] {
  const byKind = new Map<string, IstioResource[]>();
  for (const resource of resources) {
    const entry = registry.find((t) => t.kind === resource.kind) ?? registry.find((t) => t.companions?.includes(resource.kind));
    if (!entry) {
      const supported = registry.map((t) => `${t.kind} (→ ${t.filter})`).join(', ') || 'none registered yet';
      throw new Error(`${resource.kind} "${resource.metadata.name}": no translator for this kind: expected one of ${supported}`);
    }
    byKind.set(entry.kind, [...(byKind.get(entry.kind) ?? []), resource]);
  }
  const results: FilterTranslation[] = [];
  for (const [kind, group] of byKind) {
    const entry = registry.find((t) => t.kind === kind)!;
    if (results.some((r) => r.filter === entry.filter)) {
      throw new Error(`${kind}: filter "${entry.filter}" already configured from another kind in the same input: expected one kind per filter`);
    }
    const routes = entry.routes?.(group);
    results.push({ filter: entry.filter, kind, sources: group.map((r) => `${r.metadata.namespace ?? ''}/${r.metadata.name}`), config: entry.translate(group), ...(routes ? { routes } : {}) });
  }
  return results;
}

/**
 * Config for one filter from every resource in a policy file, all taken as applying (no workload
 * selection). push/render/translate select per scope first (deployer/src/translate/scoped.ts).
 */
export function configFromIstio(yamlText: string, filter: string, source = 'policy', registry: readonly TranslatorEntry[] = TRANSLATORS): JsonObject {
  const translations = translateResources(parseIstioResources(yamlText, source), registry);
  const match = translations.find((t) => t.filter === filter);
  if (!match) {
    throw new Error(`${source}: nothing in it configures filter "${filter}" (it configures ${translations.map((t) => `${t.filter} from ${t.kind}`).join(', ')}): expected resources of kind ${registry.filter((t) => t.filter === filter).map((t) => t.kind).join(' or ') || '(no translator for this filter)'}`);
  }
  return match.config;
}
