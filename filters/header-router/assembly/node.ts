/**
 * The local workload's node metadata (Istio's LABELS and NAMESPACE), read once per configuration
 * for sourceLabels/sourceNamespace matches.
 */
import { fetchProperty, propertyBytes, propertyLength, propertyString, releaseProperty } from "../../lib/properties";

export class NodeFacts {
  labels: Array<string> = new Array(); // name, value, ...
  namespace: string = "";

  label(name: string): string | null {
    for (let i = 0; i < this.labels.length; i += 2) if (this.labels[i] == name) return this.labels[i + 1];
    return null;
  }
}

/** Reads node.metadata LABELS and NAMESPACE (Istio's node metadata) from the host, once. */
export function readNodeFacts(): NodeFacts {
  const node = new NodeFacts();
  const ns = propertyString(String.UTF8.encode("node\0metadata\0NAMESPACE"));
  if (ns !== null) node.namespace = protobufValueString(ns);
  if (fetchProperty(String.UTF8.encode("node\0metadata\0LABELS"))) {
    readStructLabels(propertyBytes(), propertyLength(), node.labels);
    releaseProperty();
  }
  return node;
}

/**
 * A google.protobuf.Value holding a string (field 3) as Envoy returns a Struct field; plain text
 * is taken as is (hosts that hand the string itself).
 */
function protobufValueString(text: string): string {
  if (text.length >= 2 && text.charCodeAt(0) == 0x1a) {
    const bytes = String.UTF8.encode(text);
    const view = Uint8Array.wrap(bytes);
    const len = view[1];
    if (len < 0x80 && 2 + <i32>len == view.length) return String.UTF8.decodeUnsafe(changetype<usize>(bytes) + 2, len);
  }
  return text;
}

function varint(ptr: usize, end: usize, out: StaticArray<u64>): usize {
  let value: u64 = 0;
  let shift: u64 = 0;
  while (ptr < end) {
    const b = load<u8>(ptr++);
    value |= (<u64>(b & 0x7f)) << shift;
    if ((b & 0x80) == 0) { out[0] = value; return ptr; }
    shift += 7;
    if (shift > 63) break;
  }
  return 0;
}

/** Value{struct_value=5: Struct{fields=1: entry{key=1, value=2: Value{string_value=3}}}} → name, value pairs. */
function readStructLabels(ptr: usize, length: i32, out: Array<string>): void {
  const cell = new StaticArray<u64>(1);
  let p = ptr;
  let end = ptr + <usize>length;
  // Unwrap Value.struct_value when present.
  if (p < end && load<u8>(p) == 0x2a) {
    p = varint(p + 1, end, cell);
    if (p == 0) return;
    end = p + <usize>cell[0];
  }
  while (p != 0 && p < end) {
    const tag = load<u8>(p);
    p = varint(p + 1, end, cell);
    if (p == 0) return;
    const entryEnd = p + <usize>cell[0];
    if (tag != 0x0a || entryEnd > end) { p = entryEnd; continue; }
    let key = "";
    let value = "";
    let q = p;
    while (q != 0 && q < entryEnd) {
      const t = load<u8>(q);
      q = varint(q + 1, entryEnd, cell);
      if (q == 0) return;
      const len = <usize>cell[0];
      if (t == 0x0a) key = String.UTF8.decodeUnsafe(q, len);
      else if (t == 0x12 && len > 2 && load<u8>(q) == 0x1a) {
        const inner = varint(q + 1, q + len, cell);
        if (inner != 0) value = String.UTF8.decodeUnsafe(inner, <usize>cell[0]);
      }
      q += len;
    }
    if (key.length > 0) { out.push(key); out.push(value); }
    p = entryEnd;
  }
}
