/**
 * Finding 3: about 5 KB stayed reachable per request (a module-level never-settling promise raced
 * against every request's body kept each race's reaction alive). 4,000 requests through the
 * pass-through sidecar must leave the heap after GC where it was, give or take what V8's own
 * caches and the agent's pooled sockets hold: far below the 20 MB the leak held.
 */
import http from 'node:http';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoHandler, sidecarConfig, startTestSidecar, startUpstream, type StartedSidecar, type TestUpstream } from '../helpers.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

async function heapAfterGc(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
  return process.memoryUsage().heapUsed;
}

async function requests(url: string, count: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  let next = 0;
  const worker = async () => {
    while (next++ < count) {
      await new Promise<void>((resolve, reject) => {
        http.get(url, { agent }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject);
      });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  agent.destroy();
}

describe('sidecar memory (finding 3)', () => {
  let app: TestUpstream;
  let sidecar: StartedSidecar;
  beforeAll(async () => {
    app = await startUpstream(echoHandler('app'));
    sidecar = await startTestSidecar(sidecarConfig({ clusters: { app: app.url }, routes: [{ match: { prefix: '/' }, cluster: 'app' }] }), { accessLog: () => undefined });
  });
  afterAll(async () => {
    await sidecar?.close();
    await app?.close();
  });

  it('4,000 requests leave no per-request state reachable', async () => {
    app.requests.length = 0;
    await requests(`${sidecar.url}/warm`, 500);
    app.requests.length = 0;
    const before = await heapAfterGc();
    await requests(`${sidecar.url}/api/items`, 4000);
    app.requests.length = 0;
    const after = await heapAfterGc();
    expect(after - before).toBeLessThan(4 * 2 ** 20);
  }, 60_000);
});
