/**
 * Series: one label set of the metrics that share a tag list, each metric defined with
 * proxy_define_metric under Istio's tag-encoded name (istio/proxy extensions/stats/plugin.h
 * StatGen::resolve; proxy-wasm-cpp-sdk MetricBase):
 *
 *   reporter=.=destination;.;source_workload=.=sleep;.; … ;.;istio_requests_total
 *
 * so the `stats_tags` regexes of Istio's sidecar bootstrap (`(reporter=\.=(.*?);\.;)` …) turn the
 * pairs into Prometheus labels and leave `istio_requests_total` as the name.
 *
 * Cardinality guard: a family holds at most `maxSeries` label sets. Past that, a stream is folded
 * into one overflow series whose varying labels read `overflow` (labels fixed by this proxy's
 * identity keep their value), and `wasmesh_metrics_overflow_total{metric=…}` counts the folded
 * streams per metric. Metric ids are kept per series, so memory is bounded by the guard whatever
 * the traffic.
 */
import { MetricTypeValues, WasmResultValues, define_metric, increment_metric, record_metric } from "@solo-io/proxy-runtime/assembly";
import { METRICS, MetricDef, MetricKind, MetricSpec, TagSpec } from "./config";
import { StreamFacts } from "./dimensions";

export const FIELD_SEPARATOR = ";.;";
export const VALUE_SEPARATOR = "=.=";
export const STAT_PREFIX = "istio_";
export const OVERFLOW = "overflow";
const NO_ID: u32 = u32.MAX_VALUE;

export function defineMetric(kind: MetricKind, name: string): u32 {
  const type = kind == MetricKind.Histogram ? MetricTypeValues.Histogram : MetricTypeValues.Counter;
  const result = define_metric(type, name);
  return result.result == WasmResultValues.Ok ? result.metric_id : NO_ID;
}

/**
 * One label set. Only leaf objects hang off it (one key string, the ids), so 10,000 series cost
 * the collector 10,000 small visits, not a quarter of a million. Stat names are not kept: a
 * metric is defined while a stream with exactly these values is being recorded, so the name is
 * built from that stream's values.
 */
class Series {
  readonly ids: StaticArray<u32> = new StaticArray<u32>(METRICS.length);
  /** Next series with the same key hash. */
  next: Series | null = null;
  constructor(
    /** The varying values joined with KEY_SEPARATOR (compared in place by Family.matches). */
    readonly key: string,
  ) {
    for (let i = 0; i < this.ids.length; i++) this.ids[i] = NO_ID;
  }
}

const KEY_SEPARATOR: u16 = 1;

/** FNV-1a over the UTF-16 code units of the varying values, a separator after each. */
function hashValues(values: Array<string>, varying: StaticArray<i32>): u64 {
  let h: u64 = 0xcbf29ce484222325;
  for (let i = 0; i < varying.length; i++) {
    const s = values[varying[i]];
    const p = changetype<usize>(s);
    const end = p + (<usize>s.length << 1);
    for (let q = p; q < end; q += 2) h = (h ^ <u64>load<u16>(q)) * 0x100000001b3;
    h = (h ^ 0xffff) * 0x100000001b3;
  }
  return h;
}

function varyingIndexes(tags: Array<TagSpec>, constant: StaticArray<bool>): StaticArray<i32> {
  let n = 0;
  for (let i = 0; i < tags.length; i++) if (!constant[tags[i].index]) n++;
  const out = new StaticArray<i32>(n);
  n = 0;
  for (let i = 0; i < tags.length; i++) if (!constant[tags[i].index]) out[n++] = tags[i].index;
  return out;
}

/** Metrics with the same tag list: one key, one guard, one series map. */
export class Family {
  readonly metrics: Array<MetricDef> = new Array();
  /** Series by key hash (collisions chained in Series.next); `count` of them. */
  readonly series: Map<u64, Series> = new Map();
  count: i32 = 0;
  /** The series of the previous stream: most streams repeat it (same peer, same outcome). */
  private last: Series | null = null;
  overflow: Series | null = null;
  /** wasmesh_metrics_overflow_total{metric=…} of each metric of the family (NO_ID until needed). */
  readonly overflowCounters: StaticArray<u32> = new StaticArray<u32>(METRICS.length);
  private readonly scratch: Array<string>;
  /** Label indexes (into the values array) whose value varies from stream to stream. */
  private readonly varying: StaticArray<i32>;

  private readonly keyParts: Array<string>;

  constructor(readonly tags: Array<TagSpec>, readonly constant: StaticArray<bool>, readonly maxSeries: i32) {
    const varying = varyingIndexes(tags, constant);
    this.varying = varying;
    this.keyParts = new Array<string>(varying.length);
    this.scratch = new Array<string>(tags.length);
    for (let i = 0; i < this.overflowCounters.length; i++) this.overflowCounters[i] = NO_ID;
  }

  sameTags(tags: Array<TagSpec>): bool {
    if (tags.length != this.tags.length) return false;
    for (let i = 0; i < tags.length; i++) {
      if (tags[i].name != this.tags[i].name || tags[i].index != this.tags[i].index) return false;
    }
    return true;
  }

