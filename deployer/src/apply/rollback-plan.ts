import { HISTORY_LIMIT } from '../render/metadata.js';
import type { DeploymentRecord } from '../render/types.js';
import type { Deployment } from './deployments.js';
import { sameDeployment } from './history.js';
import type { DeployedFilter } from './live.js';

/**
 * Where `rollback` takes one deployment: the filter's object and its parts (header-router's
 * routes) as they were live together at an earlier point. Pure: reads the history annotations
 * apply wrote (deployer/src/apply/history.ts).
 *
 * Each object keeps its own history, and one apply stamps every object it writes with the same
 * `appliedAt`; an object that did not change keeps its older record. So the deployment's
 * timeline is the union of its objects' records, and at each point an object is in the state of
 * its newest record not after that point — the filter's records are the points, plus one point
 * for each change that touched only a part (a VirtualService edit that moved only routes).
 */

/** A part's state at a point: its record, or `null` when it did not exist yet (rollback deletes it). */
export type PartState = DeploymentRecord | null;

export interface DeploymentPoint {
  readonly at: string;
  readonly main: DeploymentRecord;
  readonly parts: readonly PartState[];
}

const UNKNOWN = Symbol('unknown');

/**
 * A part's record in effect at `at`. No record that old: the part did not exist then — unless
 * its history is full (HISTORY_LIMIT), when older records may have been dropped: unknown.
 */
function partAt(part: DeployedFilter, at: string): PartState | typeof UNKNOWN {
  const record = part.history.find((r) => r.appliedAt <= at);
  if (record !== undefined) return record;
  return part.history.length < HISTORY_LIMIT ? null : UNKNOWN;
}

function where(d: DeployedFilter): string {
  return `${d.kind} ${d.namespace}/${d.name}`;
}

/** Newest first; stops where a part's state can no longer be known. */
export function deploymentTimeline(deployment: Deployment): DeploymentPoint[] {
  const { main, parts } = deployment;
  for (const d of [main, ...parts]) {
    if (d.history.length === 0) throw new Error(`${where(d)} has no wasmesh.io/history annotation: nothing to roll back to (was it applied by wasmesh?)`);
  }
  const mainTimes = new Set(main.history.map((r) => r.appliedAt));
  const partOnly = [...new Set(parts.flatMap((p) => p.history.map((r) => r.appliedAt)))].filter((at) => !mainTimes.has(at));
  const candidates: { at: string; main: DeploymentRecord }[] = main.history.map((r) => ({ at: r.appliedAt, main: r }));
  for (const at of partOnly) {
    const record = main.history.find((r) => r.appliedAt <= at);
    if (record !== undefined) candidates.push({ at, main: record });
  }
  // Stable: records of the filter's object sharing one appliedAt keep their history order.
  candidates.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  const points: DeploymentPoint[] = [];
  for (const c of candidates) {
    const states = parts.map((p) => partAt(p, c.at));
    if (states.some((s) => s === UNKNOWN)) break;
    points.push({ at: c.at, main: c.main, parts: states as PartState[] });
  }
  return points;
}

function samePart(a: PartState, b: PartState): boolean {
  return a === null || b === null ? a === b : sameDeployment(a, b);
}

export function samePoint(a: DeploymentPoint, b: DeploymentPoint): boolean {
  return sameDeployment(a.main, b.main) && a.parts.every((p, i) => samePart(p, b.parts[i]!));
}

const short = (r: DeploymentRecord) => `${r.manifestDigest.slice(0, 19)}…${r.config === undefined ? '' : ` config ${r.config.length} bytes`} (${r.appliedAt})`;

/**
 * The point to go back to: the newest earlier one differing from the live state (image,
 * configuration or routes), or the newest whose filter object has `toDigest`.
 */
export function rollbackPoint(deployment: Deployment, toDigest: string | undefined): { readonly current: DeploymentPoint; readonly target: DeploymentPoint } {
  const [current, ...earlier] = deploymentTimeline(deployment);
  const { main } = deployment;
  if (current === undefined) throw new Error(`${where(main)}: the history of its parts does not reach its current deployment: nothing to roll back to`);
  const target = toDigest !== undefined
    ? earlier.find((p) => p.main.manifestDigest === toDigest)
    : earlier.find((p) => !samePoint(p, current));
  if (target !== undefined) return { current, target };
  const partsNote = deployment.parts.length > 0 ? ` with its ${deployment.parts.map((p) => `${p.kind} ${p.name}`).join(', ')}` : '';
  if (toDigest !== undefined) {
    const digests = [...new Set(earlier.map((p) => p.main.manifestDigest))];
    throw new Error(`digest ${toDigest} is not among the earlier deployments of ${where(main)}${partsNote}: expected one of ${digests.join(', ') || '(none recorded)'}`);
  }
  throw new Error(`${where(main)} has no earlier deployment recorded (history: ${main.history.map(short).join(', ')})${partsNote}: nothing to roll back to`);
}
