import { isRoutePatches, PART_LABEL, ROUTES_PART } from '../render/metadata.js';
import type { ClusterClient } from './client.js';
import { listDeployed, withScope, type DeployedFilter } from './live.js';

/**
 * One deployment of a filter to one scope: the object that runs the module plus the objects that
 * accompany it (header-router's "-routes" EnvoyFilter, render/route-patches.ts). `status` shows
 * it as one row, `rollback` moves its objects together and `undeploy` removes them together.
 */
export interface Deployment {
  readonly main: DeployedFilter;
  readonly parts: readonly DeployedPart[];
}

export interface DeployedPart extends DeployedFilter {
  /** The `wasmesh.io/part` label (`routes`); objects applied before the label existed are told by their shape. */
  readonly part: string;
}

export function partOf(deployed: DeployedFilter): string | undefined {
  if (!isRoutePatches(deployed.object)) return undefined;
  return deployed.object.metadata?.labels?.[PART_LABEL] ?? ROUTES_PART;
}

/** The name of the object a part accompanies: route patches are named `<object>-routes`. */
function ownerName(deployed: DeployedFilter, part: string): string {
  const suffix = `-${part}`;
  return deployed.name.endsWith(suffix) ? deployed.name.slice(0, -suffix.length) : deployed.name;
}

/**
 * Groups objects into deployments, keeping `deployed`'s order of the main objects. A part whose
 * object is gone (deleted by hand, or left by an older deployer) is a deployment of its own, so
 * status still shows it and undeploy still removes it.
 */
export function groupDeployments(deployed: readonly DeployedFilter[]): Deployment[] {
  const key = (namespace: string, name: string) => `${namespace}/${name}`;
  const mains = new Map<string, { main: DeployedFilter; parts: DeployedPart[] }>();
  const parts: DeployedPart[] = [];
  for (const d of deployed) {
    const part = partOf(d);
    if (part === undefined) mains.set(key(d.namespace, d.name), { main: d, parts: [] });
    else parts.push({ ...d, part });
  }
  const orphans: Deployment[] = [];
  for (const p of parts) {
    const owner = mains.get(key(p.namespace, ownerName(p, p.part)));
    if (owner !== undefined && owner.main.filter === p.filter) owner.parts.push(p);
    else orphans.push({ main: p, parts: [] });
  }
  return [...mains.values(), ...orphans];
}

/** Every deployment of `filter` (or of every filter) in `namespace`, narrowed to one exact scope by `-l`. */
export async function listDeployments(client: ClusterClient, namespace: string | undefined, filter?: string, selector?: Readonly<Record<string, string>>): Promise<Deployment[]> {
  const groups = groupDeployments(await listDeployed(client, namespace, filter));
  const kept = new Set(withScope(groups.map((g) => g.main), selector));
  return groups.filter((g) => kept.has(g.main));
}

/** The deployment's objects, its own first. */
export function objectsOf(deployment: Deployment): DeployedFilter[] {
  return [deployment.main, ...deployment.parts];
}
