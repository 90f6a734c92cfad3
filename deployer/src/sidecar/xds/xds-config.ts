import { DEFAULT_HCM, DEFAULT_PER_CONNECTION_BUFFER_LIMIT_BYTES, defaultMaxDownstreamConnections } from '../hcm/config.js';
import { Re2Regex } from '../../regex/engine.js';
import { xdsType } from '../../control-plane/xds-protos.js';
import type { ClusterConfig, HeaderMatcher, ListenAddress, PathMatch, RouteConfig, SidecarConfig, StringMatch, WasmFilterConfig } from '../config/types.js';

/**
 * `deployer run --xds` without `--config`: the sidecar's whole configuration from xDS. The inbound
 * listener (`virtualInbound`, or the only listener) gives the listen address and, from its first
 * HTTP connection manager's inline route configuration, the routes; CDS/EDS give each routed
 * cluster's address (the local sidecar's clusters are single-endpoint URLs, so the first healthy
 * endpoint is used); ECDS gives the filters.
 */
interface AnyMessage { readonly type_url: string; readonly value: Uint8Array }
interface SocketAddressMessage { readonly address?: string; readonly port_value?: number }
interface EndpointsMessage { readonly endpoints?: readonly { readonly lb_endpoints?: readonly { readonly endpoint?: { readonly address?: { readonly socket_address?: SocketAddressMessage } } }[] }[] }
interface ClusterMessage { readonly name: string; readonly type?: number; readonly load_assignment?: EndpointsMessage | null; readonly connect_timeout?: { seconds?: number | Long; nanos?: number } | null }
interface Long { toNumber(): number }
interface StringMatcherMessage { readonly exact?: string; readonly prefix?: string; readonly suffix?: string; readonly contains?: string; readonly safe_regex?: { regex?: string } | null }
interface RouteMessage {
  readonly name?: string;
  readonly match?: { readonly prefix?: string; readonly path?: string; readonly safe_regex?: { regex?: string } | null; readonly headers?: readonly { name: string; string_match?: StringMatcherMessage | null; invert_match?: boolean }[] } | null;
  readonly route?: { readonly cluster?: string; readonly timeout?: { seconds?: number | Long; nanos?: number } | null } | null;
}

export class XdsConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XdsConfigError';
  }
}

const ms = (d: { seconds?: number | Long; nanos?: number } | null | undefined, fallback: number): number =>
  d ? (typeof d.seconds === 'object' ? d.seconds.toNumber() : d.seconds ?? 0) * 1000 + Math.round((d.nanos ?? 0) / 1e6) : fallback;

function has<T extends object>(message: T, field: keyof T): boolean {
  return Object.prototype.hasOwnProperty.call(message, field);
}

function stringMatch(m: StringMatcherMessage): StringMatch {
  if (has(m, 'exact')) return { kind: 'exact', value: m.exact! };
  if (has(m, 'prefix')) return { kind: 'prefix', value: m.prefix! };
  if (has(m, 'suffix')) return { kind: 'suffix', value: m.suffix! };
  if (has(m, 'contains')) return { kind: 'contains', value: m.contains! };
  return { kind: 'regex', value: safeRegex(m.safe_regex?.regex ?? '', 'string_match.safe_regex.regex') };
}

/** Envoy's safe_regex (RE2 syntax, full match) on the project's one RE2 engine, as the file config compiles it. */
function safeRegex(pattern: string, field: string): Re2Regex {
  try {
    return Re2Regex.compile(pattern);
  } catch (error) {
    throw new XdsConfigError(`${field}: invalid regular expression ${JSON.stringify(pattern)}: ${(error as Error).message}`);
  }
}

