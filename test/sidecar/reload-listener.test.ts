/**
 * Issue #16: the HCM settings (path normalization, header limits, timeouts), the downstream
 * connection cap and the buffer limit reload live. New requests and connections take the new
 * settings; open connections are not dropped and requests in flight finish under the settings
 * they started with; the reload result and log name each change.
 */
import http from 'node:http';
import net from 'node:net';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadRunConfig } from '../../deployer/src/cli/commands/run.js';
import { listenerSettingChanges } from '../../deployer/src/sidecar/hcm/changes.js';
import { startConfigReloader, type ConfigReloader } from '../../deployer/src/sidecar/reloader.js';
import { echoHandler, sidecarConfig, startHoldingUpstream, startTestSidecar, startUpstream, type StartedSidecar, type TestUpstream } from './helpers.js';

/** GET over a keep-alive agent with the path sent as is (no URL normalization in the client). */
function get(sidecar: StartedSidecar, agent: http.Agent, rawPath: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; socket: net.Socket }> {
  const { port } = sidecar.listen;
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: rawPath, agent, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, socket: res.socket }));
    }).on('error', reject);
  });
}

const upstreamPath = (body: string): string => (JSON.parse(body) as { url: string }).url;

describe('sidecar reload: HCM settings and the connection cap', () => {
  let upstream: TestUpstream & { nextHeld(): Promise<() => void> };
  let sidecar: StartedSidecar | undefined;
  beforeAll(async () => {
    upstream = await startHoldingUpstream();
  });
  afterAll(async () => { await upstream.close(); });
  afterEach(async () => { await sidecar?.close(); sidecar = undefined; });

  const config = (extra: Record<string, unknown> = {}) => sidecarConfig({ clusters: { app: upstream.url }, routes: [{ match: { prefix: '/' }, cluster: 'app' }], ...extra });

  it('normalize_path and max_request_headers_kb: the open keep-alive connection stays up and its next request takes the new settings', async () => {
    sidecar = await startTestSidecar(config());
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const before = await get(sidecar, agent, '/a/../b', { 'x-big': 'v'.repeat(2048) });
      expect([before.status, upstreamPath(before.body)]).toEqual([200, '/b']);

      const result = await sidecar.reload(config({ http_connection_manager: { normalize_path: false, max_request_headers_kb: 1 } }));
      expect(result.listenerChanges).toEqual([
        'http_connection_manager.normalize_path: true → false',
        'http_connection_manager.max_request_headers_kb: 60 → 1',
      ]);

      const dump = await (await fetch(`${sidecar.adminUrl}/config_dump`)).json() as { version_info: string; http_connection_manager: { normalize_path: boolean; max_request_headers_kb: number } };
      expect([dump.version_info, dump.http_connection_manager.normalize_path, dump.http_connection_manager.max_request_headers_kb]).toEqual(['2', false, 1]);
      const after = await get(sidecar, agent, '/a/../b');
      expect([after.status, upstreamPath(after.body)]).toEqual([200, '/a/../b']);
      // The same socket: the reload dropped nothing.
      expect(after.socket).toBe(before.socket);
      const tooBig = await get(sidecar, agent, '/c', { 'x-big': 'v'.repeat(2048) });
      expect(tooBig.status).toBe(431);
    } finally {
      agent.destroy();
    }
  });

  it('stream_idle_timeout: a request in flight finishes under the settings it started with; a new one gets the new timeout', async () => {
    sidecar = await startTestSidecar(config({ routes: [{ match: { prefix: '/' }, cluster: 'app', timeout: '0s' }] }));
    const arrived = upstream.nextHeld();
    const inFlight = get(sidecar, new http.Agent(), '/slow');
    const releaseFirst = await arrived;
    await sidecar.reload(config({ routes: [{ match: { prefix: '/' }, cluster: 'app', timeout: '0s' }], http_connection_manager: { stream_idle_timeout: '0.2s' } }));
    // A new slow request is cut by the new 200 ms stream idle timeout...
    const nextArrived = upstream.nextHeld();
    const cut = get(sidecar, new http.Agent(), '/slow');
    await nextArrived;
    expect((await cut).status).toBe(408);
    // ...while the one from before the reload, idle as long, is still waiting, then completes.
    await new Promise((r) => setTimeout(r, 300));
    releaseFirst();
    expect((await inFlight).status).toBe(200);
  });

  it('overload.max_active_downstream_connections: lowering the cap keeps the open connections and refuses the next one; raising it accepts again', async () => {
    sidecar = await startTestSidecar(config({ overload: { max_active_downstream_connections: 100 } }));
    const agents = [new http.Agent({ keepAlive: true, maxSockets: 1 }), new http.Agent({ keepAlive: true, maxSockets: 1 })];
    try {
      for (const agent of agents) expect((await get(sidecar, agent, '/x')).status).toBe(200);
      const overflowBefore = sidecar.stats.downstreamGlobalCxOverflow;
      const result = await sidecar.reload(config({ overload: { max_active_downstream_connections: 2 } }));
      expect(result.listenerChanges).toEqual(['overload.max_active_downstream_connections: 100 → 2']);
      for (const agent of agents) expect((await get(sidecar, agent, '/still')).status).toBe(200);
      await expect(get(sidecar, new http.Agent(), '/third')).rejects.toThrow(/socket hang up|ECONNRESET/);
      expect(sidecar.stats.downstreamGlobalCxOverflow).toBe(overflowBefore + 1);
      await sidecar.reload(config({ overload: { max_active_downstream_connections: 10 } }));
      expect((await get(sidecar, new http.Agent(), '/third')).status).toBe(200);
    } finally {
      for (const agent of agents) agent.destroy();
    }
  });

  it('names every changed listener-level setting with its sidecar.yaml field', () => {
    const running = config();
    const next = config({
      per_connection_buffer_limit_bytes: 4096,
      access_log_format: 'istio',
      http_connection_manager: { common_http_protocol_options: { idle_timeout: '30s' }, request_headers_timeout: '2.5s', path_with_escaped_slashes_action: 'REJECT_REQUEST' },
    });
    expect(listenerSettingChanges(running, next)).toEqual([
      'http_connection_manager.path_with_escaped_slashes_action: KEEP_UNCHANGED → REJECT_REQUEST',
      'http_connection_manager.common_http_protocol_options.idle_timeout: 3600s → 30s',
      'http_connection_manager.request_headers_timeout: 0s → 2.5s',
      'per_connection_buffer_limit_bytes: 1048576 → 4096',
      'access_log_format: envoy → istio',
    ]);
    expect(listenerSettingChanges(running, config())).toEqual([]);
  });
});

