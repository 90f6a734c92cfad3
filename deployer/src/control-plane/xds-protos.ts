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
  const problem = fieldProblem(type, data, '');
  if (problem) throw new Error(`could not encode ${fullName}: ${problem}`);
  return type.encode(type.fromObject(data)).finish();
}

/**
 * protobufjs's fromObject drops unknown fields and bad enum names silently, and verify() wants
 * enum numbers; this walks the JSON against the message descriptors instead (nested Any
 * payloads included) and names the first field that does not fit.
 */
function fieldProblem(type: protobuf.Type, data: Record<string, unknown>, at: string): string | undefined {
  for (const [key, value] of Object.entries(data)) {
    if (value === undefined) continue;
    if (key === '@type' && type.fullName === '.google.protobuf.Any') continue;
    const field = type.fields[key];
    const where = at ? `${at}.${key}` : key;
    if (!field) return `${where}: no such field in ${type.fullName.slice(1)}`;
    field.resolve();
    const items = field.map ? Object.values(value as Record<string, unknown>) : field.repeated ? (Array.isArray(value) ? value : [undefined]) : [value];
    if (field.repeated && !Array.isArray(value)) return `${where}: expected a list`;
    for (const item of items) {
      const problem = valueProblem(field, item, where);
      if (problem) return problem;
    }
  }
  return undefined;
}

function valueProblem(field: protobuf.Field, value: unknown, where: string): string | undefined {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Enum) {
    if (typeof value === 'number' ? !Object.values(resolved.values).includes(value) : typeof value !== 'string' || !(value in resolved.values)) {
      return `${where}: ${JSON.stringify(value)} is not a value of ${resolved.fullName.slice(1)}`;
    }
    return undefined;
  }
  if (resolved instanceof protobuf.Type) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${where}: expected a ${resolved.fullName.slice(1)} object`;
    if (resolved.fullName === '.google.protobuf.Any' && '@type' in value) {
      const typeName = String((value as { '@type': unknown })['@type']).replace(/^.*\//, '');
      const payload = Object.fromEntries(Object.entries(value).filter(([k]) => k !== '@type'));
      let payloadType: protobuf.Type;
      try { payloadType = xdsType(typeName); } catch (error) { return `${where}: ${error instanceof Error ? error.message : String(error)}`; }
      return fieldProblem(payloadType, payload, `${where}<${typeName}>`);
    }
    return fieldProblem(resolved, value as Record<string, unknown>, where);
  }
  return undefined;
}

export function decodeMessage<T>(fullName: string, bytes: Uint8Array): T {
  return xdsType(fullName).decode(bytes) as unknown as T;
}

/**
 * google.protobuf.Struct / Value (as protobufjs decodes them) → plain JSON. protobufjs defines the
 * well-known types itself (src/common.js), with lowerCamel field names even under keepCase.
 */
export interface StructMessage { readonly fields?: Record<string, ValueMessage> }
export interface ValueMessage {
  readonly nullValue?: number; readonly numberValue?: number; readonly stringValue?: string; readonly boolValue?: boolean;
  readonly structValue?: StructMessage; readonly listValue?: { readonly values?: readonly ValueMessage[] };
}

export function structToJson(struct: StructMessage | null | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(struct?.fields ?? {})) out[key] = valueToJson(value);
  return out;
}

function valueToJson(value: ValueMessage): unknown {
  // Decoded messages carry defaults on their prototype; only the oneof member actually set is an own property.
  const has = (field: keyof ValueMessage) => Object.prototype.hasOwnProperty.call(value, field) && value[field] !== null && value[field] !== undefined;
  if (has('stringValue')) return value.stringValue;
  if (has('numberValue')) return value.numberValue;
  if (has('boolValue')) return value.boolValue;
  if (has('structValue')) return structToJson(value.structValue);
  if (has('listValue')) return (value.listValue!.values ?? []).map(valueToJson);
  return null;
}

/** Plain JSON → google.protobuf.Struct in protobufjs's object form (for Node metadata in clients). */
export function jsonToStruct(json: Readonly<Record<string, unknown>>): StructMessage {
  const fields: Record<string, ValueMessage> = {};
  for (const [key, value] of Object.entries(json)) fields[key] = jsonToValue(value);
  return { fields };
}

function jsonToValue(value: unknown): ValueMessage {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'number') return { numberValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map(jsonToValue) } };
  if (value && typeof value === 'object') return { structValue: jsonToStruct(value as Record<string, unknown>) };
  return { nullValue: 0 };
}
