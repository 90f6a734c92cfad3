import type { IstioResource } from '../translate/index.js';

/**
 * What the control plane serves, read from Istio resources (config-dir.ts) and the admin API's
 * attachments (attachments.ts). Plain data: the builders in resources/ turn it into xDS.
 */
export interface ServicePort {
  readonly number: number;
  readonly name: string;
  readonly protocol: string;
  readonly targetPort?: number;
}

export interface WorkloadEndpoint {
  readonly name: string;
  readonly namespace: string;
  readonly address: string;
  readonly ports: Readonly<Record<string, number>>;
  readonly labels: Readonly<Record<string, string>>;
  /** `region/zone/subzone` (WorkloadEntry.locality). */
  readonly locality: string;
  readonly weight: number;
}

export interface MeshService {
  /** `namespace/name` of the ServiceEntry. */
  readonly source: string;
  readonly namespace: string;
  readonly hosts: readonly string[];
  readonly ports: readonly ServicePort[];
  /** spec.workloadSelector.labels: WorkloadEntries in the namespace with these labels back it. */
  readonly workloadSelector?: Readonly<Record<string, string>>;
  /** spec.endpoints: inline endpoints. */
  readonly endpoints: readonly WorkloadEndpoint[];
}

export interface Subset {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly lbPolicy?: LbPolicy;
}

export type LbPolicy = 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM';

export interface MeshDestinationRule {
  readonly source: string;
  readonly namespace: string;
  readonly host: string;
  readonly lbPolicy?: LbPolicy;
  readonly subsets: readonly Subset[];
}

export interface StringMatch { readonly exact?: string; readonly prefix?: string; readonly regex?: string }

export interface HttpRouteMatch {
  readonly uri?: StringMatch;
  readonly headers: Readonly<Record<string, StringMatch>>;
  readonly ignoreUriCase: boolean;
  readonly port?: number;
}

export interface RouteDestination {
  readonly host: string;
  readonly subset?: string;
  readonly port?: number;
  readonly weight: number;
}

export interface HttpRoute {
  readonly name?: string;
  readonly matches: readonly HttpRouteMatch[];
  readonly destinations: readonly RouteDestination[];
  readonly timeoutSeconds?: number;
  readonly prefixRewrite?: string;
}

export interface MeshVirtualService {
  readonly source: string;
  readonly namespace: string;
  readonly hosts: readonly string[];
  readonly http: readonly HttpRoute[];
}

export type WasmPhase = 'AUTHN' | 'AUTHZ' | 'STATS' | 'UNSPECIFIED_PHASE';

/** istio.type.v1beta1.WorkloadMode of a WasmPlugin.match entry (UNDEFINED is read as CLIENT_AND_SERVER, as Istio does). */
export type WorkloadMode = 'CLIENT' | 'SERVER' | 'CLIENT_AND_SERVER';

/** WasmPlugin.match[]: the listeners a plugin runs on — by direction and (empty: any) port. */
export interface TrafficSelector {
  readonly mode: WorkloadMode;
  readonly ports: readonly number[];
}

const MODES: readonly string[] = ['UNDEFINED', 'CLIENT', 'SERVER', 'CLIENT_AND_SERVER'];

/**
 * WasmPlugin.match (a WasmPlugin's `spec.match`, or the admin API's `match`) → selectors, or the
 * first problem with its field path relative to `match`. UNDEFINED mode reads as CLIENT_AND_SERVER.
 */
export function parseTrafficSelectors(match: unknown): TrafficSelector[] | { readonly field: string; readonly problem: string } {
  if (match === undefined) return [];
  if (!Array.isArray(match)) return { field: '', problem: 'expected a list of {mode, ports}' };
  const out: TrafficSelector[] = [];
  for (const [i, raw] of match.entries()) {
    const m = (typeof raw === 'object' && raw !== null ? raw : {}) as { mode?: unknown; ports?: unknown };
    const mode = m.mode === undefined ? 'UNDEFINED' : String(m.mode);
    if (!MODES.includes(mode)) return { field: `[${i}].mode`, problem: `${mode}: expected one of ${MODES.join(', ')}` };
    const ports: number[] = [];
    for (const [j, p] of (Array.isArray(m.ports) ? m.ports : []).entries()) {
      const n = Number((p as { number?: unknown } | null)?.number);
      if (!Number.isInteger(n) || n < 1 || n > 65535) return { field: `[${i}].ports[${j}].number`, problem: `${String((p as { number?: unknown } | null)?.number)}: expected a port number 1-65535` };
      ports.push(n);
    }
    out.push({ mode: mode === 'UNDEFINED' ? 'CLIENT_AND_SERVER' : mode as WorkloadMode, ports });
  }
  return out;
}

