import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { applyManifests, type AppliedObject, type DryRun } from '../apply/apply.js';
import { ClusterClient } from '../apply/client.js';
import { listDeployed, toManifest, type DeployedFilter } from '../apply/live.js';
import { formatScope, scopeOfManifest, scopesOverlap } from '../istio/scopes.js';
import { DEFAULT_ROOT_NAMESPACE } from '../istio/selection.js';
import { inspectModule } from '../inspect/inspect.js';
import type { KubeTarget } from '../kube/kubeconfig.js';
import { buildWasmImage, type WasmImageFormat } from '../oci/image-builder.js';
import { pushWasmImage, type ProgressEvent as OciProgressEvent, type RegistryCredentials } from '../oci/push.js';
import { parseImageReference } from '../oci/reference.js';
import { renderFilterTargets } from '../render/index.js';
import { isRoutePatches, VIA_LABEL } from '../render/metadata.js';
import type { RouteTargets } from '../render/route-targets.js';
import type { JsonObject, KubernetesManifest, PinnedImage, WiringChoice } from '../render/types.js';
import type { FilterTarget } from '../translate/scoped.js';
import { validateRendered } from './validate-rendered.js';

/**
 * `deployer push`: inspect → OCI push → render → validate (schemas, and the module configured
 * with each object's exact configuration in our host) → apply.
 * Each step must succeed before the next starts, and apply is last and all-or-nothing, so a
 * failure anywhere leaves the cluster as it was (an image pushed but never referenced is inert).
 */
export type PushStep = 'inspect' | 'push' | 'render' | 'validate' | 'apply';

export type PushProgress =
  | { readonly step: PushStep; readonly state: 'started' }
  | { readonly step: PushStep; readonly state: 'done'; readonly ms: number; readonly detail?: string }
  | { readonly step: 'push'; readonly state: 'progress'; readonly oci: OciProgressEvent };

export interface PushPipelineOptions extends WiringChoice {
  readonly wasm: Uint8Array;
  /** Filter name; defaults from the .wasm file name in `pushFilterFile`. */
  readonly filter: string;
  /** `oci://host/repo[:tag]`; the pushed digest is what gets pinned. */
  readonly image: string;
  readonly format: WasmImageFormat;
  readonly credentials?: RegistryCredentials;
  readonly dockerConfigPath?: string;
  readonly chunkSize?: number;
  readonly pluginConfig?: JsonObject;
  /**
   * One config per scope (`--istio`, deployer/src/translate/scoped.ts); each becomes its own
   * object. Absent: one object for namespace/selector with pluginConfig.
   */
  readonly targets?: readonly FilterTarget[];
  /** Istio's root namespace (objects there reach every namespace); default istio-system. */
  readonly rootNamespace?: string;
  /** header-router: routes its routing header selects (rendered as HTTP_ROUTE patches beside each object). */
  readonly routes?: readonly JsonObject[];
  /** header-router: the virtual hosts each route belongs in (render/route-targets.ts). */
  readonly routeTargets?: RouteTargets;
  /** client: nothing leaves this machine (image digest computed locally); server: push skipped too, apply is a server dry run. */
  readonly dryRun: DryRun;
  readonly force: boolean;
  readonly kube?: KubeTarget;
  readonly onProgress?: (event: PushProgress) => void;
  readonly now?: () => Date;
  readonly signal?: AbortSignal;
  /** Injected Kubernetes client (tests); default built from `kube`. */
  readonly client?: ClusterClient;
}

export interface PushPipelineResult {
  readonly filter: string;
  readonly image: PinnedImage;
  readonly pushed: boolean;
  readonly manifests: readonly KubernetesManifest[];
  readonly applied: readonly AppliedObject[];
  /**
   * Other live objects of this filter in the namespaces pushed to (other scopes, e.g. one whose
   * policies were since removed from the file): not touched; `deployer undeploy -l` removes one.
   */
  readonly untouched: readonly string[];
  /** Milliseconds per step, plus `total`. */
  readonly timings: Readonly<Record<string, number>>;
}

export class PushStepError extends Error {
  constructor(readonly step: PushStep, cause: unknown) {
    super(`push failed at ${step}: ${cause instanceof Error ? cause.message : String(cause)}${step === 'apply' ? '' : ' (nothing was applied to the cluster)'}`, { cause });
    this.name = 'PushStepError';
  }
}

