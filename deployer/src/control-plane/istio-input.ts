import type { IstioResource } from '../translate/index.js';
import { TRANSLATORS } from '../translate/index.js';
import {
  qualifyHost, type HttpRoute, type HttpRouteMatch, type LbPolicy, type MeshDestinationRule, type MeshService, type MeshVirtualService,
  parseTrafficSelectors, type RouteDestination, type ServicePort, type StringMatch, type TrafficSelector, type WasmPhase, type WorkloadEndpoint,
} from './mesh-model.js';

/** One YAML document of the config directory, already validated against its Istio CRD. */
export interface SourcedResource {
  readonly file: string;
  /** 1-based document index in the file. */
  readonly document: number;
  readonly resource: IstioResource;
}

/** An input the control plane cannot serve: names the file, the document and the field. */
export class ConfigInputError extends Error {
  constructor(readonly file: string, readonly document: number, readonly field: string, detail: string) {
    super(`${file}: document ${document}${field ? `: ${field}` : ''}: ${detail}`);
    this.name = 'ConfigInputError';
  }
}

/** A WasmPlugin before its module is fetched (config-dir.ts resolves `url`). */
export interface WasmPluginInput {
  readonly at: SourcedResource;
  readonly name: string;
  readonly namespace: string;
  readonly url: string;
  readonly sha256?: string;
  readonly rootId: string;
  readonly selector: Readonly<Record<string, string>>;
  readonly phase: WasmPhase;
  readonly priority: number;
  readonly configuration: string;
  readonly failOpen: boolean;
  /** spec.match; empty: every listener. */
  readonly traffic: readonly TrafficSelector[];
}

export interface ConvertedInput {
  readonly services: MeshService[];
  readonly workloadEntries: WorkloadEndpoint[];
  readonly destinationRules: MeshDestinationRule[];
  readonly virtualServices: MeshVirtualService[];
  readonly wasmPlugins: WasmPluginInput[];
  readonly policies: IstioResource[];
}

type Spec = Record<string, unknown>;
const POLICY_KINDS = new Set(TRANSLATORS.map((t) => t.kind));

/**
 * Istio resources → the control plane's model; anything it would have to ignore is refused instead.
 * Without `report` the first refusal throws; with it, every refused resource is reported and left
 * out, so a caller can list all of them at once (config-dir.ts).
 */
export function convertResources(inputs: readonly SourcedResource[], defaultNamespace = 'default', report?: (error: ConfigInputError) => void): ConvertedInput {
  const out: ConvertedInput = { services: [], workloadEntries: [], destinationRules: [], virtualServices: [], wasmPlugins: [], policies: [] };
  for (const at of inputs) {
    if (report === undefined) {
      convertOne(at, defaultNamespace, out);
      continue;
    }
    try {
      convertOne(at, defaultNamespace, out);
    } catch (error) {
      if (!(error instanceof ConfigInputError)) throw error;
      report(error);
    }
  }
  return out;
}

function convertOne(at: SourcedResource, defaultNamespace: string, out: ConvertedInput): void {
  const { resource } = at;
  const namespace = resource.metadata.namespace ?? defaultNamespace;
  const spec = resource.spec as Spec;
  const source = `${namespace}/${resource.metadata.name}`;
  switch (resource.kind) {
    case 'ServiceEntry': out.services.push(serviceEntry(at, spec, namespace, source)); break;
    case 'WorkloadEntry': out.workloadEntries.push(workloadEntry(at, spec, resource.metadata.name, namespace, 'spec')); break;
    case 'DestinationRule': out.destinationRules.push(destinationRule(at, spec, namespace, source)); break;
    case 'VirtualService': { const vs = virtualService(at, spec, namespace, source); if (vs) out.virtualServices.push(vs); break; }
    case 'WasmPlugin': out.wasmPlugins.push(wasmPlugin(at, spec, resource.metadata.name, namespace)); break;
    default:
      if (POLICY_KINDS.has(resource.kind)) { out.policies.push({ ...resource, metadata: { ...resource.metadata, namespace } }); break; }
      throw new ConfigInputError(at.file, at.document, 'kind', `${resource.kind} is not served by this control plane: expected ServiceEntry, WorkloadEntry, DestinationRule, VirtualService, WasmPlugin, ${[...POLICY_KINDS].join(', ')}`);
  }
}

function fail(at: SourcedResource, field: string, detail: string): never {
  throw new ConfigInputError(at.file, at.document, field, detail);
}

