import { createHash } from 'node:crypto';
import { AdsStreamBase } from './ads-stream.js';
import { isWildcardCapable, type ResourceVersion, type Snapshot, type TypeUrl, type XdsResource } from './types.js';
import { sotwResponseBody, withNonce, type DiscoveryRequest } from './xds-wire.js';

interface TypeState {
  /** `*` = every resource of the type (LDS/CDS wildcard). */
  names: ReadonlySet<string> | '*';
  /** The subscription as one string (sorted names), computed when it changes, not per push. */
  namesKey: string;
  /** resource_names as last requested, joined: an identical request skips parsing the subscription. */
  rawKey: string;
  sentVersion?: string;
  sentNonce?: string;
  sentNamesKey?: string;
  sentResources?: readonly XdsResource[];
  /** What an ACK of the last response accepts (name and version each), shared with every stream sent the same response. */
  sentVersions?: readonly ResourceVersion[];
}

/**
 * One StreamAggregatedResources stream (state of the world), following go-control-plane's
 * pkg/server/sotw/v3: a response per type carries every subscribed resource; a request whose
 * response_nonce is not the last one sent for that type is stale and ignored; with the latest
 * nonce it is an ACK, or a NACK when error_detail is set — recorded, and nothing is re-sent until
 * the configuration or the subscription changes.
 */
export class SotwStream extends AdsStreamBase {
  private readonly types = new Map<TypeUrl, TypeState>();

  onRequest(request: DiscoveryRequest): void {
    const typeUrl = this.acceptedType(request.node, request.type_url, 'SotW');
    if (!typeUrl) return;
    const state = this.types.get(typeUrl);
    const nonce = request.response_nonce ?? '';
    if (nonce !== '') {
      // Stale: the client answers a response that a newer one has superseded.
      if (!state || nonce !== state.sentNonce) return;
      if (request.error_detail) {
        this.context.status.nack(this.node!, typeUrl, state.sentVersion ?? '', nonce, request.error_detail.message || `code ${request.error_detail.code ?? 0}`, (state.sentResources ?? []).map((r) => r.name));
      } else {
        this.context.status.ack(this.node!, typeUrl, request.version_info, nonce, { mode: 'replace', resources: state.sentVersions ?? [] });
      }
    }
    // An ACK usually repeats the subscription word for word: then nothing is re-parsed.
    const requested = request.resource_names ?? [];
    const rawKey = requested.join('\n');
    let next: TypeState;
    if (state && state.rawKey === rawKey) {
      next = state;
    } else {
      const names = subscription(typeUrl, requested);
      const namesKey = names === '*' ? '*' : [...names].sort().join('\n');
      next = state ?? { names, namesKey, rawKey };
      next.names = names;
      next.namesKey = namesKey;
      next.rawKey = rawKey;
      this.types.set(typeUrl, next);
    }
    const { names, namesKey } = next;
    const version = responseFor(this.snapshot!, typeUrl, names, namesKey).version;
    if (next.sentVersion === undefined) {
      // First request of this type on the stream: a reconnecting proxy that already has this version needs nothing.
      if (request.version_info !== '' && request.version_info === version) {
        next.sentVersion = version;
        next.sentNamesKey = namesKey;
        return;
      }
      this.send(typeUrl, next);
      return;
    }
    if (version !== next.sentVersion || namesKey !== next.sentNamesKey) this.send(typeUrl, next);
  }

  protected onSnapshot(snapshot: Snapshot): void {
    for (const [typeUrl, state] of this.types) {
      if (responseFor(snapshot, typeUrl, state.names, state.namesKey).version !== state.sentVersion) this.send(typeUrl, state);
    }
  }

  private send(typeUrl: TypeUrl, state: TypeState): void {
    // Shared by every stream with this subscription to this snapshot: resources, version and the
    // encoded body are computed once; a stream adds only its nonce.
    const response = responseFor(this.snapshot!, typeUrl, state.names, state.namesKey);
    const nonce = this.nextNonce();
    state.sentVersion = response.version;
    state.sentNonce = nonce;
    state.sentNamesKey = state.namesKey;
    state.sentResources = response.resources;
    state.sentVersions = response.versions;
    this.context.status.sent(this.node!, typeUrl, response.version);
    this.sink.write(withNonce(response.body, nonce));
  }
}

interface SharedResponse {
  readonly version: string;
  readonly resources: readonly XdsResource[];
  readonly versions: readonly ResourceVersion[];
  readonly body: Uint8Array;
}

const responses = new WeakMap<Snapshot, Map<string, SharedResponse>>();

/** The response a subscription gets from a snapshot, built once per (snapshot, type, subscription). */
function responseFor(snapshot: Snapshot, typeUrl: TypeUrl, names: ReadonlySet<string> | '*', namesKey: string): SharedResponse {
  let bySubscription = responses.get(snapshot);
  if (!bySubscription) responses.set(snapshot, (bySubscription = new Map()));
  const key = `${typeUrl}|${namesKey}`;
  let response = bySubscription.get(key);
  if (!response) {
    const byName = snapshot.resources.get(typeUrl)!;
    const resources: XdsResource[] = names === '*'
      ? [...byName.values()]
      : [...names].sort().map((n) => byName.get(n)).filter((r): r is XdsResource => r !== undefined);
    const version = responseVersion(snapshot, typeUrl, names);
    response = { version, resources, versions: resources.map((r) => ({ name: r.name, version: r.version })), body: sotwResponseBody(typeUrl, version, resources) };
    bySubscription.set(key, response);
  }
  return response;
}

/** LDS/CDS with no names (or `*`) subscribe to everything; other types only to what they name. */
function subscription(typeUrl: TypeUrl, names: readonly string[]): ReadonlySet<string> | '*' {
  if (names.includes('*') || (names.length === 0 && isWildcardCapable(typeUrl))) return '*';
  return new Set(names);
}

/**
 * The version a client subscribed to `names` sees: the snapshot's type version for a wildcard,
 * else a hash of just the named resources — so a change elsewhere is not pushed to it.
 */
function responseVersion(snapshot: Snapshot, typeUrl: TypeUrl, names: ReadonlySet<string> | '*'): string {
  if (names === '*') return snapshot.versions[typeUrl];
  const byName = snapshot.resources.get(typeUrl)!;
  const hash = createHash('sha256');
  for (const name of [...names].sort()) hash.update(`${name}\0${byName.get(name)?.version ?? '-'}\n`);
  return hash.digest('hex').slice(0, 16);
}