/**
 * Filter name from a module path: the build's output names (build/filters.ts filterOutputPath)
 * `jwt-auth.wasm`, `jwt-auth.portable.wasm` and `jwt-auth.debug.wasm` are all filter `jwt-auth`.
 */
export function filterNameFromPath(file: string): string {
  return path.basename(file).replace(/(\.(debug|portable))?\.wasm$/, '');
}

export async function readWasmFile(file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(file));
  } catch (error) {
    throw new Error(`cannot read module "${file}": ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}: expected a .wasm file (deployer build writes build/filters/<name>.wasm)`);
  }
}

export async function runPush(options: PushPipelineOptions): Promise<PushPipelineResult> {
  const timings: Record<string, number> = {};
  const started = performance.now();
  const step = async <T>(name: PushStep, work: () => Promise<T> | T, detail?: (value: T) => string): Promise<T> => {
    options.onProgress?.({ step: name, state: 'started' });
    const t0 = performance.now();
    try {
      const value = await work();
      timings[name] = performance.now() - t0;
      options.onProgress?.({ step: name, state: 'done', ms: timings[name]!, ...(detail ? { detail: detail(value) } : {}) });
      return value;
    } catch (error) {
      throw error instanceof PushStepError ? error : new PushStepError(name, error);
    }
  };

  await step('inspect', () => {
    const report = inspectModule(options.wasm);
    if (!report.ok) throw new Error(`module "${options.filter}" would not load in Envoy: ${report.problems.join('; ')}`);
    return report;
  }, (report) => `${report.size} bytes, ${report.abiVersion ?? 'unknown ABI'}`);

  const remote = options.dryRun === 'none';
  const pinned = await step('push', async (): Promise<PinnedImage> => {
    // The image reference belongs to this step: a bad one fails "at push", not "at inspect".
    const ref = parseImageReference(options.image);
    if (!remote) return localPinnedImage(options.wasm, options.image, options.format);
    const pushed = await pushWasmImage({
      wasm: options.wasm, reference: options.image, format: options.format, credentials: options.credentials,
      dockerConfigPath: options.dockerConfigPath, chunkSize: options.chunkSize, signal: options.signal,
      onProgress: (oci) => options.onProgress?.({ step: 'push', state: 'progress', oci }),
    });
    return pinnedImage(ref.registry, ref.repository, pushed.manifestDigest, pushed.wasmSha256);
  }, (image) => `${image.url}${remote ? '' : ' (not pushed: dry run)'}`);

  const client = options.dryRun === 'client' ? undefined : options.client ?? new ClusterClient(options.kube);
  let untouched: string[] = [];
  const manifests = await step('render', async () => {
    const rendered = renderTargets(options, pinned);
    if (client) untouched = await checkLiveObjects(client, options, rendered);
    return rendered;
  }, (rendered) => rendered.map((m) => `${m.kind} ${m.metadata.namespace}/${m.metadata.name}`).join(', ')
    + (untouched.length > 0 ? `; left as they are: ${untouched.join(', ')}` : ''));
  // With -l the objects stand for that one workload: a workload-scoped config is proven for it alone.
  await step('validate', () => validateRendered(options.wasm, manifests, Object.keys(options.selector).length > 0), (checked) => checked.join(', '));
  const applied = await step('apply', () => applyManifests(client, manifests, { dryRun: options.dryRun, force: options.force, ...(options.now ? { now: options.now } : {}) }),
    (objects) => objects.map((o) => `${o.kind} ${o.namespace}/${o.name} ${o.action}`).join(', '));
  timings.total = performance.now() - started;
  return { filter: options.filter, image: pinned, pushed: remote, manifests: applied.map((a) => a.manifest), applied, untouched, timings };
}

/**
 * The pinned image a push of `wasm` to `image` would produce, computed without a registry:
 * image builds are deterministic (deployer/src/oci/image-builder.ts), so the manifest digest is
 * known locally. Used by dry runs and `deployer render`.
 */
export async function localPinnedImage(wasm: Uint8Array, image: string, format: WasmImageFormat): Promise<PinnedImage> {
  const ref = parseImageReference(image);
  const report = inspectModule(wasm);
  if (!report.ok) throw new Error(`module would not load in Envoy: ${report.problems.join('; ')}`);
  const built = await buildWasmImage({ wasm, format, abiVersion: report.abiVersion });
  return pinnedImage(ref.registry, ref.repository, built.manifestDigest, report.sha256);
}