function serviceEntry(at: SourcedResource, spec: Spec, namespace: string, source: string): MeshService {
  const ports = ((spec.ports as Spec[] | undefined) ?? []).map((p, i): ServicePort => ({
    number: Number(p.number), name: String(p.name ?? `port-${p.number}`), protocol: String(p.protocol ?? 'HTTP').toUpperCase(),
    targetPort: p.targetPort === undefined ? undefined : Number(p.targetPort),
  }));
  if (ports.length === 0) fail(at, 'spec.ports', 'no ports: expected at least one port (xDS listeners and clusters are per port)');
  for (const [i, p] of ports.entries()) {
    if (!['HTTP', 'HTTP2', 'GRPC', 'GRPC-WEB'].includes(p.protocol)) fail(at, `spec.ports[${i}].protocol`, `${p.protocol} is not served: expected HTTP, HTTP2, GRPC or GRPC-WEB (this control plane builds HTTP routes only)`);
  }
  const endpoints = ((spec.endpoints as Spec[] | undefined) ?? []).map((e, i) => workloadEntry(at, e, `${source}#${i}`, namespace, `spec.endpoints[${i}]`));
  const selector = (spec.workloadSelector as { labels?: Record<string, string> } | undefined)?.labels;
  if (selector && endpoints.length > 0) fail(at, 'spec.workloadSelector', 'both workloadSelector and endpoints are set: expected one of them');
  return { source, namespace, hosts: (spec.hosts as string[]).map((h) => qualifyHost(h, namespace)), ports, workloadSelector: selector, endpoints };
}

function workloadEntry(at: SourcedResource, spec: Spec, name: string, namespace: string, field: string): WorkloadEndpoint {
  const address = spec.address;
  if (typeof address !== 'string' || address === '') fail(at, `${field}.address`, 'missing: expected an IP address');
  if (address.startsWith('unix://')) fail(at, `${field}.address`, `${address}: unix domain sockets are not served over EDS here; expected an IP address`);
  const weight = spec.weight === undefined ? 1 : Number(spec.weight);
  if (!Number.isInteger(weight) || weight < 1) fail(at, `${field}.weight`, `${String(spec.weight)}: expected a positive integer`);
  return {
    name, namespace, address, weight,
    ports: (spec.ports as Record<string, number> | undefined) ?? {},
    labels: (spec.labels as Record<string, string> | undefined) ?? {},
    locality: typeof spec.locality === 'string' ? spec.locality : '',
  };
}

function lbPolicy(at: SourcedResource, policy: Spec | undefined, field: string): LbPolicy | undefined {
  const lb = policy?.loadBalancer as Spec | undefined;
  if (!lb) return undefined;
  const simple = lb.simple as string | undefined;
  if (simple === undefined || simple === 'UNSPECIFIED') return undefined;
  if (simple === 'ROUND_ROBIN' || simple === 'LEAST_REQUEST' || simple === 'RANDOM') return simple;
  if (simple === 'LEAST_CONN') return 'LEAST_REQUEST';
  return fail(at, `${field}.loadBalancer.simple`, `${simple} is not served: expected ROUND_ROBIN, LEAST_REQUEST or RANDOM`);
}

function destinationRule(at: SourcedResource, spec: Spec, namespace: string, source: string): MeshDestinationRule {
  const subsets = ((spec.subsets as Spec[] | undefined) ?? []).map((s, i) => ({
    name: String(s.name), labels: (s.labels as Record<string, string> | undefined) ?? {}, lbPolicy: lbPolicy(at, s.trafficPolicy as Spec | undefined, `spec.subsets[${i}].trafficPolicy`),
  }));
  return { source, namespace, host: qualifyHost(String(spec.host), namespace), lbPolicy: lbPolicy(at, spec.trafficPolicy as Spec | undefined, 'spec.trafficPolicy'), subsets };
}

/** HTTP fields this control plane turns into Envoy routes; others are refused rather than dropped. */
const SERVED_HTTP_FIELDS = new Set(['name', 'match', 'route', 'timeout', 'rewrite']);
const SERVED_MATCH_FIELDS = new Set(['name', 'uri', 'headers', 'ignoreUriCase', 'port']);

