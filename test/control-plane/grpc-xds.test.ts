import * as grpc from '@grpc/grpc-js';
import * as grpcXds from '@grpc/grpc-js-xds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningControlPlane } from '../../deployer/src/control-plane/control-plane.js';
import { ECHO_SERVICE, eventually, startEchoServer, startTestControlPlane, tempConfigDir, writeFile } from './harness.js';

/**
 * gRPC's own xDS client (@grpc/grpc-js-xds) resolves `xds:///` through our control plane:
 * LDS (api_listener host:port) → RDS → CDS (EDS cluster) → EDS (localities with weights), then
 * makes real calls to gRPC servers on loopback.
 */
function workloadEntry(port: number): string {
  return `apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata:
  name: echo-a
  namespace: shop
spec:
  address: 127.0.0.1
  ports:
    grpc: ${port}
  labels:
    app: echo
    version: v1
  locality: us-east1/us-east1-b
`;
}

describe('control-plane: proxyless gRPC through @grpc/grpc-js-xds', () => {
  let cp: RunningControlPlane;
  let config: ReturnType<typeof tempConfigDir>;
  let serverA: Awaited<ReturnType<typeof startEchoServer>>;
  let serverB: Awaited<ReturnType<typeof startEchoServer>>;
  let client: grpc.Client;

  beforeAll(async () => {
    grpcXds.register();
    serverA = await startEchoServer('a');
    serverB = await startEchoServer('b');
    config = tempConfigDir();
    writeFile(config.dir, 'workloads.yaml', workloadEntry(serverA.port));
    ({ cp } = await startTestControlPlane({ configDir: config.dir, xdsAddress: '127.0.0.1:0' }));
    const bootstrap = {
      xds_servers: [{ server_uri: cp.xdsAddress, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      node: { id: 'sidecar~127.0.0.1~client-0.shop~shop.svc.cluster.local', metadata: { GENERATOR: 'grpc', NAMESPACE: 'shop' }, locality: {} },
    };
    // gRPC's documented way in: the bootstrap JSON in GRPC_XDS_BOOTSTRAP_CONFIG (read once per process;
    // vitest runs each test file in its own worker).
    process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify(bootstrap);
    client = new grpc.Client('xds:///echo.shop.svc.cluster.local:7070', grpc.credentials.createInsecure());
  });

  afterAll(async () => {
    client?.close();
    await cp?.close();
    await serverA?.close();
    await serverB?.close();
    config?.cleanup();
  });

  const say = (text: string) => new Promise<{ server: string; text: string }>((resolve, reject) => {
    client.makeUnaryRequest(ECHO_SERVICE.Say!.path, ECHO_SERVICE.Say!.requestSerialize as (v: unknown) => Buffer, ECHO_SERVICE.Say!.responseDeserialize as (b: Buffer) => { server: string; text: string },
      { text }, { deadline: Date.now() + 5000 }, (error, value) => (error ? reject(error) : resolve(value!)));
  });

  it('resolves LDS → RDS → CDS → EDS and calls the server of the WorkloadEntry', async () => {
    const reply = await say('hello');
    expect(reply).toEqual({ server: 'a', text: 'hello' });
    const node = cp.status.list().find((s) => s.node.id.startsWith('sidecar~127.0.0.1~client-0'));
    expect(node?.node.generator).toBe('grpc');
    expect(Object.keys(node?.acked ?? {}).length).toBe(4);
    expect(Object.values(node?.lastNack ?? {})).toEqual([]);
  });

  it('editing the WorkloadEntry moves the calls to another server', async () => {
    writeFile(config.dir, 'workloads.yaml', workloadEntry(serverB.port));
    const reply = await eventually(async () => { const r = await say('again'); return r.server === 'b' ? r : undefined; }, 10_000, 'calls to reach server b');
    expect(reply.text).toBe('again');
  });

  it('a cut connection: calls keep working on the last configuration, and the client resubscribes', async () => {
    const acked = () => cp.status.list().find((s) => s.node.id.startsWith('sidecar~127.0.0.1~client-0'))!.acked;
    const before = acked();
    cp.cutStreams();
    expect((await say('during')).server).toBe('b');
    await eventually(() => cp.status.list().find((s) => s.node.id.startsWith('sidecar~127.0.0.1~client-0'))?.streams === 1, 15_000, 'the client to resubscribe');
    expect((await say('after')).server).toBe('b');
    expect(Object.fromEntries(Object.entries(acked()).map(([t, r]) => [t, r!.version]))).toEqual(Object.fromEntries(Object.entries(before).map(([t, r]) => [t, r!.version])));
  });

  it('a control-plane restart: calls keep working while it is away; the new process serves the same versions', async () => {
    const address = cp.xdsAddress;
    const versions = Object.fromEntries(Object.entries(cp.status.list().find((s) => s.node.id.startsWith('sidecar~127.0.0.1~client-0'))!.acked).map(([t, r]) => [t, r!.version]));
    await cp.close();
    expect((await say('while away')).server).toBe('b');
    ({ cp } = await startTestControlPlane({ configDir: config.dir, xdsAddress: address }));
    const node = await eventually(() => cp.status.list().find((s) => s.node.id.startsWith('sidecar~127.0.0.1~client-0') && s.streams === 1), 20_000, 'the client to come back');
    expect((await say('back')).server).toBe('b');
    // The client resubscribes with the versions it holds; they are the new process's too, so nothing needed re-sending.
    expect(Object.values(node.lastNack)).toEqual([]);
    await new Promise((r) => setTimeout(r, 300));
    expect(cp.status.list().find((s) => s.node.id === node.node.id)!.pending).toEqual({});
    for (const [type, version] of Object.entries(node.acked)) expect(versions[type]).toBe(version!.version);
  });
});
