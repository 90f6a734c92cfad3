import * as grpc from '@grpc/grpc-js';
import { jsonToStruct, xdsType } from '../../control-plane/xds-protos.js';
import type { ListenAddress, SidecarConfig, WasmFilterConfig } from '../config/types.js';
import type { ModuleFetcher } from './module-fetcher.js';
import { sidecarConfigFromXds, XdsConfigError } from './xds-config.js';
import { decodeWasmExtension } from './wasm-extension.js';

/**
 * The local sidecar's ADS client (state of the world, as Envoy's default): LDS to learn the
 * inbound chain (`virtualInbound`'s config_discovery names, in order), ECDS for each filter,
 * modules fetched and sha256-checked, then handed to `apply` in one piece. A module that fails to
 * fetch or verify, or a chain `apply` refuses, is NACKed with the reason, and the filters already
 * running stay. The stream comes back with exponential backoff and jitter when the control plane
 * goes away; on resubscription the client sends the versions it holds, so a control plane with
 * the same configuration sends nothing new.
 */
const LISTENER = 'type.googleapis.com/envoy.config.listener.v3.Listener';
const EXTENSION_CONFIG = 'type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig';
const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const CLUSTER = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
const ENDPOINT = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';
const METHOD = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';
const INBOUND_LISTENER = 'virtualInbound';

export interface XdsNode {
  readonly id: string;
  readonly metadata: Readonly<Record<string, unknown>>;
}

export interface XdsSubscriberOptions {
  /** `host:port` of the control plane's ADS. */
  readonly address: string;
  readonly node: XdsNode;
  readonly fetcher: ModuleFetcher;
  /** Swap the filter chain (between requests); throw to refuse it (NACKed). */
  readonly apply: (filters: readonly WasmFilterConfig[]) => Promise<void>;
  readonly log?: (line: string) => void;
  readonly credentials?: grpc.ChannelCredentials;
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /**
   * With no sidecar.yaml: take listeners, routes and clusters from LDS/CDS/EDS too, and apply
   * whole configurations (xds-config.ts) instead of filter chains.
   */
  readonly topology?: { readonly admin: ListenAddress; readonly listen?: ListenAddress; readonly apply: (config: SidecarConfig) => Promise<void> };
}

interface AnyMessage { readonly type_url: string; readonly value: Uint8Array }
interface DiscoveryResponse { readonly version_info: string; readonly resources: readonly AnyMessage[]; readonly type_url: string; readonly nonce: string }

interface TypeState { version: string; nonce: string; names: readonly string[] }

export class XdsSubscriber {
  private client: grpc.Client | undefined;
  private call: grpc.ClientDuplexStream<Uint8Array, DiscoveryResponse> | undefined;
  private readonly lds: TypeState = { version: '', nonce: '', names: [] };
  private readonly ecds: TypeState = { version: '', nonce: '', names: [] };
  private readonly cds: TypeState = { version: '', nonce: '', names: [] };
  private readonly eds: TypeState = { version: '', nonce: '', names: [] };
  private latest: { listeners: readonly AnyMessage[]; clusters: readonly AnyMessage[]; endpoints: readonly AnyMessage[] } = { listeners: [], clusters: [], endpoints: [] };
  private chainReady = false;
  /** The whole configuration last applied (topology mode). */
  config: SidecarConfig | undefined;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private queue: Promise<void> = Promise.resolve();
  private readonly log: (line: string) => void;
  /** The chain now running (after the last ACKed ECDS response). */
  running: readonly WasmFilterConfig[] = [];
  /** Streams opened so far (tests watch reconnects). */
  connects = 0;

  constructor(private readonly options: XdsSubscriberOptions) {
    this.log = options.log ?? (() => {});
  }

  start(): void {
    this.client = new grpc.Client(this.options.address, this.options.credentials ?? grpc.credentials.createInsecure());
    this.connect();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.call?.cancel();
    this.client?.close();
  }

