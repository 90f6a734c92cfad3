import type { IstioResource } from '../translate/index.js';
import { resolveHost } from '../translate/istio-hosts.js';
import { SERVICE_PORT_ANNOTATION, type RouteUse } from '../translate/virtual-service.js';
import type { JsonObject, JsonValue } from './types.js';

/**
 * Where header-router's routes go: the virtual hosts Istio builds for the VirtualServices whose
 * rules send requests to them, so the HTTP_ROUTE patches land there and nowhere else.
 *
 * Istio names a virtual host `<host>:<port>` (util.DomainName) — the VirtualService host resolved
 * to its FQDN, and the port the client calls:
 * - sidecars (pilot/pkg/networking/core/httproute.go BuildSidecarOutboundVirtualHosts) put it in
 *   the route configuration named `<port>`, or `<host>:<port>` when the port's protocol is sniffed.
 *   The patch matches the virtual host by name only: EnvoyFilter's `routeConfiguration.portNumber`
 *   is compared with the route configuration's name parsed as a number (envoyfilter/rc_patch.go
 *   routeConfigurationMatch), which a sniffed port's name is not, and the port is already in the
 *   virtual host's name;
 * - gateways (core/gateway.go buildGatewayHTTPRouteConfig) use the Gateway server's port, in the
 *   route configuration `http.<port>` (or `https.<port>.<portName>.<gateway>.<namespace>`): the
 *   patch matches `portNumber` (which rc_patch.go reads from both forms) and the virtual host.
 *
 * The port, most specific first: the rule's `match[].port`; the VirtualService's
 * `wasmesh.io/service-port` annotation; the ports of a ServiceEntry for the host; the
 * `portLevelSettings` ports of a DestinationRule for the host; a destination's `port.number`
 * when the destination is the host itself. For gateways: `match[].port`, else the ports of the
 * HTTP servers of the VirtualService's Gateways that serve the host. Unknown (or a wildcard host,
 * whose virtual hosts are named after the services it matches): the route is placed in every
 * route configuration, as before — inert wherever the filter does not tag a request with its key.
 */

export interface VhostTarget {
  /** The port in the virtual host's name (and, for gateways, the route configuration's port). */
  readonly port: number;
  /** `<host>:<port>`. */
  readonly vhost: string;
}

export interface RouteTargets {
  /** Route name → virtual hosts at sidecars; a route absent here goes to every route configuration. */
  readonly sidecar: ReadonlyMap<string, readonly VhostTarget[]>;
  readonly gateway: ReadonlyMap<string, readonly VhostTarget[]>;
  /** Why routes are untargeted, per context: `<VirtualService>: <reason>`. */
  readonly unknown: { readonly sidecar: readonly string[]; readonly gateway: readonly string[] };
}

const HTTP_PROTOCOLS = new Set(['HTTP', 'HTTP2', 'HTTPS', 'GRPC', 'GRPC-WEB']);

function asObject(value: JsonValue | undefined): JsonObject | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

function list(value: JsonValue | undefined): JsonValue[] {
  return Array.isArray(value) ? value : [];
}

function portNumber(value: JsonValue | undefined): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value < 65536 ? value : undefined;
}

function idOf(r: IstioResource): string {
  return `${r.metadata.namespace ?? 'default'}/${r.metadata.name}`;
}

const namespaceOf = (r: IstioResource) => r.metadata.namespace ?? 'default';

/** The rule's `match[].port`s, when every entry names one (an entry without a port matches every port). */
function rulePorts(rule: JsonObject): number[] | undefined {
  const matches = list(rule['match']).map((m) => asObject(m) ?? {});
  if (matches.length === 0) return undefined;
  const ports = matches.map((m) => portNumber(m['port']));
  return ports.every((p): p is number => p !== undefined) ? [...new Set(ports)] : undefined;
}

/** Sidecar ports of `host` known from the VirtualService and the resources given beside it. */
function servicePorts(vs: IstioResource, rule: JsonObject, host: string, resources: readonly IstioResource[]): number[] {
  const annotation = portNumber(Number((vs.metadata['annotations'] as Record<string, string> | undefined)?.[SERVICE_PORT_ANNOTATION]));
  if (annotation !== undefined) return [annotation];
  const ofHost = (r: IstioResource, field: string) => list(r.spec[field]).some((h) => resolveHost(String(h), namespaceOf(r)) === host);
  const entries = resources.filter((r) => r.kind === 'ServiceEntry' && ofHost(r, 'hosts'));
  const entryPorts = entries.flatMap((se) => list(se.spec['ports']).map((p) => portNumber(asObject(p)?.['number'])));
  if (entryPorts.length > 0) return [...new Set(entryPorts.filter((p): p is number => p !== undefined))];
  const rules = resources.filter((r) => r.kind === 'DestinationRule' && resolveHost(String(r.spec['host'] ?? ''), namespaceOf(r)) === host);
  const levelPorts = rules.flatMap((dr) => list(asObject(dr.spec['trafficPolicy'])?.['portLevelSettings']).map((s) => portNumber(asObject(asObject(s)?.['port'])?.['number'])));
  if (levelPorts.length > 0) return [...new Set(levelPorts.filter((p): p is number => p !== undefined))];
  const destinations = list(rule['route']).map((r) => asObject(asObject(r)?.['destination']) ?? {});
  const own = destinations.filter((d) => resolveHost(String(d['host'] ?? ''), namespaceOf(vs)) === host).map((d) => portNumber(asObject(d['port'])?.['number']));
  return [...new Set(own.filter((p): p is number => p !== undefined))];
}

