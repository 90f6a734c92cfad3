import * as grpc from '@grpc/grpc-js';
import { jsonToStruct, xdsType } from '../../deployer/src/control-plane/xds-protos.js';

/**
 * A raw ADS client over @grpc/grpc-js, written for the tests (and the bench): it sends exactly the
 * requests a test asks for and records every response, so the protocol itself is what is checked.
 */
export interface DecodedAny { readonly type_url: string; readonly value: Uint8Array }
export interface SotwResponse { readonly version_info: string; readonly resources: readonly DecodedAny[]; readonly type_url: string; readonly nonce: string }
export interface DeltaResource { readonly name: string; readonly version: string; readonly resource: DecodedAny }
export interface DeltaResponse { readonly system_version_info: string; readonly resources: readonly DeltaResource[]; readonly type_url: string; readonly nonce: string; readonly removed_resources: readonly string[] }

export interface NodeSpec { readonly id: string; readonly metadata?: Record<string, unknown> }

const SERVICE = '/envoy.service.discovery.v3.AggregatedDiscoveryService';

function nodeMessage(node: NodeSpec): Record<string, unknown> {
  return { id: node.id, cluster: 'test', metadata: node.metadata ? jsonToStruct(node.metadata) : undefined };
}

abstract class RawStream<Res> {
  readonly responses: Res[] = [];
  private waiters: { predicate: (r: Res) => boolean; resolve: (r: Res) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }[] = [];
  protected readonly call: grpc.ClientDuplexStream<Uint8Array, Res>;
  ended: grpc.StatusObject | Error | undefined;

  /** `lite`: decode without converting to plain objects (the bench's thousand clients). */
  constructor(client: grpc.Client, method: string, responseType: string, lite = false) {
    const type = xdsType(responseType);
    const decode = lite ? (b: Buffer) => type.decode(b) as unknown as Res : (b: Buffer) => type.toObject(type.decode(b), { defaults: true, arrays: true, objects: true }) as Res;
    this.call = client.makeBidiStreamRequest(`${SERVICE}/${method}`, (b: Uint8Array) => Buffer.from(b), decode);
    this.call.on('data', (response: Res) => {
      this.responses.push(response);
      for (const waiter of [...this.waiters]) {
        if (waiter.predicate(response)) { clearTimeout(waiter.timer); this.waiters.splice(this.waiters.indexOf(waiter), 1); waiter.resolve(response); }
      }
    });
    this.call.on('error', (error) => { this.ended = error; for (const w of this.waiters.splice(0)) { clearTimeout(w.timer); w.reject(error); } });
    this.call.on('status', (status) => { this.ended ??= status; });
  }

  /** Run `handler` on every response from now on (e.g. a proxy that ACKs everything). */
  onEach(handler: (response: Res) => void): void {
    this.call.on('data', handler);
  }

  /** The next response (after those already seen) matching `predicate`. */
  next(predicate: (r: Res) => boolean = () => true, timeoutMs = 5000, fromIndex = this.responses.length): Promise<Res> {
    const seen = this.responses.slice(fromIndex).find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.waiters = this.waiters.filter((w) => w.timer !== timer); reject(new Error(`no matching response within ${timeoutMs} ms (${this.responses.length} received)`)); }, timeoutMs);
      this.waiters.push({ predicate, resolve, reject, timer });
    });
  }

  close(): void {
    this.call.end();
    this.call.cancel();
  }
}

export class SotwClient extends RawStream<SotwResponse> {
  constructor(client: grpc.Client, private readonly node: NodeSpec, lite = false) {
    super(client, 'StreamAggregatedResources', 'envoy.service.discovery.v3.DiscoveryResponse', lite);
  }

  private nodeSent = false;

  /** The node goes on the first request only (as gRPC's client and Envoy's set_node_on_first_message_only do). */
  send(request: { type_url: string; resource_names?: string[]; version_info?: string; response_nonce?: string; error_detail?: { code: number; message: string }; withNode?: boolean }): void {
    const type = xdsType('envoy.service.discovery.v3.DiscoveryRequest');
    const withNode = request.withNode !== false && !this.nodeSent;
    if (withNode) this.nodeSent = true;
    const { withNode: _ignored, ...fields } = request;
    // encode takes the plain object as is (strings, lists, the Struct in protobufjs's form): no
    // fromObject copy per request, which the bench's thousand clients would pay on every ACK.
    this.call.write(type.encode({ ...fields, node: withNode ? nodeMessage(this.node) : undefined }).finish());
  }

  ack(response: SotwResponse, names?: string[]): void {
    this.send({ type_url: response.type_url, version_info: response.version_info, response_nonce: response.nonce, resource_names: names });
  }

  nack(response: SotwResponse, message: string, acceptedVersion = '', names?: string[]): void {
    this.send({ type_url: response.type_url, version_info: acceptedVersion, response_nonce: response.nonce, error_detail: { code: 3, message }, resource_names: names });
  }
}

export class DeltaClient extends RawStream<DeltaResponse> {
  constructor(client: grpc.Client, private readonly node: NodeSpec, lite = false) {
    super(client, 'DeltaAggregatedResources', 'envoy.service.discovery.v3.DeltaDiscoveryResponse', lite);
  }

  private nodeSent = false;

  send(request: { type_url: string; resource_names_subscribe?: string[]; resource_names_unsubscribe?: string[]; initial_resource_versions?: Record<string, string>; response_nonce?: string; error_detail?: { code: number; message: string } }): void {
    const type = xdsType('envoy.service.discovery.v3.DeltaDiscoveryRequest');
    const node = this.nodeSent ? undefined : nodeMessage(this.node);
    this.nodeSent = true;
    this.call.write(type.encode({ ...request, node }).finish());
  }

  ack(response: DeltaResponse): void {
    this.send({ type_url: response.type_url, response_nonce: response.nonce });
  }

  nack(response: DeltaResponse, message: string): void {
    this.send({ type_url: response.type_url, response_nonce: response.nonce, error_detail: { code: 3, message } });
  }
}

/** A client on its own connection when `ownConnection` (as separate proxies would be); else grpc-js shares one per target. */
export function adsClient(address: string, ownConnection = false): grpc.Client {
  return new grpc.Client(address, grpc.credentials.createInsecure(), ownConnection ? { 'grpc.use_local_subchannel_pool': 1 } : {});
}

/** Decode an Any's payload (`type.googleapis.com/<message>`). */
export function decodeAny<T = Record<string, unknown>>(any: DecodedAny): T {
  const type = xdsType(any.type_url.replace(/^.*\//, ''));
  return type.toObject(type.decode(any.value), { defaults: false, longs: Number }) as T;
}
