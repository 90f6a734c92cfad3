import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { buildFilters, discoverFilters } from '../build/filters.js';
import { formatTable } from '../cli/output.js';
import type { LogEntry } from '../host/api.js';
import { validateSidecarConfig } from '../sidecar/config/validate.js';
import { localNode } from '../sidecar/istio-metrics.js';
import { startSidecar, type RunningSidecar } from '../sidecar/sidecar.js';
import { createDemoKeys } from './keys.js';
import { DEMO_CLUSTERS, DEMO_ROUTE_HEADER, DEMO_STAGES, type DemoKeys, type DemoRequest, type DemoStage } from './stages.js';
import { startDemoUpstream, UPSTREAM_RESPONSE_HEADERS, type DemoUpstream } from './upstream.js';

export interface DemoOptions {
  readonly root: string;
  readonly listen: string;
  readonly admin: string;
  /** Keep serving after the requests (until the returned handle is closed). */
  readonly keep: boolean;
  readonly out: (text: string) => void;
  readonly stages?: readonly DemoStage[];
}

export interface DemoResult {
  readonly ok: boolean;
  /** Signs tokens the demo's jwt-auth accepts (for trying the chain by hand with --keep). */
  readonly keys: DemoKeys;
  /** The filters the demo chain ran. */
  readonly filters: readonly string[];
  readonly sidecar: RunningSidecar;
  readonly upstream: DemoUpstream;
  close(): Promise<void>;
}

interface Outcome {
  readonly stage: DemoStage;
  readonly request: DemoRequest;
  readonly status: number;
  readonly ok: boolean;
  readonly did: string;
}

/** Headers the proxy itself sets on every hop; not what a filter did. */
export const PROXY_REQUEST_HEADERS = new Set(['host', 'connection', 'x-forwarded-proto', 'x-request-id', 'content-length', 'transfer-encoding', 'user-agent', 'content-type']);
/** Namespace and pod labels of the demo workload (node metadata NAMESPACE / LABELS). */
const DEMO_NAMESPACE = 'shop';
const DEMO_WORKLOAD_LABELS: Readonly<Record<string, string>> = { app: 'products', version: 'v1' };

export const PROXY_RESPONSE_HEADERS = new Set(['server', 'x-envoy-upstream-service-time', 'date', 'connection', 'keep-alive', 'transfer-encoding']);

