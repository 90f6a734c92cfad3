import protobuf from 'protobufjs';
import type { NodeMessage } from './node-identity.js';
import type { Snapshot, TypeUrl, XdsResource } from './types.js';
import { decodeMessage } from './xds-protos.js';

/**
 * DiscoveryRequest/Response (SotW) and DeltaDiscoveryRequest/Response on the wire
 * (envoy/service/discovery/v3/discovery.proto). Responses are written field by field with
 * protobufjs's Writer: a resource is wrapped once per snapshot, and a response body is shared by
 * every stream it goes to — only the nonce differs, appended last (protobuf allows fields in any
 * order), so pushing one change to 1,000 proxies encodes it once.
 */
export interface DiscoveryRequest {
  readonly version_info: string;
  readonly node?: NodeMessage | null;
  readonly resource_names: readonly string[];
  readonly type_url: string;
  readonly response_nonce: string;
  readonly error_detail?: { readonly code?: number; readonly message?: string } | null;
}

export interface DeltaDiscoveryRequest {
  readonly node?: NodeMessage | null;
  readonly type_url: string;
  readonly resource_names_subscribe: readonly string[];
  readonly resource_names_unsubscribe: readonly string[];
  readonly initial_resource_versions: Readonly<Record<string, string>>;
  readonly response_nonce: string;
  readonly error_detail?: { readonly code?: number; readonly message?: string } | null;
}

export function decodeDiscoveryRequest(bytes: Uint8Array): DiscoveryRequest {
  return decodeMessage<DiscoveryRequest>('envoy.service.discovery.v3.DiscoveryRequest', bytes);
}

export function decodeDeltaDiscoveryRequest(bytes: Uint8Array): DeltaDiscoveryRequest {
  return decodeMessage<DeltaDiscoveryRequest>('envoy.service.discovery.v3.DeltaDiscoveryRequest', bytes);
}

const LENGTH_DELIMITED = 2;
const tag = (field: number): number => (field << 3) | LENGTH_DELIMITED;

const anyCache = new WeakMap<XdsResource, Uint8Array>();

/** The resource as a google.protobuf.Any, encoded once per resource (resources are shared across snapshots and groups). */
function anyBytes(resource: XdsResource): Uint8Array {
  let bytes = anyCache.get(resource);
  if (!bytes) {
    bytes = protobuf.Writer.create().uint32(tag(1)).string(resource.typeUrl).uint32(tag(2)).bytes(resource.value).finish();
    anyCache.set(resource, bytes);
  }
  return bytes;
}

/** DiscoveryResponse without its nonce: version_info=1, resources=2 (Any), type_url=4. Callers cache it per snapshot. */
export function sotwResponseBody(typeUrl: TypeUrl, version: string, resources: readonly XdsResource[]): Uint8Array {
  const writer = protobuf.Writer.create().uint32(tag(1)).string(version);
  for (const resource of resources) writer.uint32(tag(2)).bytes(anyBytes(resource));
  return writer.uint32(tag(4)).string(typeUrl).finish();
}

/**
 * body + nonce (field 5 of DiscoveryResponse and of DeltaDiscoveryResponse), written straight into
 * one buffer: the only per-stream bytes of a push. Nonces are short ASCII (a stream counter).
 */
export function withNonce(body: Uint8Array, nonce: string): Buffer {
  if (nonce.length > 127 || !/^[\x20-\x7e]*$/.test(nonce)) return Buffer.concat([body, protobuf.Writer.create().uint32(tag(5)).string(nonce).finish()]);
  const out = Buffer.allocUnsafe(body.byteLength + 2 + nonce.length);
  out.set(body, 0);
  out[body.byteLength] = tag(5);
  out[body.byteLength + 1] = nonce.length;
  out.write(nonce, body.byteLength + 2, 'latin1');
  return out;
}

const deltaResourceBytes = new WeakMap<XdsResource, Uint8Array>();

/** envoy.service.discovery.v3.Resource: version=1, resource=2 (Any), name=3. */
function deltaResource(resource: XdsResource): Uint8Array {
  let bytes = deltaResourceBytes.get(resource);
  if (!bytes) {
    bytes = protobuf.Writer.create().uint32(tag(1)).string(resource.version).uint32(tag(2)).bytes(anyBytes(resource)).uint32(tag(3)).string(resource.name).finish();
    deltaResourceBytes.set(resource, bytes);
  }
  return bytes;
}

const deltaBodies = new WeakMap<Snapshot, Map<string, Uint8Array>>();

/**
 * DeltaDiscoveryResponse: system_version_info=1, resources=2, type_url=4, nonce=5,
 * removed_resources=6. The part before the nonce is shared by every stream that gets the same
 * changes from the same snapshot (a push to a group's proxies), so it is encoded once.
 */
export function deltaResponse(snapshot: Snapshot, systemVersion: string, typeUrl: TypeUrl, resources: readonly XdsResource[], removed: readonly string[], nonce: string): Buffer {
  let bodies = deltaBodies.get(snapshot);
  if (!bodies) deltaBodies.set(snapshot, (bodies = new Map()));
  let key = `${typeUrl}|${systemVersion}`;
  for (const resource of resources) key += `|${resource.name}\0${resource.version}`;
  let body = bodies.get(key);
  if (!body) {
    const writer = protobuf.Writer.create().uint32(tag(1)).string(systemVersion);
    for (const resource of resources) writer.uint32(tag(2)).bytes(deltaResource(resource));
    body = writer.uint32(tag(4)).string(typeUrl).finish();
    bodies.set(key, body);
  }
  if (removed.length === 0) return withNonce(body, nonce);
  const tail = protobuf.Writer.create();
  for (const name of removed) tail.uint32(tag(6)).string(name);
  return Buffer.concat([withNonce(body, nonce), tail.finish()]);
}
