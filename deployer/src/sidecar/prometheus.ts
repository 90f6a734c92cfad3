import type { MetricSample } from '../host/api.js';
import type { StatSample } from './stats.js';
import { ISTIO_STATS_TAGS, TagExtractor } from './stats-tags.js';

/**
 * Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format).
 * Written by hand: it is a few lines, and prom-client would need its own registry mirroring
 * the host's stats store on every scrape.
 */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * Wasm-defined metrics appear as Envoy shows them: Envoy keeps them in the `wasmcustom` stat
 * namespace, which its Prometheus output emits without the `envoy_` prefix
 * (source/extensions/common/wasm/context.cc defineMetric, source/server/admin/prometheus_stats.cc),
 * with every character outside [a-zA-Z0-9_:] replaced by `_`. Their tags come from the
 * `stats_config.stats_tags` extractors (stats-tags.ts; by default the ones of Istio's sidecar
 * bootstrap), so `reporter=.=destination;.;…;.;istio_requests_total` is exported as
 * `istio_requests_total{reporter="destination",…}`; samples that end with the same name and type
 * share one `# TYPE` block, as Envoy groups them.
 */
export function formatPrometheus(proxyStats: readonly StatSample[], wasmMetrics: readonly MetricSample[], tags: TagExtractor = defaultExtractor()): string {
  const lines: string[] = [];
  const byName = new Map<string, StatSample[]>();
  for (const sample of proxyStats) {
    const list = byName.get(sample.name) ?? [];
    list.push(sample);
    byName.set(sample.name, list);
  }
  for (const [name, samples] of byName) {
    lines.push(`# TYPE ${name} ${samples[0]!.type}`);
    for (const sample of samples) lines.push(`${name}${formatLabels(sample.labels)} ${formatNumber(sample.value)}`);
  }
  const families = new Map<string, { readonly type: MetricSample['type']; readonly series: Array<{ readonly metric: MetricSample; readonly labels: Record<string, string> }> }>();
  for (const metric of wasmMetrics) {
    const extracted = tags.extractWasm(metric.name);
    const name = sanitizeMetricName(extracted.name);
    const key = `${name}\0${metric.type}`;
    let family = families.get(key);
    if (family === undefined) {
      family = { type: metric.type, series: [] };
      families.set(key, family);
    }
    const labels: Record<string, string> = {};
    for (const [tag, value] of extracted.tags) labels[sanitizeLabelName(tag)] = value;
    family.series.push({ metric, labels });
  }
  for (const [key, family] of families) {
    const name = key.slice(0, key.indexOf('\0'));
    lines.push(`# TYPE ${name} ${family.type}`);
    for (const { metric, labels } of family.series) {
      if (metric.type !== 'histogram') {
        lines.push(`${name}${formatLabels(labels)} ${formatNumber(metric.value)}`);
        continue;
      }
      let sawInf = false;
      for (const [bound, count] of metric.buckets ?? []) {
        if (bound === Infinity) sawInf = true;
        lines.push(`${name}_bucket${formatLabels({ ...labels, le: bound === Infinity ? '+Inf' : formatNumber(bound) })} ${formatNumber(count)}`);
      }
      if (!sawInf) lines.push(`${name}_bucket${formatLabels({ ...labels, le: '+Inf' })} ${formatNumber(metric.count ?? 0)}`);
      lines.push(`${name}_sum${formatLabels(labels)} ${formatNumber(metric.value)}`, `${name}_count${formatLabels(labels)} ${formatNumber(metric.count ?? 0)}`);
    }
  }
  return lines.join('\n') + '\n';
}

let istioExtractor: TagExtractor | undefined;
/** The sidecar's extractor when none is configured: Istio's sidecar bootstrap stats_tags. */
function defaultExtractor(): TagExtractor {
  return (istioExtractor ??= new TagExtractor(ISTIO_STATS_TAGS));
}

function sanitizeLabelName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

export function sanitizeMetricName(name: string): string {
  const cleaned = name.replace(/[^a-zA-Z0-9_:]/g, '_');
  return /^[0-9]/.test(cleaned) ? `_${cleaned}` : cleaned;
}

function formatLabels(labels: Readonly<Record<string, string>>): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`).join(',')}}`;
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}