/**
 * Whether a filter runs on a listener of this direction and port, as istiod decides
 * (pilot/pkg/model/wasm.go matchTrafficSelectors): no selectors match every listener; a selector
 * matches when its mode is CLIENT_AND_SERVER or the listener's (SERVER inbound, CLIENT outbound)
 * and its ports are empty or list the port — the application's port inbound, the service port outbound.
 */
export function runsOn(filter: FilterAttachment, mode: 'CLIENT' | 'SERVER', port: number): boolean {
  const selectors = filter.traffic ?? [];
  if (selectors.length === 0) return true;
  return selectors.some((s) => (s.mode === 'CLIENT_AND_SERVER' || s.mode === mode) && (s.ports.length === 0 || s.ports.includes(port)));
}

/** A filter attached to workloads: a WasmPlugin, a translated policy, or an admin API attachment. */
export interface FilterAttachment {
  /** ECDS resource name; Istio names WasmPlugin extension configs `<namespace>.<name>`. */
  readonly name: string;
  readonly namespace: string;
  readonly selector: Readonly<Record<string, string>>;
  readonly phase: WasmPhase;
  readonly priority: number;
  /** proxy-wasm root id (WasmPlugin pluginName). */
  readonly rootId: string;
  /** sha256 hex of the module, held by the module store. */
  readonly sha256: string;
  /** The plugin configuration handed to on_configure (JSON text). */
  readonly configuration: string;
  readonly failOpen: boolean;
  /** Where it came from (`file.yaml: WasmPlugin shop/jwt`, `admin API`). */
  readonly origin: string;
  /** WasmPlugin.match: absent or empty runs on every listener, inbound and outbound (Istio's default). */
  readonly traffic?: readonly TrafficSelector[];
}

/** Translated policies (RequestAuthentication → jwt-auth, …) are kept as resources and selected per node. */
export interface PolicyResources {
  readonly resources: readonly IstioResource[];
}

export interface MeshModel {
  readonly services: readonly MeshService[];
  readonly workloadEntries: readonly WorkloadEndpoint[];
  readonly destinationRules: readonly MeshDestinationRule[];
  readonly virtualServices: readonly MeshVirtualService[];
  readonly filters: readonly FilterAttachment[];
  readonly policies: readonly IstioResource[];
  readonly rootNamespace: string;
}

export const EMPTY_MODEL: MeshModel = { services: [], workloadEntries: [], destinationRules: [], virtualServices: [], filters: [], policies: [], rootNamespace: 'istio-system' };

/** Istio's short host names: `reviews` in namespace shop is `reviews.shop.svc.cluster.local`. */
export function qualifyHost(host: string, namespace: string): string {
  return host.includes('.') || host === '*' ? host : `${host}.${namespace}.svc.cluster.local`;
}

/** Istio's phase order for WasmPlugins (httplistener.go): AUTHN, AUTHZ, STATS, then unspecified. */
const PHASE_ORDER: readonly WasmPhase[] = ['AUTHN', 'AUTHZ', 'STATS', 'UNSPECIFIED_PHASE'];

/** Chain order: by phase, then descending priority, then name (stable across pushes). */
export function sortFilters(filters: readonly FilterAttachment[]): FilterAttachment[] {
  return [...filters].sort((a, b) => PHASE_ORDER.indexOf(a.phase) - PHASE_ORDER.indexOf(b.phase) || b.priority - a.priority || a.name.localeCompare(b.name));
}
