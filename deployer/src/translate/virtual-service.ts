import { Re2Regex } from '../regex/engine.js';
import type { JsonObject, JsonValue } from '../render/types.js';
import type { IstioResource } from './index.js';
import { hostDomains, outboundCluster, resolveHost } from './istio-hosts.js';
import { hasRouteSettings, protobufDuration, routeSettings } from './route-settings.js';

/**
 * VirtualService (networking.istio.io v1, v1beta1, v1alpha3) + DestinationRule (subsets) → the
 * header-router filter's configuration (filters/header-router/README.md) and the Envoy routes
 * its routing header selects: one per destination cluster, named as Istio names them
 * (`outbound|<port>|<subset>|<host FQDN>`), carrying the route-level settings (timeout,
 * retries, mirrors, CORS). Anything that cannot be carried exactly throws, naming the resource,
 * the rule and the field.
 */

export const ROUTE_HEADER = 'x-wasmesh-route';
export const STICKY_KEY_ANNOTATION = 'wasmesh.io/sticky-key';
export const STICKY_COOKIE_ANNOTATION = 'wasmesh.io/sticky-cookie';
export const STICKY_COOKIE_TTL_ANNOTATION = 'wasmesh.io/sticky-cookie-ttl';
/** Service port for destinations that name none (Istio infers it from the Service, which we do not see). */
export const SERVICE_PORT_ANNOTATION = 'wasmesh.io/service-port';

export interface VirtualServiceTranslateOptions {
  /** `mesh` (sidecars, the default) or a gateway `namespace/name`: which VirtualServices and match entries apply. */
  readonly gateway?: string;
}

export interface RouterTranslation {
  readonly config: JsonObject;
  /** envoy.config.route.v3.Route per destination, matched on the routing header. */
  readonly routes: readonly JsonObject[];
  /** Per route name, the VirtualService rules whose requests it serves (render/route-targets.ts places it by them). */
  readonly uses: ReadonlyMap<string, readonly RouteUse[]>;
}

/** One VirtualService rule (`spec.http[rule]`) sending requests to a route. */
export interface RouteUse {
  readonly vs: IstioResource;
  readonly rule: JsonObject;
}

interface RouteEntry {
  readonly route: JsonObject;
  readonly from: string;
  readonly uses: RouteUse[];
}

function asObject(value: JsonValue | undefined): JsonObject | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

function idOf(r: IstioResource): string {
  return `${r.metadata.namespace ?? 'default'}/${r.metadata.name}`;
}

/** Subset names per resolved host, from DestinationRules. */
function subsetsByHost(rules: readonly IstioResource[]): Map<string, Set<string>> {
  const map = new Map<string, Set<string>>();
  for (const dr of rules) {
    const host = resolveHost(String(dr.spec['host'] ?? ''), dr.metadata.namespace ?? 'default');
    const set = map.get(host) ?? new Set<string>();
    for (const subset of (dr.spec['subsets'] as JsonValue[] | undefined) ?? []) {
      const name = asObject(subset)?.['name'];
      if (typeof name === 'string') set.add(name);
    }
    map.set(host, set);
  }
  return map;
}

/** A VirtualService bound to `gateway` (no gateways: `mesh`, Istio's default). */
function boundTo(gateways: JsonValue | undefined, gateway: string, namespace: string): boolean {
  const list = Array.isArray(gateways) && gateways.length > 0 ? gateways.map(String) : ['mesh'];
  return list.some((g) => g === gateway || (gateway !== 'mesh' && !g.includes('/') && `${namespace}/${g}` === gateway));
}

