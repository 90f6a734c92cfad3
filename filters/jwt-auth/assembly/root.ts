/**
 * Root context of jwt-auth: configuration (parsed once, refused with a log line naming the field;
 * the last good configuration stays active), key sets, the verified-token cache, metrics and the
 * JWKS tick. Stream contexts only read it.
 */
import {
  RootContext, Context, FilterHeadersStatusValues, log, LogLevelValues,
  set_tick_period_milliseconds,
} from "@solo-io/proxy-runtime/assembly/runtime";
import { FilterConfig, parseFilterConfig, configError } from "./config";
import { KeyStore, keyStoreError, onJwksResponse } from "./keystore";
import { Metrics } from "./metrics";
import { TokenCache } from "./token-cache";
import { CryptoState } from "./verify";
import { JwtStream } from "./stream";
import { HeaderPlan, RequestView } from "./request-view";
import { TokenScan } from "./extract";

const TICK_MS: u32 = 1000;

export class JwtRoot extends RootContext {
  config: FilterConfig | null = null;
  /** The headers `config` needs from each request (built with it). */
  headerPlan: HeaderPlan | null = null;
  /** Per-request scratch, reused by every stream (the VM runs one callback at a time). */
  readonly requestView: RequestView = new RequestView();
  readonly tokenScan: TokenScan = new TokenScan();
  keys: KeyStore | null = null;
  /** Stores of replaced configurations with JWKS fetches still in flight (their waiters finish on them). */
  retired: Array<KeyStore> = new Array<KeyStore>();
  cache: TokenCache = new TokenCache(0);
  crypto: CryptoState = new CryptoState();
  metrics: Metrics | null = null;
  /** Bumped on every accepted configuration; part of the token-cache generation. */
  configGeneration: i32 = 0;

  createContext(context_id: u32): Context {
    return new JwtStream(context_id, this);
  }

  onConfigure(configuration_size: u32): bool {
    super.onConfigure(configuration_size);
    if (this.metrics === null) this.metrics = new Metrics();
    const config = parseFilterConfig(this.getConfiguration());
    if (config === null) {
      log(LogLevelValues.error, "jwt-auth: configuration refused: " + configError +
        (this.config !== null ? " (keeping the previous configuration)" : ""));
      return false;
    }
    const keys = KeyStore.create(this, this.metrics!, config);
    if (keys === null) {
      log(LogLevelValues.error, "jwt-auth: configuration refused: " + keyStoreError +
        (this.config !== null ? " (keeping the previous configuration)" : ""));
      return false;
    }
    const previous = this.keys;
    if (previous !== null && previous.pendingCalls.size > 0) {
      this.retired.push(previous);
      // Bounded: a store whose fetch never answers must not pin memory forever.
      if (this.retired.length > 4) this.retired.shift();
    }
    this.config = config;
    this.headerPlan = new HeaderPlan(config);
    this.keys = keys;
    this.cache = new TokenCache(config.tokenCacheSize);
    this.configGeneration++;
    this.crypto.mode = config.crypto;
    this.crypto.hostUnavailable = false;
    set_tick_period_milliseconds(TICK_MS);
    // Start remote JWKS fetches now rather than on the first request or tick.
    keys.onTick();
    return true;
  }

  onHttpCallResponse(token: u32, headers: u32, body_size: u32, trailers: u32): void {
    const keys = this.keys;
    if (keys !== null && onJwksResponse(keys, token, headers, body_size)) return;
    for (let i = 0; i < this.retired.length; i++) {
      const store = this.retired[i];
      if (onJwksResponse(store, token, headers, body_size)) {
        if (store.pendingCalls.size == 0) this.retired.splice(i, 1);
        return;
      }
    }
    log(LogLevelValues.warn, "jwt-auth: http call response for unknown token " + token.toString());
  }

  onTick(): void {
    const keys = this.keys;
    if (keys !== null) keys.onTick();
  }

  /** Token-cache generation: changes with the configuration and with any key set. */
  cacheGeneration(): i32 {
    const keys = this.keys;
    return (this.configGeneration << 20) + (keys === null ? 0 : keys.generation);
  }
}

