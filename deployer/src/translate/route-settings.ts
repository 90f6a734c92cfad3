import type { JsonObject, JsonValue } from '../render/types.js';

/**
 * HTTPRoute settings that Envoy applies on the route, not in a filter — `timeout`, `retries`,
 * `mirror`/`mirrors`/`mirrorPercentage`, `corsPolicy` — rendered the way Istio renders them
 * (pilot/pkg/networking/core/route/route.go) into the per-destination route the header-router's
 * routing header selects. Nothing is dropped: a field we cannot render throws.
 */

export interface RouteSettings {
  /** envoy.config.route.v3.RouteAction fields (timeout, retry_policy, request_mirror_policies). */
  readonly action: JsonObject;
  /** Route.typed_per_filter_config (the CORS policy). */
  readonly perFilter: JsonObject;
}

const ROUTE_FIELDS = ['timeout', 'retries', 'mirror', 'mirrors', 'mirrorPercentage', 'mirrorPercent', 'corsPolicy'] as const;

const UNIT_SECONDS: Readonly<Record<string, number>> = { h: 3600, m: 60, s: 1, ms: 0.001, us: 0.000001, µs: 0.000001, ns: 1e-9 };

/**
 * Istio durations are written Go-style (`24h`, `1m30s`, `500ms`, `2s`); Envoy's JSON wants
 * protobuf's `<seconds>s`. Returns that form; throws naming the field.
 */
export function protobufDuration(value: JsonValue | undefined, where: string): string {
  const text = typeof value === 'string' ? value.trim() : '';
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)/g)];
  if (text === '' || parts.map((p) => p[0]).join('') !== text) {
    throw new Error(`${where}: ${JSON.stringify(value)}: expected a duration such as "2s", "500ms" or "1h30m"`);
  }
  const seconds = parts.reduce((sum, p) => sum + Number(p[1]) * UNIT_SECONDS[p[2]!]!, 0);
  return `${Number(seconds.toFixed(9))}s`;
}

function asObject(value: JsonValue | undefined): JsonObject | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

export function hasRouteSettings(rule: JsonObject): boolean {
  return ROUTE_FIELDS.some((f) => rule[f] !== undefined);
}

/** Istio's default retry_on for HTTPRetry without retryOn. */
const DEFAULT_RETRY_ON = 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes';

function percentOf(value: JsonValue | undefined): number | undefined {
  const v = asObject(value)?.['value'];
  return typeof v === 'number' ? v : undefined;
}

function mirrorPolicy(destination: JsonObject, percent: number | undefined, clusterOf: (d: JsonObject, field: string) => string, field: string): JsonObject {
  return {
    cluster: clusterOf(destination, field),
    ...(percent !== undefined
      ? { runtime_fraction: { default_value: { numerator: Math.round(percent * 10_000), denominator: 'MILLION' } } }
      : {}),
    trace_sampled: false,
  };
}

function stringMatchers(list: JsonValue | undefined): JsonObject[] {
  if (!Array.isArray(list)) return [];
  return list.map((m) => {
    const o = asObject(m as JsonValue) ?? {};
    if (typeof o['exact'] === 'string') return { exact: o['exact'] };
    if (typeof o['prefix'] === 'string') return { prefix: o['prefix'] };
    if (typeof o['regex'] === 'string') return { safe_regex: { regex: o['regex'] } };
    throw new Error(`corsPolicy.allowOrigins: ${JSON.stringify(m)}: expected exact, prefix or regex`);
  });
}

/**
 * The route-level settings of one HTTPRoute. `clusterOf` resolves a mirror destination to its
 * cluster name; `where` prefixes error messages.
 */
export function routeSettings(rule: JsonObject, where: string, clusterOf: (d: JsonObject, field: string) => string): RouteSettings {
  const action: Record<string, JsonValue> = {};
  const perFilter: Record<string, JsonValue> = {};
  if (rule['timeout'] !== undefined) action['timeout'] = protobufDuration(rule['timeout'], `${where}.timeout`);
  const retries = asObject(rule['retries']);
  if (retries) {
    const attempts = retries['attempts'];
    if (attempts === 0) {
      action['retry_policy'] = { num_retries: 0 };
    } else {
      action['retry_policy'] = {
        retry_on: typeof retries['retryOn'] === 'string' ? retries['retryOn'] : DEFAULT_RETRY_ON,
        num_retries: typeof attempts === 'number' ? attempts : 2,
        ...(retries['perTryTimeout'] !== undefined ? { per_try_timeout: protobufDuration(retries['perTryTimeout'], `${where}.retries.perTryTimeout`) } : {}),
        ...(retries['retryRemoteLocalities'] === true ? { retry_host_predicate: [{ name: 'envoy.retry_host_predicates.previous_hosts' }] } : {}),
      };
    }
  }
  const mirrors: JsonObject[] = [];
  const mirror = asObject(rule['mirror']);
  const mirrorPercent = percentOf(rule['mirrorPercentage']) ?? (typeof rule['mirrorPercent'] === 'number' ? rule['mirrorPercent'] : undefined);
  if (mirror) mirrors.push(mirrorPolicy(mirror, mirrorPercent, clusterOf, 'mirror'));
  if (Array.isArray(rule['mirrors'])) {
    rule['mirrors'].forEach((m, i) => {
      const entry = asObject(m as JsonValue) ?? {};
      const destination = asObject(entry['destination']);
      if (!destination) throw new Error(`${where}.mirrors[${i}].destination: expected a destination`);
      mirrors.push(mirrorPolicy(destination, percentOf(entry['percentage']), clusterOf, `mirrors[${i}].destination`));
    });
  }
  if (mirrors.length > 0) action['request_mirror_policies'] = mirrors;
  const cors = asObject(rule['corsPolicy']);
  if (cors) {
    const join = (v: JsonValue | undefined) => (Array.isArray(v) ? v.join(',') : undefined);
    const policy: Record<string, JsonValue> = {};
    const origins = stringMatchers(cors['allowOrigins']);
    if (Array.isArray(cors['allowOrigin'])) for (const o of cors['allowOrigin']) origins.push({ exact: String(o) });
    if (origins.length > 0) policy['allow_origin_string_match'] = origins;
    for (const [from, to] of [['allowMethods', 'allow_methods'], ['allowHeaders', 'allow_headers'], ['exposeHeaders', 'expose_headers']] as const) {
      const value = join(cors[from]);
      if (value !== undefined) policy[to] = value;
    }
    if (cors['maxAge'] !== undefined) policy['max_age'] = String(Math.round(Number(protobufDuration(cors['maxAge'], `${where}.corsPolicy.maxAge`).slice(0, -1))));
    if (typeof cors['allowCredentials'] === 'boolean') policy['allow_credentials'] = cors['allowCredentials'];
    if (cors['unmatchedPreflights'] !== undefined) {
      throw new Error(`${where}.corsPolicy.unmatchedPreflights: not rendered by wasmesh; remove it or handle preflights in the application`);
    }
    perFilter['envoy.filters.http.cors'] = { '@type': 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy', ...policy };
  }
  return { action, perFilter };
}