function stickyFrom(vs: IstioResource): JsonObject | undefined {
  const annotations = (vs.metadata['annotations'] ?? {}) as Record<string, unknown>;
  const key = annotations[STICKY_KEY_ANNOTATION];
  const cookie = annotations[STICKY_COOKIE_ANNOTATION];
  const ttl = annotations[STICKY_COOKIE_TTL_ANNOTATION];
  if (key === undefined && cookie === undefined) return undefined;
  const where = `VirtualService "${idOf(vs)}": metadata.annotations`;
  if (key !== undefined && (typeof key !== 'string' || !/^(header|cookie|query|claim):.+$|^source-ip$/.test(key))) {
    throw new Error(`${where}[${STICKY_KEY_ANNOTATION}]: ${JSON.stringify(key)}: expected header:<name>, cookie:<name>, query:<name>, claim:<name> or source-ip`);
  }
  if (cookie !== undefined && (typeof cookie !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(cookie))) {
    throw new Error(`${where}[${STICKY_COOKIE_ANNOTATION}]: ${JSON.stringify(cookie)}: expected a cookie name`);
  }
  if (ttl !== undefined && (typeof ttl !== 'string' || !/^\d+(\.\d+)?s$/.test(ttl))) {
    throw new Error(`${where}[${STICKY_COOKIE_TTL_ANNOTATION}]: ${JSON.stringify(ttl)}: expected a duration such as "86400s"`);
  }
  return {
    ...(key !== undefined ? { key: key as string } : {}),
    ...(cookie !== undefined ? { cookie: { name: cookie as string, ...(ttl !== undefined ? { ttl: ttl as string } : {}) } } : {}),
  };
}

const MATCH_FIELDS = new Set(['name', 'uri', 'scheme', 'method', 'authority', 'headers', 'withoutHeaders', 'queryParams', 'ignoreUriCase', 'port', 'sourceLabels', 'sourceNamespace', 'gateways', 'statPrefix']);

/** Regexes are checked here too (same engine as the filter), so translate reports them with the resource. */
function checkRegexes(value: JsonValue | undefined, where: string): void {
  const o = asObject(value);
  if (!o) return;
  if (typeof o['regex'] === 'string') {
    try { Re2Regex.compile(o['regex']).release(); } catch (error) { throw new Error(`${where}.regex: ${(error as Error).message}`); }
  }
}

function translateMatch(match: JsonObject, where: string, gateway: string, namespace: string): JsonObject | undefined {
  if (match['gateways'] !== undefined && !boundTo(match['gateways'], gateway, namespace)) return undefined;
  const out: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(match)) {
    if (!MATCH_FIELDS.has(key)) throw new Error(`${where}.${key}: not supported by header-router`);
    if (key === 'gateways' || key === 'statPrefix' || value === undefined) continue;
    if (key === 'uri' || key === 'scheme' || key === 'method' || key === 'authority') checkRegexes(value, `${where}.${key}`);
    if (key === 'headers' || key === 'withoutHeaders' || key === 'queryParams') {
      for (const [name, m] of Object.entries(asObject(value) ?? {})) checkRegexes(m as JsonValue, `${where}.${key}.${name}`);
    }
    out[key] = value;
  }
  return out;
}

interface Context {
  readonly vs: IstioResource;
  readonly namespace: string;
  readonly subsets: Map<string, Set<string>>;
  readonly defaultPort: number | undefined;
}

function clusterFor(ctx: Context, destination: JsonObject, where: string): string {
  const host = destination['host'];
  if (typeof host !== 'string' || host === '') throw new Error(`${where}.host: expected a service host`);
  const fqdn = resolveHost(host, ctx.namespace);
  const portNumber = asObject(destination['port'])?.['number'];
  const port = typeof portNumber === 'number' ? portNumber : ctx.defaultPort;
  if (port === undefined) {
    throw new Error(`${where}.port: no port, and wasmesh cannot see the Service to infer it: set destination.port.number or the ${SERVICE_PORT_ANNOTATION} annotation`);
  }
  const subset = destination['subset'];
  if (subset !== undefined) {
    const known = ctx.subsets.get(fqdn);
    if (typeof subset !== 'string' || !known?.has(subset)) {
      throw new Error(`${where}.subset: "${String(subset)}" of ${fqdn} is not defined by any DestinationRule given (${known && known.size > 0 ? `known: ${[...known].join(', ')}` : 'none for this host'})`);
    }
  }
  return outboundCluster(port, typeof subset === 'string' ? subset : '', fqdn);
}