/** Istio host matching between a Gateway server host (`ns/host` or `host`, wildcards) and a VirtualService host. */
function serverServes(serverHost: string, host: string, vsNamespace: string, gatewayNamespace: string): boolean {
  const [ns, name] = serverHost.includes('/') ? serverHost.split('/', 2) as [string, string] : ['*', serverHost];
  // `./host`: VirtualServices of the Gateway's own namespace (Istio's Server.hosts).
  if (ns !== '*' && (ns === '.' ? gatewayNamespace : ns) !== vsNamespace) return false;
  const matches = (pattern: string, h: string) => pattern === '*' || pattern === h || (pattern.startsWith('*.') && h.endsWith(pattern.slice(1)));
  return matches(name.toLowerCase(), host) || matches(host, name.toLowerCase());
}

/** Gateway server ports serving `host`, from the Gateways the VirtualService is bound to. */
function gatewayPorts(vs: IstioResource, host: string, resources: readonly IstioResource[]): number[] {
  const bound = list(vs.spec['gateways']).map(String).filter((g) => g !== 'mesh').map((g) => (g.includes('/') ? g : `${namespaceOf(vs)}/${g}`));
  const gateways = resources.filter((r) => r.kind === 'Gateway' && bound.includes(idOf(r)));
  const ports = gateways.flatMap((gw) => list(gw.spec['servers']).map((s) => asObject(s) ?? {})
    .filter((s) => HTTP_PROTOCOLS.has(String(asObject(s['port'])?.['protocol'] ?? '').toUpperCase()))
    .filter((s) => list(s['hosts']).some((h) => serverServes(String(h), host, namespaceOf(vs), namespaceOf(gw))))
    .map((s) => portNumber(asObject(s['port'])?.['number'])));
  return [...new Set(ports.filter((p): p is number => p !== undefined))];
}

const SIDECAR_HINT = `set match[].port, the ${SERVICE_PORT_ANNOTATION} annotation, or give its ServiceEntry or a DestinationRule with portLevelSettings`;
const GATEWAY_HINT = 'set match[].port, or give the Gateway it is bound to';

type PortsOf = (use: RouteUse, host: string) => number[];

/** The virtual hosts of every use of one route; undefined with a reason when one use's port is unknown. */
function vhostsOf(uses: readonly RouteUse[], portsOf: PortsOf, hint: string): { targets?: VhostTarget[]; reason?: string } {
  const targets = new Map<string, VhostTarget>();
  for (const use of uses) {
    for (const raw of list(use.vs.spec['hosts']).map(String)) {
      const host = resolveHost(raw, namespaceOf(use.vs));
      if (host.includes('*')) return { reason: `${idOf(use.vs)}: host ${raw} is a wildcard (its virtual hosts are named after the services it matches)` };
      const ports = portsOf(use, host);
      if (ports.length === 0) return { reason: `${idOf(use.vs)}: no port known for host ${raw} (${hint})` };
      for (const port of ports) targets.set(`${host}:${port}`, { port, vhost: `${host}:${port}` });
    }
  }
  return { targets: [...targets.values()] };
}

/** Targets of every route of a header-router translation, for sidecars and for gateways. */
export function routeTargets(uses: ReadonlyMap<string, readonly RouteUse[]>, resources: readonly IstioResource[]): RouteTargets {
  const sidecarPorts: PortsOf = (use, host) => rulePorts(use.rule) ?? servicePorts(use.vs, use.rule, host, resources);
  const gatewayPortsOf: PortsOf = (use, host) => rulePorts(use.rule) ?? gatewayPorts(use.vs, host, resources);
  const sidecar = new Map<string, readonly VhostTarget[]>();
  const gateway = new Map<string, readonly VhostTarget[]>();
  const unknown = { sidecar: new Set<string>(), gateway: new Set<string>() };
  for (const [name, routeUses] of uses) {
    for (const [map, portsOf, reasons, hint] of [[sidecar, sidecarPorts, unknown.sidecar, SIDECAR_HINT], [gateway, gatewayPortsOf, unknown.gateway, GATEWAY_HINT]] as const) {
      const { targets, reason } = vhostsOf(routeUses, portsOf, hint);
      if (targets !== undefined) map.set(name, targets);
      else reasons.add(reason!);
    }
  }
  return { sidecar, gateway, unknown: { sidecar: [...unknown.sidecar], gateway: [...unknown.gateway] } };
}
