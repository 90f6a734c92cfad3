import { placementFor } from '../suite.js';
import { objectName, renderAnnotations, renderLabels } from './metadata.js';
import { checkRenderOptions } from './options.js';
import type { FailStrategy, KubernetesManifest, ListenerContext, RenderOptions } from './types.js';
import { digestHex } from './wasm-config.js';

/**
 * WasmPlugin wiring (extensions.istio.io/v1alpha1).
 * https://istio.io/latest/docs/reference/config/proxy_extensions/wasm-plugin/
 * `sha256` for an OCI url is the image digest; when the url already carries `@sha256:` they must
 * match, so both are the manifest digest.
 */
export const WASM_PLUGIN_API_VERSION = 'extensions.istio.io/v1alpha1';

const FAIL_STRATEGY: Readonly<Record<FailStrategy, string>> = { close: 'FAIL_CLOSE', open: 'FAIL_OPEN', reload: 'FAIL_RELOAD' };

/** Traffic direction of the plugin: SERVER = inbound, CLIENT = outbound; gateways take both. */
/** WasmPlugin match mode per direction (also sent by `push --control-plane`). */
export const MATCH_MODE: Readonly<Record<ListenerContext, string>> = { inbound: 'SERVER', outbound: 'CLIENT', gateway: 'CLIENT_AND_SERVER' };

export function renderWasmPlugin(options: RenderOptions): KubernetesManifest {
  const opts: RenderOptions = { ...options, via: 'wasmplugin' };
  checkRenderOptions(opts);
  const placement = placementFor(opts.filter, opts.priority);
  const selector = opts.targetRefs !== undefined && opts.targetRefs.length > 0
    ? { targetRefs: opts.targetRefs.map((ref) => ({ ...ref })) }
    : Object.keys(opts.selector).length > 0 ? { selector: { matchLabels: { ...opts.selector } } } : {};
  return {
    apiVersion: WASM_PLUGIN_API_VERSION,
    kind: 'WasmPlugin',
    metadata: {
      name: objectName(opts.filter, opts),
      namespace: opts.namespace,
      labels: renderLabels(opts),
      annotations: renderAnnotations(opts, placement),
    },
    spec: {
      ...selector,
      url: opts.image.url,
      sha256: digestHex(opts.image.manifestDigest),
      ...(opts.imagePullPolicy ? { imagePullPolicy: opts.imagePullPolicy } : {}),
      ...(opts.imagePullSecret ? { imagePullSecret: opts.imagePullSecret } : {}),
      pluginName: opts.filter,
      phase: placement.wasmPluginPhase,
      priority: placement.wasmPluginPriority,
      failStrategy: FAIL_STRATEGY[opts.failStrategy],
      type: 'HTTP',
      match: [{ mode: MATCH_MODE[opts.context] }],
      ...(opts.pluginConfig && Object.keys(opts.pluginConfig).length > 0 ? { pluginConfig: opts.pluginConfig } : {}),
    },
  };
}
