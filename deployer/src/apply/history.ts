import { ANNOTATIONS, HISTORY_LIMIT } from '../render/metadata.js';
import { deploymentOf } from '../render/retarget.js';
import type { DeploymentRecord, KubernetesManifest } from '../render/types.js';
import type { LiveObject } from './client.js';

/**
 * Apply-time facts, written by apply and never by render (so render output is deterministic):
 * `wasmesh.io/applied-at`, `wasmesh.io/history` (newest first: image digest AND the configuration
 * that shipped, so `rollback` restores both) and `wasmesh.io/previous-digest` (for `status`).
 */

/** Kubernetes caps all annotations of an object at 256 KiB (apimachinery objectmeta.go); history keeps to half. */
export const HISTORY_BYTES_LIMIT = 128 * 1024;

const EXPECTED = 'expected a list of {url, manifestDigest, wasmSha256, config?, appliedAt}';

function isRecord(value: unknown): value is DeploymentRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return typeof r.url === 'string' && typeof r.manifestDigest === 'string' && typeof r.wasmSha256 === 'string' && typeof r.appliedAt === 'string'
    && (r.config === undefined || typeof r.config === 'string');
}

/** Reads the history annotation back (newest first); a damaged annotation is an error, not "no history". */
export function readHistory(annotations: Readonly<Record<string, string>> | undefined): DeploymentRecord[] {
  const raw = annotations?.[ANNOTATIONS.history];
  if (raw === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error(`annotation ${ANNOTATIONS.history} is not JSON: ${EXPECTED}`);
  }
  if (!Array.isArray(parsed) || !parsed.every(isRecord)) throw new Error(`annotation ${ANNOTATIONS.history}: ${EXPECTED}, got ${raw.slice(0, 120)}`);
  return parsed;
}

/** Same image and same configuration. A record from before configurations were kept never matches. */
export function sameDeployment(a: DeploymentRecord, b: DeploymentRecord): boolean {
  return a.manifestDigest === b.manifestDigest && a.config !== undefined && a.config === b.config;
}

/** Newest first, at most HISTORY_LIMIT entries and HISTORY_BYTES_LIMIT bytes (the current one always kept). */
function bounded(history: readonly DeploymentRecord[]): DeploymentRecord[] {
  const kept = history.slice(0, HISTORY_LIMIT);
  while (kept.length > 1 && Buffer.byteLength(JSON.stringify(kept)) > HISTORY_BYTES_LIMIT) kept.pop();
  return kept;
}

/**
 * `manifest` with the apply-time annotations, given the object now live (if any). Re-applying
 * what is already live keeps its annotations as they are, so the apply is a no-op ("unchanged").
 */
export function stampDeployment(manifest: KubernetesManifest, live: LiveObject | undefined, appliedAt: string): KubernetesManifest {
  const liveAnnotations = live?.metadata?.annotations ?? {};
  const earlier = readHistory(liveAnnotations);
  const current = deploymentOf(manifest, appliedAt);
  const head = earlier[0];
  const unchanged = head !== undefined && sameDeployment(head, current);
  const history = unchanged ? earlier : bounded([current, ...earlier]);
  const previous = history.slice(1).find((h) => h.manifestDigest !== history[0]!.manifestDigest);
  const annotations: Record<string, string> = {
    ...manifest.metadata.annotations,
    [ANNOTATIONS.appliedAt]: unchanged ? liveAnnotations[ANNOTATIONS.appliedAt] ?? head.appliedAt : appliedAt,
    [ANNOTATIONS.history]: JSON.stringify(history),
  };
  if (previous) annotations[ANNOTATIONS.previousDigest] = previous.manifestDigest;
  else delete annotations[ANNOTATIONS.previousDigest];
  return { ...manifest, metadata: { ...manifest.metadata, annotations } };
}
