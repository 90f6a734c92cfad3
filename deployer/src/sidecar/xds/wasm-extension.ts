import { decodeMessage } from '../../control-plane/xds-protos.js';
import type { WasmFilterConfig } from '../config/types.js';

const WASM_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm';
const STRING_VALUE = 'type.googleapis.com/google.protobuf.StringValue';

interface AnyMessage { readonly type_url: string; readonly value: Uint8Array }

/** What an ECDS resource asks for: the module to fetch and the filter around it. */
export interface WasmExtension {
  readonly name: string;
  readonly uri: string;
  readonly sha256: string;
  readonly filter: Omit<WasmFilterConfig, 'wasmFile'>;
}

interface WasmMessage {
  readonly config?: {
    readonly name?: string; readonly root_id?: string; readonly fail_open?: boolean;
    readonly configuration?: AnyMessage | null;
    readonly vm_config?: { readonly vm_id?: string; readonly configuration?: AnyMessage | null; readonly code?: { readonly remote?: { readonly http_uri?: { readonly uri?: string }; readonly sha256?: string } | null; readonly local?: unknown } | null } | null;
  } | null;
}

/** google.protobuf.StringValue, or the raw bytes as text for other types (Envoy hands BytesValue through too). */
function anyText(any: AnyMessage | null | undefined): string {
  if (!any) return '';
  if (any.type_url === STRING_VALUE) return decodeMessage<{ value?: string }>('google.protobuf.StringValue', any.value).value ?? '';
  return Buffer.from(any.value).toString('utf8');
}

/** Decode an ECDS TypedExtensionConfig holding a Wasm filter; throws naming what is missing. */
export function decodeWasmExtension(resource: Uint8Array): WasmExtension {
  const config = decodeMessage<{ name?: string; typed_config?: AnyMessage | null }>('envoy.config.core.v3.TypedExtensionConfig', resource);
  const name = config.name ?? '';
  if (config.typed_config?.type_url !== WASM_TYPE) throw new Error(`extension config ${name}: typed_config is ${config.typed_config?.type_url ?? 'missing'}, expected ${WASM_TYPE}`);
  const wasm = decodeMessage<WasmMessage>('envoy.extensions.filters.http.wasm.v3.Wasm', config.typed_config.value).config;
  const remote = wasm?.vm_config?.code?.remote;
  if (!remote?.http_uri?.uri || !remote.sha256) throw new Error(`extension config ${name}: expected vm_config.code.remote with http_uri and sha256 (local code is not fetched over xDS)`);
  return {
    name, uri: remote.http_uri.uri, sha256: remote.sha256.toLowerCase(),
    filter: {
      name, rootId: wasm?.root_id ?? '', vmId: wasm?.vm_config?.vm_id ?? '',
      configuration: anyText(wasm?.configuration), vmConfiguration: anyText(wasm?.vm_config?.configuration), failOpen: wasm?.fail_open ?? false,
    },
  };
}
