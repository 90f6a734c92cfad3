import type { IstioResource } from '../translate/index.js';
import {
  DEFAULT_ROOT_NAMESPACE, formatLabels, GATEWAY_API_GROUP, GATEWAY_NAME_LABEL, resourceId, selectForWorkload, selectorOf, skipReason, targetRefsOf,
  type Labels, type Selection, type SkippedResource, type TargetRef,
} from './selection.js';

/**
 * Scopes for `push`/`render`/`translate --istio`: where each rendered object goes (namespace +
 * workloadSelector, or targetRefs for a Gateway API gateway) and which policies its filter config
 * holds — exactly those istiod would apply to a workload of that scope (./selection.ts).
 *
 * Rendered objects are static, so two objects whose scopes can select the same workload would
 * both run on it: two rbac filters each holding part of the policies decide as the AND of both,
 * not as Istio's union of ALLOW policies. So overlapping scopes (a mesh-wide DENY next to an
 * app's ALLOW, a namespace-wide policy next to a selector policy, selectors on different keys)
 * become ONE object at the broadest scope covering them (their common namespace, or the root
 * namespace; the labels they all share), whose config is workload-scoped: every policy keeps its
 * namespace and selector, and the filter keeps, per proxy, those istiod would apply to it
 * (filters/lib/workload.ts). Disjoint scopes keep one exact object each. Rendered objects never
 * overlap, so a workload runs at most one object of a filter. Filters whose config cannot be
 * workload-scoped (metrics, header-router) and targetRefs scopes still refuse overlaps.
 */
export interface PolicyScope {
  readonly namespace: string;
  /** workloadSelector.labels / selector.matchLabels; empty: every workload in the namespace. */
  readonly selector: Labels;
  /** A Gateway API gateway, instead of a selector (`--context gateway`). */
  readonly targetRefs?: readonly TargetRef[];
}

export interface ScopePlan {
  readonly scope: PolicyScope;
  readonly selection: Selection;
  /**
   * Set when the plan merges overlapping scopes into one object at `scope`: the scopes it covers.
   * Its config must then be workload-scoped (each policy decides where it applies, per proxy).
   */
  readonly merged?: readonly PolicyScope[];
}

export interface ScopeRequest {
  /** Target namespace; undefined: every namespace the resources are in (or the root namespace). */
  readonly namespace?: string;
  /** `-l/--selector`: the workload's labels. Empty or absent: scopes come from the policies. */
  readonly selector?: Labels;
  /** `--context gateway`: targetRefs to Gateway API gateways make gateway scopes. */
  readonly gateway?: boolean;
  readonly rootNamespace?: string;
  /** The filter's config can be workload-scoped (rbac, jwt-auth): overlapping scopes are merged instead of refused. */
  readonly mergeable?: boolean;
}

export interface ScopePlans {
  readonly read: readonly IstioResource[];
  readonly plans: readonly ScopePlan[];
  /** Resources that apply to none of the plans, with the reason for the first scope considered. */
  readonly unused: readonly SkippedResource[];
  readonly rootNamespace: string;
}

export function formatScope(scope: PolicyScope): string {
  if (scope.targetRefs !== undefined) return `${scope.namespace}/${scope.targetRefs.map((r) => `${r.kind}:${r.name}`).join(',')}`;
  return `${scope.namespace}/${formatLabels(scope.selector)}`;
}

/** The labels a workload of this scope carries (for a gateway scope: the gateway-name label). */
function scopeLabels(scope: PolicyScope): Labels {
  return scope.targetRefs !== undefined ? { [GATEWAY_NAME_LABEL]: scope.targetRefs[0]!.name } : scope.selector;
}

/**
 * Whether two scopes can select one workload: same namespace (an object in the root namespace
 * reaches every namespace, as istiod applies root-namespace EnvoyFilters and WasmPlugins mesh-wide)
 * and no label key that must take two different values.
 */
export function scopesOverlap(a: PolicyScope, b: PolicyScope, rootNamespace = DEFAULT_ROOT_NAMESPACE): boolean {
  if (a.namespace !== b.namespace && a.namespace !== rootNamespace && b.namespace !== rootNamespace) return false;
  // A Gateway API gateway's pods carry the labels istiod's gateway deployment controller gives
  // them, not an application's: a selector scope reaches them only when it is namespace-wide or
  // names the gateway-name label itself.
  const [gatewayScope, other] = a.targetRefs !== undefined ? [a, b] : [b, a];
  if (gatewayScope.targetRefs !== undefined && other.targetRefs === undefined) {
    const keys = Object.keys(other.selector);
    if (keys.length > 0 && !keys.includes(GATEWAY_NAME_LABEL)) return false;
  }
  const la = scopeLabels(a);
  const lb = scopeLabels(b);
  return Object.entries(la).every(([key, value]) => lb[key] === undefined || lb[key] === value);
}

