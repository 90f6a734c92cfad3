import type { FilterAttachment } from '../mesh-model.js';
import type { ResourceSpec } from '../snapshot.js';
import { TypeUrl } from '../types.js';
import { ADS_CONFIG_SOURCE, MODULE_SERVER_CLUSTER, WASM_TYPE } from './names.js';

/** Where the module server serves a module (module-server.ts). */
export function moduleUrl(baseUrl: string, sha256: string): string {
  return `${baseUrl.replace(/\/$/, '')}/modules/sha256/${sha256}`;
}

/**
 * ECDS: a TypedExtensionConfig holding envoy.extensions.filters.http.wasm.v3.Wasm whose code is a
 * remote http_uri on the module server pinned by sha256 (Envoy refuses a body with another hash,
 * source/extensions/common/wasm/remote_async_datasource.cc). A filter swap changes only this resource.
 */
export function wasmExtensionConfig(filter: FilterAttachment, moduleBaseUrl: string): ResourceSpec {
  return {
    typeUrl: TypeUrl.extensionConfig,
    name: filter.name,
    references: [{ typeUrl: TypeUrl.cluster, name: MODULE_SERVER_CLUSTER }],
    modules: [filter.sha256],
    message: {
      name: filter.name,
      typed_config: {
        '@type': WASM_TYPE,
        config: {
          name: filter.name,
          root_id: filter.rootId,
          vm_config: {
            // One VM per module version: a new module never shares a VM with the old one.
            vm_id: `${filter.name}-${filter.sha256.slice(0, 12)}`,
            runtime: 'envoy.wasm.runtime.v8',
            code: { remote: { http_uri: { uri: moduleUrl(moduleBaseUrl, filter.sha256), cluster: MODULE_SERVER_CLUSTER, timeout: { seconds: 30 } }, sha256: filter.sha256, retry_policy: { num_retries: { value: 5 } } } },
          },
          configuration: { '@type': 'type.googleapis.com/google.protobuf.StringValue', value: filter.configuration },
          fail_open: filter.failOpen,
        },
      },
    },
  };
}

/** The HCM filter entry pointing at an ECDS resource (Istio's WasmPlugin wiring). */
export function ecdsFilterReference(filter: FilterAttachment): Record<string, unknown> {
  return {
    name: filter.name,
    config_discovery: { config_source: ADS_CONFIG_SOURCE, type_urls: [WASM_TYPE] },
  };
}
