import { describePlans, formatScope, planScopes, type PolicyScope, type ScopePlan, type ScopePlans, type ScopeRequest } from '../istio/scopes.js';
import { resourceId } from '../istio/selection.js';
import type { JsonObject } from '../render/types.js';
import { TRANSLATORS, translateResources, type FilterTranslation, type IstioResource, type TranslatorEntry } from './index.js';

/**
 * Translation per scope: for each filter, the resources of its kinds are split into scopes as
 * istiod would apply them (deployer/src/istio/scopes.ts), and each scope's config is translated
 * from exactly the resources that apply there. Shared by `translate`, `render` and `push`.
 */
export interface ScopedTranslation extends FilterTranslation {
  readonly scope: PolicyScope;
  /** One object for overlapping scopes: the scopes it covers; its config is workload-scoped. */
  readonly merged?: readonly PolicyScope[];
}

export interface FilterPlans {
  readonly filter: string;
  readonly plans: ScopePlans;
}

function entryFor(resource: IstioResource, registry: readonly TranslatorEntry[]): TranslatorEntry {
  const entry = registry.find((t) => t.kind === resource.kind);
  if (entry) return entry;
  const supported = registry.map((t) => `${t.kind} (→ ${t.filter})`).join(', ') || 'none registered yet';
  throw new Error(`${resource.kind} "${resource.metadata.name}": no translator for this kind: expected one of ${supported}`);
}

/** targetRef(s) only decide where a policy attaches (already decided); the filter config never carries them. */
export function withoutTargetRefs(resource: IstioResource): IstioResource {
  if (resource.spec['targetRef'] === undefined && resource.spec['targetRefs'] === undefined) return resource;
  const { targetRef: _ref, targetRefs: _refs, ...spec } = resource.spec;
  return { ...resource, spec };
}

/**
 * A resource without metadata.namespace lands where `kubectl apply` would put it: the -n
 * namespace, else `default`. Made explicit before planning, so a workload-scoped config names it.
 */
function withNamespaces(resources: readonly IstioResource[], namespace: string | undefined): IstioResource[] {
  return resources.map((r) => (r.metadata.namespace !== undefined ? r : { ...r, metadata: { ...r.metadata, namespace: namespace ?? 'default' } }));
}

function translateMerged(filter: string, plan: ScopePlan, rootNamespace: string, registry: readonly TranslatorEntry[]): ScopedTranslation {
  const entry = registry.find((t) => t.filter === filter && t.scoped !== undefined)!;
  const applied = plan.selection.applied;
  return {
    filter, kind: entry.kind, scope: plan.scope, merged: plan.merged!,
    sources: applied.map((r) => `${r.metadata.namespace ?? ''}/${r.metadata.name}`),
    config: entry.scoped!(applied, rootNamespace),
  };
}

function translatePlans(filter: string, plans: ScopePlans, registry: readonly TranslatorEntry[]): ScopedTranslation[] {
  return plans.plans.map((plan) => {
    const applied = plan.scope.targetRefs !== undefined ? plan.selection.applied.map(withoutTargetRefs) : plan.selection.applied;
    try {
      if (plan.merged !== undefined) return translateMerged(filter, plan, plans.rootNamespace, registry);
      const translation = translateResources(applied, registry).find((t) => t.filter === filter)!;
      return { ...translation, scope: plan.scope };
    } catch (error) {
      throw new Error(`${filter} for ${formatScope(plan.scope)}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  });
}

/** planScopes with the input and filter named in its errors; overlaps merge for filters with workload-scoped configs. */
function plan(resources: readonly IstioResource[], request: ScopeRequest, context: string, filter: string, registry: readonly TranslatorEntry[]): ScopePlans {
  try {
    return planScopes(resources, { ...request, mergeable: registry.some((t) => t.filter === filter && t.scoped !== undefined) });
  } catch (error) {
    throw new Error(`${context}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

function groupByFilter(resources: readonly IstioResource[], registry: readonly TranslatorEntry[]): Map<string, IstioResource[]> {
  const groups = new Map<string, IstioResource[]>();
  for (const resource of resources) {
    const { filter } = entryFor(resource, registry);
    groups.set(filter, [...(groups.get(filter) ?? []), resource]);
  }
  return groups;
}

/** Every filter's configs, one per scope, with one summary line per filter for the user. */
export function translateScoped(resources: readonly IstioResource[], request: ScopeRequest, registry: readonly TranslatorEntry[] = TRANSLATORS, source = 'input'): { readonly translations: ScopedTranslation[]; readonly notes: string[] } {
  const translations: ScopedTranslation[] = [];
  const notes: string[] = [];
  for (const [filter, group] of groupByFilter(withNamespaces(resources, request.namespace), registry)) {
    const plans = plan(group, request, `${source}: ${filter}`, filter, registry);
    notes.push(`${filter}: ${describePlans(plans)}`);
    translations.push(...translatePlans(filter, plans, registry));
  }
  return { translations, notes };
}

export interface FilterTarget {
  readonly scope: PolicyScope;
  readonly config: JsonObject;
  /** `namespace/name` of the resources in this config. */
  readonly sources: readonly string[];
  /** One object for overlapping scopes: the scopes it covers (its config is workload-scoped). */
  readonly merged?: readonly PolicyScope[];
}

/**
 * One filter's configs per scope (`push`/`render --istio`). Resources for other filters are
 * reported as skipped; nothing applying anywhere is an error naming what was read and why each
 * resource was left out — an empty policy set must never ship silently.
 */
export function filterTargets(resources: readonly IstioResource[], filter: string, request: ScopeRequest, source: string, registry: readonly TranslatorEntry[] = TRANSLATORS): { readonly targets: FilterTarget[]; readonly note: string } {
  const all = withNamespaces(resources, request.namespace);
  const groups = groupByFilter(all, registry);
  const mine = groups.get(filter) ?? [];
  const others = all.filter((r) => !mine.includes(r)).map((r) => `configures ${entryFor(r, registry).filter}, not ${filter} (${resourceId(r)})`);
  if (mine.length === 0) {
    const kinds = registry.filter((t) => t.filter === filter).map((t) => t.kind).join(' or ') || '(no translator for this filter)';
    throw new Error(`${source}: nothing in it configures filter "${filter}" (${others.join('; ')}): expected resources of kind ${kinds}`);
  }
  const plans = plan(mine, request, `${source}: ${filter}`, filter, registry);
  const note = `${source}: ${describePlans(plans)}${others.length > 0 ? `; ${others.length} for other filters: ${others.join('; ')}` : ''}`;
  if (plans.plans.length === 0) throw new Error(`${note}: nothing to deploy; expected policies for this namespace and workload (check -n/--namespace and -l/--selector)`);
  const targets = translatePlans(filter, plans, registry).map((t): FilterTarget => ({ scope: t.scope, config: t.config, sources: t.sources, ...(t.merged ? { merged: t.merged } : {}) }));
  return { targets, note };
}
