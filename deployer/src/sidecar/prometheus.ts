import type { MetricSample } from '../host/api.js';
import type { StatSample } from './stats.js';

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
 * with every character outside [a-zA-Z0-9_:] replaced by `_`.
 */
export function formatPrometheus(proxyStats: readonly StatSample[], wasmMetrics: readonly MetricSample[]): string {
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
  const seen = new Set<string>();
  for (const metric of wasmMetrics) {
    const name = sanitizeMetricName(metric.name);
    if (seen.has(name)) continue;
    seen.add(name);
    lines.push(`# TYPE ${name} ${metric.type}`);
    if (metric.type === 'histogram') {
      let sawInf = false;
      for (const [bound, count] of metric.buckets ?? []) {
        if (bound === Infinity) sawInf = true;
        lines.push(`${name}_bucket{le="${bound === Infinity ? '+Inf' : formatNumber(bound)}"} ${formatNumber(count)}`);
      }
      if (!sawInf) lines.push(`${name}_bucket{le="+Inf"} ${formatNumber(metric.count ?? 0)}`);
      lines.push(`${name}_sum ${formatNumber(metric.value)}`, `${name}_count ${formatNumber(metric.count ?? 0)}`);
    } else {
      lines.push(`${name} ${formatNumber(metric.value)}`);
    }
  }
  return lines.join('\n') + '\n';
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
