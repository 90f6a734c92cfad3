import { jwksClusterFor } from '../../translate/request-authentication.js';
import type { ClusterConfig, SidecarConfig } from './types.js';

/**
 * `deployer run --cluster name=http://host:port[/path]` for a cluster jwt-auth fetches a remote
 * JWKS through: the fetch goes to the mapped endpoint — its path when the mapping has one, else
 * the jwksUri's own path — and the filter is given that URL as `jwks_uri`, so the request's
 * :authority and :path, and every JWKS warning the filter logs, name where the keys really came
 * from rather than the remote URI (`https://issuer.example/...`) no request went to.
 */
export function routeJwksThroughMappedClusters(config: SidecarConfig, mapped: readonly ClusterConfig[], note: (line: string) => void = () => {}): SidecarConfig {
  if (mapped.length === 0) return config;
  const byName = new Map(mapped.map((c) => [c.name, c]));
  const filters = config.filters.map((filter) => {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(filter.configuration) as Record<string, unknown>;
    } catch {
      return filter; // not JSON: not a jwt-auth config this can read; the filter reports it.
    }
    const providers = parsed?.['providers'];
    if (typeof providers !== 'object' || providers === null || Array.isArray(providers)) return filter;
    let changed = false;
    for (const [name, value] of Object.entries(providers as Record<string, Record<string, unknown>>)) {
      const uri = value?.['jwks_uri'];
      if (typeof uri !== 'string') continue;
      const clusterName = typeof value['jwks_cluster'] === 'string' ? value['jwks_cluster'] : jwksClusterFor(uri, `${filter.name}: providers.${name}`).name;
      const cluster = byName.get(clusterName);
      if (!cluster) continue;
      const original = new URL(uri);
      const target = new URL(cluster.url.href);
      if (target.pathname === '/') {
        target.pathname = original.pathname;
        target.search = original.search;
      }
      value['jwks_uri'] = target.href;
      value['jwks_cluster'] = clusterName;
      changed = true;
      note(`${filter.name}: providers.${name}: jwksUri ${uri} is fetched from ${target.href} (--cluster ${clusterName})`);
    }
    return changed ? { ...filter, configuration: JSON.stringify(parsed) } : filter;
  });
  return { ...config, filters };
}
