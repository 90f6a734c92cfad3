import type { JsonObject, JsonValue } from '../render/types.js';
import type { IstioResource, TranslateFn } from './index.js';

/**
 * Telemetry (telemetry.istio.io v1 and v1alpha1, validated against the CRD by the registry) → the
 * metrics filter's configuration (schema: filters/metrics/README.md).
 *
 * Istio semantics (istio.io/latest/docs/reference/config/telemetry/, pilot/pkg/model/telemetry.go):
 *  - Three layers apply to a workload, each at most one resource: the root namespace's resource
 *    without selector (mesh-wide), its own namespace's without selector, and one whose selector
 *    matches it. When a layer has several, Istio uses the oldest (creationTimestamp, then name)
 *    and ignores the others. Layers merge mesh → namespace → workload: a later layer's
 *    `disabled` and per-label `tagOverrides` win, label by label.
 *  - Only `metrics[]` entries for the Prometheus provider (`prometheus`, or no `providers`: the
 *    mesh default) configure this filter; entries for other providers are left to them.
 *  - `match.metric` (ALL_METRICS default) and `match.mode` (CLIENT_AND_SERVER default) pass
 *    through; the filter applies CLIENT overrides when it reports as `source`, SERVER ones as
 *    `destination`. `match.customMetric` (custom metric names) is refused: this filter only
 *    produces Istio's standard metrics.
 *  - `tagOverrides`: REMOVE, or UPSERT with a `value` expression (checked here for the attributes
 *    the filter supports, and fully by the filter when it is configured).
 *  - `tracing`, `accessLogging`, `reportingInterval` (TCP only) do not concern this filter.
 *  - Workload selection (which resources apply) is the caller's job (`deployer run --istio`
 *    selects by namespace and labels); `targetRef(s)` (gateways, waypoints) are refused.
 */

export interface TelemetryTranslateOptions {
  /** Istio's root namespace (meshConfig.rootNamespace): its selector-less resource is mesh-wide. */
  readonly rootNamespace?: string;
}

interface MetricSelector { readonly metric?: string; readonly customMetric?: string; readonly mode?: string }
interface TagOverride { readonly operation?: string; readonly value?: string }
interface MetricsOverride { readonly match?: MetricSelector; readonly disabled?: boolean; readonly tagOverrides?: Readonly<Record<string, TagOverride>> }
interface Metrics { readonly providers?: ReadonlyArray<{ readonly name: string }>; readonly overrides?: readonly MetricsOverride[] }
interface TelemetrySpec {
  readonly selector?: { readonly matchLabels?: Record<string, string> };
  readonly targetRef?: unknown;
  readonly targetRefs?: unknown;
  readonly metrics?: readonly Metrics[];
}

const PROMETHEUS = 'prometheus';
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Attribute roots and names the metrics filter evaluates (filters/metrics/assembly/expression.ts). */
const ATTRIBUTES = new Set([
  'request.host', 'request.url_path', 'request.path', 'request.method', 'request.scheme', 'request.protocol', 'request.useragent',
  'request.referer', 'request.id', 'request.query', 'response.code_details', 'source.address', 'destination.address',
  'connection.requested_server_name', 'connection.uri_san_peer_certificate', 'xds.cluster_name', 'xds.route_name', 'cluster_name',
  'route_name', 'response.code', 'response.grpc_status', 'source.port', 'destination.port', 'request.size', 'response.size',
  'connection.mtls', 'request.headers', 'response.headers', 'response.trailers', 'filter_state', 'has', 'string', 'true', 'false',
]);

/** Envoy's attribute roots: as bare names they are not filter-state values. */
const ROOTS = new Set(['request', 'response', 'source', 'destination', 'connection', 'upstream', 'xds', 'node', 'metadata', 'size']);

function resourceId(resource: IstioResource): string {
  return `Telemetry ${resource.metadata.namespace ?? 'default'}/${resource.metadata.name}`;
}

/** The first identifier path of an expression that the filter does not evaluate, if any. */
export function unsupportedAttribute(expression: string): string | undefined {
  const withoutStrings = expression.replace(/'[^']*'|"[^"]*"/g, "''");
  for (const match of withoutStrings.matchAll(/[A-Za-z_][A-Za-z0-9_.]*/g)) {
    // A bare name is filter state set by another plugin (istio_operationId → wasm.istio_operationId).
    if (!ATTRIBUTES.has(match[0]) && (match[0].includes('.') || ROOTS.has(match[0]))) return match[0];
  }
  return undefined;
}

