/**
 * Protobuf messages the host exchanges with filters, declared with protobufjs reflection
 * (field numbers from Envoy's source/extensions/common/wasm/ext/*.proto,
 * envoy/config/core/v3/base.proto Node and google/protobuf/struct.proto).
 */
import protobuf from 'protobufjs';

const descriptor: protobuf.INamespace = {
  nested: {
    google: { nested: { protobuf: { nested: {
      Struct: { fields: { fields: { keyType: 'string', type: 'Value', id: 1 } as protobuf.IMapField } },
      Value: {
        oneofs: { kind: { oneof: ['null_value', 'number_value', 'string_value', 'bool_value', 'struct_value', 'list_value'] } },
        fields: {
          null_value: { type: 'NullValue', id: 1 },
          number_value: { type: 'double', id: 2 },
          string_value: { type: 'string', id: 3 },
          bool_value: { type: 'bool', id: 4 },
          struct_value: { type: 'Struct', id: 5 },
          list_value: { type: 'ListValue', id: 6 },
        },
      },
      ListValue: { fields: { values: { rule: 'repeated', type: 'Value', id: 1 } } },
      NullValue: { values: { NULL_VALUE: 0 } },
    } } } },
    wasmesh: { nested: {
      Node: { fields: { id: { type: 'string', id: 1 }, cluster: { type: 'string', id: 2 }, metadata: { type: 'google.protobuf.Struct', id: 3 } } },
      VerifySignatureArguments: { fields: {
        hash_function: { type: 'string', id: 1 },
        public_key: { type: 'bytes', id: 2 },
        signature: { type: 'bytes', id: 3 },
        text: { type: 'bytes', id: 4 },
        public_key_pem: { type: 'string', id: 5 },
      } },
      VerifySignatureResult: { fields: { result: { type: 'bool', id: 1 }, error: { type: 'string', id: 2 } } },
      SetEnvoyFilterStateArguments: { fields: { path: { type: 'string', id: 1 }, value: { type: 'string', id: 2 }, span: { type: 'int32', id: 3 } } },
      DeclarePropertyArguments: { fields: {
        name: { type: 'string', id: 1 },
        readonly: { type: 'bool', id: 2 },
        type: { type: 'int32', id: 3 },
        schema: { type: 'bytes', id: 4 },
        span: { type: 'int32', id: 5 },
      } },
    } },
  },
};
const root = protobuf.Root.fromJSON(descriptor);

export const StructType = root.lookupType('google.protobuf.Struct');
export const ValueType = root.lookupType('google.protobuf.Value');
export const NodeType = root.lookupType('wasmesh.Node');
export const VerifySignatureArgumentsType = root.lookupType('wasmesh.VerifySignatureArguments');
export const VerifySignatureResultType = root.lookupType('wasmesh.VerifySignatureResult');
export const SetEnvoyFilterStateArgumentsType = root.lookupType('wasmesh.SetEnvoyFilterStateArguments');
export const DeclarePropertyArgumentsType = root.lookupType('wasmesh.DeclarePropertyArguments');

type ValueMessage = Record<string, unknown>;

/** JSON-ish value → google.protobuf.Value object for protobufjs. */
export function toValue(value: unknown): ValueMessage {
  if (value === null || value === undefined) return { null_value: 0 };
  if (typeof value === 'number') return { number_value: value };
  if (typeof value === 'string') return { string_value: value };
  if (typeof value === 'boolean') return { bool_value: value };
  if (Array.isArray(value)) return { list_value: { values: value.map(toValue) } };
  if (typeof value === 'object') return { struct_value: toStruct(value as Record<string, unknown>) };
  return { string_value: String(value) };
}

export function toStruct(object: Readonly<Record<string, unknown>>): { fields: Record<string, ValueMessage> } {
  const fields: Record<string, ValueMessage> = {};
  for (const [k, v] of Object.entries(object)) fields[k] = toValue(v);
  return { fields };
}

export function encode(type: protobuf.Type, object: Record<string, unknown>): Uint8Array {
  return type.encode(type.fromObject(object)).finish();
}

/** Decodes a message; undefined when the bytes do not parse (→ BadArgument / ParseFailure). */
export function decode(type: protobuf.Type, bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    return type.toObject(type.decode(bytes), { defaults: true }) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
