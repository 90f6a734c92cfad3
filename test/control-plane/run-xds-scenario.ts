/**
 * The `deployer run --xds` scenario, shared by test/control-plane/run-xds.test.ts and the
 * push-to-live row of bench/control-plane.ts: a real upstream on loopback, the sidecar started by
 * the CLI's own core function (runSidecarCommand, not a spawned process), keep-alive load, and
 * pushes through `deployer push`'s control-plane client.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { runSidecarCommand, type RunningSidecarCommand } from '../../deployer/src/cli/commands/run.js';
import { pushToControlPlane, type ControlPlanePushResult } from '../../deployer/src/control-plane/client/push.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const EXAMPLE_WASM = path.join(ROOT, 'build/filters/example.wasm');
/** The response header the example filter is configured to add: which push is live. */
export const VERSION_HEADER = 'x-wasmesh-version';

export async function startUpstream(): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** sidecar.yaml: listeners, routes and clusters from the file; filters come from xDS. */
export function writeSidecarYaml(dir: string, upstreamPort: number): string {
  const file = path.join(dir, 'sidecar.yaml');
  writeFileSync(file, `listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nclusters:\n  app: http://127.0.0.1:${upstreamPort}\nroutes:\n  - match: { prefix: / }\n    cluster: app\n`);
  return file;
}

/** `deployer run -c <file> --xds <addr> -n shop -l app=cart --workload-name cart-1`, in process. */
export function startXdsSidecar(configFile: string, xds: string, dir: string): Promise<RunningSidecarCommand> {
  return runSidecarCommand({
    config: configFile, xds, namespace: 'shop', selector: 'app=cart', workloadName: 'cart-1',
    accessLog: path.join(dir, 'access.log'), logLevel: 'warn', watch: true, xdsCacheDir: path.join(dir, 'modules'),
  });
}

export interface Sample {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly status: number;
  /** The VERSION_HEADER value ('' when absent). */
  readonly version: string;
  readonly error?: string;
}

export interface Load {
  readonly samples: Sample[];
  /** Stops the loop and resolves when every worker finished its request. */
  stop(): Promise<void>;
}

/**
 * `concurrency` keep-alive workers, each sending GETs back to back until stopped or `maxMs`
 * passed (bounded: the machine is shared). Times are Date.now(), comparable to the control
 * plane's ACK timestamps.
 */
export function startLoad(url: string, concurrency = 4, maxMs = 30_000): Load {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const samples: Sample[] = [];
  const deadline = Date.now() + maxMs;
  let stopped = false;
  const once = () => new Promise<Sample>((resolve) => {
    const startedAt = Date.now();
    const req = request(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ startedAt, endedAt: Date.now(), status: res.statusCode ?? 0, version: String(res.headers[VERSION_HEADER] ?? '') }));
      res.on('error', (error) => resolve({ startedAt, endedAt: Date.now(), status: 0, version: '', error: error.message }));
    });
    req.on('error', (error) => resolve({ startedAt, endedAt: Date.now(), status: 0, version: '', error: error.message }));
    req.end();
  });
  const worker = async () => {
    while (!stopped && Date.now() < deadline) samples.push(await once());
  };
  const workers = Array.from({ length: concurrency }, worker);
  return {
    samples,
    stop: async () => { stopped = true; await Promise.all(workers); agent.destroy(); },
  };
}

/** `deployer push build/filters/example.wasm --control-plane URL` with a config naming `version`. */
export function pushExample(httpAddress: string, token: string, version: string, wasm = readFileSync(EXAMPLE_WASM)): Promise<ControlPlanePushResult> {
  return pushToControlPlane({
    controlPlane: `http://${httpAddress}`, token, wasm, filter: 'example', namespace: 'shop', selector: { app: 'cart' },
    priority: 10, pluginConfig: { response_headers: { [VERSION_HEADER]: version } }, failOpen: false, timeoutMs: 10_000, pollMs: 5,
  });
}

/** First response (by start time) showing `version`, and how long after `since` it started. */
export function firstShowing(samples: readonly Sample[], version: string, since: number): { at: number; afterMs: number } | undefined {
  const first = samples.filter((s) => s.version === version).sort((a, b) => a.startedAt - b.startedAt)[0];
  return first ? { at: first.startedAt, afterMs: first.startedAt - since } : undefined;
}
