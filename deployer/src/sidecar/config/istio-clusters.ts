import { isIP } from 'node:net';
import { extAuthzCluster } from '../../istio/mesh-config.js';
import type { JsonObject, JsonValue } from '../../render/types.js';
import type { FilterTranslation } from '../../translate/index.js';
import { requiredJwksClusters } from '../../translate/request-authentication.js';
import { DEFAULT_CONNECT_TIMEOUT_MS } from './validate.js';
import type { ClusterConfig } from './types.js';

/**
 * The upstream clusters the filters translated by `deployer run --istio` dispatch calls to, as
 * Istio would have them in the sidecar (`outbound|<port>||<host>`, the names the translators
 * write into the filter configs):
 *  - rbac: the ext_authz provider of each CUSTOM policy (`envoyExtAuthzHttp.service`/`port`, or
 *    its `cluster`); filters/rbac/README.md.
 *  - jwt-auth: each remote JWKS (`requiredJwksClusters`, from the jwksUri's host and port).
 * Names in `defined` (the config's own clusters and `--cluster` ones) are left alone. An https
 * jwksUri gets a TLS cluster with SNI = the URI's host, as istiod builds it
 * (pilot/pkg/networking/core/v1alpha3/cluster_reqauth.go buildClusterForJwksURI: Sni = hostname,
 * trust = the system roots). Here the trust is Node's CA store — plus NODE_EXTRA_CA_CERTS for a
 * private CA — and the host name is checked as any https client does (Envoy's validation context
 * there names no SANs, so it checks only the chain: we are stricter, never looser).
 */
export interface DerivedCluster {
  readonly cluster: ClusterConfig;
  /** What it is for and how to remap it, for the `deployer run` log. */
  readonly note: string;
}

function asObject(value: JsonValue | undefined): JsonObject | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

/** Host part of a URL: IPv6 literals keep their brackets. */
function clusterUrl(host: string, port: number, scheme: 'http' | 'https' = 'http'): URL {
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return new URL(`${scheme}://${bracketed}:${port}`);
}

function remapHint(name: string): string {
  return `if it does not resolve here, map it: --cluster '${name}=http://127.0.0.1:<port>'`;
}

/** Provider names CUSTOM policies refer to: only those are called. */
function customProviders(config: JsonObject): Set<string> {
  const used = new Set<string>();
  const policies = config['policies'];
  if (!Array.isArray(policies)) return used;
  for (const policy of policies as readonly JsonValue[]) {
    const spec = asObject(asObject(policy)?.['spec']);
    const name = asObject(spec?.['provider'])?.['name'];
    if (spec?.['action'] === 'CUSTOM' && typeof name === 'string') used.add(name);
  }
  return used;
}

function extAuthzClusters(config: JsonObject): DerivedCluster[] {
  const used = customProviders(config);
  const providers = Array.isArray(config['extensionProviders']) ? (config['extensionProviders'] as readonly JsonValue[]) : [];
  return providers.map(asObject).filter((p): p is JsonObject => p !== undefined && used.has(String(p['name']))).map((provider) => {
    const { name, service, port } = extAuthzCluster(provider);
    return {
      cluster: { name, url: clusterUrl(service, port), connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS },
      note: `cluster ${name} → http://${service}:${port} added for ext_authz provider "${String(provider['name'])}"; ${remapHint(name)}`,
    };
  });
}

function jwksClusters(config: JsonObject, defined: ReadonlySet<string>): DerivedCluster[] {
  return requiredJwksClusters(config).filter((c) => !defined.has(c.name)).map((jwks) => {
    const url = clusterUrl(jwks.host, jwks.port, jwks.tls ? 'https' : 'http');
    // Node refuses an IP address as SNI (RFC 6066); Envoy would send it, the server ignores it.
    const sni = isIP(jwks.host) === 0 ? jwks.host : undefined;
    const tls = jwks.tls ? { tls: sni !== undefined ? { sni } : {} } : {};
    const how = jwks.tls ? ` (TLS${sni !== undefined ? `, SNI ${sni}` : ''}, verified against Node's CA store and NODE_EXTRA_CA_CERTS)` : '';
    return {
      cluster: { name: jwks.name, url, connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS, ...tls },
      note: `cluster ${jwks.name} → ${url.origin}${how} added for jwksUri ${jwks.url}; ${remapHint(jwks.name)}`,
    };
  });
}

export function requiredClusters(translations: readonly FilterTranslation[], defined: ReadonlySet<string>): DerivedCluster[] {
  const derived = new Map<string, DerivedCluster>();
  for (const translation of translations) {
    const found = translation.filter === 'rbac' ? extAuthzClusters(translation.config)
      : translation.filter === 'jwt-auth' ? jwksClusters(translation.config, defined)
      : [];
    for (const cluster of found) if (!defined.has(cluster.cluster.name)) derived.set(cluster.cluster.name, cluster);
  }
  return [...derived.values()];
}
