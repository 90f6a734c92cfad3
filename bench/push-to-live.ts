/**
 * Push-to-live latency in the local sidecar (a row of bench/control-plane.ts): the control plane
 * in process, `deployer run -c sidecar.yaml --xds` started by the CLI's own core function, a
 * loopback upstream and two keep-alive load workers; each push (`deployer push`'s control-plane
 * client: upload + attach; the control plane has no Istio config dir, only the admin API's attachments with a new pluginConfig) is timed from the push call to the first
 * response carrying the new config's header. Pushes are lone changes (spaced by the debounce's
 * quiet period), so the control plane pushes them on the leading edge. Reference in the same run: the same change applied
 * with `sidecar.reload` directly (no control plane, no xDS) — the floor of the swap itself.
 */
import path from 'node:path';
import { startControlPlane } from '../deployer/src/control-plane/control-plane.js';
import { TypeUrl } from '../deployer/src/control-plane/types.js';
import { firstShowing, pushExample, ROOT, startLoad, startUpstream, startXdsSidecar, VERSION_HEADER, writeSidecarYaml } from '../test/control-plane/run-xds-scenario.js';
import { tempDir } from '../test/control-plane/harness.js';

export interface PushToLiveRow {
  readonly mode: string;
  readonly pushes: number;
  readonly medianMs: number;
  readonly p99Ms: number;
  /** xds push: first response with the new filter, measured from the control plane's ACK record (negative: live before the ACK arrived). */
  readonly ackToLiveMedianMs?: number;
  readonly requests: number;
  readonly failed: number;
  /** Requests started after the ACK (or the reload's return) that still saw the old config. */
  readonly staleAfterAck: number;
}

const TOKEN = 'bench-token';
const percentile = (values: readonly number[], p: number) => { const sorted = [...values].sort((a, b) => a - b); return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!; };

/** `debounceMs`: the control plane's push debounce (100 ms by default, Istio's PILOT_DEBOUNCE_AFTER). */
export async function measurePushToLive(pushes: number, debounceMs = 100, withFloor = true): Promise<PushToLiveRow[]> {
  const work = tempDir();
  const cp = await startControlPlane({ xdsAddress: '127.0.0.1:0', httpAddress: '127.0.0.1:0', token: TOKEN, filtersDir: path.join(ROOT, 'build/filters'), debounceAfterMs: debounceMs, log: () => {} });
  const upstream = await startUpstream();
  const quiet = process.stderr.write.bind(process.stderr);
  // The sidecar's per-reload notes would drown the table.
  process.stderr.write = (() => true) as typeof process.stderr.write;
  const sidecar = await startXdsSidecar(writeSidecarYaml(work.dir, upstream.port), cp.xdsAddress, work.dir);
  try {
    await pushExample(cp.httpAddress, TOKEN, 'warm-up');
    const load = startLoad(sidecar.url, 2, 120_000);
    const xds: number[] = [], fromAck: number[] = [], direct: number[] = [];
    let staleXds = 0, staleDirect = 0;
    for (let i = 0; i < pushes; i += 1) {
      const version = `p${i}`;
      const start = Date.now();
      const result = await pushExample(cp.httpAddress, TOKEN, version);
      if (!result.ok) throw new Error(`push ${version}: ${JSON.stringify(result.nodes)}`);
      const ackAt = Date.parse(cp.status.list()[0]!.acked[TypeUrl.extensionConfig]!.at);
      const live = await waitShowing(load.samples, version, start);
      xds.push(live.afterMs);
      fromAck.push(live.at - ackAt);
      staleXds += load.samples.filter((s) => s.startedAt > ackAt && s.status === 200 && s.version !== version && s.version !== '').length;
      // Each push is a lone change, as a developer's pushes are: the next one comes after the
      // debounce's quiet period (back-to-back pushes are a burst, coalesced by design).
      await new Promise((r) => setTimeout(r, debounceMs + 20));
    }
    for (let i = 0; withFloor && i < pushes; i += 1) {
      const version = `d${i}`;
      const running = sidecar.config;
      const configuration = JSON.stringify({ response_headers: { [VERSION_HEADER]: version } });
      const start = Date.now();
      await sidecar.reload({ ...running, filters: running.filters.map((f) => ({ ...f, configuration })) });
      const returned = Date.now();
      const live = await waitShowing(load.samples, version, start);
      direct.push(live.afterMs);
      staleDirect += load.samples.filter((s) => s.startedAt > returned && s.version !== version).length;
    }
    await load.stop();
    const failed = load.samples.filter((s) => s.status !== 200 || s.error).length;
    return [
      { mode: `xds push, debounce ${debounceMs} ms`, pushes, medianMs: percentile(xds, 50), p99Ms: percentile(xds, 99), ackToLiveMedianMs: percentile(fromAck, 50), requests: load.samples.length, failed, staleAfterAck: staleXds },
      ...(withFloor ? [{ mode: 'direct reload', pushes, medianMs: percentile(direct, 50), p99Ms: percentile(direct, 99), requests: load.samples.length, failed, staleAfterAck: staleDirect }] : []),
    ];
  } finally {
    await sidecar.close();
    process.stderr.write = quiet;
    await cp.close();
    await upstream.close();
    work.cleanup();
  }
}

async function waitShowing(samples: Parameters<typeof firstShowing>[0], version: string, since: number): Promise<{ at: number; afterMs: number }> {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 5))) {
    const live = firstShowing(samples, version, since);
    if (live) return live;
  }
  throw new Error(`config ${version} never showed in a response`);
}
