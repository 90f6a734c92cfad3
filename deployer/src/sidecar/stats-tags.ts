/**
 * Envoy's tag extraction (`stats_config.stats_tags`, envoy source/common/stats/tag_extractor_impl.cc
 * and tag_producer_impl.cc): every extractor's regex is searched in the *original* stat name; the
 * first capture group is the part removed from the name, the second (when present) is the tag
 * value, otherwise the first. All removals are applied together, so extractors never see each
 * other's edits. Wasm metrics live in Envoy's `wasmcustom.` namespace, which its Prometheus output
 * strips (source/server/admin/prometheus_stats.cc metricName).
 *
 * Envoy's regexes are ECMAScript-compatible except POSIX classes (`[:digit:]`), rewritten here.
 */
export interface StatsTagSpec {
  readonly tagName: string;
  /** envoy.config.metrics.v3.TagSpecifier.regex */
  readonly regex: string;
}

export interface ExtractedStat {
  /** The name with every extractor's first capture group removed. */
  readonly name: string;
  readonly tags: ReadonlyArray<readonly [string, string]>;
}

export const WASM_CUSTOM_NAMESPACE = 'wasmcustom.';
/** Bounded like the stats the filter guards (10,000 series × 6 metrics, with room). */
const MAX_CACHED = 100_000;

/** Labels Istio's sidecar bootstrap extracts from `<label>=.=<value>;.;` pairs (Istio 1.17 envoy_bootstrap.json). */
const ISTIO_DIMENSIONS: readonly string[] = [
  'reporter', 'source_namespace', 'source_workload', 'source_workload_namespace', 'source_principal', 'source_app', 'source_version',
  'source_cluster', 'destination_namespace', 'destination_workload', 'destination_workload_namespace', 'destination_principal',
  'destination_app', 'destination_version', 'destination_service', 'destination_service_name', 'destination_service_namespace',
  'destination_port', 'destination_cluster', 'request_protocol', 'request_operation', 'request_host', 'response_flags',
  'grpc_response_status', 'connection_security_policy', 'source_canonical_service', 'destination_canonical_service',
  'source_canonical_revision', 'destination_canonical_revision',
];

/** The regex Istio's bootstrap writes for one dimension (also for `extraStatTags`). */
export function istioDimensionTag(name: string): StatsTagSpec {
  return { tagName: name, regex: `(${name}=\\.=(.*?);\\.;)` };
}

/**
 * The stats_tags of an Istio 1.17 sidecar bootstrap that apply to wasm metrics, plus `metric`
 * (the metrics filter's overflow counter; add it to `extraStatTags` in a real mesh).
 */
export const ISTIO_STATS_TAGS: readonly StatsTagSpec[] = [
  { tagName: 'response_code', regex: '(response_code=\\.=(.+?);\\.;)' },
  { tagName: 'response_code', regex: '_rq(_(\\d{3}))$' },
  { tagName: 'response_code_class', regex: '_rq(_(\\dxx))$' },
  ...ISTIO_DIMENSIONS.map(istioDimensionTag),
  { tagName: 'cache', regex: '(cache\\.(.+?)\\.)' },
  { tagName: 'component', regex: '(component\\.(.+?)\\.)' },
  { tagName: 'tag', regex: '(tag\\.(.+?);\\.)' },
  { tagName: 'wasm_filter', regex: '(wasm_filter\\.(.+?)\\.)' },
  { tagName: 'authz_enforce_result', regex: 'rbac(\\.(allowed|denied))' },
  { tagName: 'authz_dry_run_action', regex: '(\\.istio_dry_run_(allow|deny)_)' },
  { tagName: 'authz_dry_run_result', regex: '(\\.shadow_(allowed|denied))' },
  istioDimensionTag('metric'),
];

const POSIX_CLASSES: Readonly<Record<string, string>> = { '[:digit:]': '0-9', '[:alpha:]': 'a-zA-Z', '[:alnum:]': 'a-zA-Z0-9', '[:space:]': '\\s' };

function compile(spec: StatsTagSpec, index: number): RegExp {
  const source = spec.regex.replace(/\[:[a-z]+:\]/g, (cls) => POSIX_CLASSES[cls] ?? cls);
  try {
    return new RegExp(source, 'd');
  } catch (error) {
    throw new Error(`stats_config.stats_tags[${index}] (${spec.tagName}): invalid regex ${JSON.stringify(spec.regex)}: ${(error as Error).message}`);
  }
}

export class TagExtractor {
  private readonly compiled: ReadonlyArray<{ readonly name: string; readonly regex: RegExp }>;
  /** Names repeat on every scrape: extraction is done once per distinct stat name. */
  private readonly cache = new Map<string, ExtractedStat>();
  private readonly wasmCache = new Map<string, ExtractedStat>();

  constructor(specs: readonly StatsTagSpec[]) {
    this.compiled = specs.map((spec, i) => {
      if (typeof spec.tagName !== 'string' || spec.tagName === '') throw new Error(`stats_config.stats_tags[${i}].tag_name: expected a non-empty string`);
      return { name: spec.tagName, regex: compile(spec, i) };
    });
  }

  extract(statName: string): ExtractedStat {
    const cached = this.cache.get(statName);
    if (cached !== undefined) return cached;
    const removed: Array<readonly [number, number]> = [];
    const found: Array<{ readonly at: number; readonly tag: readonly [string, string] }> = [];
    for (const { name, regex } of this.compiled) {
      const match = regex.exec(statName);
      const remove = match?.indices?.[1];
      if (match === null || remove === undefined) continue;
      found.push({ at: remove[0], tag: [name, match[2] ?? match[1]!] });
      removed.push(remove);
    }
    // Labels in the order they appear in the stat name (Istio's label order), stable for equal positions.
    const tags = found.sort((a, b) => a.at - b.at).map((f) => f.tag);
    let name = statName;
    if (removed.length > 0) {
      removed.sort((a, b) => a[0] - b[0]);
      let out = '';
      let at = 0;
      for (const [start, end] of removed) {
        if (start > at) out += statName.slice(at, start);
        at = Math.max(at, end);
      }
      name = out + statName.slice(at);
    }
    const result: ExtractedStat = { name, tags };
    if (this.cache.size < MAX_CACHED) this.cache.set(statName, result);
    return result;
  }

  /** A wasm metric as Envoy exports it: tags extracted from `wasmcustom.<name>`, namespace stripped. */
  extractWasm(metricName: string): ExtractedStat {
    const cached = this.wasmCache.get(metricName);
    if (cached !== undefined) return cached;
    const extracted = this.extract(WASM_CUSTOM_NAMESPACE + metricName);
    const name = extracted.name.startsWith(WASM_CUSTOM_NAMESPACE) ? extracted.name.slice(WASM_CUSTOM_NAMESPACE.length) : extracted.name;
    const result: ExtractedStat = { name, tags: extracted.tags };
    this.cache.delete(WASM_CUSTOM_NAMESPACE + metricName);
    if (this.wasmCache.size < MAX_CACHED) this.wasmCache.set(metricName, result);
    return result;
  }
}