function virtualService(at: SourcedResource, spec: Spec, namespace: string, source: string): MeshVirtualService | undefined {
  const gateways = spec.gateways as string[] | undefined;
  // VirtualServices bound only to gateways do not apply to sidecars (Istio: "mesh" is the sidecars).
  if (gateways && gateways.length > 0 && !gateways.includes('mesh')) return undefined;
  if ((spec.tcp as unknown[] | undefined)?.length || (spec.tls as unknown[] | undefined)?.length) {
    fail(at, (spec.tcp as unknown[] | undefined)?.length ? 'spec.tcp' : 'spec.tls', 'TCP/TLS routes are not served: expected http routes only');
  }
  const http = ((spec.http as Spec[] | undefined) ?? []).map((route, i): HttpRoute => {
    const field = `spec.http[${i}]`;
    for (const key of Object.keys(route)) if (!SERVED_HTTP_FIELDS.has(key)) fail(at, `${field}.${key}`, `not served by this control plane (it builds plain Envoy routes: match, route, timeout, rewrite.uri); use istiod for ${key}`);
    const matches = ((route.match as Spec[] | undefined) ?? []).map((m, j) => httpMatch(at, m, `${field}.match[${j}]`));
    const destinations = ((route.route as Spec[] | undefined) ?? []).map((d, j): RouteDestination => {
      const dest = d.destination as Spec;
      return { host: qualifyHost(String(dest.host), namespace), subset: dest.subset as string | undefined, port: (dest.port as { number?: number } | undefined)?.number, weight: d.weight === undefined ? 0 : Number(d.weight) };
    });
    if (destinations.length === 0) fail(at, `${field}.route`, 'no destinations: expected at least one route destination');
    const rewrite = route.rewrite as Spec | undefined;
    if (rewrite && Object.keys(rewrite).some((k) => k !== 'uri')) fail(at, `${field}.rewrite`, 'only rewrite.uri is served');
    return { name: route.name as string | undefined, matches, destinations, timeoutSeconds: route.timeout === undefined ? undefined : durationSeconds(at, String(route.timeout), `${field}.timeout`), prefixRewrite: rewrite?.uri as string | undefined };
  });
  return { source, namespace, hosts: (spec.hosts as string[]).map((h) => qualifyHost(h, namespace)), http };
}

function httpMatch(at: SourcedResource, match: Spec, field: string): HttpRouteMatch {
  for (const key of Object.keys(match)) if (!SERVED_MATCH_FIELDS.has(key)) fail(at, `${field}.${key}`, 'match field not served: expected uri, headers, ignoreUriCase or port');
  const headers: Record<string, StringMatch> = {};
  for (const [name, m] of Object.entries((match.headers as Record<string, StringMatch> | undefined) ?? {})) headers[name] = m;
  return { uri: match.uri as StringMatch | undefined, headers, ignoreUriCase: match.ignoreUriCase === true, port: match.port as number | undefined };
}

function durationSeconds(at: SourcedResource, text: string, field: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
  if (!m) fail(at, field, `${text}: expected a duration like 500ms, 5s or 1m`);
  const factor = { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * factor;
}

const PHASES: readonly WasmPhase[] = ['AUTHN', 'AUTHZ', 'STATS', 'UNSPECIFIED_PHASE'];

function wasmPlugin(at: SourcedResource, spec: Spec, name: string, namespace: string): WasmPluginInput {
  if (spec.type !== undefined && spec.type !== 'HTTP' && spec.type !== 'UNSPECIFIED_PLUGIN_TYPE') fail(at, 'spec.type', `${String(spec.type)}: only HTTP plugins are served`);
  if (spec.targetRef !== undefined || spec.targetRefs !== undefined) fail(at, spec.targetRef !== undefined ? 'spec.targetRef' : 'spec.targetRefs', 'targetRef binds a plugin to gateways/waypoints; sidecars are selected with spec.selector');
  const traffic = trafficSelectors(at, spec.match);
  const phase = (spec.phase as WasmPhase | undefined) ?? 'UNSPECIFIED_PHASE';
  if (!PHASES.includes(phase)) fail(at, 'spec.phase', `${String(spec.phase)}: expected one of ${PHASES.join(', ')}`);
  const pluginConfig = spec.pluginConfig;
  return {
    at, name, namespace,
    url: String(spec.url),
    sha256: typeof spec.sha256 === 'string' && spec.sha256 !== '' ? spec.sha256.toLowerCase() : undefined,
    rootId: typeof spec.pluginName === 'string' && spec.pluginName !== '' ? spec.pluginName : name,
    selector: (spec.selector as { matchLabels?: Record<string, string> } | undefined)?.matchLabels ?? {},
    phase,
    priority: spec.priority === undefined ? 0 : Number(spec.priority),
    configuration: pluginConfig === undefined ? '' : JSON.stringify(pluginConfig),
    failOpen: spec.failStrategy === 'FAIL_OPEN',
    traffic,
  };
}

/** WasmPlugin.match → selectors (the CRD has checked the shape; modes and ports are checked here). */
function trafficSelectors(at: SourcedResource, match: unknown): TrafficSelector[] {
  const parsed = parseTrafficSelectors(match);
  if (Array.isArray(parsed)) return parsed;
  const { field, problem } = parsed as { field: string; problem: string };
  return fail(at, `spec.match${field}`, problem);
}
