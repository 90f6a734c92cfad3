import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { formatAccessLogLine } from '../../deployer/src/sidecar/access-log.js';
import { formatPrometheus, sanitizeMetricName } from '../../deployer/src/sidecar/prometheus.js';
import { ProxyStats } from '../../deployer/src/sidecar/stats.js';
import { parseSubjectAltNames, rfc2253 } from '../../deployer/src/sidecar/tls-info.js';

describe('access log line (Envoy default format)', () => {
  it.each([
    {
      name: 'routed request',
      entry: {
        startTime: new Date('2026-01-02T03:04:05.678Z'),
        requestHeaders: [[':method', 'POST'], [':path', '/a?b=1'], [':authority', 'svc:80'], ['user-agent', 'curl/8'], ['x-request-id', 'id-1'], ['x-forwarded-for', '10.0.0.1']] as const,
        responseHeaders: [[':status', '201'], ['x-envoy-upstream-service-time', '7']] as const,
        protocol: 'HTTP/1.1' as const, responseCode: 201, responseFlags: '-', bytesReceived: 12, bytesSent: 34, durationMs: 9.4, upstreamHost: '127.0.0.1:8080',
      },
      line: '[2026-01-02T03:04:05.678Z] "POST /a?b=1 HTTP/1.1" 201 - 12 34 9 7 "10.0.0.1" "curl/8" "id-1" "svc:80" "127.0.0.1:8080"',
    },
    {
      name: 'no route, original path kept by a rewrite',
      entry: {
        startTime: new Date('2026-01-02T03:04:05.000Z'),
        requestHeaders: [[':method', 'GET'], [':path', '/rewritten'], ['x-envoy-original-path', '/original']] as const,
        responseHeaders: [] as const,
        protocol: 'HTTP/2' as const, responseCode: 404, responseFlags: 'NR', bytesReceived: 0, bytesSent: 0, durationMs: 0.2,
      },
      line: '[2026-01-02T03:04:05.000Z] "GET /original HTTP/2" 404 NR 0 0 0 - "-" "-" "-" "-" "-"',
    },
  ])('$name', ({ entry, line }) => {
    expect(formatAccessLogLine(entry)).toBe(line);
  });
});

describe('/stats/prometheus text', () => {
  it('parses with a Prometheus parser: proxy stats with Envoy tags, wasm counters, gauges and histograms', () => {
    const stats = new ProxyStats('inbound_127.0.0.1_15006', ['app']);
    stats.downstreamRqTotal = 3;
    stats.recordDownstreamResponse(200);
    stats.recordDownstreamResponse(503);
    const text = formatPrometheus(stats.samples(), [
      { name: 'my.filter/requests', type: 'counter', value: 5 },
      { name: 'queue_depth', type: 'gauge', value: -2 },
      { name: 'latency_ms', type: 'histogram', value: 30, count: 3, buckets: [[1, 0], [10, 2], [100, 3]] },
    ]);
    const families = parsePrometheusTextFormat(text);
    const byName = new Map(families.map((f) => [f.name, f]));
    expect(byName.get('envoy_http_downstream_rq_total')?.metrics[0]).toEqual({ value: '3', labels: { envoy_http_conn_manager_prefix: 'inbound_127.0.0.1_15006' } });
    const classes = Object.fromEntries(byName.get('envoy_http_downstream_rq_xx')!.metrics.map((m) => [m.labels!.envoy_response_code_class, m.value]));
    expect(classes).toEqual({ 1: '0', 2: '1', 3: '0', 4: '0', 5: '1' });
    expect(byName.get('envoy_cluster_upstream_rq_total')?.metrics[0]?.labels).toEqual({ envoy_cluster_name: 'app' });
    expect(byName.get('my_filter_requests')).toMatchObject({ type: 'COUNTER', metrics: [{ value: '5' }] });
    expect(byName.get('queue_depth')).toMatchObject({ type: 'GAUGE', metrics: [{ value: '-2' }] });
    expect(byName.get('latency_ms')).toMatchObject({ type: 'HISTOGRAM', metrics: [{ buckets: { 1: '0', 10: '2', 100: '3', '+Inf': '3' }, count: '3', sum: '30' }] });
  });

  it.each([
    ['istio_requests_total', 'istio_requests_total'],
    ['jwt.authn/allowed', 'jwt_authn_allowed'],
    ['9lives', '_9lives'],
  ])('sanitizes metric name %s → %s', (name, expected) => {
    expect(sanitizeMetricName(name)).toBe(expected);
  });
});

describe('peer certificate fields', () => {
  it.each([
    ['URI:spiffe://cluster.local/ns/a/sa/b', { uri: ['spiffe://cluster.local/ns/a/sa/b'], dns: [] }],
    ['DNS:a.example, URI:spiffe://td/x, DNS:b.example', { uri: ['spiffe://td/x'], dns: ['a.example', 'b.example'] }],
    ['DNS:"weird, name", URI:spiffe://td/y', { uri: ['spiffe://td/y'], dns: ['weird, name'] }],
    ['IP Address:127.0.0.1', { uri: [], dns: [] }],
  ])('subjectAltName %s', (text, expected) => {
    expect(parseSubjectAltNames(text)).toEqual(expected);
  });

  it.each([
    ['C=US\nO=Acme, Inc.\nCN=svc', 'CN=svc,O=Acme\\, Inc.,C=US'],
    ['CN=only', 'CN=only'],
  ])('RFC 2253 subject of %j', (nodeSubject, expected) => {
    expect(rfc2253(nodeSubject)).toBe(expected);
  });
});
