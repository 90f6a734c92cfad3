/**
 * `deployer local test`: the local stages' requests against a running stack (the real Envoy of
 * docker-compose.yml, or the fallback on our host), reported in the demo's table, then the
 * suite's metrics from Prometheus text. What each filter did is read from the echo the app
 * returns (both the compose app and the fallback's upstream echo the headers they received).
 */
import { formatTable } from '../cli/output.js';
import { PROXY_REQUEST_HEADERS, PROXY_RESPONSE_HEADERS, send, shorten } from '../demo/run-demo.js';
import { UPSTREAM_RESPONSE_HEADERS } from '../demo/upstream.js';
import type { DemoKeys, DemoStage } from '../demo/stages.js';

export interface LocalTestOptions {
  /** The inbound listener, e.g. http://127.0.0.1:15006. */
  readonly target: string;
  readonly stages: readonly DemoStage[];
  readonly keys: DemoKeys;
  /** Prometheus text of the proxy's /stats/prometheus. */
  readonly metrics: () => Promise<string>;
  readonly out: (text: string) => void;
}

/** Series the table shows: the suite's counters and Istio's request count (histograms stay on /stats/prometheus). */
const SUITE_SERIES = /^(istio_requests_total|wasmesh_|envoy_http_downstream_rq_(total|xx))/;

export async function runLocalTest(options: LocalTestOptions): Promise<{ ok: boolean; failures: number }> {
  const rows: string[][] = [];
  let failures = 0;
  let n = 0;
  for (const stage of options.stages) {
    for (const request of stage.requests) {
      const id = `local-${process.pid}-${++n}`;
      const headers = { ...(request.headers?.(options.keys) ?? {}), 'x-request-id': id };
      let status = 0;
      let did: string;
      try {
        const res = await send(options.target, request, headers);
        status = res.status;
        did = whatTheChainDid(res.body, res.headers, headers);
      } catch (error) {
        did = `no response: ${error instanceof Error ? error.message : String(error)}`;
      }
      const ok = status === request.expectStatus;
      if (!ok) failures++;
      rows.push([String(n), stage.filter, `${request.method} ${request.path}  (${request.title})`, String(status), ok ? `${request.expectStatus} ok` : `${request.expectStatus} MISMATCH`, did]);
    }
  }
  options.out(formatTable(['#', 'FILTER', 'REQUEST', 'STATUS', 'EXPECTED', 'WHAT THE CHAIN DID'], rows) + '\n');
  let text = '';
  try {
    text = await options.metrics();
  } catch (error) {
    options.out(`metrics: could not read /stats/prometheus: ${error instanceof Error ? error.message : String(error)}\n`);
    failures++;
  }
  const series = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => [l.slice(0, l.lastIndexOf(' ')), l.slice(l.lastIndexOf(' ') + 1)])
    .filter(([name, value]) => SUITE_SERIES.test(name!) && value !== '0');
  if (text !== '') options.out(formatTable(['METRIC', 'VALUE'], series.map(([name, value]) => [name!, value!])) + '\n');
  if (text !== '' && !series.some(([name]) => name!.startsWith('istio_requests_total'))) {
    options.out('metrics: no istio_requests_total series: the metrics filter did not report\n');
    failures++;
  }
  options.out(failures === 0 ? `local test: all ${n} requests behaved as expected\n` : `local test: ${failures} problem(s) (see MISMATCH above)\n`);
  return { ok: failures === 0, failures };
}

function whatTheChainDid(body: string, responseHeaders: Readonly<Record<string, unknown>>, sent: Readonly<Record<string, string>>): string {
  const did: string[] = [];
  let echoed: Record<string, unknown> | undefined;
  try {
    echoed = (JSON.parse(body) as { headers?: Record<string, unknown> }).headers;
  } catch {
    echoed = undefined;
  }
  if (echoed !== undefined) {
    const added = Object.entries(echoed).filter(([name]) => !PROXY_REQUEST_HEADERS.has(name) && !(name in sent) && !name.startsWith('x-envoy-') && name !== 'x-forwarded-for');
    if (added.length) did.push(`request +${added.map(([k, v]) => `${k}: ${shorten(String(v))}`).join(', ')}`);
  } else {
    did.push(`local reply "${shorten(body.trim() || '(empty body)')}" (upstream not reached)`);
  }
  const respAdded = Object.entries(responseHeaders).filter(([name]) => !UPSTREAM_RESPONSE_HEADERS.has(name) && !PROXY_RESPONSE_HEADERS.has(name) && !name.startsWith('x-powered-by') && name !== 'etag');
  if (respAdded.length) did.push(`response +${respAdded.map(([k, v]) => `${k}: ${shorten(String(v))}`).join(', ')}`);
  return did.join('; ') || 'passed unchanged';
}
