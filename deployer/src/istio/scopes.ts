import type { IstioResource } from '../translate/index.js';
import {
  DEFAULT_ROOT_NAMESPACE, formatLabels, GATEWAY_API_GROUP, GATEWAY_NAME_LABEL, resourceId, selectForWorkload, selectorOf, targetRefsOf,
  type Labels, type Selection, type SkippedResource, type TargetRef,
} from './selection.js';

/**
 * Scopes for `push`/`render`/`translate --istio`: where each rendered object goes (namespace +
 * workloadSelector, or targetRefs for a Gateway API gateway) and which policies its filter config
 * holds — exactly those istiod would apply to a workload of that scope (./selection.ts).
 *
 * Rendered objects are static, so two objects whose scopes can select the same workload would
 * both run on it: two rbac filters each holding part of the policies decide as the AND of both,
 * not as Istio's union of ALLOW policies. Such overlapping scopes (a namespace-wide policy next
 * to a selector policy, selectors on different keys) are refused with the scopes named; the
 * user picks the workload with `-l` instead, for which istiod's own selection is then exact.
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
}

export interface ScopeRequest {
  /** Target namespace; undefined: every namespace the resources are in (or the root namespace). */
  readonly namespace?: string;
  /** `-l/--selector`: the workload's labels. Empty or absent: scopes come from the policies. */
  readonly selector?: Labels;
  /** `--context gateway`: targetRefs to Gateway API gateways make gateway scopes. */
  readonly gateway?: boolean;
  readonly rootNamespace?: string;
}

export interface ScopePlans {
  readonly read: readonly IstioResource[];
  readonly plans: readonly ScopePlan[];
  /** Resources that apply to none of the plans, with the reason for the first scope considered. */
  readonly unused: readonly SkippedResource[];
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

function candidateScopes(resources: readonly IstioResource[], namespace: string, request: ScopeRequest, root: string): PolicyScope[] {
  const scopes = new Map<string, PolicyScope>();
  const add = (scope: PolicyScope) => scopes.set(formatScope(scope), scope);
  for (const resource of resources) {
    const own = resource.metadata.namespace ?? namespace;
    if (own !== namespace && own !== root) continue;
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

/** Namespaces the resources are in (a resource without one is in `default`, as kubectl would create it). */
function namespacesOf(resources: readonly IstioResource[], root: string): string[] {
  const found = new Set(resources.map((r) => r.metadata.namespace ?? 'default').filter((ns) => ns !== root));
  return found.size === 0 ? [root] : [...found].sort();
}

/** The scopes to render for `resources` (already narrowed to one filter's kinds). */
export function planScopes(resources: readonly IstioResource[], request: ScopeRequest = {}): ScopePlans {
  const root = request.rootNamespace ?? DEFAULT_ROOT_NAMESPACE;
  const explicit = request.selector !== undefined && Object.keys(request.selector).length > 0;
  const namespaces = request.namespace !== undefined ? [request.namespace] : namespacesOf(resources, root);
  const scopes = explicit
    ? namespaces.map((namespace): PolicyScope => ({ namespace, selector: { ...request.selector } }))
    : namespaces.flatMap((namespace) => candidateScopes(resources, namespace, request, root));
  const overlaps: string[] = [];
  scopes.forEach((a, i) => scopes.slice(i + 1).forEach((b) => { if (scopesOverlap(a, b, root)) overlaps.push(`${formatScope(a)} and ${formatScope(b)}`); }));
  if (overlaps.length > 0) {
    throw new Error(`the policies select overlapping workloads (${overlaps.join('; ')}): a workload in both would run two filters, each with part of the policies, `
      + 'where Istio merges them into one decision; expected -l/--selector naming the workload\'s labels (one object per workload), e.g. -l '
      + `${formatLabels(scopes.find((s) => Object.keys(s.selector).length > 0)?.selector ?? { app: 'productpage' })}`);
  }
  const plans = scopes.map((scope): ScopePlan => ({ scope, selection: selectForWorkload(resources, { namespace: scope.namespace, labels: scopeLabels(scope) }, root) }))
    .filter((plan) => plan.selection.applied.length > 0);
  const used = new Set(plans.flatMap((p) => p.selection.applied));
  // Why a resource applies nowhere: as seen from a scope in its own namespace when there is one.
  const fallback = selectForWorkload(resources, { namespace: namespaces[0]!, labels: explicit ? request.selector! : {} }, root);
  const reasonFor = (resource: IstioResource): string => {
    const selection = plans.find((p) => p.scope.namespace === resource.metadata.namespace)?.selection ?? plans[0]?.selection ?? fallback;
    return selection.skipped.find((s) => s.resource === resource)?.reason ?? 'applies to no rendered scope';
  };
  const unused = resources.filter((r) => !used.has(r)).map((resource): SkippedResource => ({ resource, reason: reasonFor(resource) }));
  return { read: resources, plans, unused };
}

/** `3 resources read; 2 apply to bookinfo/app=productpage; 1 skipped: namespace other (AuthorizationPolicy other/reviews-deny-all)`. */
export function describePlans(plans: ScopePlans): string {
  const n = plans.read.length;
  const applied = plans.plans.map((p) => `${p.selection.applied.length} appl${p.selection.applied.length === 1 ? 'ies' : 'y'} to ${formatScope(p.scope)} (${p.selection.applied.map(resourceId).join(', ')})`);
  const skipped = plans.unused.map((s) => `${s.reason} (${resourceId(s.resource)})`);
  return `${n} resource${n === 1 ? '' : 's'} read; ${applied.length > 0 ? applied.join('; ') : 'none applies'}`
    + (skipped.length > 0 ? `; ${skipped.length} skipped: ${skipped.join('; ')}` : '');
}
