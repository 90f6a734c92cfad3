import type { HttpRoute, HttpRouteMatch, MeshModel, MeshService, ServicePort, StringMatch } from '../mesh-model.js';
import type { ResourceReference } from '../types.js';
import { TypeUrl } from '../types.js';
import { outboundClusterName } from './names.js';

/**
 * Outbound virtual hosts for a service port, from its VirtualServices as plain Envoy routes (the
 * header-router filter is the other, wasm, way). Like Istio, a VirtualService's routes replace the
 * default route; without one, everything goes to `outbound|<port>||<host>`.
 * Envoy's route API: envoy/config/route/v3/route_components.proto.
 */
export interface BuiltVirtualHost {
  readonly message: Record<string, unknown>;
  readonly references: ResourceReference[];
}

export function virtualHostFor(model: MeshModel, service: MeshService, host: string, port: ServicePort): BuiltVirtualHost {
  const references: ResourceReference[] = [];
  const cluster = (name: string) => { references.push({ typeUrl: TypeUrl.cluster, name }); return name; };
  const virtualServices = model.virtualServices.filter((vs) => vs.hosts.includes(host));
  const routes: Record<string, unknown>[] = [];
  for (const vs of virtualServices) {
    for (const route of vs.http) {
      const matches = route.matches.length === 0 ? [undefined] : route.matches.filter((m) => m.port === undefined || m.port === port.number);
      for (const match of matches) routes.push({ ...(route.name ? { name: route.name } : {}), match: routeMatch(match), route: routeAction(model, route, port, cluster) });
    }
  }
  if (virtualServices.length === 0) {
    routes.push({ name: 'default', match: { prefix: '/' }, route: { cluster: cluster(outboundClusterName(host, port.number)), timeout: { seconds: 0 } } });
  }
  const shortName = host.split('.')[0]!;
  const domains = [...new Set([host, `${host}:${port.number}`, ...(host.endsWith(`.${service.namespace}.svc.cluster.local`) ? [shortName, `${shortName}:${port.number}`, `${shortName}.${service.namespace}`, `${shortName}.${service.namespace}:${port.number}`] : [])])];
  return { message: { name: `${host}:${port.number}`, domains, routes }, references };
}

function stringMatcher(match: StringMatch): Record<string, unknown> {
  if (match.exact !== undefined) return { exact: match.exact };
  if (match.prefix !== undefined) return { prefix: match.prefix };
  return { safe_regex: { regex: match.regex ?? '' } };
}

function routeMatch(match: HttpRouteMatch | undefined): Record<string, unknown> {
  const uri = match?.uri;
  const path = uri?.exact !== undefined ? { path: uri.exact } : uri?.regex !== undefined ? { safe_regex: { regex: uri.regex } } : { prefix: uri?.prefix ?? '/' };
  const headers = Object.entries(match?.headers ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([name, m]) => ({ name, string_match: stringMatcher(m) }));
  return { ...path, ...(match?.ignoreUriCase ? { case_sensitive: false } : {}), ...(headers.length > 0 ? { headers } : {}) };
}

function routeAction(model: MeshModel, route: HttpRoute, port: ServicePort, cluster: (name: string) => string): Record<string, unknown> {
  const names = route.destinations.map((d) => {
    const target = model.services.find((s) => s.hosts.includes(d.host));
    const targetPort = d.port ?? (target?.ports.length === 1 ? target.ports[0]!.number : port.number);
    return { name: cluster(outboundClusterName(d.host, targetPort, d.subset ?? '')), weight: d.weight };
  });
  const common = {
    timeout: { seconds: Math.floor(route.timeoutSeconds ?? 0), nanos: Math.round(((route.timeoutSeconds ?? 0) % 1) * 1e9) },
    ...(route.prefixRewrite !== undefined ? { prefix_rewrite: route.prefixRewrite } : {}),
  };
  if (names.length === 1) return { cluster: names[0]!.name, ...common };
  // Istio: omitted weights split evenly; weights are relative.
  const allZero = names.every((n) => n.weight === 0);
  return { weighted_clusters: { clusters: names.map((n) => ({ name: n.name, weight: { value: allZero ? 1 : n.weight } })) }, ...common };
}