/** The scope of a rendered or live EnvoyFilter (workloadSelector.labels) or WasmPlugin (selector.matchLabels), or their targetRefs. */
export function scopeOfManifest(manifest: { readonly metadata: { readonly namespace: string }; readonly spec: Readonly<Record<string, unknown>> }): PolicyScope {
  const spec = manifest.spec as { workloadSelector?: { labels?: Labels }; selector?: { matchLabels?: Labels }; targetRefs?: readonly TargetRef[] };
  if (spec.targetRefs !== undefined && spec.targetRefs.length > 0) return { namespace: manifest.metadata.namespace, selector: {}, targetRefs: spec.targetRefs };
  return { namespace: manifest.metadata.namespace, selector: { ...(spec.workloadSelector?.labels ?? spec.selector?.matchLabels ?? {}) } };
}

/**
 * One scope per distinct selector of the resources that istiod would look at for workloads in
 * `namespace`. Root-namespace policies are rendered into each target namespace; or, with
 * `rootPlacement` (no -n, mergeable filter), into the root namespace itself, which reaches every
 * namespace as they do.
 */
function candidateScopes(resources: readonly IstioResource[], namespace: string, request: ScopeRequest, root: string, rootPlacement: boolean): PolicyScope[] {
  const scopes = new Map<string, PolicyScope>();
  const add = (scope: PolicyScope) => scopes.set(formatScope(scope), scope);
  for (const resource of resources) {
    const own = resource.metadata.namespace ?? namespace;
    if (own !== namespace && (own !== root || rootPlacement)) continue;
    const refs = targetRefsOf(resource);
    if (refs.length > 0) {
      if (!request.gateway || own !== namespace) continue;
      for (const ref of refs) {
        if (ref.kind === 'Gateway' && (ref.group ?? '') === GATEWAY_API_GROUP) add({ namespace, selector: {}, targetRefs: [{ group: GATEWAY_API_GROUP, kind: 'Gateway', name: ref.name }] });
      }
      continue;
    }
    add({ namespace, selector: { ...selectorOf(resource) } });
  }
  return [...scopes.values()].sort((a, b) => formatScope(a).localeCompare(formatScope(b)));
}

/**
 * Namespaces the resources are in (a resource without one is in `default`, as kubectl would
 * create it); the root namespace only with `rootPlacement` or when nothing else is there.
 */
function namespacesOf(resources: readonly IstioResource[], root: string, rootPlacement: boolean): string[] {
  const found = new Set(resources.map((r) => r.metadata.namespace ?? 'default').filter((ns) => rootPlacement || ns !== root));
  return found.size === 0 ? [root] : [...found].sort();
}

/** The narrowest scope covering all of `scopes`: their namespace (the root one when they differ), the labels they share. */
export function coveringScope(scopes: readonly PolicyScope[], root: string): PolicyScope {
  const namespaces = new Set(scopes.map((s) => s.namespace));
  const [first, ...rest] = scopes;
  const shared = Object.fromEntries(Object.entries(first!.selector).filter(([key, value]) => rest.every((s) => s.selector[key] === value)));
  return { namespace: namespaces.size === 1 ? first!.namespace : root, selector: shared };
}

/**
 * Groups of scopes to render as one object each: scopes that can select a common workload are
 * grouped, and so are groups whose covering scopes would overlap, until no two objects overlap.
 * Without `mergeable` (or with a targetRefs scope in a group), an overlap is an error.
 */
function groupScopes(scopes: readonly PolicyScope[], request: ScopeRequest, root: string): PolicyScope[][] {
  let groups = scopes.map((scope) => [scope]);
  for (;;) {
    const covers = groups.map((group) => (group.length === 1 ? group[0]! : coveringScope(group, root)));
    const pair = findOverlap(covers, root);
    if (pair === undefined) return groups;
    const [i, j] = pair;
    const joined = [...groups[i]!, ...groups[j]!];
    const refused = !request.mergeable ? 'this filter\'s config cannot be workload-scoped' : joined.some((s) => s.targetRefs !== undefined) ? 'targetRefs bind a gateway as a whole' : undefined;
    if (refused !== undefined) {
      throw new Error(`the policies select overlapping workloads (${formatScope(covers[i]!)} and ${formatScope(covers[j]!)}): a workload in both would run two filters, each with part of the policies, `
        + `where Istio merges them into one decision, and ${refused}; expected -l/--selector naming the workload's labels (one object per workload), e.g. -l `
        + `${formatLabels(joined.find((s) => Object.keys(s.selector).length > 0)?.selector ?? { app: 'productpage' })}`);
    }
    groups = [...groups.filter((_, k) => k !== i && k !== j), joined];
  }
}

function findOverlap(scopes: readonly PolicyScope[], root: string): [number, number] | undefined {
  for (let i = 0; i < scopes.length; i++) {
    for (let j = i + 1; j < scopes.length; j++) if (scopesOverlap(scopes[i]!, scopes[j]!, root)) return [i, j];
  }
  return undefined;
}

