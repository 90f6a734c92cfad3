/**
 * What a config document is, told from its content, and its validation: Envoy bootstraps and
 * xDS resources against Envoy's API protos (validate.ts), Istio resources against their CRD
 * schemas (istio/validate.ts) plus, for EnvoyFilter, every patch value against the Envoy message
 * its `applyTo` names (MERGE patches are fragments: required fields may be absent).
 */
import { istioResourceProblems } from '../istio/validate.js';
import { envoyAnyIssues, envoyMessageIssues, type EnvoyConfigIssue } from './validate.js';

export interface DocumentVerdict {
  /** What the document was recognized as, e.g. `Envoy Bootstrap (envoy.config.bootstrap.v3.Bootstrap)`. */
  readonly kind: string;
  readonly issues: readonly EnvoyConfigIssue[];
  /** Set when the document is something this command does not check (it is not an error). */
  readonly skipped?: string;
  /** Checks that need the file itself (validate-files.ts runs them). */
  readonly fileCheck?: 'compose' | 'sidecar';
}

/** Envoy message each EnvoyFilter patch value must be, by `applyTo` (Istio networking/v1alpha3 envoy_filter.proto). */
export const PATCH_VALUE_MESSAGE: Readonly<Record<string, string>> = {
  LISTENER: 'envoy.config.listener.v3.Listener',
  FILTER_CHAIN: 'envoy.config.listener.v3.FilterChain',
  NETWORK_FILTER: 'envoy.config.listener.v3.Filter',
  HTTP_FILTER: 'envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter',
  ROUTE_CONFIGURATION: 'envoy.config.route.v3.RouteConfiguration',
  VIRTUAL_HOST: 'envoy.config.route.v3.VirtualHost',
  HTTP_ROUTE: 'envoy.config.route.v3.Route',
  CLUSTER: 'envoy.config.cluster.v3.Cluster',
  EXTENSION_CONFIG: 'envoy.config.core.v3.TypedExtensionConfig',
  BOOTSTRAP: 'envoy.config.bootstrap.v3.Bootstrap',
  LISTENER_FILTER: 'envoy.config.listener.v3.ListenerFilter',
};

