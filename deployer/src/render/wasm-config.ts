import { objectName } from './metadata.js';
import type { JsonObject, RenderOptions } from './types.js';

export const WASM_HTTP_FILTER_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm';
export const STRING_VALUE_TYPE = 'type.googleapis.com/google.protobuf.StringValue';
/** Env var istio-agent reads (and strips) to decide whether to re-pull (istio/istio pilot/pkg/model/extensions.go WasmPolicyEnv). */
export const ISTIO_PULL_POLICY_ENV = 'ISTIO_META_WASM_IMAGE_PULL_POLICY';

/** Name of the ECDS resource: `<namespace>.wasmesh-<filter>`, unique across the mesh like Istio's own WasmPlugin ECDS names. */
export function extensionConfigName(options: RenderOptions): string {
  return `${options.namespace}.${objectName(options.filter, options)}`;
}

/** Hex part of `sha256:<hex>`. */
export function digestHex(digest: string): string {
  return digest.slice('sha256:'.length);
}

/**
 * The `envoy.extensions.filters.http.wasm.v3.Wasm` config served over ECDS.
 *
 * `vm_config.code.remote.http_uri.uri` is the pinned `oci://` reference: istio-agent intercepts
 * ECDS, downloads the module (oci://, http(s)://), checks it against `remote.sha256` and rewrites
 * the code source to a local file before Envoy sees it (istio/istio pkg/wasm/convert.go,
 * pkg/istio-agent/xds_proxy_delta.go). For OCI images that checksum is the image (manifest)
 * digest, as for WasmPlugin's `sha256`. `cluster: "_"` mirrors what istiod renders for
 * WasmPlugin: the cluster is never used because the agent does the fetch
 * (pilot/pkg/model/extensions.go buildDataSource). When the fetch fails and the plugin is not
 * fail-open, the agent NACKs, the listener keeps waiting for the config
 * (initial_fetch_timeout 0s) and no request bypasses the filter.
 */
export function renderWasmFilterConfig(options: RenderOptions): JsonObject {
  const env = options.imagePullPolicy ? { environment_variables: { key_values: { [ISTIO_PULL_POLICY_ENV]: options.imagePullPolicy } } } : {};
  return {
    '@type': WASM_HTTP_FILTER_TYPE,
    config: {
      name: extensionConfigName(options),
      root_id: options.filter,
      vm_config: {
        runtime: 'envoy.wasm.runtime.v8',
        code: {
          remote: {
            http_uri: { uri: options.image.url, cluster: '_', timeout: '30s' },
            sha256: digestHex(options.image.manifestDigest),
          },
        },
        ...env,
      },
      configuration: { '@type': STRING_VALUE_TYPE, value: JSON.stringify(options.pluginConfig ?? {}) },
      fail_open: options.failStrategy === 'open',
    },
  };
}