  private connect(): void {
    if (this.closed) return;
    const responseType = xdsType('envoy.service.discovery.v3.DiscoveryResponse');
    const call = this.client!.makeBidiStreamRequest(METHOD, (b: Uint8Array) => Buffer.from(b), (b: Buffer) => responseType.decode(b) as unknown as DiscoveryResponse);
    this.call = call;
    this.connects += 1;
    // Nonces are per stream: the first requests on a new stream carry the versions held and no
    // nonce (a control plane ignores a nonce it never sent as stale, and would never answer).
    for (const state of [this.lds, this.ecds, this.cds, this.eds]) state.nonce = '';
    call.on('data', (response: DiscoveryResponse) => {
      this.attempt = 0;
      this.queue = this.queue.then(() => this.onResponse(response)).catch((error: unknown) => this.log(`xds: ${error instanceof Error ? error.message : String(error)}`));
    });
    call.on('error', (error: grpc.ServiceError) => this.reconnect(`${error.code === grpc.status.UNAVAILABLE ? `control plane ${this.options.address} unavailable (${error.details || 'no connection'})` : error.message}`));
    call.on('end', () => this.reconnect('stream ended'));
    this.send(LISTENER, this.lds, this.lds.names);
    if (this.ecds.names.length > 0) this.send(EXTENSION_CONFIG, this.ecds, this.ecds.names);
    if (this.options.topology) {
      this.send(CLUSTER, this.cds, []);
      if (this.eds.names.length > 0) this.send(ENDPOINT, this.eds, this.eds.names);
    }
  }

  private reconnect(reason: string): void {
    if (this.closed || this.timer || !this.call) return;
    this.call = undefined;
    const { initialMs, maxMs } = this.options.backoff ?? { initialMs: 500, maxMs: 30_000 };
    // Exponential backoff with full jitter in [delay/2, delay] (gRPC's connection backoff idea).
    const delay = Math.min(maxMs, initialMs * 2 ** this.attempt);
    const wait = delay / 2 + Math.random() * (delay / 2);
    this.attempt += 1;
    const keeping = this.chainReady ? 'keeping the running configuration' : 'nothing received yet';
    this.log(`xds: ${reason}; ${keeping}, retrying in ${Math.round(wait)} ms (attempt ${this.attempt})`);
    this.timer = setTimeout(() => { this.timer = undefined; this.connect(); }, wait);
  }

  private send(typeUrl: string, state: TypeState, names: readonly string[], error?: string, nonce = state.nonce): void {
    const type = xdsType('envoy.service.discovery.v3.DiscoveryRequest');
    const message = {
      version_info: state.version, resource_names: [...names], type_url: typeUrl, response_nonce: nonce,
      node: { id: this.options.node.id, metadata: jsonToStruct(this.options.node.metadata) },
      ...(error ? { error_detail: { code: grpc.status.INVALID_ARGUMENT, message: error } } : {}),
    };
    this.call?.write(type.encode(type.fromObject(message)).finish());
  }

  private async onResponse(response: DiscoveryResponse): Promise<void> {
    if (response.type_url === LISTENER) return this.onListeners(response);
    if (response.type_url === EXTENSION_CONFIG) return this.onExtensionConfigs(response);
    if (response.type_url === CLUSTER && this.options.topology) return this.onClusters(response);
    if (response.type_url === ENDPOINT && this.options.topology) {
      this.latest = { ...this.latest, endpoints: response.resources };
      Object.assign(this.eds, { version: response.version_info, nonce: response.nonce });
      this.send(ENDPOINT, this.eds, this.eds.names);
      return this.refreshTopology();
    }
    // Types this sidecar does not take from xDS yet are ACKed as received (nothing to apply).
    this.send(response.type_url, { version: response.version_info, nonce: response.nonce, names: [] }, []);
  }

  private async onListeners(response: DiscoveryResponse): Promise<void> {
    let names: string[];
    try {
      names = inboundFilterNames(response.resources);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.log(`xds: NACK LDS ${response.version_info}: ${message}`);
      return this.send(LISTENER, this.lds, this.lds.names, message, response.nonce);
    }
    Object.assign(this.lds, { version: response.version_info, nonce: response.nonce });
    this.latest = { ...this.latest, listeners: response.resources };
    this.send(LISTENER, this.lds, []);
    // The first LDS applies even an empty chain: `deployer run --xds` serves only once it has one.
    if (names.join('\n') !== this.ecds.names.join('\n') || (names.length === 0 && !this.chainReady)) {
      this.ecds.names = names;
      if (names.length === 0) return this.applyChain([], new Map());
      this.send(EXTENSION_CONFIG, this.ecds, names);
      return;
    }
    return this.refreshTopology();
  }

