/**
 * Principals over mutual TLS between two `deployer run` sidecars: the client-side sidecar
 * (reporter=source) forwards to an https:// cluster presenting its workload certificate, the
 * server-side sidecar (reporter=destination) requires it. Istio's rules
 * (istio/proxy extensions/common/context.cc): outbound, destination_principal is
 * `upstream.uri_san_peer_certificate` and source_principal `upstream.uri_san_local_certificate`,
 * read here from the real upstream TLS socket; inbound, they come from the downstream connection.
 * Certificates are minted at test time (SPIFFE URI SANs only, as Istio's workload certificates).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSidecarCommand } from '../../deployer/src/cli/commands/run.js';
import type { RunningSidecar } from '../../deployer/src/sidecar/sidecar.js';
import { request1, startUpstream, type TestUpstream } from '../sidecar/helpers.js';
import { writeSidecarYaml } from './helpers.js';
import { mintMeshPki } from './mtls-certs.js';

/** `istio_requests_total` samples of the exposition, labels parsed (one line each). */
async function requestsTotal(sidecar: RunningSidecar): Promise<Array<{ labels: Record<string, string>; value: number }>> {
  const res = await request1(`${sidecar.adminUrl}/stats/prometheus`);
  expect(res.status).toBe(200);
  return [...res.body.matchAll(/^istio_requests_total\{(.*)\} (\S+)$/gm)].map((m) => ({
    labels: Object.fromEntries([...m[1]!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!])),
    value: Number(m[2]),
  }));
}

/** The mesh-wide Telemetry resource (prometheus provider): what `deployer run --istio` reads. */
function meshTelemetry(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'metrics-mtls-'));
  writeFileSync(path.join(dir, 'telemetry.yaml'), stringify({
    apiVersion: 'telemetry.istio.io/v1', kind: 'Telemetry', metadata: { name: 'mesh-default', namespace: 'istio-system' },
    spec: { metrics: [{ providers: [{ name: 'prometheus' }] }] },
  }));
  return dir;
}

describe('e2e: two deployer run sidecars over mTLS report each other\'s principals', () => {
  let upstream: TestUpstream;
  let server: RunningSidecar;
  let client: RunningSidecar;
  let pki: Awaited<ReturnType<typeof mintMeshPki>>;

  beforeAll(async () => {
    pki = await mintMeshPki();
    const istio = meshTelemetry();
    upstream = await startUpstream((_req, res) => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('ok'); });
    server = await runSidecarCommand({
      config: await writeSidecarYaml({
        listen: '127.0.0.1:0', admin: '127.0.0.1:0',
        tls: { cert: pki.server.certFile, key: pki.server.keyFile, client_ca: pki.caFile },
        clusters: { 'inbound|9080||': upstream.url }, routes: [{ match: { prefix: '/' }, cluster: 'inbound|9080||' }],
      }),
      accessLog: '/dev/null', logLevel: 'error', istio, namespace: 'bookinfo', workloadLabels: 'app=reviews,version=v2', workloadName: 'reviews-v2',
    });
    const cluster = 'outbound|9080||reviews.bookinfo.svc.cluster.local';
    const port = new URL(server.url).port;
    client = await runSidecarCommand({
      config: await writeSidecarYaml({
        listen: '127.0.0.1:0', admin: '127.0.0.1:0',
        clusters: { [cluster]: { url: `https://127.0.0.1:${port}`, tls: { ca: pki.caFile, cert: pki.client.certFile, key: pki.client.keyFile, subject_alt_names: [pki.server.spiffeId] } } },
        routes: [{ match: { prefix: '/' }, cluster }],
      }),
      accessLog: '/dev/null', logLevel: 'error', istio, namespace: 'default', workloadLabels: 'app=productpage,version=v1', workloadName: 'productpage-v1',
      direction: 'outbound',
    });
    for (let i = 0; i < 2; i++) expect((await request1(`${client.url}/ok`)).status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await client?.close();
    await server?.close();
    await upstream?.close();
  });

  it('metrics: onLog client side reads the principals of the upstream TLS connection', async () => {
    const [sample, ...rest] = await requestsTotal(client);
    expect(rest).toEqual([]);
    expect(sample!.value).toBe(2);
    expect(sample!.labels).toMatchObject({
      reporter: 'source', source_workload: 'productpage-v1', destination_workload: 'reviews-v2',
      source_principal: pki.client.spiffeId, destination_principal: pki.server.spiffeId, connection_security_policy: 'unknown', response_code: '200',
    });
  });

  it('metrics: onLog server side reads the principals of the downstream mTLS connection', async () => {
    const [sample] = await requestsTotal(server);
    expect(sample!.value).toBe(2);
    expect(sample!.labels).toMatchObject({
      reporter: 'destination', source_workload: 'productpage-v1', destination_workload: 'reviews-v2',
      source_principal: pki.client.spiffeId, destination_principal: pki.server.spiffeId, connection_security_policy: 'mutual_tls',
    });
  });

  it('sidecar: an https cluster whose certificate matches none of subject_alt_names fails the request with 503 UF', async () => {
    const port = new URL(server.url).port;
    const strict = await runSidecarCommand({
      config: await writeSidecarYaml({
        listen: '127.0.0.1:0', admin: '127.0.0.1:0',
        clusters: { up: { url: `https://127.0.0.1:${port}`, tls: { ca: pki.caFile, cert: pki.client.certFile, key: pki.client.keyFile, subject_alt_names: ['spiffe://cluster.local/ns/other/sa/x'] } } },
        routes: [{ match: { prefix: '/' }, cluster: 'up' }],
      }),
      accessLog: '/dev/null', logLevel: 'error',
    });
    try {
      const res = await request1(`${strict.url}/ok`);
      expect(res.status).toBe(503);
      expect(res.body).toMatch(/^upstream connect error or disconnect\/reset before headers\. reset reason: connection failure, transport failure reason: TLS_error: /);
    } finally {
      await strict.close();
    }
  });
});
