/**
 * /stats/prometheus for wasm metrics: Envoy's tag extraction with Istio's sidecar stats_tags
 * (test/fixtures/metrics/stats-tags.json), then the exposition parsed with
 * parse-prometheus-text-format.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import type { MetricSample } from '../../deployer/src/host/api.js';
import { formatPrometheus } from '../../deployer/src/sidecar/prometheus.js';
import { ISTIO_STATS_TAGS, TagExtractor, istioDimensionTag } from '../../deployer/src/sidecar/stats-tags.js';
import { repoRoot } from '../setup/paths.js';

interface TagCase { readonly name: string; readonly stat: string; readonly name_out: string; readonly tags: Record<string, string> }
const fixture = JSON.parse(readFileSync(path.join(repoRoot, 'test', 'fixtures', 'metrics', 'stats-tags.json'), 'utf8')) as { cases: TagCase[] };

describe('sidecar: stats_tags extraction', () => {
  const extractor = new TagExtractor(ISTIO_STATS_TAGS);
  it.each(fixture.cases.map((c): [string, TagCase] => [c.name, c]))('sidecar: stats_tags %s', (_name, testCase) => {
    const extracted = extractor.extractWasm(testCase.stat);
    expect(extracted.name).toBe(testCase.name_out);
    expect(Object.fromEntries(extracted.tags)).toEqual(testCase.tags);
  });

  it('sidecar: stats_tags removes the first capture group and takes the second as the value', () => {
    const custom = new TagExtractor([{ tagName: 'cluster', regex: '^cluster\\.((.+?)\\.)' }, { tagName: 'code', regex: '_rq(_(\\d{3}))$' }]);
    expect(custom.extract('cluster.outbound|80||a.upstream_rq_200')).toEqual({ name: 'cluster.upstream_rq', tags: [['cluster', 'outbound|80||a'], ['code', '200']] });
  });

  it('sidecar: stats_tags refuses an invalid regex naming the tag', () => {
    expect(() => new TagExtractor([{ tagName: 'broken', regex: '(unclosed' }])).toThrow('stats_config.stats_tags[0] (broken): invalid regex "(unclosed"');
  });
});

describe('sidecar: /stats/prometheus with stats_tags', () => {
  const histogram = (name: string, count: number, sum: number): MetricSample => ({
    name, type: 'histogram', value: sum, count, buckets: [[0.5, 0], [1, 1], [5, count], [Infinity, count]],
  });
  const prefix = (reporter: string, code: string) => `reporter=.=${reporter};.;response_code=.=${code};.;user_tier=.=gold;.;`;
  const metrics: MetricSample[] = [
    { name: `${prefix('destination', '200')}istio_requests_total`, type: 'counter', value: 5 },
    { name: `${prefix('destination', '503')}istio_requests_total`, type: 'counter', value: 2 },
    histogram(`${prefix('destination', '200')}istio_request_duration_milliseconds`, 5, 12),
    { name: 'wasmesh_rbac.allowed', type: 'counter', value: 9 },
  ];
  const text = formatPrometheus([], metrics, new TagExtractor([...ISTIO_STATS_TAGS, istioDimensionTag('user_tier')]));

  it('sidecar: /stats/prometheus one family per extracted name, labels from the tags', () => {
    const families = parsePrometheusTextFormat(text);
    const requests = families.find((f) => f.name === 'istio_requests_total')!;
    expect(requests.type).toBe('COUNTER');
    expect(requests.metrics).toEqual([
      { value: '5', labels: { reporter: 'destination', response_code: '200', user_tier: 'gold' } },
      { value: '2', labels: { reporter: 'destination', response_code: '503', user_tier: 'gold' } },
    ]);
    // Istio's bootstrap also extracts rbac(\.(allowed|denied)): Envoy shows the rbac filter's counter so too.
    expect(families.find((f) => f.name === 'wasmesh_rbac')!.metrics).toEqual([{ value: '9', labels: { authz_enforce_result: 'allowed' } }]);
    expect(text.match(/^# TYPE istio_requests_total counter$/gm)).toHaveLength(1);
  });

  it('sidecar: /stats/prometheus histogram lines carry the tags and le, Envoy\'s layout', () => {
    expect(text).toContain('istio_request_duration_milliseconds_bucket{reporter="destination",response_code="200",user_tier="gold",le="1"} 1');
    expect(text).toContain('istio_request_duration_milliseconds_bucket{reporter="destination",response_code="200",user_tier="gold",le="+Inf"} 5');
    expect(text).toContain('istio_request_duration_milliseconds_sum{reporter="destination",response_code="200",user_tier="gold"} 12');
    expect(text).toContain('istio_request_duration_milliseconds_count{reporter="destination",response_code="200",user_tier="gold"} 5');
    const family = parsePrometheusTextFormat(text).find((f) => f.name === 'istio_request_duration_milliseconds')!;
    expect(family.type).toBe('HISTOGRAM');
  });
});