/**
 * `deployer demo` / `npm run demo`: a demo upstream, the local sidecar with the demo chain in
 * front of it, a few requests per filter, and a report of what each filter did.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const out = options.out;
  const stages = await availableStages(options.root, options.stages ?? DEMO_STAGES, out);
  if (stages.length === 0) throw new Error('no demo filter is built and none could be built; run npm run build');
  const keys = createDemoKeys();
  const upstream = await startDemoUpstream();
  const accessLog: string[] = [];
  const logs: LogEntry[] = [];
  const config = validateSidecarConfig({
    listen: options.listen,
    admin: options.admin,
    workers: 2,
    filters: stages.map((stage) => ({
      name: stage.filter,
      root_id: stage.filter,
      vm_config: { code: { local: { filename: path.join(options.root, 'build', 'filters', `${stage.filter}.wasm`) } } },
      configuration: stage.configuration(keys),
      fail_open: false,
    })),
    // The versions header-router chooses between are clusters of the same upstream: what the
    // upstream saw (the routing header) shows the decision.
    clusters: Object.fromEntries(DEMO_CLUSTERS.map((name) => [name, upstream.url])),
    routes: [
      ...DEMO_CLUSTERS.filter((name) => name !== 'app').map((name) => ({
        name, match: { prefix: '/', headers: [{ name: DEMO_ROUTE_HEADER, string_match: { exact: name } }] }, cluster: name,
      })),
      { name: 'app', match: { prefix: '/' }, cluster: 'app' },
    ],
  }, { source: '<demo config>', baseDir: options.root });
  // The demo workload's identity as istiod would put it in node metadata: the metrics filter
  // labels the destination side of every series with it.
  const node = localNode({ addMetricsFilter: false, filtersDir: '', namespace: DEMO_NAMESPACE, workloadLabels: DEMO_WORKLOAD_LABELS, listenHost: '127.0.0.1' });
  let sidecar: RunningSidecar;
  try {
    sidecar = await startSidecar({ ...config, node }, { accessLog: (line) => accessLog.push(line), onLog: (entry) => logs.push(entry), logLevel: 'info' });
  } catch (error) {
    await upstream.close();
    throw error;
  }

  out(`wasmesh demo: upstream ${upstream.url}, sidecar ${sidecar.url}, admin ${sidecar.adminUrl}\n`);
  out(`chain: ${stages.map((s) => s.filter).join(' → ')} → route "app" → upstream\n\n`);
  out(formatTable(['FILTER', 'WHAT IT DOES'], stages.map((s) => [s.filter, s.describe])) + '\n');

  const outcomes: Outcome[] = [];
  let counter = 0;
  for (const stage of stages) {
    for (const request of stage.requests) {
      const id = `demo-${++counter}`;
      const headers = { ...(request.headers?.(keys) ?? {}), 'x-request-id': id };
      const res = await send(sidecar.url, request, headers);
      const upstreamSaw = upstream.seen.get(id);
      const did: string[] = [];
      if (upstreamSaw) {
        const added = Object.entries(upstreamSaw).filter(([name]) => !PROXY_REQUEST_HEADERS.has(name) && !(name in headers));
        if (added.length) did.push(`request +${added.map(([n, v]) => `${n}: ${shorten(String(v))}`).join(', ')}`);
      } else {
        did.push(`local reply "${shorten(res.body.trim() || '(empty body)')}" (upstream not reached)`);
      }
      const respAdded = Object.entries(res.headers).filter(([name]) => !UPSTREAM_RESPONSE_HEADERS.has(name) && !PROXY_RESPONSE_HEADERS.has(name));
      if (respAdded.length) did.push(`response +${respAdded.map(([n, v]) => `${n}: ${shorten(String(v))}`).join(', ')}`);
      const headersOk = Object.entries(request.expectResponseHeaders ?? {}).every(([n, v]) => res.headers[n] === v)
        && Object.entries(request.expectUpstreamHeaders ?? {}).every(([n, v]) => upstreamSaw?.[n] === v);
      outcomes.push({ stage, request, status: res.status, ok: res.status === request.expectStatus && headersOk, did: did.join('; ') || 'passed unchanged' });
    }
  }

  out(formatTable(['#', 'FILTER', 'REQUEST', 'STATUS', 'EXPECTED', 'WHAT THE CHAIN DID'], outcomes.map((o, i) => [
    String(i + 1), o.stage.filter, `${o.request.method} ${o.request.path}  (${o.request.title})`, String(o.status), o.ok ? `${o.request.expectStatus} ok` : `${o.request.expectStatus} MISMATCH`, o.did,
  ])) + '\n');

  const metrics = await scrape(`${sidecar.adminUrl}/stats/prometheus`);
  const rows = metrics
    .filter(([name]) => !name.startsWith('istio_'))
    .filter(([name]) => !name.startsWith('envoy_') || /^envoy_http_downstream_rq_(total|xx\{envoy_response_code_class="[245]")/.test(name))
    .filter(([name, value]) => !name.startsWith('envoy_') || value !== '0');
  out(formatTable(['METRIC', 'VALUE'], rows.map(([name, value]) => [name, value])) + '\n');
  // Istio's series carry 25 labels each; the demo shows the ones that tell the requests apart.
  const istio = metrics.filter(([name]) => name.startsWith('istio_requests_total{'));
  if (istio.length > 0) {
    out(formatTable(['istio_requests_total', 'reporter', 'response_code', 'response_flags', 'request_protocol', 'destination_workload', 'VALUE'], istio.map(([name, value]) => {
      const labels = promLabels(name);
      return ['', labels.reporter ?? '', labels.response_code ?? '', labels.response_flags ?? '', labels.request_protocol ?? '',
        `${labels.destination_workload ?? ''}.${labels.destination_workload_namespace ?? ''}`, value];
    })) + '\n');
  }
  if (logs.length) out(`filter logs:\n${formatFilterLogs(logs, config.workers)}\n\n`);
  out(`access log:\n${accessLog.map((l) => `  ${l}`).join('\n')}\n\n`);

  const ok = outcomes.every((o) => o.ok);
  out(ok ? `demo: all ${outcomes.length} requests behaved as expected\n` : `demo: ${outcomes.filter((o) => !o.ok).length} request(s) did not behave as expected (see MISMATCH above)\n`);
  return {
    ok,
    keys,
    filters: stages.map((s) => s.filter),
    sidecar,
    upstream,
    close: async () => {
      await sidecar.close();
      await upstream.close();
    },
  };
}

/** Stages whose filter is built; builds the ones with sources but no module yet. */
async function availableStages(root: string, stages: readonly DemoStage[], out: (text: string) => void): Promise<DemoStage[]> {
  const sources = new Set(discoverFilters(root));
  const missing = stages.filter((s) => !existsSync(path.join(root, 'build', 'filters', `${s.filter}.wasm`)) && sources.has(s.filter));
  if (missing.length > 0) {
    out(`building ${missing.map((s) => s.filter).join(', ')}...\n`);
    await buildFilters({ root, filters: missing.map((s) => s.filter) });
  }
  const ready = stages.filter((s) => existsSync(path.join(root, 'build', 'filters', `${s.filter}.wasm`)));
  for (const skipped of stages.filter((s) => !ready.includes(s))) out(`note: filter ${skipped.filter} is not in this checkout; its demo stage is skipped\n`);
  return ready;
}

export function send(base: string, request: DemoRequest, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const body = request.method === 'POST' ? JSON.stringify({ item: 'demo', quantity: 1 }) : undefined;
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${request.path}`, {
      method: request.method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      agent: false,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function scrape(url: string): Promise<[string, string][]> {
  const text = await (await fetch(url)).text();
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => {
    const cut = l.lastIndexOf(' ');
    return [l.slice(0, cut), l.slice(cut + 1)];
  });
}

/** The labels of one exposition series name, `name{a="x",b="y"}` (values as Prometheus escapes them). */
function promLabels(series: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const m of series.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]!] = m[2]!;
  return labels;
}

export function shorten(text: string, max = 48): string {
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length > max ? `${oneLine.slice(0, max - 3)}...` : oneLine;
}

/**
 * The last filter log lines, each once: every worker runs its own VM of each filter (as Envoy's
 * workers do), so configure-time lines repeat once per worker. A message that already starts with
 * its plugin's name is not prefixed twice.
 */
export function formatFilterLogs(logs: readonly LogEntry[], workers: number): string {
  const counts = new Map<string, number>();
  for (const l of logs) {
    const message = l.message.startsWith(`${l.plugin}: `) ? l.message : `${l.plugin}: ${l.message}`;
    const line = `[${l.level}] ${message}`;
    counts.set(line, (counts.get(line) ?? 0) + 1);
  }
  return [...counts].slice(-10).map(([line, n]) => `  ${line}${n > 1 && n === workers ? ` (each of ${workers} worker VMs)` : n > 1 ? ` (×${n})` : ''}`).join('\n');
}