/** One plan per group: exact for a single scope; for a merged group, every resource applying to one of its scopes. */
function planGroup(resources: readonly IstioResource[], group: readonly PolicyScope[], root: string): ScopePlan {
  const select = (scope: PolicyScope) => selectForWorkload(resources, { namespace: scope.namespace, labels: scopeLabels(scope) }, root);
  if (group.length === 1) return { scope: group[0]!, selection: select(group[0]!) };
  const scope = coveringScope(group, root);
  const applying = new Set(group.flatMap((member) => select(member).applied));
  const applied = resources.filter((r) => applying.has(r));
  const skipped = resources.filter((r) => !applying.has(r)).map((resource): SkippedResource => ({ resource, reason: skipReason(resource, { namespace: scope.namespace, labels: scope.selector }, root) ?? 'applies to none of the merged scopes' }));
  const sorted = [...group].sort((a, b) => formatScope(a).localeCompare(formatScope(b)));
  return { scope, selection: { workload: { namespace: scope.namespace, labels: scope.selector }, rootNamespace: root, read: resources, applied, skipped }, merged: sorted };
}

/** The scopes to render for `resources` (already narrowed to one filter's kinds). */
export function planScopes(resources: readonly IstioResource[], request: ScopeRequest = {}): ScopePlans {
  const root = request.rootNamespace ?? DEFAULT_ROOT_NAMESPACE;
  const explicit = request.selector !== undefined && Object.keys(request.selector).length > 0;
  // Objects for overlapping scopes can be workload-scoped: root-namespace policies then go to the
  // root namespace, mesh-wide as istiod applies them (without -n; -l names one workload per namespace).
  const rootPlacement = request.mergeable === true && request.namespace === undefined && !explicit;
  const namespaces = request.namespace !== undefined ? [request.namespace] : namespacesOf(resources, root, rootPlacement);
  const scopes = explicit
    ? namespaces.map((namespace): PolicyScope => ({ namespace, selector: { ...request.selector } }))
    : namespaces.flatMap((namespace) => candidateScopes(resources, namespace, request, root, rootPlacement));
  const plans = groupScopes(scopes, request, root).map((group) => planGroup(resources, group, root))
    .filter((plan) => plan.selection.applied.length > 0)
    .sort((a, b) => formatScope(a.scope).localeCompare(formatScope(b.scope)));
  const used = new Set(plans.flatMap((p) => p.selection.applied));
  // Why a resource applies nowhere: as seen from a scope in its own namespace when there is one.
  const fallback = selectForWorkload(resources, { namespace: namespaces[0]!, labels: explicit ? request.selector! : {} }, root);
  const reasonFor = (resource: IstioResource): string => {
    const selection = plans.find((p) => p.scope.namespace === resource.metadata.namespace)?.selection ?? plans[0]?.selection ?? fallback;
    return selection.skipped.find((s) => s.resource === resource)?.reason ?? 'applies to no rendered scope';
  };
  const unused = resources.filter((r) => !used.has(r)).map((resource): SkippedResource => ({ resource, reason: reasonFor(resource) }));
  return { read: resources, plans, unused, rootNamespace: root };
}

/** Where istiod applies one policy: `bookinfo/app=productpage`, or `every namespace/app=ratings` for a root-namespace one. */
export function formatPolicyScope(resource: IstioResource, root: string): string {
  const namespace = resource.metadata.namespace ?? 'default';
  const refs = targetRefsOf(resource);
  if (refs.length > 0) return `${namespace}/${refs.map((r) => `${r.kind}:${r.name}`).join(',')}`;
  return `${namespace === root ? 'every namespace' : namespace}/${formatLabels(selectorOf(resource))}`;
}

/**
 * `3 resources read; 2 apply to bookinfo/app=productpage; 1 skipped: namespace other (AuthorizationPolicy other/reviews-deny-all)`;
 * a merged object lists where each of its policies applies.
 */
export function describePlans(plans: ScopePlans): string {
  const n = plans.read.length;
  const applied = plans.plans.map((p) => `${p.selection.applied.length} appl${p.selection.applied.length === 1 ? 'ies' : 'y'} to ${formatScope(p.scope)} `
    + (p.merged === undefined
      ? `(${p.selection.applied.map(resourceId).join(', ')})`
      : `as one workload-scoped object for the overlapping scopes ${p.merged.map(formatScope).join(', ')}, each policy deciding only where istiod applies it (${p.selection.applied.map((r) => `${resourceId(r)} → ${formatPolicyScope(r, plans.rootNamespace)}`).join(', ')})`));
  const skipped = plans.unused.map((s) => `${s.reason} (${resourceId(s.resource)})`);
  return `${n} resource${n === 1 ? '' : 's'} read; ${applied.length > 0 ? applied.join('; ') : 'none applies'}`
    + (skipped.length > 0 ? `; ${skipped.length} skipped: ${skipped.join('; ')}` : '');
}
