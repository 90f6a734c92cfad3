import type { JsonObject, JsonValue } from '../render/types.js';
import type { FilterTranslation } from '../translate/index.js';
import type { ClusterConfig, RouteConfig } from './config/types.js';

/**
 * `deployer run --istio` with VirtualServices: the routes the header-router's routing header
 * selects (one per destination, or per rule when it has route-level settings), placed before the
 * config's own routes. Each names an Istio cluster (`outbound|<port>|<subset>|<FQDN>`) that must
 * be bound with `--cluster name=url`: a missing one stops the start-up, naming the flag to add.
 * The local sidecar implements the route timeout; retries, mirrors and CORS policies are
 * refused here rather than silently ignored (`deployer render` carries them to Envoy).
 */
export function routerRoutesForRun(translations: readonly FilterTranslation[], clusters: ReadonlyMap<string, ClusterConfig>): RouteConfig[] {
  const routes: RouteConfig[] = [];
  const unbound: string[] = [];
  for (const translation of translations) {
    for (const route of translation.routes ?? []) {
      const name = String(route['name']);
      const action = (route['route'] ?? {}) as JsonObject;
      const unsupported = [
        action['retry_policy'] !== undefined ? 'retries' : undefined,
        action['request_mirror_policies'] !== undefined ? 'mirror' : undefined,
        route['typed_per_filter_config'] !== undefined ? 'corsPolicy' : undefined,
      ].filter((f): f is string => f !== undefined);
      if (unsupported.length > 0) {
        throw new Error(`--istio: route ${name} (from ${translation.sources.join(', ')}) needs ${unsupported.join(', ')}, which the local sidecar does not implement (deployer render carries them to Envoy): remove them for a local run`);
      }
      const cluster = String(action['cluster']);
      if (!clusters.has(cluster) && !unbound.includes(cluster)) unbound.push(cluster);
      const header = ((route['match'] as JsonObject)['headers'] as JsonValue[])[0] as JsonObject;
      routes.push({
        name,
        path: { kind: 'prefix', value: '/' },
        headers: [{ name: String(header['name']), match: { kind: 'exact', value: String((header['string_match'] as JsonObject)['exact']) }, invert: false }],
        cluster,
        timeoutMs: durationMs(action['timeout']),
      });
    }
  }
  if (unbound.length > 0) {
    throw new Error(`--istio: VirtualService destinations without an address: ${unbound.join(', ')}; bind each to an upstream: ${unbound.map((c) => `--cluster '${c}=http://127.0.0.1:<port>'`).join(' ')}`);
  }
  return routes;
}

/** Protobuf JSON duration (`2s`, `0.5s`) → ms; Istio's default for VirtualService routes is 0 (no timeout). */
function durationMs(value: JsonValue | undefined): number {
  return typeof value === 'string' ? Math.round(Number(value.slice(0, -1)) * 1000) : 0;
}
