import http from 'node:http';
import type { MetricSample } from '../host/api.js';
import { listenOn } from './listen.js';
import type { ListenAddress } from './config/types.js';
import { formatPrometheus, PROMETHEUS_CONTENT_TYPE } from './prometheus.js';
import type { TagExtractor } from './stats-tags.js';
import type { StatSample } from './stats.js';

export interface AdminSources {
  proxyStats(): readonly StatSample[];
  wasmMetrics(): readonly MetricSample[];
  /** stats_config.stats_tags for wasm metrics (default: Istio's sidecar tags). */
  readonly statsTags?: TagExtractor;
  configDump(): unknown;
  /** Envoy's server state: LIVE once listeners accept traffic, DRAINING while shutting down. */
  state(): 'LIVE' | 'DRAINING' | 'PRE_INITIALIZING';
}

export interface AdminServer {
  readonly address: ListenAddress;
  close(): Promise<void>;
}

const ENDPOINTS: Readonly<Record<string, string>> = {
  '/ready': 'print server state, return 200 if LIVE, otherwise return 503',
  '/stats/prometheus': 'print server stats in prometheus format',
  '/config_dump': 'dump current configuration (filters, routes, clusters) as JSON',
};

/**
 * The admin listener, answering like Envoy's admin endpoints of the same paths
 * (https://www.envoyproxy.io/docs/envoy/latest/operations/admin): `/ready` prints the state,
 * `/stats/prometheus` the proxy stats and every metric the filters defined.
 */
export async function startAdminServer(address: ListenAddress, sources: AdminSources): Promise<AdminServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' }).end(`method ${req.method ?? ''} not allowed on ${path}; use GET\n`);
      return;
    }
    try {
      switch (path) {
        case '/ready': {
          const state = sources.state();
          res.writeHead(state === 'LIVE' ? 200 : 503, { 'content-type': 'text/plain; charset=UTF-8' }).end(`${state}\n`);
          return;
        }
        case '/stats/prometheus':
          res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE }).end(formatPrometheus(sources.proxyStats(), sources.wasmMetrics(), sources.statsTags));
          return;
        case '/config_dump':
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(sources.configDump(), null, 2) + '\n');
          return;
        default:
          res.writeHead(404, { 'content-type': 'text/plain' }).end(
            `unknown admin path ${path}; admin commands are:\n${Object.entries(ENDPOINTS).map(([p, d]) => `  ${p}: ${d}`).join('\n')}\n`);
      }
    } catch (error) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`admin error: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  });
  const bound = await listenOn(server, address);
  return {
    address: bound,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