/** Envoy resources told apart by the fields only they have; first match wins. */
const ENVOY_SHAPES: readonly { readonly label: string; readonly message: string; readonly matches: (keys: ReadonlySet<string>) => boolean }[] = [
  { label: 'Envoy Bootstrap', message: 'envoy.config.bootstrap.v3.Bootstrap', matches: (k) => ['static_resources', 'staticResources', 'dynamic_resources', 'dynamicResources', 'layered_runtime', 'layeredRuntime', 'admin', 'cluster_manager', 'stats_config', 'overload_manager'].some((f) => k.has(f)) },
  { label: 'xDS DiscoveryResponse', message: 'envoy.service.discovery.v3.DiscoveryResponse', matches: (k) => k.has('resources') && (k.has('version_info') || k.has('versionInfo') || k.has('type_url') || k.has('typeUrl')) },
  { label: 'Envoy Listener (LDS)', message: 'envoy.config.listener.v3.Listener', matches: (k) => ['filter_chains', 'filterChains', 'listener_filters', 'listenerFilters', 'default_filter_chain'].some((f) => k.has(f)) || (k.has('address') && k.has('name') && !k.has('connect_timeout')) },
  { label: 'Envoy RouteConfiguration (RDS)', message: 'envoy.config.route.v3.RouteConfiguration', matches: (k) => k.has('virtual_hosts') || k.has('virtualHosts') || k.has('vhds') },
  { label: 'Envoy ClusterLoadAssignment (EDS)', message: 'envoy.config.endpoint.v3.ClusterLoadAssignment', matches: (k) => (k.has('cluster_name') || k.has('clusterName')) && k.has('endpoints') },
  { label: 'Envoy Cluster (CDS)', message: 'envoy.config.cluster.v3.Cluster', matches: (k) => ['connect_timeout', 'connectTimeout', 'load_assignment', 'loadAssignment', 'lb_policy', 'lbPolicy', 'eds_cluster_config', 'cluster_type', 'transport_socket'].some((f) => k.has(f)) },
  { label: 'Envoy VirtualHost', message: 'envoy.config.route.v3.VirtualHost', matches: (k) => k.has('domains') },
  { label: 'Envoy TypedExtensionConfig (ECDS)', message: 'envoy.config.core.v3.TypedExtensionConfig', matches: (k) => (k.has('typed_config') || k.has('typedConfig')) && [...k].every((f) => ['name', 'typed_config', 'typedConfig'].includes(f)) },
];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates one parsed document; `message` forces the Envoy message instead of detecting it. */
export function validateDocument(doc: unknown, message?: string): DocumentVerdict {
  if (message !== undefined) {
    return { kind: `Envoy ${message.split('.').pop()} (${message}, as requested)`, issues: envoyMessageIssues(message, doc) };
  }
  if (!isObject(doc)) return { kind: 'unknown', issues: [{ path: '', message: `expected a mapping (an Envoy config or an Istio resource), got ${JSON.stringify(doc)?.slice(0, 60)}` }] };
  if (typeof doc['apiVersion'] === 'string' && typeof doc['kind'] === 'string') return validateKubernetes(doc, doc['apiVersion'], doc['kind']);
  if (typeof doc['@type'] === 'string') {
    const { typeName, issues } = envoyAnyIssues(doc);
    return { kind: typeName ? `Envoy ${typeName.split('.').pop()} (${typeName}, from @type)` : 'Envoy resource with an unresolvable @type', issues };
  }
  const keys = new Set(Object.keys(doc));
  if (keys.has('services') && (keys.has('version') || isObject(doc['services']))) {
    return { kind: 'Docker Compose file', issues: [], fileCheck: 'compose' };
  }
  if (keys.has('listen') && (keys.has('filters') || keys.has('routes') || keys.has('clusters'))) {
    return { kind: 'wasmesh sidecar config (deployer run)', issues: [], fileCheck: 'sidecar' };
  }
  const shape = ENVOY_SHAPES.find((s) => s.matches(keys));
  if (shape === undefined) {
    return { kind: 'unknown', issues: [{ path: '', message: `cannot tell what this document is (fields: ${[...keys].slice(0, 8).join(', ')}): expected an Envoy bootstrap, an xDS resource (Listener, RouteConfiguration, Cluster, ClusterLoadAssignment, TypedExtensionConfig, or any message with "@type") or an Istio resource (apiVersion/kind); use --type <envoy message> to say which` }] };
  }
  return { kind: `${shape.label} (${shape.message})`, issues: envoyMessageIssues(shape.message, doc) };
}

interface ConfigPatch { readonly applyTo?: unknown; readonly patch?: { readonly operation?: unknown; readonly value?: unknown } }

function validateKubernetes(doc: Record<string, unknown>, apiVersion: string, kind: string): DocumentVerdict {
  const name = isObject(doc['metadata']) && typeof doc['metadata']['name'] === 'string' ? doc['metadata']['name'] : '<no name>';
  const label = `${kind} "${name}" (${apiVersion})`;
  if (!/\.istio\.io\//.test(apiVersion)) return { kind: label, issues: [], skipped: 'not an Istio resource (only Istio kinds are checked against their CRD schemas)' };
  const issues: EnvoyConfigIssue[] = istioResourceProblems(doc).map((p) => ({ path: p.path, message: p.message }));
  if (kind === 'EnvoyFilter' && isObject(doc['spec']) && Array.isArray(doc['spec']['configPatches'])) {
    (doc['spec']['configPatches'] as ConfigPatch[]).forEach((patch, index) => issues.push(...patchIssues(patch, index)));
  }
  return { kind: label, issues };
}

/** The Envoy problems of one EnvoyFilter patch value (the Wasm configs Istio hands Envoy as they are). */
function patchIssues(patch: ConfigPatch, index: number): EnvoyConfigIssue[] {
  const message = typeof patch.applyTo === 'string' ? PATCH_VALUE_MESSAGE[patch.applyTo] : undefined;
  const value = patch.patch?.value;
  if (message === undefined || value === undefined || patch.patch?.operation === 'REMOVE') return [];
  // MERGE merges a fragment into what is there; every other operation adds or replaces whole objects.
  const partial = patch.patch?.operation === 'MERGE';
  return envoyMessageIssues(message, value, `spec.configPatches[${index}].patch.value`, { partial });
}