function bodyString(body: JsonObject, where: string): string {
  if (typeof body['string'] === 'string') return body['string'];
  if (typeof body['bytes'] === 'string') {
    const bytes = Buffer.from(body['bytes'], 'base64');
    const text = new TextDecoder('utf-8', { fatal: true });
    try { return text.decode(bytes); } catch { throw new Error(`${where}.bytes: not UTF-8 text; the filter sends string bodies`); }
  }
  throw new Error(`${where}: expected string or bytes`);
}

function translateRule(ctx: Context, rule: JsonObject, index: number, routes: Map<string, RouteEntry>, gateway: string): JsonObject | undefined {
  const where = `VirtualService "${idOf(ctx.vs)}": spec.http[${index}]`;
  if (rule['delegate'] !== undefined) throw new Error(`${where}.delegate: delegate VirtualServices are not supported by header-router; inline the routes`);
  const out: Record<string, JsonValue> = { name: typeof rule['name'] === 'string' ? rule['name'] : `rule${index}` };
  if (Array.isArray(rule['match'])) {
    const matches = rule['match'].map((m, i) => translateMatch(asObject(m as JsonValue) ?? {}, `${where}.match[${i}]`, gateway, ctx.namespace)).filter((m): m is JsonObject => m !== undefined);
    // Every entry bound to other gateways: the rule does not apply here.
    if (matches.length === 0 && rule['match'].length > 0) return undefined;
    // An entry with only gateways/name matches everything here: same as no match.
    if (!matches.some((m) => Object.keys(m).filter((k) => k !== 'name').length === 0)) out['match'] = matches;
  }
  const settings = routeSettings(rule, where, (d, field) => clusterFor(ctx, d, `${where}.${field}`));
  const ruleHasSettings = hasRouteSettings(rule);
  if (Array.isArray(rule['route'])) {
    out['route'] = rule['route'].map((r, i) => {
      const entry = asObject(r as JsonValue) ?? {};
      const destination = asObject(entry['destination']);
      if (!destination) throw new Error(`${where}.route[${i}].destination: expected a destination`);
      const cluster = clusterFor(ctx, destination, `${where}.route[${i}].destination`);
      // A rule with route-level settings gets routes of its own: the filter sets this key instead of the bare cluster.
      const routeKey = ruleHasSettings ? `${cluster}#${idOf(ctx.vs)}/${String(out['name'])}` : cluster;
      const route: JsonObject = {
        name: `header-router|${routeKey}`,
        match: { prefix: '/', headers: [{ name: ROUTE_HEADER, string_match: { exact: routeKey } }] },
        route: { cluster, timeout: '0s', ...settings.action },
        ...(Object.keys(settings.perFilter).length > 0 ? { typed_per_filter_config: settings.perFilter } : {}),
      };
      const existing = routes.get(routeKey);
      if (existing && JSON.stringify(existing.route) !== JSON.stringify(route)) {
        throw new Error(`${where}: route key ${routeKey} is also used by ${existing.from} with other settings: give the rules distinct names`);
      }
      const uses = existing?.uses ?? [];
      uses.push({ vs: ctx.vs, rule });
      routes.set(routeKey, { route, from: existing?.from ?? where, uses });
      const weight = entry['weight'];
      const headers = asObject(entry['headers']);
      return { destination: cluster, ...(routeKey !== cluster ? { routeKey } : {}), ...(typeof weight === 'number' ? { weight } : {}), ...(headers ? { headers } : {}) };
    });
  } else if (hasRouteSettings(rule)) {
    throw new Error(`${where}: timeout, retries, mirror and corsPolicy need a route to carry them (this rule redirects or answers directly)`);
  }
  if (rule['redirect'] !== undefined) out['redirect'] = rule['redirect'];
  const direct = asObject(rule['directResponse']);
  if (direct) {
    const body = asObject(direct['body']);
    out['directResponse'] = { status: direct['status'] ?? 200, ...(body ? { body: { string: bodyString(body, `${where}.directResponse.body`) } } : {}) };
  }
  const rewrite = asObject(rule['rewrite']);
  if (rewrite) {
    const regex = asObject(rewrite['uriRegexRewrite']);
    if (regex && typeof regex['match'] === 'string') checkRegexes({ regex: regex['match'] }, `${where}.rewrite.uriRegexRewrite.match`);
    out['rewrite'] = rewrite;
  }
  if (rule['fault'] !== undefined) {
    const abort = asObject(asObject(rule['fault'])?.['abort']);
    if (abort?.['http2Error'] !== undefined) throw new Error(`${where}.fault.abort.http2Error: not supported by header-router (it answers with an HTTP status); use httpStatus or grpcStatus`);
    const fault = asObject(rule['fault']) ?? {};
    const delay = asObject(fault['delay']);
    if (delay?.['exponentialDelay'] !== undefined) throw new Error(`${where}.fault.delay.exponentialDelay: not supported (Istio does not implement it either); use fixedDelay`);
    out['fault'] = delay?.['fixedDelay'] !== undefined
      ? { ...fault, delay: { ...delay, fixedDelay: protobufDuration(delay['fixedDelay'], `${where}.fault.delay.fixedDelay`) } }
      : fault;
  }
  if (rule['headers'] !== undefined) out['headers'] = rule['headers'];
  return out;
}

