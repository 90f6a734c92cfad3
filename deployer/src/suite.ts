/**
 * The wasmesh suite: which filters exist, the order they must run in on a request
 * (jwt-auth → rbac → header-router → metrics), and how that order is expressed for each
 * way of wiring a filter into Istio.
 *
 * EnvoyFilter: every wasmesh patch is `INSERT_BEFORE envoy.filters.http.router`. Istio applies
 * EnvoyFilters sorted by ascending `priority` (then creation time, then name), so a patch applied
 * later lands closer to the router. Ascending priorities in suite order therefore give the suite
 * order whatever order the filters were pushed in.
 * See https://istio.io/latest/docs/reference/config/networking/envoy-filter/ (field `priority`).
 *
 * WasmPlugin: Istio appends plugins phase by phase — AUTHN, (Istio authn), AUTHZ, (Istio authz),
 * STATS, then UNSPECIFIED_PHASE — and inside one phase by *descending* `priority`
 * (istio/istio pilot/pkg/networking/core/httplistener.go, PopAppendHTTP calls;
 * https://istio.io/latest/docs/reference/config/proxy_extensions/wasm-plugin/ field `priority`).
 * UNSPECIFIED_PHASE plugins are appended after STATS ones, so header-router in UNSPECIFIED_PHASE
 * would run *after* metrics. To keep the suite order header-router runs in STATS with a higher
 * priority than metrics.
 */

export type WasmPluginPhase = 'UNSPECIFIED_PHASE' | 'AUTHN' | 'AUTHZ' | 'STATS';

export interface SuitePlacement {
  /** Filter name, as under filters/<name>. */
  readonly filter: string;
  /** 1-based position in the suite order; filters outside the suite come after it. */
  readonly order: number;
  /** EnvoyFilter `priority` (ascending = earlier in the chain for INSERT_BEFORE router). */
  readonly envoyFilterPriority: number;
  readonly wasmPluginPhase: WasmPluginPhase;
  /** WasmPlugin `priority` inside its phase (descending = earlier). */
  readonly wasmPluginPriority: number;
}

export const SUITE: readonly SuitePlacement[] = [
  { filter: 'jwt-auth', order: 1, envoyFilterPriority: 10, wasmPluginPhase: 'AUTHN', wasmPluginPriority: 100 },
  { filter: 'rbac', order: 2, envoyFilterPriority: 20, wasmPluginPhase: 'AUTHZ', wasmPluginPriority: 100 },
  { filter: 'header-router', order: 3, envoyFilterPriority: 30, wasmPluginPhase: 'STATS', wasmPluginPriority: 200 },
  { filter: 'metrics', order: 4, envoyFilterPriority: 40, wasmPluginPhase: 'STATS', wasmPluginPriority: 100 },
];

/** Filters that are not part of the suite run after it, right before the router. */
const OUTSIDE_SUITE = { order: SUITE.length + 1, envoyFilterPriority: 100, wasmPluginPhase: 'UNSPECIFIED_PHASE', wasmPluginPriority: 0 } as const;

export function isSuiteFilter(filter: string): boolean {
  return SUITE.some((entry) => entry.filter === filter);
}

/** Where `filter` goes in the chain; `priorityOverride` replaces both priorities (for filters outside the suite). */
export function placementFor(filter: string, priorityOverride?: number): SuitePlacement {
  const known = SUITE.find((entry) => entry.filter === filter);
  const base: SuitePlacement = known ?? { filter, ...OUTSIDE_SUITE };
  if (priorityOverride === undefined) return base;
  if (known) {
    throw new Error(`--priority ${priorityOverride} for "${filter}": suite filters have fixed priorities (${SUITE.map((s) => s.filter).join(' → ')}); expected no --priority`);
  }
  if (!Number.isInteger(priorityOverride) || Math.abs(priorityOverride) > 2 ** 31 - 1) {
    throw new Error(`priority ${priorityOverride} for "${filter}": expected an int32`);
  }
  return { ...base, envoyFilterPriority: priorityOverride, wasmPluginPriority: priorityOverride };
}
