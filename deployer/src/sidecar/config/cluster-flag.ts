import { DEFAULT_CONNECT_TIMEOUT_MS, parseClusterUrl } from './validate.js';
import type { ClusterConfig } from './types.js';

/**
 * `deployer run --cluster name=http://host:port` (repeatable): adds a cluster to the sidecar
 * config or replaces the one of that name. Its use is mapping a name the sidecar cannot reach
 * as such (an Istio `outbound|8000||ext-authz.foo.svc.cluster.local` cluster, an https JWKS
 * host) to a local clear-text endpoint. The URL obeys the rules of sidecar.yaml `clusters`, plus
 * an optional path: where a JWKS fetched through the cluster is served (jwks-mapping.ts).
 */
export function parseClusterFlag(text: string): ClusterConfig {
  const eq = text.indexOf('=');
  const fail = (_field: string, problem: string): never => {
    throw new Error(`--cluster "${text}": ${problem}`);
  };
  if (eq <= 0) return fail('', 'expected name=http://host:port[/path], e.g. "outbound|8000||ext-authz.foo.svc.cluster.local=http://127.0.0.1:9000"');
  const name = text.slice(0, eq);
  // A path is kept: a JWKS mapped here is fetched from it (jwks-mapping.ts). The rest obeys sidecar.yaml's rules.
  const target = text.slice(eq + 1);
  const withoutPath = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)(\/[^?#]*)?$/i.exec(target);
  // `fail` throws, so a URL came back.
  const url = parseClusterUrl(withoutPath ? withoutPath[1]! : target, '', fail)!;
  if (withoutPath?.[2] && withoutPath[2] !== '/') url.pathname = withoutPath[2];
  return { name, url, connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS };
}

/** The `--cluster` values in order; a name given twice is a mistake, not an override. */
export function parseClusterFlags(values: readonly string[]): ClusterConfig[] {
  const clusters = values.map(parseClusterFlag);
  const seen = new Set<string>();
  for (const cluster of clusters) {
    if (seen.has(cluster.name)) throw new Error(`--cluster: "${cluster.name}" is given twice: expected each cluster name once`);
    seen.add(cluster.name);
  }
  return clusters;
}

/** `base` with `added` put in (same name: replaced), in insertion order. */
export function withClusters(base: ReadonlyMap<string, ClusterConfig>, added: readonly ClusterConfig[]): ReadonlyMap<string, ClusterConfig> {
  const clusters = new Map(base);
  for (const cluster of added) clusters.set(cluster.name, cluster);
  return clusters;
}
