import protobuf from 'protobufjs';
import { envoyProtoRoot, lookupMessage } from '../envoy/protos.js';

/**
 * The protos the control plane encodes and decodes, loaded into the same root as
 * deployer/src/envoy/protos.ts (Envoy's data-plane-api vendored by @grpc/grpc-js-xds). The root's
 * resolvePath already knows the vendored directories, so we only add the entry files.
 */
const XDS_FILES = [
  'envoy/service/discovery/v3/discovery.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/wasm/v3/wasm.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/filters/listener/original_dst/v3/original_dst.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'google/protobuf/wrappers.proto',
  'google/protobuf/struct.proto',
] as const;

let loaded: protobuf.Root | undefined;

/** Envoy's root with the xDS service and resource messages loaded (once per process). */
export function xdsProtoRoot(): protobuf.Root {
  if (loaded) return loaded;
  // lookupMessage first: it loads the bootstrap set the rest of the deployer may also rely on.
  lookupMessage('envoy.config.core.v3.Node');
  const root = envoyProtoRoot();
  try {
    root.loadSync([...XDS_FILES], { keepCase: true });
  } catch (error) {
    throw new Error(`could not load Envoy's xDS protos (expected @grpc/grpc-js-xds's vendored data-plane-api): ${error instanceof Error ? error.message : String(error)}`);
  }
  root.resolveAll();
  loaded = root;
  return root;
}

const types = new Map<string, protobuf.Type>();

/** A message type by full name (`envoy.config.listener.v3.Listener`). */
export function xdsType(fullName: string): protobuf.Type {
  let type = types.get(fullName);
  if (!type) {
    const found = xdsProtoRoot().lookup(fullName);
    if (!(found instanceof protobuf.Type)) throw new Error(`unknown protobuf message "${fullName}": not in Envoy's API protos`);
    type = found;
    types.set(fullName, type);
  }
  return type;
}

/**
 * Encode a message given as JSON-like data with snake_case field names. Nested `google.protobuf.Any`
 * values are written `{ '@type': 'type.googleapis.com/<message>', ...fields }` (protobufjs's Any
 * wrapper resolves and encodes them). Unknown fields are an error, not silently dropped: what we
 * serve must be exactly what we built.
 */
export function encodeMessage(fullName: string, data: Record<string, unknown>): Uint8Array {
  const type = xdsType(fullName);
  const problem = type.verify(withoutAnyMarkers(data));
  if (problem) throw new Error(`could not encode ${fullName}: ${problem}`);
  return type.encode(type.fromObject(data)).finish();
}

/** verify() does not know the Any wrapper's `@type` form; check nested Any payloads separately. */
function withoutAnyMarkers(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    if (value && typeof value === 'object' && !Array.isArray(value) && '@type' in value) {
      const typeName = String((value as { '@type': unknown })['@type']).replace(/^.*\//, '');
      const nested = { ...(value as Record<string, unknown>) };
      delete nested['@type'];
      const problem = xdsType(typeName).verify(withoutAnyMarkers(nested));
      if (problem) throw new Error(`${key} (${typeName}): ${problem}`);
      continue;
    }
    if (Array.isArray(value)) out[key] = value.map((v) => (v && typeof v === 'object' && !(v instanceof Uint8Array) ? withoutAnyMarkers(v as Record<string, unknown>) : v));
    else if (value && typeof value === 'object' && !(value instanceof Uint8Array)) out[key] = withoutAnyMarkers(value as Record<string, unknown>);
    else out[key] = value;
  }
  return out;
}

export function decodeMessage<T>(fullName: string, bytes: Uint8Array): T {
  return xdsType(fullName).decode(bytes) as unknown as T;
}

/** google.protobuf.Struct / Value (as protobufjs decodes them) → plain JSON. */
export interface StructMessage { readonly fields?: Record<string, ValueMessage> }
export interface ValueMessage {
  readonly null_value?: number; readonly number_value?: number; readonly string_value?: string; readonly bool_value?: boolean;
  readonly struct_value?: StructMessage; readonly list_value?: { readonly values?: readonly ValueMessage[] };
}

export function structToJson(struct: StructMessage | null | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(struct?.fields ?? {})) out[key] = valueToJson(value);
  return out;
}

function valueToJson(value: ValueMessage): unknown {
  if (value.string_value !== undefined && value.string_value !== null) return value.string_value;
  if (value.number_value !== undefined && value.number_value !== null) return value.number_value;
  if (value.bool_value !== undefined && value.bool_value !== null) return value.bool_value;
  if (value.struct_value) return structToJson(value.struct_value);
  if (value.list_value) return (value.list_value.values ?? []).map(valueToJson);
  return null;
}

/** Plain JSON → google.protobuf.Struct in protobufjs's object form (for Node metadata in clients). */
export function jsonToStruct(json: Readonly<Record<string, unknown>>): StructMessage {
  const fields: Record<string, ValueMessage> = {};
  for (const [key, value] of Object.entries(json)) fields[key] = jsonToValue(value);
  return { fields };
}

function jsonToValue(value: unknown): ValueMessage {
  if (typeof value === 'string') return { string_value: value };
  if (typeof value === 'number') return { number_value: value };
  if (typeof value === 'boolean') return { bool_value: value };
  if (Array.isArray(value)) return { list_value: { values: value.map(jsonToValue) } };
  if (value && typeof value === 'object') return { struct_value: jsonToStruct(value as Record<string, unknown>) };
  return { null_value: 0 };
}
