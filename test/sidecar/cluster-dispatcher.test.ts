import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SidecarClusterDispatcher } from '../../deployer/src/sidecar/cluster-dispatcher.js';
import { ClusterPool } from '../../deployer/src/sidecar/upstream.js';
import { closedPort, sidecarConfig, startUpstream, type TestUpstream } from './helpers.js';

describe('proxy_dispatch_http_call over the sidecar clusters', () => {
  let upstream: TestUpstream;
  let dispatcher: SidecarClusterDispatcher;
  let pools: ClusterPool[];

  beforeAll(async () => {
    upstream = await startUpstream((req, res) => {
      if (req.url === '/slow') return;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = req.url === '/big' ? 'x'.repeat(2048) : `${req.method} ${req.url} host=${req.headers.host} body=${Buffer.concat(chunks).toString()}`;
        res.writeHead(200, { 'x-jwks': 'yes' }).end(body);
      });
    });
    const down = await closedPort();
    const config = sidecarConfig({ clusters: { jwks: upstream.url, down: `http://127.0.0.1:${down}` }, routes: [{ match: { prefix: '/' }, cluster: 'jwks' }] });
    pools = [...config.clusters.values()].map((c) => new ClusterPool(c));
    dispatcher = new SidecarClusterDispatcher(new Map(pools.map((p) => [p.cluster.name, p])), 1024);
  });
  afterAll(async () => {
    for (const pool of pools ?? []) pool.close();
    await upstream?.close();
  });

  it('knows its clusters', () => {
    expect(dispatcher.hasCluster('jwks')).toBe(true);
    expect(dispatcher.hasCluster('nope')).toBe(false);
  });

  it('sends method, path, authority and body; returns :status first, headers and body', async () => {
    const res = await dispatcher.dispatch('jwks', [[':method', 'POST'], [':path', '/keys'], [':authority', 'idp.example']], new TextEncoder().encode('hi'), [], 1000);
    expect(res.headers[0]).toEqual([':status', '200']);
    expect(res.headers).toContainEqual(['x-jwks', 'yes']);
    expect(Buffer.from(res.body).toString()).toBe('POST /keys host=idp.example body=hi');
  });

  it.each([
    { name: 'the call times out', cluster: 'jwks', path: '/slow', error: /timed out after 100 ms/ },
    { name: 'the cluster is down', cluster: 'down', path: '/', error: /connection failure/ },
    { name: 'the response is larger than the limit', cluster: 'jwks', path: '/big', error: /exceeds 1024 bytes/ },
    { name: 'the cluster is unknown', cluster: 'nope', path: '/', error: /unknown cluster "nope"/ },
  ])('rejects when $name (the filter sees a failed call)', async ({ cluster, path, error }) => {
    await expect(dispatcher.dispatch(cluster, [[':method', 'GET'], [':path', path], [':authority', 'x']], new Uint8Array(0), [], 100)).rejects.toThrow(error);
  });
});