function pinnedImage(registry: string, repository: string, manifestDigest: string, wasmSha256: string): PinnedImage {
  return { url: `oci://${registry}/${repository}@${manifestDigest}`, manifestDigest, wasmSha256 };
}

/** One manifest per target (scope + config); without targets, one for namespace/selector/pluginConfig. */
function renderTargets(options: PushPipelineOptions, image: PinnedImage): KubernetesManifest[] {
  const targets: readonly FilterTarget[] = options.targets ?? [{ scope: { namespace: options.namespace, selector: options.selector }, config: options.pluginConfig ?? {}, sources: [] }];
  return renderFilterTargets({
    filter: options.filter, context: options.context, via: options.via, failStrategy: options.failStrategy, image,
    imagePullPolicy: options.imagePullPolicy, imagePullSecret: options.imagePullSecret, priority: options.priority,
    ...(options.routes ? { routes: options.routes } : {}),
    ...(options.routeTargets ? { routeTargets: options.routeTargets } : {}),
  }, targets);
}

/**
 * Objects of this filter already live in the namespace that would run next to the new ones on a
 * workload: the other via (EnvoyFilter ↔ WasmPlugin), or another scope that can select the same
 * workloads (deployer/src/istio/scopes.ts). Both would run, so this is refused. Returns the
 * other live objects of the filter there (disjoint scopes), which this push leaves as they are.
 */
async function checkLiveObjects(client: ClusterClient, options: PushPipelineOptions, rendered: readonly KubernetesManifest[]): Promise<string[]> {
  const untouched: string[] = [];
  const root = options.rootNamespace ?? DEFAULT_ROOT_NAMESPACE;
  const rootDeployed = await listDeployed(client, root, options.filter);
  for (const namespace of new Set(rendered.map((m) => m.metadata.namespace))) {
    const own = namespace === root ? rootDeployed : await listDeployed(client, namespace, options.filter);
    const deployed = namespace === root ? own : [...own, ...rootDeployed];
    // A live object's via is its label (header-router's `-routes` EnvoyFilter is part of a WasmPlugin
    // deployment too); objects without the label are told by their kind.
    const viaOf = (d: DeployedFilter) => d.object.metadata?.labels?.[VIA_LABEL] ?? (d.kind === 'WasmPlugin' ? 'wasmplugin' : 'envoyfilter');
    const otherVia = own.find((d) => viaOf(d) !== options.via && !isRoutePatches(d.object)) ?? own.find((d) => viaOf(d) !== options.via);
    if (otherVia) {
      throw new Error(`filter "${options.filter}" is already deployed in "${namespace}" as ${otherVia.kind} ${otherVia.name}: the filter would run twice; expected --via ${viaOf(otherVia)} (or deployer undeploy ${options.filter} first)`);
    }
    // Route patches run beside the object of their scope: that object's scope is what is checked.
    for (const manifest of rendered.filter((m) => m.metadata.namespace === namespace && !isRoutePatches(m))) {
      const clash = deployed.find((d) => !isRoutePatches(d.object) && (d.name !== manifest.metadata.name || d.namespace !== namespace) && scopesOverlap(scopeOfManifest(toManifest(d.object)), scopeOfManifest(manifest), root));
      if (clash) {
        const theirs = formatScope(scopeOfManifest(toManifest(clash.object)));
        const mine = formatScope(scopeOfManifest(manifest));
        // Same scope under another name: an object named before names carried the scope.
        const renamed = theirs === mine ? ' (the same scope under its earlier, scope-less name)' : '';
        throw new Error(`${manifest.kind} ${namespace}/${manifest.metadata.name} (${mine}) would select workloads already running ${clash.kind} ${clash.namespace}/${clash.name} (${theirs})${renamed}: the filter would run twice on them; expected the same scope, or deployer undeploy ${options.filter} -n ${clash.namespace} first`);
      }
    }
    const names = new Set(rendered.filter((m) => m.metadata.namespace === namespace).map((m) => m.metadata.name));
    for (const d of own.filter((o) => !names.has(o.name))) untouched.push(`${d.kind} ${d.namespace}/${d.name} (${formatScope(scopeOfManifest(toManifest(d.object)))})`);
  }
  return untouched;
}