  /** Whether `series` has these values: its key compared in place, no string built. */
  private matches(series: Series, values: Array<string>): bool {
    const key = series.key;
    const keyPtr = changetype<usize>(key);
    const keyLength = key.length;
    const varying = this.varying;
    let at = 0;
    for (let i = 0; i < varying.length; i++) {
      const value = values[varying[i]];
      const n = value.length;
      if (at + n > keyLength) return false;
      if (n > 0 && memory.compare(keyPtr + (<usize>at << 1), changetype<usize>(value), <usize>n << 1) != 0) return false;
      at += n;
      if (i + 1 < varying.length) {
        if (at >= keyLength || load<u16>(keyPtr + (<usize>at << 1)) != KEY_SEPARATOR) return false;
        at++;
      }
    }
    return at == keyLength;
  }

  private find(values: Array<string>, hash: u64): Series | null {
    let s: Series | null = this.series.has(hash) ? this.series.get(hash) : null;
    while (s !== null && !this.matches(s, values)) s = s.next;
    return s;
  }

  /**
   * Records one stream. `same`: its values are the previous stream's (dimensions.ts fillValues),
   * so its series is the previous one — the overflow series again too, as the guard never frees
   * a place.
   */
  record(values: Array<string>, facts: StreamFacts, same: bool): void {
    let series = this.last;
    let folded = false;
    if (same && series !== null) {
      folded = series === this.overflow;
    } else if (series === null || series === this.overflow || !this.matches(series, values)) {
      const hash = hashValues(values, this.varying);
      series = this.find(values, hash);
      if (series === null) {
        if (this.count < this.maxSeries) {
          series = this.add(values, hash);
        } else {
          folded = true;
          if (this.overflow === null) this.overflow = new Series("");
          series = this.overflow;
        }
      }
      this.last = series;
    } else if (series === this.overflow) {
      folded = true;
    }
    const s = series as Series;
    let prefix: string | null = null;
    for (let m = 0; m < this.metrics.length; m++) {
      const def = this.metrics[m];
      if (def.grpcOnly && !facts.grpc) continue;
      if (folded) this.countOverflow(def);
      let id = s.ids[def.id];
      if (id == NO_ID) {
        if (prefix === null) prefix = this.namePrefix(values, s === this.overflow);
        id = defineMetric(def.kind, prefix + STAT_PREFIX + def.name);
        s.ids[def.id] = id;
      }
      recordValue(id, def, facts);
    }
  }

  private add(values: Array<string>, hash: u64): Series {
    const varying = this.varying;
    const parts = this.keyParts;
    for (let i = 0; i < varying.length; i++) parts[i] = values[varying[i]];
    const series = new Series(parts.join(String.fromCharCode(KEY_SEPARATOR)));
    if (this.series.has(hash)) series.next = this.series.get(hash);
    this.series.set(hash, series);
    this.count++;
    return series;
  }

  /** `<label>=.=<value>;.;` for every label; varying values read `overflow` in the overflow series. */
  private namePrefix(values: Array<string>, overflow: bool): string {
    const parts = this.scratch;
    for (let i = 0; i < this.tags.length; i++) {
      const index = this.tags[i].index;
      const value = overflow && !this.constant[index] ? OVERFLOW : values[index];
      parts[i] = this.tags[i].name + VALUE_SEPARATOR + value + FIELD_SEPARATOR;
    }
    return parts.join("");
  }

  private countOverflow(def: MetricDef): void {
    let id = this.overflowCounters[def.id];
    if (id == NO_ID) {
      id = defineMetric(MetricKind.Counter, "metric" + VALUE_SEPARATOR + STAT_PREFIX + def.name + FIELD_SEPARATOR + "wasmesh_metrics_overflow_total");
      this.overflowCounters[def.id] = id;
    }
    if (id != NO_ID) increment_metric(id, 1);
  }
}

/** Istio's value extractors (plugin.cc defaultMetrics); counters of 0 are not recorded. */
function recordValue(id: u32, def: MetricDef, facts: StreamFacts): void {
  if (id == NO_ID) return;
  switch (def.id) {
    case 0: increment_metric(id, 1); break;
    case 1: record_metric(id, facts.durationMs); break;
    case 2: record_metric(id, facts.requestBytes); break;
    case 3: record_metric(id, facts.responseBytes); break;
    case 4: if (facts.requestMessages > 0) increment_metric(id, <i64>facts.requestMessages); break;
    default: if (facts.responseMessages > 0) increment_metric(id, <i64>facts.responseMessages);
  }
}

/** Groups the enabled metrics by identical tag lists (the default configuration: one family). */
export function buildFamilies(specs: Array<MetricSpec>, constant: StaticArray<bool>, maxSeries: i32): Array<Family> {
  const families = new Array<Family>();
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i];
    if (spec.disabled) continue;
    let family: Family | null = null;
    for (let f = 0; f < families.length; f++) if (families[f].sameTags(spec.tags)) { family = families[f]; break; }
    if (family === null) {
      family = new Family(spec.tags, constant, maxSeries);
      families.push(family);
    }
    family.metrics.push(spec.def);
  }
  return families;
}
