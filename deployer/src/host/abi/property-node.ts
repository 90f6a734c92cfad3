/**
 * Envoy's `node`, `node.metadata` and `node.metadata.<key>` attributes, serialized as protobuf
 * (envoy:context.cc serializeValue of the Node message / Struct / Value).
 */
import type { NodeInfo } from '../api.js';
import type { PluginVm } from '../plugin-vm.js';
import { encode, NodeType, StructType, ValueType, toStruct, toValue } from './proto.js';

/**
 * Node attributes are static for the host's life (api.ts NodeInfo is immutable): `node`,
 * `node.metadata` and each `node.metadata.<key>` are encoded once per NodeInfo, not per lookup.
 */
interface NodeEncodings { whole?: Uint8Array; metadata?: Uint8Array; readonly fields: Map<string, Uint8Array> }
const nodeEncodings = new WeakMap<NodeInfo, NodeEncodings>();
function encodingsOf(node: NodeInfo): NodeEncodings {
  let e = nodeEncodings.get(node);
  if (e === undefined) {
    e = { fields: new Map() };
    nodeEncodings.set(node, e);
  }
  return e;
}

export function nodeBytes(h: PluginVm): Uint8Array {
  const e = encodingsOf(h.services.node);
  const { id, cluster, metadata } = h.services.node;
  return (e.whole ??= encode(NodeType, { id, cluster, metadata: toStruct(metadata) }));
}

export function nodeMetadataBytes(h: PluginVm): Uint8Array {
  const e = encodingsOf(h.services.node);
  return (e.metadata ??= encode(StructType, toStruct(h.services.node.metadata)));
}

export function nodeMetadataField(h: PluginVm, key: string): Uint8Array | undefined {
  const { metadata } = h.services.node;
  if (!Object.prototype.hasOwnProperty.call(metadata, key)) return undefined;
  const fields = encodingsOf(h.services.node).fields;
  let bytes = fields.get(key);
  if (bytes === undefined) {
    bytes = encode(ValueType, toValue(metadata[key]));
    fields.set(key, bytes);
  }
  return bytes;
}

