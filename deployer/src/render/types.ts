import type { RouteTargets } from './route-targets.js';
import type { TargetRef } from '../istio/selection.js';
import type { SuitePlacement } from '../suite.js';

export type ListenerContext = 'inbound' | 'outbound' | 'gateway';
export type Via = 'envoyfilter' | 'wasmplugin';
export type FailStrategy = 'close' | 'open' | 'reload';
export type ImagePullPolicy = 'IfNotPresent' | 'Always';

/** JSON; object members may be `undefined` (absent), which serializers drop, so optional fields can be spread in. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue | undefined };
export type JsonObject = { readonly [key: string]: JsonValue | undefined };

/** An OCI image pinned by digest, as pushed by deployer/src/oci. */
export interface PinnedImage {
  /** `oci://host[:port]/repo@sha256:<manifest digest>` */
  readonly url: string;
  /** `sha256:<hex>` of the image manifest. */
  readonly manifestDigest: string;
  /** hex sha256 of the .wasm module itself. */
  readonly wasmSha256: string;
}

/**
 * One deployment of a filter object, newest first in the `wasmesh.io/history` annotation that
 * apply writes (deployer/src/apply/history.ts): the image and the configuration that shipped.
 */
export interface DeploymentRecord {
  readonly url: string;
  readonly manifestDigest: string;
  readonly wasmSha256: string;
  /**
   * The plugin configuration exactly as shipped (the JSON string handed to proxy_on_configure).
   * Absent in records written before configurations were recorded.
   */
  readonly config?: string;
  readonly appliedAt: string;
}

export interface RenderOptions {
  /** Filter name (filters/<name>); also the proxy-wasm root context id. */
  readonly filter: string;
  readonly namespace: string;
  /** Workload labels; empty selects every workload in the namespace. */
  readonly selector: Readonly<Record<string, string>>;
  /** Gateway API gateways to bind instead of a selector (istiod attaches these to gateways only). */
  readonly targetRefs?: readonly TargetRef[];
  readonly context: ListenerContext;
  readonly via: Via;
  readonly failStrategy: FailStrategy;
  readonly image: PinnedImage;
  /** The filter's JSON configuration, handed to the plugin's on_configure. */
  readonly pluginConfig?: JsonObject;
  readonly imagePullPolicy?: ImagePullPolicy;
  /** Kubernetes Secret (same namespace) with registry credentials; WasmPlugin only. */
  readonly imagePullSecret?: string;
  /** Only for filters outside the suite: their EnvoyFilter/WasmPlugin priority. */
  readonly priority?: number;
  /** header-router: the Envoy routes its routing header selects, rendered as HTTP_ROUTE patches (route-patches.ts). */
  readonly routes?: readonly JsonObject[];
  /** header-router: the virtual hosts each route belongs in (route-targets.ts); without it, every route configuration. */
  readonly routeTargets?: RouteTargets;
}

/** Where and how a filter is wired in: the RenderOptions that `push` and `render` take from flags. */
export type WiringChoice = Pick<RenderOptions,
  'namespace' | 'selector' | 'context' | 'via' | 'failStrategy' | 'imagePullPolicy' | 'imagePullSecret' | 'priority'>;

export interface KubernetesManifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations: Readonly<Record<string, string>>;
  };
  readonly spec: JsonObject;
}

export interface ResolvedRender {
  readonly options: RenderOptions;
  readonly placement: SuitePlacement;
}
