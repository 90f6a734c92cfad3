import { AdsStreamBase } from './ads-stream.js';
import { isWildcardCapable, type Snapshot, type TypeUrl, type XdsResource } from './types.js';
import { deltaResponse, type DeltaDiscoveryRequest } from './xds-wire.js';

interface PendingResponse {
  readonly systemVersion: string;
  /** What the client had before this response, per name (undefined = not present), to restore on NACK. */
  readonly previous: ReadonlyMap<string, string | undefined>;
  readonly resources: readonly XdsResource[];
  readonly removed: readonly string[];
}

interface DeltaTypeState {
  wildcard: boolean;
  readonly names: Set<string>;
  /** name → version the client has (as far as ACKed or in flight). */
  readonly known: Map<string, string>;
  /** Names the client was told do not exist (so that is said once). */
  readonly toldMissing: Set<string>;
  readonly pending: Map<string, PendingResponse>;
  initialized: boolean;
}

/**
 * One DeltaAggregatedResources stream (incremental xDS, go-control-plane pkg/server/delta/v3):
 * per type, the subscribed names (or the wildcard), and the version of each resource the client
 * holds. A response sends only what changed and lists removals; every response has its own nonce,
 * so several may be in flight; an ACK or NACK names one of them, anything else is stale. On NACK
 * the resources of that response go back to what the client still runs, and nothing is re-sent
 * until they change again.
 */
export class DeltaStream extends AdsStreamBase {
  private readonly types = new Map<TypeUrl, DeltaTypeState>();

  onRequest(request: DeltaDiscoveryRequest): void {
    const typeUrl = this.acceptedType(request.node, request.type_url, 'delta');
    if (!typeUrl) return;
    let state = this.types.get(typeUrl);
    const nonce = request.response_nonce ?? '';
    if (nonce !== '') {
      const pending = state?.pending.get(nonce);
      if (!state || !pending) return; // stale or unknown nonce
      state.pending.delete(nonce);
      if (request.error_detail) {
        for (const [name, version] of pending.previous) {
          if (version === undefined) state.known.delete(name);
          else state.known.set(name, version);
        }
        this.context.status.nack(this.node!, typeUrl, pending.systemVersion, nonce, request.error_detail.message || `code ${request.error_detail.code ?? 0}`, pending.resources.map((r) => r.name));
      } else {
        this.context.status.ack(this.node!, typeUrl, pending.systemVersion, nonce, { mode: 'merge', resources: pending.resources.map((r) => ({ name: r.name, version: r.version })), removed: pending.removed });
      }
    }
    const first = !state;
    if (!state) {
      state = { wildcard: false, names: new Set(), known: new Map(), toldMissing: new Set(), pending: new Map(), initialized: false };
      for (const [name, version] of Object.entries(request.initial_resource_versions ?? {})) state.known.set(name, version);
      this.types.set(typeUrl, state);
    }
    const subscribe = request.resource_names_subscribe ?? [];
    const unsubscribe = request.resource_names_unsubscribe ?? [];
    // xDS: a first request with no names is a wildcard subscription for LDS/CDS; `*` is explicit.
    if (first && subscribe.length === 0 && isWildcardCapable(typeUrl)) state.wildcard = true;
    for (const name of subscribe) {
      if (name === '*') state.wildcard = true;
      else state.names.add(name);
    }
    for (const name of unsubscribe) {
      if (name === '*') state.wildcard = false;
      state.names.delete(name);
      state.toldMissing.delete(name);
      // The client drops what it unsubscribed from; nothing to remove on our side later.
      if (!state.wildcard) state.known.delete(name);
    }
    this.sendChanges(typeUrl, state, !state.initialized);
  }

  protected onSnapshot(): void {
    for (const [typeUrl, state] of this.types) this.sendChanges(typeUrl, state, false);
  }

  private sendChanges(typeUrl: TypeUrl, state: DeltaTypeState, always: boolean): void {
    const byName = this.snapshot!.resources.get(typeUrl)!;
    const changed: XdsResource[] = [];
    const removed: string[] = [];
    const previous = new Map<string, string | undefined>();
    const wanted = (name: string) => state.wildcard || state.names.has(name);
    const candidates = state.wildcard ? new Set([...byName.keys(), ...state.names]) : state.names;
    for (const name of candidates) {
      const resource = byName.get(name);
      if (resource) {
        if (state.known.get(name) !== resource.version) {
          previous.set(name, state.known.get(name));
          state.known.set(name, resource.version);
          state.toldMissing.delete(name);
          changed.push(resource);
        }
      } else if (!state.known.has(name) && !state.toldMissing.has(name) && !state.wildcard) {
        // A named subscription to something that does not exist: say so (removed_resources), once.
        state.toldMissing.add(name);
        removed.push(name);
      }
    }
    for (const [name, version] of [...state.known]) {
      if (!byName.has(name) && wanted(name)) {
        previous.set(name, version);
        state.known.delete(name);
        state.toldMissing.add(name);
        removed.push(name);
      }
    }
    if (changed.length === 0 && removed.length === 0 && !always) return;
    state.initialized = true;
    const nonce = this.nextNonce();
    const systemVersion = this.snapshot!.versions[typeUrl];
    changed.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    removed.sort();
    state.pending.set(nonce, { systemVersion, previous, resources: changed, removed });
    this.context.status.sent(this.node!, typeUrl, systemVersion);
    this.sink.write(deltaResponse(this.snapshot!, systemVersion, typeUrl, changed, removed, nonce));
  }
}
