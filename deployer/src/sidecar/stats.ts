/**
 * Envoy-like proxy statistics of the sidecar, kept under Envoy's stat names and exported with
 * the tags Envoy's default tag extractors pull out of them
 * (source/common/config/well_known_names.cc: envoy_http_conn_manager_prefix, envoy_cluster_name,
 * envoy_response_code_class), so dashboards written for Envoy read them unchanged.
 */
export interface StatSample {
  /** Prometheus name, e.g. envoy_http_downstream_rq_total. */
  readonly name: string;
  readonly type: 'counter' | 'gauge';
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const RESPONSE_CLASSES = ['1', '2', '3', '4', '5'] as const;

interface ClusterStats {
  upstreamRqTotal: number;
  upstreamRqCompleted: number;
  upstreamRqByClass: Map<string, number>;
  upstreamCxConnectFail: number;
  upstreamRqTimeout: number;
  upstreamRqActive: number;
}

export class ProxyStats {
  downstreamCxTotal = 0;
  downstreamCxActive = 0;
  downstreamCxHttp1Total = 0;
  downstreamCxHttp2Total = 0;
  downstreamCxSslTotal = 0;
  downstreamRqTotal = 0;
  downstreamRqActive = 0;
  downstreamRqHttp1Total = 0;
  downstreamRqHttp2Total = 0;
  downstreamRqCompleted = 0;
  noRoute = 0;
  /** Codec-level rejections (HTTP/1 parse errors and limits): Envoy's downstream_cx_protocol_error. */
  downstreamCxProtocolError = 0;
  downstreamRqRxReset = 0;
  downstreamRqTooManyPrematureResets = 0;
  downstreamRqFailedPathNormalization = 0;
  downstreamRqRedirectedWithNormalizedPath = 0;
  downstreamRqIdleTimeout = 0;
  downstreamRqTimeout = 0;
  downstreamRqHeaderTimeout = 0;
  downstreamRqMaxDurationReached = 0;
  /** Request body a filter buffered past the stream's buffer limit (413). */
  downstreamRqTooLarge = 0;
  /** Response body a filter buffered past the stream's buffer limit (500 or reset). */
  rsTooLarge = 0;
  downstreamRqResponseBeforeRqComplete = 0;
  /** Listener stat: connections refused at accept by the overload manager's cap. */
  downstreamGlobalCxOverflow = 0;
  listenerAddress = '';
  private readonly downstreamRqByClass = new Map<string, number>(RESPONSE_CLASSES.map((c) => [c, 0]));
  private readonly clusters = new Map<string, ClusterStats>();

  constructor(public connManagerPrefix: string, clusterNames: readonly string[]) {
    for (const name of clusterNames) this.cluster(name);
  }

  cluster(name: string): ClusterStats {
    let stats = this.clusters.get(name);
    if (!stats) {
      stats = {
        upstreamRqTotal: 0, upstreamRqCompleted: 0, upstreamCxConnectFail: 0, upstreamRqTimeout: 0, upstreamRqActive: 0,
        upstreamRqByClass: new Map(RESPONSE_CLASSES.map((c) => [c, 0])),
      };
      this.clusters.set(name, stats);
    }
    return stats;
  }

  recordDownstreamResponse(status: number): void {
    this.downstreamRqCompleted++;
    const cls = responseClass(status);
    if (cls) this.downstreamRqByClass.set(cls, (this.downstreamRqByClass.get(cls) ?? 0) + 1);
  }

  recordUpstreamResponse(cluster: string, status: number): void {
    const stats = this.cluster(cluster);
    stats.upstreamRqCompleted++;
    const cls = responseClass(status);
    if (cls) stats.upstreamRqByClass.set(cls, (stats.upstreamRqByClass.get(cls) ?? 0) + 1);
  }

