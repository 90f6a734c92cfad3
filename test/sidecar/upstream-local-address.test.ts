/**
 * Envoy's `upstream.local_address` / `upstream.address` attributes in proxy_on_log name the
 * connection the request actually went on, on both upstream paths: undici's pool (requests
 * without a body) and node's client (requests with a body). The upstream reports the peer
 * address it saw; the built conformance filter logs the properties named in x-log-property.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../deployer/src/host/api.js';
import { repoRoot } from '../setup/paths.js';
import { request1, sidecarConfig, startTestSidecar, startUpstream, type StartedSidecar, type TestUpstream } from './helpers.js';

const conformance = path.join(repoRoot, 'build', 'test-filters', 'conformance.wasm');
const hex = (text: string) => Buffer.from(text).toString('hex');

describe('upstream.local_address on both upstream paths', () => {
  let app: TestUpstream;
  let sidecar: StartedSidecar;
  const logs: string[] = [];
  beforeAll(async () => {
    app = await startUpstream((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ peer: `${req.socket.remoteAddress}:${req.socket.remotePort}`, local: `${req.socket.localAddress}:${req.socket.localPort}` }));
      });
    });
    sidecar = await startTestSidecar(sidecarConfig({
      filters: [{ name: 'conformance', root_id: 'conformance', vm_config: { code: { local: { filename: conformance } } } }],
      clusters: { app: app.url }, routes: [{ match: { prefix: '/' }, cluster: 'app' }],
    }), { onLog: (entry: LogEntry) => logs.push(entry.message) });
  });
  afterAll(async () => {
    await sidecar?.close();
    await app?.close();
  });

  it.each([
    ['GET without a body (undici pool)', undefined],
    ['POST with a body (node client)', 'some body'],
  ])('%s: the address the upstream saw as its peer', async (_name, body) => {
    logs.length = 0;
    const reply = await request1(`${sidecar.url}/where`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'x-log-property': 'upstream/local_address,upstream/address' },
      ...(body !== undefined ? { body } : {}),
    });
    expect(reply.status).toBe(200);
    const seen = JSON.parse(reply.body) as { peer: string; local: string };
    // The access log line is written once the response closed; proxy_on_log runs just before it.
    await expect.poll(() => logs.filter((l) => l.startsWith('on_log property '))).toHaveLength(2);
    const read = Object.fromEntries(logs.filter((l) => l.startsWith('on_log property ')).map((l) => l.slice('on_log property '.length).split('=') as [string, string]));
    expect(read).toEqual({ 'upstream/local_address': hex(seen.peer), 'upstream/address': hex(seen.local) });
  });
});