/** All VirtualServices and DestinationRules given; returns the filter config and the routes. */
export function translateVirtualServices(resources: readonly IstioResource[], options: VirtualServiceTranslateOptions = {}): RouterTranslation {
  const gateway = options.gateway ?? 'mesh';
  const subsets = subsetsByHost(resources.filter((r) => r.kind === 'DestinationRule'));
  const routes = new Map<string, RouteEntry>();
  const virtualServices: JsonObject[] = [];
  for (const vs of resources.filter((r) => r.kind === 'VirtualService')) {
    const namespace = vs.metadata.namespace ?? 'default';
    if (!boundTo(vs.spec['gateways'], gateway, namespace)) continue;
    for (const kind of ['tcp', 'tls'] as const) {
      if (Array.isArray(vs.spec[kind]) && vs.spec[kind].length > 0) {
        throw new Error(`VirtualService "${idOf(vs)}": spec.${kind}: ${kind.toUpperCase()} routes are not HTTP; header-router handles spec.http only — move them to a separate VirtualService handled by Istio`);
      }
    }
    const annotations = (vs.metadata['annotations'] ?? {}) as Record<string, unknown>;
    const portText = annotations[SERVICE_PORT_ANNOTATION];
    const defaultPort = portText === undefined ? undefined : Number(portText);
    if (defaultPort !== undefined && !(Number.isInteger(defaultPort) && defaultPort > 0 && defaultPort < 65536)) {
      throw new Error(`VirtualService "${idOf(vs)}": metadata.annotations[${SERVICE_PORT_ANNOTATION}]: ${JSON.stringify(portText)}: expected a port number`);
    }
    const ctx: Context = { vs, namespace, subsets, defaultPort };
    const http = (vs.spec['http'] as JsonValue[] | undefined) ?? [];
    const rules = http
      .map((rule, i) => translateRule(ctx, asObject(rule) ?? {}, i, routes, gateway))
      .filter((r): r is JsonObject => r !== undefined);
    const sticky = stickyFrom(vs);
    const hosts = ((vs.spec['hosts'] as JsonValue[] | undefined) ?? []).flatMap((h) => hostDomains(String(h), namespace));
    virtualServices.push({ name: idOf(vs), hosts: [...new Set(hosts)], ...(sticky ? { sticky } : {}), http: rules });
  }
  const entries = [...routes.values()];
  return { config: { virtualServices }, routes: entries.map((r) => r.route), uses: new Map(entries.map((r) => [String(r.route['name']), r.uses])) };
}
