import { existsSync } from 'node:fs';
import path from 'node:path';
import { describeSkipped, keepKinds, readInputs } from '../cli/inputs.js';
import type { MeshSettings } from '../istio/mesh-config.js';
import { DEFAULT_ROOT_NAMESPACE, describeSelection, selectForWorkload, skipReason } from '../istio/selection.js';
import { parseIstioInputs, translateResources, translatedKinds, translatorsFor, type FilterTranslation, type IstioResource, type TranslatorEntry } from '../translate/index.js';
import { withoutTargetRefs } from '../translate/scoped.js';
import { withClusters } from './config/cluster-flag.js';
import type { ClusterConfig, SidecarConfig, WasmFilterConfig } from './config/types.js';
import { requiredClusters } from './config/istio-clusters.js';
import { routerRoutesForRun } from './router-routes.js';

export interface IstioChainOptions {
  /** A YAML file, or a folder whose *.yaml / *.yml files are read in name order. */
  readonly source: string;
  readonly namespace: string;
  readonly workloadLabels: Readonly<Record<string, string>>;
  /** Where the built filters are (`<name>.wasm`). */
  readonly filtersDir: string;
  /** Istio's root namespace: policies there apply to every workload (default: the mesh config's, else istio-system). */
  readonly rootNamespace?: string;
  /** `--mesh-config`: path normalization, ext_authz providers, trusted proxies, root namespace. */
  readonly mesh?: MeshSettings;
  /**
   * `--cluster name=url`: replace or add clusters. They win over the config's own clusters, which
   * win over the ones derived from the translated filters (ext_authz providers, JWKS URIs).
   */
  readonly clusterOverrides?: readonly ClusterConfig[];
  /** Receives one line per cluster added for a filter. */
  readonly note?: (line: string) => void;
  /** Translator registry (tests); default TRANSLATORS with `mesh` applied. */
  readonly registry?: readonly TranslatorEntry[];
  /**
   * Start even when resources were read and none applies to this workload. Off by default: a
   * wrong or missing --namespace would otherwise run a sidecar without its policies, passing
   * every request.
   */
  readonly allowEmpty?: boolean;
}

/** Filter order in the chain, as Istio's sidecar orders them: authentication, then authorization. */
const CHAIN_ORDER = ['jwt-auth', 'rbac', 'header-router', 'metrics'];

/** `app=cart,version=v1` → {app: "cart", version: "v1"}. */
export function parseWorkloadLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`--workload-labels: "${pair}" is not key=value; expected e.g. app=cart,version=v1`);
    labels[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return labels;
}

/**
 * Istio's workload selection for one resource (deployer/src/istio/selection.ts, shared with
 * push/render/translate): namespace or root namespace, selector, targetRefs.
 */
export function appliesToWorkload(resource: IstioResource, namespace: string, labels: Readonly<Record<string, string>>, rootNamespace: string): boolean {
  return skipReason(resource, { namespace, labels }, rootNamespace) === undefined;
}

/** A file, a folder or - (stdin), kinds no translator takes skipped with a note (cli/inputs.ts). */
function readSources(source: string, kinds: readonly string[], note: (line: string) => void): { source: string; text: string }[] {
  const { kept, skipped } = keepKinds(readInputs(source, undefined, '--istio'), kinds);
  for (const line of describeSkipped(skipped, kinds)) note(line);
  return kept.map((k) => ({ source: k.source, text: k.text }));
}

/**
 * `deployer run --istio`: the filters translated from the Istio resources that apply to this
 * workload come first (in CHAIN_ORDER), followed by the config's own filters not named alike.
 * The clusters those filters call (ext_authz providers, JWKS servers) are added unless the config
 * or `clusterOverrides` define them (deployer/src/sidecar/config/istio-clusters.ts).
 */
export function applyIstioChain(config: SidecarConfig, options: IstioChainOptions): SidecarConfig {
  const rootNamespace = options.rootNamespace ?? options.mesh?.rootNamespace ?? DEFAULT_ROOT_NAMESPACE;
  const registry = options.registry ?? translatorsFor({ mesh: options.mesh?.rbac });
  const resources = parseIstioInputs(readSources(options.source, translatedKinds(registry), options.note ?? (() => {})));
  const selection = selectForWorkload(resources, { namespace: options.namespace, labels: options.workloadLabels }, rootNamespace);
  options.note?.(`--istio ${options.source}: ${describeSelection(selection)}`);
  if (selection.applied.length === 0 && resources.length > 0 && options.allowEmpty !== true) {
    throw new Error(`--istio ${options.source}: ${describeSelection(selection)}: the sidecar would run without any of them; expected the --namespace and labels (-l) of a workload they select (root namespace ${rootNamespace}), or --allow-empty to start anyway`);
  }
  // A gateway workload's targetRef policies attached above; the filter config never carries targetRefs.
  const selected = selection.applied.map(withoutTargetRefs);
  const translations: FilterTranslation[] = selected.length === 0 ? [] : translateResources(selected, registry);
  const rank = (name: string) => (CHAIN_ORDER.indexOf(name) === -1 ? CHAIN_ORDER.length : CHAIN_ORDER.indexOf(name));
  const istioFilters = translations
    .sort((a, b) => rank(a.filter) - rank(b.filter) || a.filter.localeCompare(b.filter))
    .map((t): WasmFilterConfig => {
      const wasmFile = path.join(options.filtersDir, `${t.filter}.wasm`);
      if (!existsSync(wasmFile)) {
        throw new Error(`--istio: ${t.kind} (${t.sources.join(', ')}) needs filter ${t.filter}, but ${wasmFile} is not built; run npm run build`);
      }
      return { name: t.filter, rootId: t.filter, vmId: '', wasmFile, configuration: JSON.stringify(t.config), vmConfiguration: '', failOpen: false };
    });
  const names = new Set(istioFilters.map((f) => f.name));
  const overrides = options.clusterOverrides ?? [];
  const derived = requiredClusters(translations, new Set([...config.clusters.keys(), ...overrides.map((c) => c.name)]));
  for (const cluster of derived) options.note?.(cluster.note);
  const clusters = withClusters(withClusters(config.clusters, derived.map((d) => d.cluster)), overrides);
  const routes = [...routerRoutesForRun(translations, clusters), ...config.routes];
  return { ...config, clusters, routes, filters: [...istioFilters, ...config.filters.filter((f) => !names.has(f.name))] };
}
