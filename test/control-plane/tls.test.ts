import { rmSync } from 'node:fs';
import { request } from 'node:https';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningControlPlane } from '../../deployer/src/control-plane/control-plane.js';
import { TypeUrl } from '../../deployer/src/control-plane/types.js';
import { mintPki, type MintedPki } from '../e2e/mtls-certs.js';
import { SotwClient } from './ads-client.js';
import { startTestControlPlane, TOKEN } from './harness.js';

describe('control-plane: TLS on the xDS and admin ports', () => {
  let pki: MintedPki;
  let cp: RunningControlPlane;

  beforeAll(async () => {
    pki = await mintPki();
    ({ cp } = await startTestControlPlane({ tls: { certFile: pki.serverCertFile, keyFile: pki.serverKeyFile } }));
  });

  afterAll(async () => {
    await cp?.close();
    rmSync(pki.dir, { recursive: true, force: true });
  });

  it('serves ADS over TLS to a client trusting the CA', async () => {
    const client = new SotwClient(new grpc.Client(cp.xdsAddress, grpc.credentials.createSsl(Buffer.from(pki.ca))), { id: 'sidecar~10.0.0.1~a.shop~shop.svc.cluster.local' });
    client.send({ type_url: TypeUrl.listener });
    const response = await client.next();
    expect(response.nonce).toBe('1');
    client.close();
  });

  it('serves the admin API over https, token still required', async () => {
    const get = (token?: string) => new Promise<number>((resolve, reject) => {
      const [host, port] = [cp.httpAddress.split(':')[0], Number(cp.httpAddress.split(':')[1])];
      request({ host, port, path: '/api/v1/status', ca: pki.ca, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => { res.resume(); resolve(res.statusCode!); }).on('error', reject).end();
    });
    expect(await get(TOKEN)).toBe(200);
    expect(await get()).toBe(401);
  });
});
