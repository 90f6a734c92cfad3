/**
 * Per-provider key sets. Inline JWKS are parsed once at configure time. Remote JWKS
 * (`jwks_uri`) are fetched with proxy_http_call to the configured cluster and shared between the
 * VMs of the plugin through shared data (one fetch for all workers, elected with a CAS-protected
 * lock entry); every VM re-reads the shared copy on its tick. Behaviour follows Envoy's
 * jwt_authn JwksCache/JwksFetcher: refresh after `cache_duration`, refetch when a token names an
 * unknown `kid` (rate-limited), keep the previous keys while a refresh fails (stale but known),
 * fail closed (401) for requests that need keys that were never fetched.
 */
import {
  get_shared_data, set_shared_data, get_buffer_bytes, log, LogLevelValues, WasmResultValues,
  BufferTypeValues, stream_context, get_current_time_nanoseconds, RootContext, proxy_set_effective_context,
} from "@solo-io/proxy-runtime/assembly/runtime";
import * as imports from "@solo-io/proxy-runtime/assembly/imports";
import { FilterConfig, ProviderConfig } from "./config";
import { parseDecimal } from "./text";
import { Jwks, parseJwks, jwksError, jwksOverLimit } from "./jwks";
import { Metrics } from "./metrics";

/** A paused stream waiting for a provider's keys. */
export abstract class KeyWaiter {
  abstract waiterContextId(): u32;
  /** Called with the stream as the effective context once the fetch finished (either way). */
  abstract onKeysReady(): void;
  abstract isFinished(): bool;
}

export enum FetchReason { Initial, Refresh, UnknownKid }

export class ProviderKeys {
  provider: ProviderConfig;
  /** The store (one per accepted configuration) this key set belongs to. */
  store: KeyStore;
  jwks: Jwks | null = null;
  /** Shared-data CAS of the copy `jwks` was parsed from (0: none). */
  sharedCas: u32 = 0;
  fetchedAtMs: i64 = -1;
  inFlight: bool = false;
  lastAttemptMs: i64 = -1;
  lastUnknownKidFetchMs: i64 = -1;
  lastFetchFailed: bool = false;
  waiters: Array<KeyWaiter> = new Array<KeyWaiter>();
  sharedKey: string = "";
  lockKey: string = "";

  constructor(provider: ProviderConfig, store: KeyStore) {
    this.provider = provider;
    this.store = store;
    const remote = provider.remote;
    const sharedKey = remote === null ? "" : "wasmesh.jwt-auth.jwks|" + remote.cluster + "|" + remote.uri;
    this.sharedKey = sharedKey;
    this.lockKey = sharedKey + "|lock";
  }

  get isRemote(): bool { return this.provider.remote !== null; }
}

/**
 * proxy-wasm header-pair serialization (spec abi-versions/v0.2.1, "Header maps"): u32 count,
 * then u32 name/value lengths per pair, then each name and value followed by NUL.
 */
function serializePairs(pairs: Array<string>): ArrayBuffer {
  const encoded = new Array<ArrayBuffer>();
  let size = 4;
  for (let i = 0; i < pairs.length; i++) {
    const b = String.UTF8.encode(pairs[i]);
    encoded.push(b);
    size += 4 + b.byteLength + 1;
  }
  const out = new ArrayBuffer(size);
  const base = changetype<usize>(out);
  store<u32>(base, <u32>(pairs.length / 2));
  let lengths = base + 4;
  let data = base + 4 + <usize>(4 * pairs.length);
  for (let i = 0; i < encoded.length; i++) {
    const b = encoded[i];
    store<u32>(lengths, <u32>b.byteLength);
    lengths += 4;
    memory.copy(data, changetype<usize>(b), <usize>b.byteLength);
    data += <usize>b.byteLength;
    store<u8>(data, 0);
    data += 1;
  }
  return out;
}

function nowMs(): i64 {
  return <i64>(get_current_time_nanoseconds() / 1000000);
}

const tokenSlot = new StaticArray<u32>(1);

export class KeyStore {
  providers: Array<ProviderKeys> = new Array<ProviderKeys>();
  /** proxy_http_call token → provider whose JWKS it fetches. */
  pendingCalls: Map<u32, ProviderKeys> = new Map<u32, ProviderKeys>();
  /** Called when any provider's key set changed (the verified-token cache must be dropped). */
  generation: i32 = 0;

  refetchIntervalMs: i64;

  constructor(public root: RootContext, public metrics: Metrics, public config: FilterConfig) {
    this.refetchIntervalMs = config.refetchIntervalSeconds * 1000;
  }

  /** Every JWKS, inline, fetched or adopted from shared data, is held to the configured caps. */
  parse(text: string): Jwks | null {
    return parseJwks(text, this.config.maxJwksBytes, this.config.maxJwksKeys);
  }

