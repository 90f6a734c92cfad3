/**
 * `deployer local up --fallback`: the compose stack's shape on our own proxy-wasm host, for
 * machines without a Docker engine — envoy-configs/sidecar.yaml (the chain envoy.yaml runs in
 * Envoy) with the app (the demo's echo upstream) and the JWKS server started in-process. The
 * clusters point at where those actually listen, so nothing needs ports 8080/8081 free.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { startDemoUpstream, type DemoUpstream } from '../demo/upstream.js';
import type { LogEntry } from '../host/api.js';
import { validateSidecarConfig } from '../sidecar/config/validate.js';
import { startSidecar, type RunningSidecar } from '../sidecar/sidecar.js';
import { localJwksDir } from './local-keys.js';

export interface FallbackOptions {
  readonly root: string;
  /** Listener and admin (host:port); the sidecar.yaml ones (0.0.0.0:15006, 127.0.0.1:15000) by default. */
  readonly listen?: string;
  readonly admin?: string;
  readonly accessLog?: (line: string) => void;
  /** Filter logs; stderr by default, as deployer run. */
  readonly onLog?: (entry: LogEntry) => void;
}

export interface RunningFallback {
  readonly url: string;
  readonly adminUrl: string;
  readonly sidecar: RunningSidecar;
  readonly upstream: DemoUpstream;
  close(): Promise<void>;
}

/** The `deployer run` command the fallback is equivalent to (printed when no engine answers). */
export const FALLBACK_RUN_COMMAND = 'deployer run --config envoy-configs/sidecar.yaml (with the app on 127.0.0.1:8080 and the JWKS on 127.0.0.1:8081)';

export async function startLocalFallback(options: FallbackOptions): Promise<RunningFallback> {
  const file = path.join(options.root, 'envoy-configs', 'sidecar.yaml');
  const raw = parse(readFileSync(file, 'utf8')) as { listen: string; admin: string; clusters: Record<string, unknown> };
  const upstream = await startDemoUpstream();
  const jwks = await serveJwks(readFileSync(path.join(localJwksDir(options.root), 'jwks.json'), 'utf8'));
  try {
    // Every cluster on the app's port goes to the in-process app; `jwks` to the JWKS server.
    const clusters = Object.fromEntries(Object.entries(raw.clusters).map(([name, value]) => {
      const url = String(typeof value === 'string' ? value : (value as { url: string }).url);
      if (name === 'jwks') return [name, jwks.url];
      return [name, new URL(url).port === '8080' ? upstream.url : url];
    }));
    const config = validateSidecarConfig({ ...raw, listen: options.listen ?? raw.listen, admin: options.admin ?? raw.admin, clusters }, { source: file, baseDir: options.root });
    const sidecar = await startSidecar(config, { accessLog: options.accessLog ?? (() => undefined), ...(options.onLog ? { onLog: options.onLog } : {}), logLevel: 'info' });
    return {
      url: sidecar.url,
      adminUrl: sidecar.adminUrl,
      sidecar,
      upstream,
      close: async () => {
        await sidecar.close();
        await Promise.all([upstream.close(), jwks.close()]);
      },
    };
  } catch (error) {
    await Promise.all([upstream.close(), jwks.close()]);
    throw new Error(`could not start the fallback sidecar from ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function serveJwks(jwks: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.url === '/jwks.json') res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}
