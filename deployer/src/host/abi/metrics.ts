/**
 * Stats store for proxy_define_metric & co. Names are kept as defined (Envoy prefixes its
 * internal `wasmcustom.` namespace and strips it on export). Metrics with the same name share
 * one stat across VMs and plugins, as Envoy's stats scope does. Metric ids encode the type in
 * the low 2 bits like Envoy's Wasm::kMetricTypeMask (envoy:wasm.h), so increment/record/get
 * can validate the type from the id alone.
 */
import type { MetricSample } from '../api.js';
import { MetricType, WasmResult } from './constants.js';

/** Envoy's default histogram bucket bounds (envoy: source/common/stats/histogram_impl.cc). */
export const DEFAULT_HISTOGRAM_BUCKETS: readonly number[] = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000,
];

const TYPE_MASK = 0x3;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;
const ID_INCREMENT = 0x4;
type MetricKind = 'counter' | 'gauge' | 'histogram';
const KINDS: readonly MetricKind[] = ['counter', 'gauge', 'histogram'];

export class Stat {
  /**
   * The counter/gauge value: a number while it is a safe integer (BigInt arithmetic allocates, and
   * counters are incremented on every request), a BigInt once it leaves that range (Envoy's
   * stats are u64; proxy_get_metric reads them back exactly).
   */
  private small = 0;
  private big: bigint | undefined = undefined;
  sum = 0;
  count = 0;
  readonly bucketCounts: number[];
  constructor(readonly name: string, readonly kind: MetricKind) {
    this.bucketCounts = kind === 'histogram' ? new Array<number>(DEFAULT_HISTOGRAM_BUCKETS.length).fill(0) : [];
  }

  get value(): bigint {
    return this.big ?? BigInt(this.small);
  }

  set value(v: bigint) {
    const n = Number(v);
    if (Number.isSafeInteger(n)) {
      this.small = n;
      this.big = undefined;
    } else {
      this.big = v;
    }
  }

  /** value += offset, exactly. */
  add(offset: bigint): void {
    if (this.big === undefined) {
      const sum = this.small + Number(offset);
      if (Number.isSafeInteger(sum) && (offset <= MAX_SAFE && offset >= MIN_SAFE)) {
        this.small = sum;
        return;
      }
      this.big = BigInt(this.small);
    }
    this.value = this.big + offset;
  }

  /** The value as a number (exact while it is a safe integer). */
  get numeric(): number {
    return this.big === undefined ? this.small : Number(this.big);
  }

  record(sample: number): void {
    this.sum += sample;
    this.count++;
    for (let i = 0; i < DEFAULT_HISTOGRAM_BUCKETS.length; i++) {
      if (sample <= DEFAULT_HISTOGRAM_BUCKETS[i]!) {
        this.bucketCounts[i]!++;
        break;
      }
    }
  }

  sample(): MetricSample {
    if (this.kind !== 'histogram') return { name: this.name, type: this.kind, value: this.numeric };
    let cumulative = 0;
    const buckets = DEFAULT_HISTOGRAM_BUCKETS.map((bound, i): readonly [number, number] => {
      cumulative += this.bucketCounts[i]!;
      return [bound, cumulative];
    });
    return { name: this.name, type: 'histogram', value: this.sum, count: this.count, buckets };
  }
}

export class StatsStore {
  private readonly stats = new Map<string, Stat>();

  stat(name: string, kind: MetricKind): Stat {
    const key = `${kind}\0${name}`;
    let stat = this.stats.get(key);
    if (stat === undefined) {
      stat = new Stat(name, kind);
      this.stats.set(key, stat);
    }
    return stat;
  }

  find(name: string, kind: MetricKind): Stat | undefined {
    return this.stats.get(`${kind}\0${name}`);
  }

  samples(): MetricSample[] {
    return [...this.stats.values()].map((s) => s.sample());
  }
}

/**
 * The metric ids of one VM (Envoy keeps counters_/gauges_/histograms_ per Wasm). Ids are dense
 * (type in the low 2 bits, a counter above them), so a stat is found by indexing an array with
 * the id itself: increment_metric runs on every request of most filters.
 */
export class VmMetrics {
  private readonly byId: (Stat | undefined)[] = [];
  private readonly nextId = [ID_INCREMENT | MetricType.Counter, ID_INCREMENT | MetricType.Gauge, ID_INCREMENT | MetricType.Histogram];

  constructor(private readonly store: StatsStore) {}

  define(type: number, name: string): { result: number; id?: number } {
    if (type > MetricType.Max) return { result: WasmResult.BadArgument };
    const id = this.nextId[type]!;
    this.nextId[type] = id + ID_INCREMENT;
    this.byId[id] = this.store.stat(name, KINDS[type]!);
    return { result: WasmResult.Ok, id };
  }

  /** envoy:context.cc incrementMetric: counters only grow (offset <= 0 → BadArgument); histograms → BadArgument. */
  increment(id: number, offset: bigint): number {
    const type = id & TYPE_MASK;
    if (type === MetricType.Histogram) return WasmResult.BadArgument;
    const stat = this.byId[id];
    if (stat === undefined) return WasmResult.NotFound;
    if (type === MetricType.Counter) {
      if (offset <= 0n) return WasmResult.BadArgument;
      stat.add(offset);
    } else {
      stat.add(offset);
      if (stat.numeric < 0) stat.value = 0n;
    }
    return WasmResult.Ok;
  }

  /** Counter: add; gauge: set; histogram: record a sample. */
  record(id: number, value: bigint): number {
    const stat = this.byId[id];
    if (stat === undefined) return WasmResult.NotFound;
    if (stat.kind === 'counter') stat.add(value);
    else if (stat.kind === 'gauge') stat.value = value;
    else stat.record(Number(value));
    return WasmResult.Ok;
  }

  /** envoy:context.cc getMetric: histograms cannot be read back (BadArgument). */
  get(id: number): { result: number; value?: bigint } {
    if ((id & TYPE_MASK) === MetricType.Histogram) return { result: WasmResult.BadArgument };
    const stat = this.byId[id];
    if (stat === undefined) return { result: WasmResult.NotFound };
    return { result: WasmResult.Ok, value: stat.value };
  }
}
