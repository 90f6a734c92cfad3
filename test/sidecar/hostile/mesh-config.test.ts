/**
 * `deployer run --istio --mesh-config`: MeshConfig pathNormalization configures the HCM as
 * istiod configures a sidecar's listeners, so the path the built rbac filter and the upstream see
 * is the one they would see in the cluster.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSidecarCommand } from '../../../deployer/src/cli/commands/run.js';
import type { RunningSidecar } from '../../../deployer/src/sidecar/sidecar.js';
import { repoRoot } from '../../setup/paths.js';
import { echoHandler, startUpstream, type TestUpstream } from '../helpers.js';
import { parseHttp1, rawExchange } from './wire.js';

/** Raw, so the client does not resolve dot segments itself (WHATWG URL parsing would). */
async function get(port: number, requestPath: string): Promise<{ status: number; body: string }> {
  const { data } = await rawExchange(port, Buffer.from(`GET ${requestPath} HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n`));
  return parseHttp1(data);
}

const policy = path.join(repoRoot, 'test', 'fixtures', 'istio-mesh', 'policies', 'deny-admin.yaml');

describe.each([
  { mode: 'NONE', encoded: '/a%2Fb//c', dots: '/p/../q', admin: 200 },
  { mode: 'BASE', encoded: '/a%2Fb//c', dots: '/q', admin: 403 },
  { mode: 'MERGE_SLASHES', encoded: '/a%2Fb/c', dots: '/q', admin: 403 },
  { mode: 'DECODE_AND_MERGE_SLASHES', encoded: '/a/b/c', dots: '/q', admin: 403 },
])('hcm: --mesh-config pathNormalization $mode', ({ mode, encoded, dots, admin }) => {
  let dir: string;
  let app: TestUpstream;
  let sidecar: RunningSidecar;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hcm-mesh-'));
    app = await startUpstream(echoHandler('app'));
    const config = path.join(dir, 'sidecar.yaml');
    writeFileSync(config, JSON.stringify({ listen: '127.0.0.1:0', admin: '127.0.0.1:0', clusters: { app: app.url }, routes: [{ match: { prefix: '/' }, cluster: 'app' }] }));
    const mesh = path.join(dir, 'mesh.yaml');
    writeFileSync(mesh, `pathNormalization:\n  normalization: ${mode}\n`);
    sidecar = await runSidecarCommand({ config, istio: policy, meshConfig: mesh, accessLog: '/dev/null', logLevel: 'error', namespace: 'shop', workloadLabels: 'app=cart' });
  });
  afterAll(async () => {
    await sidecar?.close();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('forwards the path istiod\'s HCM settings produce', async () => {
    expect(JSON.parse((await get(sidecar.listen.port, '/a%2Fb//c')).body).url).toBe(encoded);
    expect(JSON.parse((await get(sidecar.listen.port, '/p/../q')).body).url).toBe(dots);
  });

  it('the rbac filter decides on the normalized path: /x/../admin/users', async () => {
    // NONE: Envoy forwards the path unnormalized; rbac's own normalization (NONE too) does not match /admin/*.
    expect((await get(sidecar.listen.port, '/x/../admin/users')).status).toBe(admin);
  });
});