  /** Builds the key sets for a new configuration. Null (with `error`) when an inline JWKS is bad. */
  static create(root: RootContext, metrics: Metrics, config: FilterConfig): KeyStore | null {
    const store = new KeyStore(root, metrics, config);
    const providers = config.providers;
    for (let i = 0; i < providers.length; i++) {
      const keys = new ProviderKeys(providers[i], store);
      const inline = providers[i].inlineJwks;
      if (inline !== null) {
        const jwks = store.parse(inline!);
        if (jwks === null) {
          keyStoreError = "providers." + providers[i].name + ".jwks: " + jwksError;
          return null;
        }
        for (let k = 0; k < jwks.skipped.length; k++) {
          log(LogLevelValues.warn, "jwt-auth: providers." + providers[i].name + ".jwks " + jwks.skipped[k] + ": key skipped");
        }
        keys.jwks = jwks;
      }
      store.providers.push(keys);
    }
    return store;
  }

  forProvider(provider: ProviderConfig): ProviderKeys {
    return this.providers[provider.index];
  }

  /** Tick: adopt keys another VM fetched; start refreshes that are due. */
  onTick(): void {
    const now = nowMs();
    for (let i = 0; i < this.providers.length; i++) {
      const keys = this.providers[i];
      if (!keys.isRemote) continue;
      this.syncFromShared(keys);
      // Waiters queued while another VM held the fetch lock: decide with what we have now.
      if (!keys.inFlight && keys.waiters.length > 0) this.resolveWaiters(keys);
      const remote = keys.provider.remote!;
      const due = keys.jwks === null || now - keys.fetchedAtMs >= remote.cacheDurationSeconds * 1000;
      if (!due || keys.inFlight) continue;
      // After a failure, retry at the refetch interval rather than on every tick.
      if (keys.lastFetchFailed && keys.lastAttemptMs >= 0 && now - keys.lastAttemptMs < this.refetchIntervalMs) continue;
      this.startFetch(keys, keys.jwks === null ? FetchReason.Initial : FetchReason.Refresh);
    }
  }

  /** Reads the shared copy; adopts it when it is newer than ours. */
  syncFromShared(keys: ProviderKeys): void {
    const shared = get_shared_data(keys.sharedKey);
    if (shared.result != WasmResultValues.Ok || shared.cas == keys.sharedCas) return;
    const text = String.UTF8.decode(shared.value);
    const newline = text.indexOf("\n");
    if (newline <= 0) return;
    const fetchedAt = parseDecimal(text.substring(0, newline));
    const jwks = this.parse(text.substring(newline + 1));
    keys.sharedCas = shared.cas;
    if (jwks === null) return; // never stored by us; ignore a corrupt entry
    if (keys.jwks !== null && fetchedAt <= keys.fetchedAtMs) return;
    keys.jwks = jwks;
    keys.fetchedAtMs = fetchedAt;
    keys.lastFetchFailed = false;
    this.generation++;
  }

  /**
   * A request needs a key this provider does not have (no JWKS yet, or unknown kid). Starts a
   * fetch when allowed and registers the waiter; false when the caller must decide now.
   */
  waitForKeys(keys: ProviderKeys, waiter: KeyWaiter, unknownKid: bool): bool {
    if (!keys.isRemote) return false;
    const now = nowMs();
    if (unknownKid) {
      // Envoy-like rate limit on kid-driven refetches, so bogus kids cannot hammer the JWKS server.
      if (keys.lastUnknownKidFetchMs >= 0 && now - keys.lastUnknownKidFetchMs < this.refetchIntervalMs) return false;
    } else if (keys.lastFetchFailed && keys.lastAttemptMs >= 0 && now - keys.lastAttemptMs < this.refetchIntervalMs && !keys.inFlight) {
      return false; // the initial fetch failed recently: fail closed now instead of queueing
    }
    if (!keys.inFlight) {
      if (unknownKid) keys.lastUnknownKidFetchMs = now;
      if (!this.startFetch(keys, unknownKid ? FetchReason.UnknownKid : FetchReason.Initial)) return false;
    }
    keys.waiters.push(waiter);
    return true;
  }

  private acquireLock(keys: ProviderKeys, now: i64, timeoutMs: i64): bool {
    const current = get_shared_data(keys.lockKey);
    let cas: u32 = 0;
    if (current.result == WasmResultValues.Ok) {
      const deadline = parseDecimal(String.UTF8.decode(current.value));
      if (deadline > now) return false; // another VM is fetching
      cas = current.cas;
    }
    const value = String.UTF8.encode((now + timeoutMs).toString());
    return set_shared_data(keys.lockKey, value, cas) == WasmResultValues.Ok;
  }

  private releaseLock(keys: ProviderKeys): void {
    set_shared_data(keys.lockKey, String.UTF8.encode("0"), 0);
  }

