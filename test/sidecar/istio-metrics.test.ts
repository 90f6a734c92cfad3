/**
 * deployer run's metrics wiring (deployer/src/sidecar/istio-metrics.ts): node metadata from
 * --node-metadata and the identity flags, the metrics filter last (or out with --no-metrics), and
 * the stats_tags /stats/prometheus applies.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SidecarConfig, WasmFilterConfig } from '../../deployer/src/sidecar/config/types.js';
import { applyMetricsWiring, localNode, type MetricsWiringOptions } from '../../deployer/src/sidecar/istio-metrics.js';
import { repoRoot } from '../setup/paths.js';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'metrics', 'node-metadata');
const base: MetricsWiringOptions = { addMetricsFilter: true, filtersDir: path.join(repoRoot, 'build', 'filters'), namespace: 'default', workloadLabels: {}, listenHost: '127.0.0.1' };
const filter = (name: string, configuration = '{}'): WasmFilterConfig => ({ name, rootId: name, vmId: '', wasmFile: `/x/${name}.wasm`, configuration, vmConfiguration: '', failOpen: false });
const config = (filters: WasmFilterConfig[]): SidecarConfig => ({
  listen: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 }, workers: 1, filters, clusters: new Map(), routes: [],
} as unknown as SidecarConfig);

interface NodeCase { readonly name: string; readonly options: Partial<MetricsWiringOptions>; readonly metadata: Record<string, unknown>; readonly id?: string }

describe('sidecar: metrics identity for deployer run', () => {
  it.each<NodeCase>([
    { name: 'flags only', options: { namespace: 'shop', workloadLabels: { app: 'cart', version: 'v1' } },
      metadata: { NAMESPACE: 'shop', WORKLOAD_NAME: 'cart', NAME: 'cart-local', CLUSTER_ID: 'Kubernetes', MESH_ID: 'cluster.local', LABELS: { app: 'cart', version: 'v1' } },
      id: 'sidecar~127.0.0.1~cart-local.shop~shop.svc.cluster.local' },
    { name: '--workload-name and --cluster-id', options: { workloadLabels: { app: 'cart' }, workloadName: 'cart-v1', clusterId: 'west' },
      metadata: { WORKLOAD_NAME: 'cart-v1', CLUSTER_ID: 'west', NAMESPACE: 'default' } },
    { name: '--node-metadata bare map', options: { nodeMetadataFile: path.join(fixtures, 'bare.yaml') },
      metadata: { NAME: 'reviews-v2-5b4f8f6d9-x2k7p', NAMESPACE: 'bookinfo', WORKLOAD_NAME: 'reviews-v2', CLUSTER_ID: 'east', LABELS: { app: 'reviews', version: 'v2' } } },
    { name: '--node-metadata {id, cluster, metadata}, flags win', options: { nodeMetadataFile: path.join(fixtures, 'node.json'), workloadLabels: { version: 'v3' }, clusterId: 'south' },
      metadata: { NAMESPACE: 'bookinfo', WORKLOAD_NAME: 'reviews-v2', MESH_ID: 'mesh1', CLUSTER_ID: 'south', LABELS: { app: 'reviews', version: 'v3' } },
      id: 'sidecar~10.0.0.9~reviews-v2.bookinfo~bookinfo.svc.cluster.local' },
  ])('sidecar: node metadata from $name', ({ options, metadata, id }) => {
    const node = localNode({ ...base, ...options });
    expect(node.metadata).toMatchObject(metadata);
    if (id !== undefined) expect(node.id).toBe(id);
  });

  it('sidecar: --node-metadata names a missing file', () => {
    expect(() => localNode({ ...base, nodeMetadataFile: '/nonexistent/node.yaml' })).toThrow('--node-metadata: /nonexistent/node.yaml not found');
  });

  it('sidecar: the metrics filter goes last, failing open, with Istio\'s stats_tags plus its custom labels', () => {
    const wired = applyMetricsWiring(config([filter('metrics', '{"metrics":[{"tagOverrides":{"user_tier":{"value":"\'x\'"}}}]}'), filter('rbac')]), base);
    expect(wired.filters.map((f) => f.name)).toEqual(['rbac', 'metrics']);
    expect(wired.statsTags.map((t) => t.tagName)).toContain('user_tier');
    const added = applyMetricsWiring(config([filter('rbac')]), base);
    expect(added.filters.map((f) => [f.name, f.failOpen])).toEqual([['rbac', false], ['metrics', true]]);
    expect(added.listenerDirection).toBe('INBOUND');
    expect(applyMetricsWiring(config([filter('rbac')]), { ...base, direction: 'outbound' }).listenerDirection).toBe('OUTBOUND');
  });

  it('sidecar: --no-metrics leaves the metrics filter out', () => {
    const wired = applyMetricsWiring(config([filter('rbac'), filter('metrics')]), { ...base, addMetricsFilter: false, removeMetricsFilter: true });
    expect(wired.filters.map((f) => f.name)).toEqual(['rbac']);
  });
});