function routeFrom(route: RouteMessage, index: number): RouteConfig {
  const match = route.match ?? {};
  const path: PathMatch = has(match, 'path') ? { kind: 'path', value: match.path! } : match.safe_regex ? { kind: 'regex', value: safeRegex(match.safe_regex.regex ?? '', `route ${route.name || `#${index}`}: match.safe_regex.regex`) } : { kind: 'prefix', value: match.prefix ?? '/' };
  const headers = (match.headers ?? []).map((h): HeaderMatcher => ({ name: h.name, ...(h.string_match ? { match: stringMatch(h.string_match) } : {}), invert: h.invert_match ?? false }));
  const cluster = route.route?.cluster;
  if (!cluster) throw new XdsConfigError(`route ${route.name || `#${index}`}: only route.cluster actions are served by the local sidecar`);
  return { name: route.name || `route-${index}`, path, headers, cluster, timeoutMs: ms(route.route?.timeout, 15_000) };
}

function firstEndpoint(assignment: EndpointsMessage | null | undefined): SocketAddressMessage | undefined {
  for (const locality of assignment?.endpoints ?? []) for (const lb of locality.lb_endpoints ?? []) if (lb.endpoint?.address?.socket_address) return lb.endpoint.address.socket_address;
  return undefined;
}

export interface XdsResources {
  readonly listeners: readonly AnyMessage[];
  readonly clusters: readonly AnyMessage[];
  readonly endpoints: readonly AnyMessage[];
  readonly filters: readonly WasmFilterConfig[];
  readonly admin: ListenAddress;
  /** Where to listen instead of the inbound listener's own address (`--inbound-address`). */
  readonly listen?: ListenAddress;
}

/** The clusters an inbound route uses that CDS must deliver (and EDS, for EDS clusters). */
export function sidecarConfigFromXds(resources: XdsResources): SidecarConfig {
  const listenerType = xdsType('envoy.config.listener.v3.Listener');
  const hcmType = xdsType('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager');
  const listeners = resources.listeners.map((a) => listenerType.decode(a.value) as unknown as { name: string; address?: { socket_address?: SocketAddressMessage }; per_connection_buffer_limit_bytes?: { value?: number } | null; filter_chains: { filters: { typed_config?: AnyMessage | null }[] }[] });
  const inbound = listeners.find((l) => l.name === 'virtualInbound') ?? (listeners.length === 1 ? listeners[0] : undefined);
  if (!inbound) throw new XdsConfigError(`no inbound listener: expected virtualInbound among ${listeners.map((l) => l.name).join(', ') || 'no listeners'}`);
  const hcm = hcmType.decode(inbound.filter_chains[0]?.filters[0]?.typed_config?.value ?? new Uint8Array()) as unknown as { route_config?: { virtual_hosts?: readonly { routes?: readonly RouteMessage[] }[] } | null };
  if (!hcm.route_config) throw new XdsConfigError(`listener ${inbound.name}: expected an inline route_config on its HTTP connection manager`);
  const routes = (hcm.route_config.virtual_hosts ?? []).flatMap((v) => v.routes ?? []).map(routeFrom);
  const clusterType = xdsType('envoy.config.cluster.v3.Cluster');
  const assignmentType = xdsType('envoy.config.endpoint.v3.ClusterLoadAssignment');
  const clusterMessages = new Map(resources.clusters.map((a) => { const c = clusterType.decode(a.value) as unknown as ClusterMessage; return [c.name, c]; }));
  const assignments = new Map(resources.endpoints.map((a) => { const e = assignmentType.decode(a.value) as unknown as EndpointsMessage & { cluster_name: string }; return [e.cluster_name, e]; }));
  const clusters = new Map<string, ClusterConfig>();
  for (const name of new Set(routes.map((r) => r.cluster))) {
    const cluster = clusterMessages.get(name);
    if (!cluster) throw new XdsConfigError(`route cluster ${name} is not in CDS`);
    const address = firstEndpoint(cluster.load_assignment) ?? firstEndpoint(assignments.get(name));
    if (!address?.address || !address.port_value) throw new XdsConfigError(`cluster ${name} has no endpoint yet`);
    const host = address.address.includes(':') ? `[${address.address}]` : address.address;
    clusters.set(name, { name, url: new URL(`http://${host}:${address.port_value}`), connectTimeoutMs: ms(cluster.connect_timeout, 5000) });
  }
  const listen = inbound.address?.socket_address;
  return {
    listen: resources.listen ?? { host: listen?.address ?? '0.0.0.0', port: listen?.port_value ?? 15006 },
    admin: resources.admin, workers: 1, filters: resources.filters, clusters, routes,
    // The HCM stage and connection cap with an Istio sidecar's defaults (sidecar/hcm/config.ts).
    hcm: DEFAULT_HCM, accessLogFormat: 'envoy', overload: { maxActiveDownstreamConnections: defaultMaxDownstreamConnections(undefined) },
    perConnectionBufferLimitBytes: inbound.per_connection_buffer_limit_bytes?.value ?? DEFAULT_PER_CONNECTION_BUFFER_LIMIT_BYTES,
  };
}
