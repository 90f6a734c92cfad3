/**
 * Issue #16 on the real CLI process, configured by an Envoy bootstrap (`deployer run -c
 * envoy.yaml`): the listener's per_connection_buffer_limit_bytes bounds what a filter buffers
 * (413 request_payload_too_large in the access log and envoy_http_downstream_rq_too_large in
 * /stats/prometheus, as Envoy's would show), and SIGTERM drains with GOAWAY on HTTP/2 while the
 * in-flight stream completes.
 */
import { writeFile } from 'node:fs/promises';
import http2 from 'node:http2';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toEnvoyBootstrap } from '../../deployer/src/sidecar/envoy-bootstrap.js';
import { repoRoot } from '../setup/paths.js';
import { request1, sidecarConfig, startHoldingUpstream, type TestUpstream } from '../sidecar/helpers.js';
import { parseHttp1, rawExchange } from '../sidecar/hostile/wire.js';
import { runCli, writeSidecarYaml } from './helpers.js';

describe('e2e: deployer run -c envoy.yaml — buffer limit and drain', () => {
  let upstream: TestUpstream & { nextHeld(): Promise<() => void> };
  beforeAll(async () => {
    upstream = await startHoldingUpstream();
  });
  afterAll(async () => { await upstream?.close(); });

  it('answers a body buffered past per_connection_buffer_limit_bytes with 413, logs and counts it, and on SIGTERM sends GOAWAY while the in-flight h2 stream completes', async () => {
    const sidecar = sidecarConfig({
      access_log_format: 'istio',
      filters: [{ name: 'conformance', root_id: 'conformance', vm_config: { code: { local: { filename: 'build/test-filters/conformance.wasm' } } } }],
      clusters: { app: upstream.url },
      routes: [{ match: { prefix: '/' }, cluster: 'app' }],
    });
    const bootstrap = toEnvoyBootstrap(sidecar, { wasmDir: path.join(repoRoot, 'build', 'test-filters'), statPrefix: 'inbound_test' }) as {
      static_resources: { listeners: Record<string, unknown>[] };
    };
    bootstrap.static_resources.listeners[0]!.per_connection_buffer_limit_bytes = 1024;
    const file = path.join(path.dirname(await writeSidecarYaml({})), 'envoy.yaml');
    await writeFile(file, stringify(bootstrap));

    const cli = await runCli(['-c', file, '--drain-time-s', '10']);
    try {
      const port = Number(new URL(cli.url).port);
      const body = 'z'.repeat(1025);
      const raw = await rawExchange(port, [
        Buffer.from(`POST /upload HTTP/1.1\r\nhost: app\r\nx-action: body-buffer\r\ncontent-length: ${body.length}\r\n\r\n${body.slice(0, 512)}`),
        Buffer.from(body.slice(512)),
      ], { gapMs: 30 });
      const reply = parseHttp1(raw.data);
      expect([reply.status, reply.body]).toEqual([413, 'Payload Too Large']);
      expect(reply.headers).toContain('connection: close');
      for (let i = 0; i < 100 && !cli.stdout().includes('/upload'); i++) await new Promise((r) => setTimeout(r, 25));
      expect(cli.stdout()).toMatch(/"POST \/upload HTTP\/1\.1" 413 - request_payload_too_large /);
      const stats = await request1(`${cli.adminUrl}/stats/prometheus`);
      expect(stats.body).toMatch(/^envoy_http_downstream_rq_too_large\{envoy_http_conn_manager_prefix="[^"]+"\} 1$/m);

      // Drain: one idle h2c connection, one with a stream in flight.
      const idle = http2.connect(cli.url);
      const busy = http2.connect(cli.url);
      await new Promise<void>((resolve) => idle.once('connect', () => resolve()));
      const arrived = upstream.nextHeld();
      const slow = new Promise<{ status: number; body: string }>((resolve, reject) => {
        const stream = busy.request({ ':path': '/slow' });
        let status = 0;
        let text = '';
        stream.on('response', (h) => { status = Number(h[':status']); });
        stream.on('data', (c: Buffer) => { text += c.toString(); });
        stream.on('end', () => resolve({ status, body: text }));
        stream.on('error', reject);
      });
      const releaseSlow = await arrived;
      const goaways = Promise.all([idle, busy].map((session) => new Promise<number>((resolve) => session.once('goaway', (code) => resolve(code)))));
      cli.child.kill('SIGTERM');
      expect(await goaways).toEqual([0, 0]);
      releaseSlow();
      const done = await slow;
      expect(done.status).toBe(200);
      expect(JSON.parse(done.body).url).toBe('/slow');
      expect(await cli.exited()).toEqual({ code: 0, signal: null });
      expect(cli.stderr()).toMatch(/deployer run: drained/);
      idle.destroy();
      busy.destroy();
    } finally {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    }
  }, 120_000);
});