  private startFetch(keys: ProviderKeys, reason: FetchReason): bool {
    const remote = keys.provider.remote!;
    const now = nowMs();
    // Another VM may have fetched since our last tick.
    this.syncFromShared(keys);
    if (reason != FetchReason.UnknownKid && keys.jwks !== null && now - keys.fetchedAtMs < remote.cacheDurationSeconds * 1000) {
      this.resolveWaiters(keys);
      return true;
    }
    if (!this.acquireLock(keys, now, <i64>remote.timeoutMs + 1000)) {
      // Another VM is fetching: its result reaches us through shared data; the next tick adopts
      // it and resolves our waiters (with whatever keys exist then: fail closed if none).
      return true;
    }
    keys.inFlight = true;
    keys.lastAttemptMs = now;
    const headers = serializePairs([
      ":method", "GET",
      ":path", remote.path,
      ":authority", remote.authority,
      ":scheme", remote.uri.startsWith("https://") ? "https" : "http",
      "accept", "application/jwk-set+json, application/json",
    ]);
    const trailers = serializePairs([]);
    const cluster = String.UTF8.encode(remote.cluster);
    const body = new ArrayBuffer(0);
    // Called directly (not RootContext.httpCall): we route the answer by token ourselves.
    const result = imports.proxy_http_call(changetype<usize>(cluster), cluster.byteLength,
      changetype<usize>(headers), headers.byteLength, changetype<usize>(body), 0,
      changetype<usize>(trailers), trailers.byteLength, remote.timeoutMs, changetype<usize>(tokenSlot));
    if (result == WasmResultValues.Ok) this.pendingCalls.set(load<u32>(changetype<usize>(tokenSlot)), keys);
    if (result != WasmResultValues.Ok) {
      log(LogLevelValues.error, "jwt-auth: providers." + keys.provider.name + ": cannot dispatch JWKS fetch to cluster \"" +
        remote.cluster + "\" (result " + (<i32>result).toString() + ")");
      this.fetchFailed(keys);
      return false;
    }
    return true;
  }

  fetchFailed(keys: ProviderKeys): void {
    keys.inFlight = false;
    keys.lastFetchFailed = true;
    this.metrics.jwksFetchFailed.inc();
    this.releaseLock(keys);
    this.resolveWaiters(keys);
  }

  fetchSucceeded(keys: ProviderKeys, text: string, jwks: Jwks): void {
    const now = nowMs();
    keys.inFlight = false;
    keys.lastFetchFailed = false;
    keys.jwks = jwks;
    keys.fetchedAtMs = now;
    this.generation++;
    this.metrics.jwksFetchSuccess.inc();
    set_shared_data(keys.sharedKey, String.UTF8.encode(now.toString() + "\n" + text), 0);
    const mine = get_shared_data(keys.sharedKey);
    if (mine.result == WasmResultValues.Ok) keys.sharedCas = mine.cas;
    this.releaseLock(keys);
    this.resolveWaiters(keys);
  }

  resolveWaiters(keys: ProviderKeys): void {
    if (keys.waiters.length == 0) return;
    const waiters = keys.waiters;
    keys.waiters = new Array<KeyWaiter>();
    for (let i = 0; i < waiters.length; i++) {
      const w = waiters[i];
      if (w.isFinished()) continue;
      proxy_set_effective_context(w.waiterContextId());
      w.onKeysReady();
    }
    proxy_set_effective_context(this.root.context_id);
  }
}

export let keyStoreError: string = "";

/** proxy_on_http_call_response for a JWKS fetch; false when the token is not ours. */
export function onJwksResponse(store: KeyStore, token: u32, headers: u32, bodySize: usize): bool {
  if (!store.pendingCalls.has(token)) return false;
  const keys = store.pendingCalls.get(token);
  store.pendingCalls.delete(token);
  const name = keys.provider.name;
  if (headers == 0) {
    log(LogLevelValues.warn, "jwt-auth: providers." + name + ": JWKS fetch from " + keys.provider.remote!.uri + " failed (no response: reset or timeout)");
    store.fetchFailed(keys);
    return true;
  }
  const status = stream_context.headers.http_callback.get(":status");
  if (status != "200") {
    log(LogLevelValues.warn, "jwt-auth: providers." + name + ": JWKS fetch from " + keys.provider.remote!.uri + " answered status " + status + ", expected 200");
    store.fetchFailed(keys);
    return true;
  }
  // Refused before the body is even copied into the VM.
  const maxBytes = store.config.maxJwksBytes;
  let jwks: Jwks | null = null;
  let text = "";
  if (<i64>bodySize > <i64>maxBytes) jwksOverLimit("bytes", <i32>min<usize>(bodySize, <usize>i32.MAX_VALUE), "max_jwks_bytes", maxBytes);
  else {
    text = String.UTF8.decode(get_buffer_bytes(BufferTypeValues.HttpCallResponseBody, 0, <u32>bodySize));
    jwks = store.parse(text);
  }
  if (jwks === null) {
    log(LogLevelValues.warn, "jwt-auth: providers." + name + ": JWKS from " + keys.provider.remote!.uri + " rejected: " + jwksError + " (keeping the previous keys)");
    store.fetchFailed(keys);
    return true;
  }
  for (let k = 0; k < jwks.skipped.length; k++) {
    log(LogLevelValues.warn, "jwt-auth: providers." + name + ": JWKS " + jwks.skipped[k] + ": key skipped");
  }
  store.fetchSucceeded(keys, text, jwks);
  return true;
}
