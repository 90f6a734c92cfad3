import { createHash } from 'node:crypto';
import type { SuitePlacement } from '../suite.js';
import type { RenderOptions } from './types.js';

/**
 * Labels and annotations wasmesh puts on what it applies, so `status`, `rollback` and `undeploy`
 * can find and read them back. Labels are selectable (https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/);
 * annotations carry the digest and the deployment history.
 */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'wasmesh';
export const FILTER_LABEL = 'wasmesh.io/filter';
export const VIA_LABEL = 'wasmesh.io/via';
/**
 * Set on an object that accompanies a filter's own object rather than running the module
 * (header-router's `-routes` EnvoyFilter, render/route-patches.ts): `routes`.
 */
export const PART_LABEL = 'wasmesh.io/part';
export const ROUTES_PART = 'routes';

export const ANNOTATIONS = {
  image: 'wasmesh.io/image',
  digest: 'wasmesh.io/digest',
  wasmSha256: 'wasmesh.io/wasm-sha256',
  context: 'wasmesh.io/context',
  order: 'wasmesh.io/order',
  appliedAt: 'wasmesh.io/applied-at',
  previousDigest: 'wasmesh.io/previous-digest',
  history: 'wasmesh.io/history',
} as const;

/** Deployments kept in the history annotation (the current one plus earlier ones). */
export const HISTORY_LIMIT = 10;

/**
 * `jwt-auth` → `wasmesh-jwt-auth` for a namespace-wide object; a scoped one gets the scope in its
 * name (`wasmesh-rbac-app-productpage`, `wasmesh-rbac-gateway-ingress`) so each scope of a filter
 * is its own object. The name is also the ECDS resource's. Lossy or long scopes get a short hash.
 */
export function objectName(filter: string, scope: Pick<RenderOptions, 'selector' | 'targetRefs'> = { selector: {} }): string {
  const base = `wasmesh-${filter}`;
  const parts = scope.targetRefs !== undefined && scope.targetRefs.length > 0
    ? scope.targetRefs.flatMap((r) => [r.kind.toLowerCase(), r.name])
    : Object.keys(scope.selector).sort().flatMap((k) => [k, scope.selector[k]!]);
  if (parts.length === 0) return base;
  const raw = parts.join('-');
  const slug = raw.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '');
  if (slug === raw && base.length + 1 + slug.length <= 63) return `${base}-${slug}`;
  const hash = createHash('sha256').update(raw).digest('hex').slice(0, 8);
  return `${base}-${slug.slice(0, 63 - base.length - hash.length - 2).replace(/-$/, '')}-${hash}`;
}

export function renderLabels(options: RenderOptions): Record<string, string> {
  return { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [FILTER_LABEL]: options.filter, [VIA_LABEL]: options.via };
}

/**
 * What render knows: image, digest, context, order. Nothing about when or what came before —
 * `wasmesh.io/applied-at` and `wasmesh.io/history` are added by apply (deployer/src/apply/history.ts),
 * so rendering the same inputs twice gives the same bytes (GitOps sees no diff).
 */
export function renderAnnotations(options: RenderOptions, placement: SuitePlacement): Record<string, string> {
  return {
    [ANNOTATIONS.image]: options.image.url,
    [ANNOTATIONS.digest]: options.image.manifestDigest,
    [ANNOTATIONS.wasmSha256]: options.image.wasmSha256,
    [ANNOTATIONS.context]: options.context,
    [ANNOTATIONS.order]: String(placement.order),
  };
}

/**
 * Whether an object (rendered or live) is header-router's route patches rather than the filter's
 * own object: it carries no module or config, and runs beside the object of the same scope.
 * Objects applied before the part label existed are told by their shape (HTTP_ROUTE patches only).
 */
export function isRoutePatches(object: { readonly kind?: string; readonly metadata?: { readonly labels?: Readonly<Record<string, string>> }; readonly spec?: unknown }): boolean {
  if (object.kind !== 'EnvoyFilter') return false;
  if (object.metadata?.labels?.[PART_LABEL] === ROUTES_PART) return true;
  const patches = (object.spec as { configPatches?: readonly { applyTo?: string }[] } | undefined)?.configPatches;
  return Array.isArray(patches) && patches.length > 0 && patches.every((p) => p.applyTo === 'HTTP_ROUTE');
}