  /** CDS (topology mode): keep the clusters, follow EDS for the EDS ones. */
  private async onClusters(response: DiscoveryResponse): Promise<void> {
    const clusterType = xdsType('envoy.config.cluster.v3.Cluster');
    const edsNames = response.resources
      .map((a) => clusterType.decode(a.value) as unknown as { name: string; type?: number; eds_cluster_config?: { service_name?: string } | null })
      .filter((c) => c.eds_cluster_config).map((c) => c.eds_cluster_config!.service_name || c.name).sort();
    this.latest = { ...this.latest, clusters: response.resources };
    Object.assign(this.cds, { version: response.version_info, nonce: response.nonce });
    this.send(CLUSTER, this.cds, []);
    if (edsNames.join('\n') !== this.eds.names.join('\n')) {
      this.eds.names = edsNames;
      this.send(ENDPOINT, this.eds, edsNames);
    }
    return this.refreshTopology();
  }

  /** Topology mode: apply the whole configuration once LDS, CDS and the filter chain are in. */
  private async refreshTopology(): Promise<void> {
    const topology = this.options.topology;
    if (!topology || !this.chainReady) return;
    try {
      const config = sidecarConfigFromXds({ ...this.latest, filters: this.running, admin: topology.admin, ...(topology.listen ? { listen: topology.listen } : {}) });
      await topology.apply(config);
      this.config = config;
    } catch (error) {
      this.log(`xds: configuration not applied yet, the running one stays: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private async onExtensionConfigs(response: DiscoveryResponse): Promise<void> {
    const decoded = new Map<string, WasmFilterConfig>();
    try {
      const extensions = response.resources.map((r) => decodeWasmExtension(r.value));
      const files = await Promise.all(extensions.map((e) => this.options.fetcher.fetch(e.uri, e.sha256)));
      extensions.forEach((e, i) => decoded.set(e.name, { ...e.filter, wasmFile: files[i]! }));
      const missing = this.ecds.names.filter((n) => !decoded.has(n));
      // The listener names filters the response does not carry yet: wait (Envoy warms the listener likewise).
      if (missing.length > 0) this.log(`xds: waiting for extension configs ${missing.join(', ')}`);
      else await this.applyChain(this.ecds.names, decoded);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.log(`xds: NACK ECDS ${response.version_info}: ${message}; the running filters stay`);
      return this.send(EXTENSION_CONFIG, this.ecds, this.ecds.names, message, response.nonce);
    }
    Object.assign(this.ecds, { version: response.version_info, nonce: response.nonce });
    this.send(EXTENSION_CONFIG, this.ecds, this.ecds.names);
  }

  private async applyChain(names: readonly string[], configs: ReadonlyMap<string, WasmFilterConfig>): Promise<void> {
    const chain = names.map((n) => configs.get(n)!);
    const topology = this.options.topology;
    if (topology) {
      let config: SidecarConfig | undefined;
      try {
        config = sidecarConfigFromXds({ ...this.latest, filters: chain, admin: topology.admin, ...(topology.listen ? { listen: topology.listen } : {}) });
      } catch (error) {
        // The topology is not complete yet (CDS/EDS still coming): the chain goes in with it, not NACKed.
        if (!(error instanceof XdsConfigError)) throw error;
        this.log(`xds: filters ready, waiting for the rest of the configuration: ${error.message}`);
      }
      if (config) {
        await topology.apply(config);
        this.config = config;
      }
    } else if (!this.chainReady || JSON.stringify(chain) !== JSON.stringify(this.running)) {
      // The same chain again (a restarted control plane serving the same modules from another
      // module-server address: new resource versions, same sha256 and config) is ACKed, not reapplied.
      await this.options.apply(chain);
    }
    this.running = chain;
    this.chainReady = true;
  }
}

/** The config_discovery names of `virtualInbound`'s first HTTP connection manager, in chain order. */
export function inboundFilterNames(listeners: readonly AnyMessage[]): string[] {
  const listenerType = xdsType('envoy.config.listener.v3.Listener');
  const hcmType = xdsType('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager');
  for (const any of listeners) {
    const listener = listenerType.decode(any.value) as unknown as { name: string; filter_chains: { filters: { typed_config?: AnyMessage | null }[] }[] };
    if (listener.name !== INBOUND_LISTENER) continue;
    const hcmAny = listener.filter_chains[0]?.filters.find((f) => f.typed_config?.type_url === HCM)?.typed_config;
    if (!hcmAny) throw new Error(`listener ${INBOUND_LISTENER} has no HTTP connection manager`);
    const hcm = hcmType.decode(hcmAny.value) as unknown as { http_filters: { name: string; config_discovery?: unknown }[] };
    return hcm.http_filters.filter((f) => f.config_discovery).map((f) => f.name);
  }
  return [];
}
