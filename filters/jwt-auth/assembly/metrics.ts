/**
 * Counters named like Envoy's jwt_authn stats (`jwt_authn.allowed`, `jwt_authn.denied`, ...;
 * envoy source/extensions/filters/http/jwt_authn/stats.h) plus cache and JWKS fetch counters.
 * Defining a metric never aborts the VM: a host that refuses leaves the id at 0 and increments are no-ops.
 */
import { define_metric, increment_metric, MetricTypeValues, WasmResultValues } from "@solo-io/proxy-runtime/assembly/runtime";

class Counter {
  id: u32 = 0;
  defined: bool = false;
  constructor(name: string) {
    const r = define_metric(MetricTypeValues.Counter, name);
    if (r.result == WasmResultValues.Ok) { this.id = r.metric_id; this.defined = true; }
  }
  inc(): void { if (this.defined) increment_metric(this.id, 1); }
}

export class Metrics {
  allowed: Counter = new Counter("jwt_authn.allowed");
  denied: Counter = new Counter("jwt_authn.denied");
  cacheHit: Counter = new Counter("jwt_authn.cache_hit");
  cacheMiss: Counter = new Counter("jwt_authn.cache_miss");
  jwksFetchSuccess: Counter = new Counter("jwt_authn.jwks_fetch_success");
  jwksFetchFailed: Counter = new Counter("jwt_authn.jwks_fetch_failed");
  hostCryptoFallback: Counter = new Counter("jwt_authn.host_crypto_unavailable");
}
