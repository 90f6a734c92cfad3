import type { SuitePlacement } from '../suite.js';
import type { DeploymentRecord, RenderOptions } from './types.js';

/**
 * Labels and annotations wasmesh puts on what it applies, so `status`, `rollback` and `undeploy`
 * can find and read them back. Labels are selectable (https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/);
 * annotations carry the digest and the deployment history.
 */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'wasmesh';
export const FILTER_LABEL = 'wasmesh.io/filter';
export const VIA_LABEL = 'wasmesh.io/via';

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

/** `jwt-auth` → `wasmesh-jwt-auth`: the object name, also used for the ECDS resource. */
export function objectName(filter: string): string {
  return `wasmesh-${filter}`;
}

export function renderLabels(options: RenderOptions): Record<string, string> {
  return { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [FILTER_LABEL]: options.filter, [VIA_LABEL]: options.via };
}

export function renderAnnotations(options: RenderOptions, placement: SuitePlacement): Record<string, string> {
  const current: DeploymentRecord = { url: options.image.url, manifestDigest: options.image.manifestDigest, wasmSha256: options.image.wasmSha256, appliedAt: options.appliedAt };
  const earlier = (options.history ?? []).filter((h) => h.manifestDigest !== current.manifestDigest || h.appliedAt !== current.appliedAt);
  const history = [current, ...earlier].slice(0, HISTORY_LIMIT);
  const previous = earlier.find((h) => h.manifestDigest !== current.manifestDigest);
  return {
    [ANNOTATIONS.image]: options.image.url,
    [ANNOTATIONS.digest]: options.image.manifestDigest,
    [ANNOTATIONS.wasmSha256]: options.image.wasmSha256,
    [ANNOTATIONS.context]: options.context,
    [ANNOTATIONS.order]: String(placement.order),
    [ANNOTATIONS.appliedAt]: options.appliedAt,
    ...(previous ? { [ANNOTATIONS.previousDigest]: previous.manifestDigest } : {}),
    [ANNOTATIONS.history]: JSON.stringify(history),
  };
}

function isRecord(value: unknown): value is DeploymentRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return typeof r.url === 'string' && typeof r.manifestDigest === 'string' && typeof r.wasmSha256 === 'string' && typeof r.appliedAt === 'string';
}

/** Reads the history annotation back (newest first); a damaged annotation reads as an error, not as "no history". */
export function readHistory(annotations: Readonly<Record<string, string>> | undefined): DeploymentRecord[] {
  const raw = annotations?.[ANNOTATIONS.history];
  if (raw === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error(`annotation ${ANNOTATIONS.history} is not JSON: expected a list of {url, manifestDigest, wasmSha256, appliedAt}`);
  }
  if (!Array.isArray(parsed) || !parsed.every(isRecord)) {
    throw new Error(`annotation ${ANNOTATIONS.history}: expected a list of {url, manifestDigest, wasmSha256, appliedAt}, got ${raw.slice(0, 120)}`);
  }
  return parsed;
}
