import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ListenerDirection, NodeInfo } from '../host/api.js';
import type { SidecarConfig, WasmFilterConfig } from './config/types.js';
import { ISTIO_STATS_TAGS, istioDimensionTag, type StatsTagSpec } from './stats-tags.js';

/**
 * `deployer run`'s metrics wiring: the local workload's identity as Istio puts it in node metadata
 * (pkg/model/context.go NodeMetadata: NAME, NAMESPACE, WORKLOAD_NAME, LABELS, CLUSTER_ID,
 * MESH_ID, OWNER …), the listener direction (reporter), the metrics filter last in the chain as
 * every Istio sidecar reports stats, and the `stats_tags` the sidecar's /stats/prometheus applies
 * (Istio's bootstrap tags plus one per custom label the filter's configuration adds, as Istio's
 * extraStatTags).
 */
export interface MetricsWiringOptions {
  /** Put the metrics filter in the chain when absent (`deployer run --istio`); false with --no-metrics. */
  readonly addMetricsFilter: boolean;
  /** `--no-metrics`: take it out even if the configuration names it. */
  readonly removeMetricsFilter?: boolean;
  readonly filtersDir: string;
  readonly namespace: string;
  readonly workloadLabels: Readonly<Record<string, string>>;
  readonly workloadName?: string;
  readonly clusterId?: string;
  /** `--node-metadata <file>`: Istio node metadata (YAML/JSON), bare or as `{id, cluster, metadata}`. */
  readonly nodeMetadataFile?: string;
  readonly direction?: 'inbound' | 'outbound';
  /** Address the sidecar listens on, for the node id. */
  readonly listenHost: string;
}

const METRICS = 'metrics';

function readNodeFile(file: string): { id?: string; cluster?: string; metadata: Record<string, unknown> } {
  if (!existsSync(file)) throw new Error(`--node-metadata: ${file} not found; expected Istio node metadata as YAML or JSON`);
  let value: unknown;
  try {
    value = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`--node-metadata ${file}: not YAML/JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`--node-metadata ${file}: expected a map of node metadata (NAME, NAMESPACE, LABELS, …) or {id, cluster, metadata}`);
  }
  const record = value as Record<string, unknown>;
  if (typeof record.metadata === 'object' && record.metadata !== null && !Array.isArray(record.metadata)) {
    return {
      ...(typeof record.id === 'string' ? { id: record.id } : {}),
      ...(typeof record.cluster === 'string' ? { cluster: record.cluster } : {}),
      metadata: record.metadata as Record<string, unknown>,
    };
  }
  return { metadata: record };
}

/** Node metadata from the file, then the flags (which win). */
export function localNode(options: MetricsWiringOptions): NodeInfo {
  const file = options.nodeMetadataFile === undefined ? { metadata: {} } : readNodeFile(options.nodeMetadataFile);
  const fromFile = file.metadata;
  const fileLabels = (typeof fromFile.LABELS === 'object' && fromFile.LABELS !== null ? fromFile.LABELS : {}) as Record<string, unknown>;
  const labels = { ...fileLabels, ...options.workloadLabels };
  const namespace = options.namespace !== 'default' || typeof fromFile.NAMESPACE !== 'string' ? options.namespace : fromFile.NAMESPACE;
  const workloadName = options.workloadName ?? (typeof fromFile.WORKLOAD_NAME === 'string' ? fromFile.WORKLOAD_NAME : undefined)
    ?? (typeof labels.app === 'string' ? labels.app : 'unknown');
  const name = typeof fromFile.NAME === 'string' ? fromFile.NAME : `${workloadName}-local`;
  const metadata: Record<string, unknown> = {
    MESH_ID: 'cluster.local',
    CLUSTER_ID: 'Kubernetes',
    ...fromFile,
    NAME: name,
    NAMESPACE: namespace,
    WORKLOAD_NAME: workloadName,
    LABELS: labels,
    ...(options.clusterId !== undefined ? { CLUSTER_ID: options.clusterId } : {}),
  };
  return {
    id: file.id ?? `sidecar~${options.listenHost}~${name}.${namespace}~${namespace}.svc.cluster.local`,
    cluster: file.cluster ?? `${workloadName}.${namespace}`,
    metadata,
  };
}

/** Custom labels the metrics filter's configuration adds (tagOverrides keys), for stats_tags. */
export function customLabels(configuration: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(configuration || '{}');
  } catch {
    return [];
  }
  const metrics = (parsed as { metrics?: unknown } | null)?.metrics;
  if (!Array.isArray(metrics)) return [];
  const names = metrics.flatMap((m: { tagOverrides?: unknown }) => (typeof m?.tagOverrides === 'object' && m.tagOverrides !== null ? Object.keys(m.tagOverrides) : []));
  return [...new Set(names)].filter((n) => !ISTIO_STATS_TAGS.some((t) => t.tagName === n));
}

export function applyMetricsWiring(config: SidecarConfig, options: MetricsWiringOptions): SidecarConfig & {
  readonly node: NodeInfo; readonly listenerDirection: ListenerDirection; readonly statsTags: readonly StatsTagSpec[];
} {
  let filters: WasmFilterConfig[] = [...config.filters];
  const existing = filters.find((f) => f.name === METRICS);
  filters = filters.filter((f) => f.name !== METRICS);
  if (options.removeMetricsFilter !== true) {
    if (existing !== undefined) {
      filters.push(existing);
    } else if (options.addMetricsFilter) {
      const wasmFile = path.join(options.filtersDir, `${METRICS}.wasm`);
      if (!existsSync(wasmFile)) throw new Error(`the metrics filter (last in the chain by default) is not built: ${wasmFile} is missing; run npm run build, or pass --no-metrics`);
      // A stats plugin must never take traffic down: fail open.
      filters.push({ name: METRICS, rootId: METRICS, vmId: '', wasmFile, configuration: '{}', vmConfiguration: '', failOpen: true });
    }
  }
  const metrics = filters.find((f) => f.name === METRICS);
  const statsTags = [...ISTIO_STATS_TAGS, ...(metrics === undefined ? [] : customLabels(metrics.configuration).map(istioDimensionTag))];
  return {
    ...config,
    filters,
    node: localNode(options),
    listenerDirection: options.direction === 'outbound' ? 'OUTBOUND' : 'INBOUND',
    statsTags,
  };
}
