import { placementFor } from '../suite.js';
import { objectName, renderAnnotations, renderLabels } from './metadata.js';
import { checkRenderOptions } from './options.js';
import type { JsonObject, KubernetesManifest, ListenerContext, RenderOptions } from './types.js';
import { extensionConfigName, renderWasmFilterConfig, WASM_HTTP_FILTER_TYPE } from './wasm-config.js';

/**
 * EnvoyFilter wiring: the ECDS pair.
 * 1. `EXTENSION_CONFIG` / `ADD` — the Wasm filter config, served by istiod over ECDS.
 * 2. `HTTP_FILTER` / `INSERT_BEFORE envoy.filters.http.router` — an HTTP filter whose
 *    `config_discovery` names that extension config.
 * https://istio.io/latest/docs/reference/config/networking/envoy-filter/ (ApplyTo EXTENSION_CONFIG).
 * istiod serves an EXTENSION_CONFIG patch over ECDS when its operation is ADD and its value (a
 * TypedExtensionConfig) is named by a config_discovery the proxy asks for; the match context is
 * not consulted there (istio/istio pilot/pkg/networking/core/envoyfilter/extension_configuration_patch.go),
 * so it is set to the same context as the HTTP_FILTER patch for readability.
 */
export const ENVOY_FILTER_API_VERSION = 'networking.istio.io/v1alpha3';

const PATCH_CONTEXT: Readonly<Record<ListenerContext, string>> = {
  inbound: 'SIDECAR_INBOUND',
  outbound: 'SIDECAR_OUTBOUND',
  gateway: 'GATEWAY',
};

export function envoyPatchContext(context: ListenerContext): string {
  return PATCH_CONTEXT[context];
}

/** The `HttpFilter` inserted in the HCM: config comes over ADS-delivered ECDS. */
export function renderHttpFilter(options: RenderOptions): JsonObject {
  return {
    name: extensionConfigName(options),
    config_discovery: {
      config_source: {
        ads: {},
        resource_api_version: 'V3',
        // Block listener warm-up until the config arrives: wasmesh filters are security-relevant.
        initial_fetch_timeout: '0s',
      },
      type_urls: [WASM_HTTP_FILTER_TYPE],
    },
  };
}

export function renderEnvoyFilter(options: RenderOptions): KubernetesManifest {
  checkRenderOptions({ ...options, via: 'envoyfilter' });
  const opts: RenderOptions = { ...options, via: 'envoyfilter' };
  const placement = placementFor(opts.filter, opts.priority);
  const context = envoyPatchContext(opts.context);
  const selector = opts.targetRefs !== undefined && opts.targetRefs.length > 0
    ? { targetRefs: opts.targetRefs.map((ref) => ({ ...ref })) }
    : Object.keys(opts.selector).length > 0 ? { workloadSelector: { labels: { ...opts.selector } } } : {};
  return {
    apiVersion: ENVOY_FILTER_API_VERSION,
    kind: 'EnvoyFilter',
    metadata: {
      name: objectName(opts.filter, opts),
      namespace: opts.namespace,
      labels: renderLabels(opts),
      annotations: renderAnnotations(opts, placement),
    },
    spec: {
      ...selector,
      priority: placement.envoyFilterPriority,
      configPatches: [
        {
          applyTo: 'EXTENSION_CONFIG',
          match: { context },
          patch: { operation: 'ADD', value: { name: extensionConfigName(opts), typed_config: renderWasmFilterConfig(opts) } },
        },
        {
          applyTo: 'HTTP_FILTER',
          match: {
            context,
            listener: {
              filterChain: {
                filter: { name: 'envoy.filters.network.http_connection_manager', subFilter: { name: 'envoy.filters.http.router' } },
              },
            },
          },
          patch: { operation: 'INSERT_BEFORE', value: renderHttpFilter(opts) },
        },
      ],
    },
  };
}
