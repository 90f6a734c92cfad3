import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { applyManifests, type AppliedObject, type DryRun } from '../apply/apply.js';
import { ClusterClient } from '../apply/client.js';
import { listDeployed } from '../apply/live.js';
import { inspectModule } from '../inspect/inspect.js';
import type { KubeTarget } from '../kube/kubeconfig.js';
import { buildWasmImage, type WasmImageFormat } from '../oci/image-builder.js';
import { pushWasmImage, type ProgressEvent as OciProgressEvent, type RegistryCredentials } from '../oci/push.js';
import { parseImageReference } from '../oci/reference.js';
import { renderEnvoyFilter } from '../render/envoyfilter.js';
import { validateManifests } from '../render/validate.js';
import { renderWasmPlugin } from '../render/wasmplugin.js';
import type { DeploymentRecord, JsonObject, KubernetesManifest, PinnedImage, RenderOptions, WiringChoice } from '../render/types.js';

/**
 * `deployer push`: inspect → OCI push → render → validate → apply.
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
  /** Milliseconds per step, plus `total`. */
  readonly timings: Readonly<Record<string, number>>;
}

export class PushStepError extends Error {
  constructor(readonly step: PushStep, cause: unknown) {
    super(`push failed at ${step}: ${cause instanceof Error ? cause.message : String(cause)}${step === 'apply' ? '' : ' (nothing was applied to the cluster)'}`, { cause });
    this.name = 'PushStepError';
  }
}

/** Filter name from a module path: `build/filters/jwt-auth.wasm` → `jwt-auth`. */
export function filterNameFromPath(file: string): string {
  return path.basename(file).replace(/(\.debug)?\.wasm$/, '');
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
  const manifests = await step('render', async () => {
    const history = client ? await previousDeployments(client, options) : [];
    const renderOptions: RenderOptions = {
      filter: options.filter, namespace: options.namespace, selector: options.selector, context: options.context, via: options.via,
      failStrategy: options.failStrategy, image: pinned, pluginConfig: options.pluginConfig, imagePullPolicy: options.imagePullPolicy, imagePullSecret: options.imagePullSecret,
      appliedAt: (options.now ?? (() => new Date()))().toISOString(), history, priority: options.priority,
    };
    return [options.via === 'wasmplugin' ? renderWasmPlugin(renderOptions) : renderEnvoyFilter(renderOptions)];
  });
  await step('validate', () => validateManifests(manifests));
  const applied = await step('apply', () => applyManifests(client, manifests, { dryRun: options.dryRun, force: options.force }),
    (objects) => objects.map((o) => `${o.kind} ${o.namespace}/${o.name} ${o.action}`).join(', '));
  timings.total = performance.now() - started;
  return { filter: options.filter, image: pinned, pushed: remote, manifests, applied, timings };
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

/**
 * History of this filter in the namespace, newest first, so the new objects remember what they
 * replace (for rollback). Switching via (EnvoyFilter ↔ WasmPlugin) is refused: both would run.
 */
async function previousDeployments(client: ClusterClient, options: PushPipelineOptions): Promise<DeploymentRecord[]> {
  const deployed = await listDeployed(client, options.namespace, options.filter);
  const otherVia = deployed.find((d) => d.kind !== (options.via === 'wasmplugin' ? 'WasmPlugin' : 'EnvoyFilter'));
  if (otherVia) {
    throw new Error(`filter "${options.filter}" is already deployed in "${options.namespace}" as ${otherVia.kind} ${otherVia.name}: the filter would run twice; expected --via ${otherVia.kind === 'WasmPlugin' ? 'wasmplugin' : 'envoyfilter'} (or deployer undeploy ${options.filter} first)`);
  }
  return deployed[0]?.history ? [...deployed[0].history] : [];
}