  samples(): StatSample[] {
    const http = { envoy_http_conn_manager_prefix: this.connManagerPrefix };
    const out: StatSample[] = [
      { name: 'envoy_http_downstream_cx_total', type: 'counter', labels: http, value: this.downstreamCxTotal },
      { name: 'envoy_http_downstream_cx_active', type: 'gauge', labels: http, value: this.downstreamCxActive },
      { name: 'envoy_http_downstream_cx_http1_total', type: 'counter', labels: http, value: this.downstreamCxHttp1Total },
      { name: 'envoy_http_downstream_cx_http2_total', type: 'counter', labels: http, value: this.downstreamCxHttp2Total },
      { name: 'envoy_http_downstream_cx_ssl_total', type: 'counter', labels: http, value: this.downstreamCxSslTotal },
      { name: 'envoy_http_downstream_rq_total', type: 'counter', labels: http, value: this.downstreamRqTotal },
      { name: 'envoy_http_downstream_rq_active', type: 'gauge', labels: http, value: this.downstreamRqActive },
      { name: 'envoy_http_downstream_rq_http1_total', type: 'counter', labels: http, value: this.downstreamRqHttp1Total },
      { name: 'envoy_http_downstream_rq_http2_total', type: 'counter', labels: http, value: this.downstreamRqHttp2Total },
      { name: 'envoy_http_downstream_rq_completed', type: 'counter', labels: http, value: this.downstreamRqCompleted },
      { name: 'envoy_http_no_route', type: 'counter', labels: http, value: this.noRoute },
      { name: 'envoy_http_downstream_cx_protocol_error', type: 'counter', labels: http, value: this.downstreamCxProtocolError },
      { name: 'envoy_http_downstream_rq_rx_reset', type: 'counter', labels: http, value: this.downstreamRqRxReset },
      { name: 'envoy_http_downstream_rq_too_many_premature_resets', type: 'counter', labels: http, value: this.downstreamRqTooManyPrematureResets },
      { name: 'envoy_http_downstream_rq_failed_path_normalization', type: 'counter', labels: http, value: this.downstreamRqFailedPathNormalization },
      { name: 'envoy_http_downstream_rq_redirected_with_normalized_path', type: 'counter', labels: http, value: this.downstreamRqRedirectedWithNormalizedPath },
      { name: 'envoy_http_downstream_rq_idle_timeout', type: 'counter', labels: http, value: this.downstreamRqIdleTimeout },
      { name: 'envoy_http_downstream_rq_timeout', type: 'counter', labels: http, value: this.downstreamRqTimeout },
      { name: 'envoy_http_downstream_rq_header_timeout', type: 'counter', labels: http, value: this.downstreamRqHeaderTimeout },
      { name: 'envoy_http_downstream_rq_max_duration_reached', type: 'counter', labels: http, value: this.downstreamRqMaxDurationReached },
      { name: 'envoy_http_downstream_rq_too_large', type: 'counter', labels: http, value: this.downstreamRqTooLarge },
      { name: 'envoy_http_rs_too_large', type: 'counter', labels: http, value: this.rsTooLarge },
      { name: 'envoy_http_downstream_rq_response_before_rq_complete', type: 'counter', labels: http, value: this.downstreamRqResponseBeforeRqComplete },
      { name: 'envoy_listener_downstream_global_cx_overflow', type: 'counter', labels: { envoy_listener_address: this.listenerAddress }, value: this.downstreamGlobalCxOverflow },
    ];
    for (const [cls, value] of this.downstreamRqByClass) {
      out.push({ name: 'envoy_http_downstream_rq_xx', type: 'counter', labels: { envoy_response_code_class: cls, ...http }, value });
    }
    for (const [name, stats] of this.clusters) {
      const cluster = { envoy_cluster_name: name };
      out.push(
        { name: 'envoy_cluster_upstream_rq_total', type: 'counter', labels: cluster, value: stats.upstreamRqTotal },
        { name: 'envoy_cluster_upstream_rq_completed', type: 'counter', labels: cluster, value: stats.upstreamRqCompleted },
        { name: 'envoy_cluster_upstream_rq_active', type: 'gauge', labels: cluster, value: stats.upstreamRqActive },
        { name: 'envoy_cluster_upstream_cx_connect_fail', type: 'counter', labels: cluster, value: stats.upstreamCxConnectFail },
        { name: 'envoy_cluster_upstream_rq_timeout', type: 'counter', labels: cluster, value: stats.upstreamRqTimeout },
      );
      for (const [cls, value] of stats.upstreamRqByClass) {
        out.push({ name: 'envoy_cluster_upstream_rq_xx', type: 'counter', labels: { envoy_response_code_class: cls, ...cluster }, value });
      }
    }
    return out;
  }
}

function responseClass(status: number): string | undefined {
  const cls = Math.floor(status / 100);
  return cls >= 1 && cls <= 5 ? String(cls) : undefined;
}