function layerOf(resource: IstioResource, rootNamespace: string): number {
  const spec = resource.spec as TelemetrySpec;
  if (spec.selector?.matchLabels !== undefined && Object.keys(spec.selector.matchLabels).length > 0) return 2;
  return (resource.metadata.namespace ?? 'default') === rootNamespace ? 0 : 1;
}

function age(resource: IstioResource): string {
  const created = (resource.metadata as { creationTimestamp?: unknown }).creationTimestamp;
  return typeof created === 'string' ? created : '';
}

/** Istio's pick within one layer: the oldest resource, then by name. */
function oldest(resources: readonly IstioResource[]): IstioResource {
  return [...resources].sort((a, b) => age(a).localeCompare(age(b)) || a.metadata.name.localeCompare(b.metadata.name))[0]!;
}

function translateOverride(override: MetricsOverride, where: string): JsonObject {
  if (override.match?.customMetric !== undefined) {
    throw new Error(`${where}.match.customMetric: "${override.match.customMetric}": custom metrics are not produced by the metrics filter; expected match.metric (one of Istio's standard metrics or ALL_METRICS)`);
  }
  const out: Record<string, JsonValue> = { name: override.match?.metric ?? 'ALL_METRICS' };
  const mode = override.match?.mode ?? 'CLIENT_AND_SERVER';
  if (mode !== 'CLIENT_AND_SERVER') out.mode = mode;
  if (override.disabled !== undefined) out.disabled = override.disabled;
  const tags: Record<string, JsonValue> = {};
  for (const [label, tag] of Object.entries(override.tagOverrides ?? {})) {
    const at = `${where}.tagOverrides.${label}`;
    if (!LABEL_NAME.test(label)) throw new Error(`${at}: "${label}" is not a valid Prometheus label name: expected [a-zA-Z_][a-zA-Z0-9_]*`);
    const operation = tag.operation ?? 'UPSERT';
    if (operation === 'REMOVE') {
      tags[label] = { operation };
      continue;
    }
    if (tag.value === undefined || tag.value === '') throw new Error(`${at}.value: required for operation UPSERT: expected an attribute expression such as request.host`);
    const unsupported = unsupportedAttribute(tag.value);
    if (unsupported !== undefined) {
      throw new Error(`${at}.value: "${tag.value}" uses "${unsupported}", which the metrics filter does not evaluate: expected request.headers['x'], request.host, request.url_path, response.code, filter_state['k'], literals, has(), ? :, || (filters/metrics/README.md)`);
    }
    tags[label] = { operation, value: tag.value };
  }
  if (Object.keys(tags).length > 0) out.tagOverrides = tags;
  return out;
}

function overridesOf(resource: IstioResource): JsonObject[] {
  const spec = resource.spec as TelemetrySpec;
  const id = resourceId(resource);
  if (spec.targetRef !== undefined || spec.targetRefs !== undefined) {
    throw new Error(`${id}: spec.targetRef(s) bind Telemetry to gateways and waypoints, not to a sidecar: expected spec.selector or no selector`);
  }
  const out: JsonObject[] = [];
  (spec.metrics ?? []).forEach((metrics, i) => {
    const providers = metrics.providers ?? [];
    if (providers.length > 0 && !providers.some((p) => p.name === PROMETHEUS)) return;
    (metrics.overrides ?? []).forEach((override, j) => out.push(translateOverride(override, `${id}: spec.metrics[${i}].overrides[${j}]`)));
  });
  return out;
}

export function telemetryTranslator(options: TelemetryTranslateOptions = {}): TranslateFn {
  const rootNamespace = options.rootNamespace ?? 'istio-system';
  return (resources) => {
    const namespaces = new Set(resources.map((r) => r.metadata.namespace ?? 'default').filter((ns) => ns !== rootNamespace));
    if (namespaces.size > 1) {
      throw new Error(`Telemetry resources from namespaces ${[...namespaces].join(', ')}: a workload lives in one namespace; expected one namespace plus the root namespace ${rootNamespace} (deployer run --istio selects them with --namespace)`);
    }
    const layers: IstioResource[][] = [[], [], []];
    for (const resource of resources) layers[layerOf(resource, rootNamespace)]!.push(resource);
    const metrics = layers.flatMap((layer) => (layer.length === 0 ? [] : overridesOf(oldest(layer))));
    return metrics.length === 0 ? {} : { metrics };
  };
}

export const translateTelemetry: TranslateFn = telemetryTranslator();