describe('sidecar live reload log: listener-level changes', () => {
  let upstream: TestUpstream;
  let sidecar: StartedSidecar | undefined;
  let reloader: ConfigReloader | undefined;
  beforeAll(async () => { upstream = await startUpstream(echoHandler()); });
  afterAll(async () => { reloader?.close(); await sidecar?.close(); await upstream.close(); });

  it('says which HCM settings and caps changed and that they apply to new connections and requests', async () => {
    const yaml = (extra: Record<string, unknown>) => stringify({ listen: '127.0.0.1:0', admin: '127.0.0.1:0', clusters: { app: upstream.url }, routes: [{ match: { prefix: '/' }, cluster: 'app' }], ...extra });
    const dir = await mkdtemp(path.join(tmpdir(), 'wasmesh-reload-hcm-'));
    const file = path.join(dir, 'sidecar.yaml');
    await writeFile(file, yaml({ overload: { max_active_downstream_connections: 50 } }));
    const flags = { config: file, accessLog: '-', logLevel: 'info', namespace: 'default' };
    const loaded = loadRunConfig(flags, () => undefined);
    sidecar = await startTestSidecar(loaded.config);
    const notes: string[] = [];
    reloader = startConfigReloader(sidecar, () => loadRunConfig(flags, () => undefined), loaded.inputs, { note: (line) => notes.push(line), debounceMs: 100 });
    await writeFile(file, yaml({ overload: { max_active_downstream_connections: 40 }, http_connection_manager: { merge_slashes: true } }));
    for (let i = 0; i < 200 && notes.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(notes[0]).toMatch(/reloaded after a change to .*sidecar\.yaml: version 2; .*; for new connections and requests: http_connection_manager\.merge_slashes: false → true, overload\.max_active_downstream_connections: 50 → 40$/);
    const res = await new Promise<string>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: sidecar!.listen.port, path: '//a//b' }, (r) => {
        let body = '';
        r.on('data', (c: Buffer) => { body += c.toString(); });
        r.on('end', () => resolve(body));
      }).on('error', reject);
    });
    expect(upstreamPath(res)).toBe('/a/b');
  });
});
