import type { IstioResource } from '../translate/index.js';

/**
 * Which Istio resources apply to a workload, decided as istiod decides it. One module for
 * `deployer run --istio` (one local workload) and `push`/`render`/`translate --istio` (one object
 * per scope, deployer/src/istio/scopes.ts).
 *
 * istiod, for a proxy (istio/istio pilot/pkg/model):
 * - authorization.go ListAuthorizationPolicies and authentication.go getConfigsForWorkload look in
 *   two namespaces only: the mesh root namespace (meshConfig.rootNamespace, default istio-system)
 *   and the workload's own. A root-namespace policy applies in every namespace, still subject to
 *   its selector; a policy in any other namespace never applies.
 * - policyattachment.go ShouldAttachPolicy: for a sidecar (no `gateway.networking.k8s.io/gateway-name`
 *   label) a policy with `targetRef`/`targetRefs` is ignored altogether (Service/ServiceEntry refs
 *   bind waypoints, Gateway refs bind gateways); otherwise `selector.matchLabels` must be a subset
 *   of the workload's labels (absent or empty: every workload).
 * - for a Kubernetes Gateway API gateway (that label present), a targetRef of kind Gateway
 *   (group gateway.networking.k8s.io) naming that gateway attaches when the policy is in the
 *   gateway's namespace and the ref names no other namespace; without targetRefs the selector is
 *   used (istiod env ENABLE_SELECTOR_BASED_K8S_GATEWAY_POLICY, true by default, pilot/pkg/features).
 * - VirtualService / DestinationRule are not workload-scoped: they are visible by `exportTo`
 *   (absent or "*": every namespace; ".": their own) — pilot/pkg/model/push_context.go.
 */
export const DEFAULT_ROOT_NAMESPACE = 'istio-system';
/** The label istiod reads to know a workload is a Gateway API gateway (policyattachment.go workloadGatewayName). */
export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';
export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';

export type Labels = Readonly<Record<string, string>>;

export interface TargetRef {
  readonly group?: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

/** The workload a selection is made for. */
export interface Workload {
  readonly namespace: string;
  readonly labels: Labels;
}

export interface SkippedResource {
  readonly resource: IstioResource;
  /** Why istiod would not apply it to this workload, e.g. "namespace other". */
  readonly reason: string;
}

export interface Selection {
  readonly workload: Workload;
  readonly rootNamespace: string;
  readonly read: readonly IstioResource[];
  readonly applied: readonly IstioResource[];
  readonly skipped: readonly SkippedResource[];
}

/** KIND namespace/name, as in messages. */
export function resourceId(resource: IstioResource): string {
  return `${resource.kind} ${resource.metadata.namespace ?? '(no namespace)'}/${resource.metadata.name}`;
}

/** `app=productpage,version=v1` (keys sorted), or `*` for every workload. */
export function formatLabels(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  return keys.length === 0 ? '*' : keys.map((k) => `${k}=${labels[k]}`).join(',');
}

export function formatWorkload(workload: Workload): string {
  return `${workload.namespace}/${formatLabels(workload.labels)}`;
}

interface ScopedSpec {
  readonly selector?: { readonly matchLabels?: Record<string, string> } | null;
  readonly targetRef?: TargetRef;
  readonly targetRefs?: readonly TargetRef[];
  readonly exportTo?: readonly string[];
}

/** `targetRefs`, or the legacy single `targetRef` (policyattachment.go GetTargetRefs). */
export function targetRefsOf(resource: IstioResource): readonly TargetRef[] {
  const spec = resource.spec as ScopedSpec;
  if (spec.targetRefs !== undefined && spec.targetRefs.length > 0) return spec.targetRefs;
  return spec.targetRef !== undefined ? [spec.targetRef] : [];
}

export function selectorOf(resource: IstioResource): Labels {
  return (resource.spec as ScopedSpec).selector?.matchLabels ?? {};
}

/** Kinds bound to workloads by host and visibility, not by selector. */
const VISIBILITY_SCOPED = new Set(['VirtualService', 'DestinationRule']);

export function isSubset(wanted: Labels, labels: Labels): boolean {
  return Object.entries(wanted).every(([key, value]) => labels[key] === value);
}

function isGatewayRef(ref: TargetRef): boolean {
  return ref.kind === 'Gateway' && (ref.group ?? '') === GATEWAY_API_GROUP;
}

/** undefined when istiod would apply `resource` to `workload`; otherwise the reason it would not. */
export function skipReason(resource: IstioResource, workload: Workload, rootNamespace: string): string | undefined {
  const namespace = resource.metadata.namespace ?? workload.namespace;
  if (VISIBILITY_SCOPED.has(resource.kind)) {
    const exportTo = (resource.spec as ScopedSpec).exportTo ?? ['*'];
    const visible = exportTo.some((to) => to === '*' || (to === '.' ? namespace === workload.namespace : to === workload.namespace));
    return visible ? undefined : `not exported to namespace ${workload.namespace} (exportTo ${exportTo.join(',')})`;
  }
  if (namespace !== workload.namespace && namespace !== rootNamespace) return `namespace ${namespace}`;
  const refs = targetRefsOf(resource);
  const gatewayName = workload.labels[GATEWAY_NAME_LABEL];
  if (gatewayName === undefined) {
    if (refs.length > 0) return `targetRefs ${refs.map((r) => `${r.kind}/${r.name}`).join(',')} bind gateways and waypoints, not sidecars`;
  } else if (refs.length > 0) {
    const attached = refs.some((ref) => isGatewayRef(ref) && ref.name === gatewayName && namespace === workload.namespace
      && (ref.namespace === undefined || ref.namespace === '' || ref.namespace === workload.namespace));
    return attached ? undefined : `targetRefs ${refs.map((r) => `${r.kind}/${r.name}`).join(',')} do not name gateway ${workload.namespace}/${gatewayName}`;
  }
  const selector = selectorOf(resource);
  return isSubset(selector, workload.labels) ? undefined : `selector ${formatLabels(selector)}`;
}

/** Splits `resources` into those istiod would apply to `workload` and those it would not (with why). */
export function selectForWorkload(resources: readonly IstioResource[], workload: Workload, rootNamespace = DEFAULT_ROOT_NAMESPACE): Selection {
  const applied: IstioResource[] = [];
  const skipped: SkippedResource[] = [];
  for (const resource of resources) {
    const reason = skipReason(resource, workload, rootNamespace);
    if (reason === undefined) applied.push(resource);
    else skipped.push({ resource, reason });
  }
  return { workload, rootNamespace, read: resources, applied, skipped };
}

/**
 * One line for the user: `3 resources read; 2 apply to bookinfo/app=productpage; 1 skipped:
 * namespace other (AuthorizationPolicy other/reviews-deny-all)`.
 */
export function describeSelection(selection: Selection): string {
  const n = selection.read.length;
  const skipped = selection.skipped.map((s) => `${s.reason} (${resourceId(s.resource)})`);
  return `${n} resource${n === 1 ? '' : 's'} read; ${selection.applied.length} appl${selection.applied.length === 1 ? 'ies' : 'y'} to ${formatWorkload(selection.workload)}`
    + (selection.applied.length > 0 ? ` (${selection.applied.map(resourceId).join(', ')})` : '')
    + (skipped.length > 0 ? `; ${skipped.length} skipped: ${skipped.join('; ')}` : '');
}
