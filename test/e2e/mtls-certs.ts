// @peculiar/x509 resolves its ASN.1 services through tsyringe, which needs a Reflect metadata polyfill (see its README).
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 24 * 60 * 60 * 1000;

export interface MintedPki {
  readonly dir: string;
  readonly caFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** Signed by a different CA: the listener must refuse it. */
  readonly rogueClientCert: string;
  readonly rogueClientKey: string;
  readonly ca: string;
  readonly clientSpiffeId: string;
}

async function keyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

async function keyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function selfSignedCa(name: string): Promise<{ cert: x509.X509Certificate; keys: CryptoKeyPair }> {
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01', name, notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + DAY), keys, signingAlgorithm: ALGORITHM,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
  return { cert, keys };
}

async function leaf(ca: { cert: x509.X509Certificate; keys: CryptoKeyPair }, subject: string, serial: string, names: x509.JsonGeneralName[], usage: x509.ExtendedKeyUsage): Promise<{ cert: string; key: string }> {
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial, subject, issuer: ca.cert.subject, notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + DAY),
    signingKey: ca.keys.privateKey, publicKey: keys.publicKey, signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([usage]),
      new x509.SubjectAlternativeNameExtension(names),
    ],
  });
  return { cert: cert.toString('pem'), key: await keyPem(keys.privateKey) };
}

/** A CA, a server certificate for 127.0.0.1/localhost and SPIFFE client certificates, minted at test time. */
export async function mintPki(): Promise<MintedPki> {
  const ca = await selfSignedCa('CN=wasmesh test CA,O=wasmesh');
  const rogueCa = await selfSignedCa('CN=rogue CA');
  const clientSpiffeId = 'spiffe://cluster.local/ns/shop/sa/cart';
  const server = await leaf(ca, 'CN=sidecar,O=wasmesh', '02', [{ type: 'dns', value: 'localhost' }, { type: 'ip', value: '127.0.0.1' }], x509.ExtendedKeyUsage.serverAuth);
  const client = await leaf(ca, 'CN=cart,OU=shop,O=wasmesh', '03', [{ type: 'url', value: clientSpiffeId }], x509.ExtendedKeyUsage.clientAuth);
  const rogue = await leaf(rogueCa, 'CN=intruder', '04', [{ type: 'url', value: 'spiffe://cluster.local/ns/shop/sa/intruder' }], x509.ExtendedKeyUsage.clientAuth);
  const dir = await mkdtemp(path.join(tmpdir(), 'wasmesh-mtls-'));
  const caPem = ca.cert.toString('pem');
  const files = { caFile: path.join(dir, 'ca.pem'), serverCertFile: path.join(dir, 'server.pem'), serverKeyFile: path.join(dir, 'server-key.pem') };
  await writeFile(files.caFile, caPem);
  await writeFile(files.serverCertFile, server.cert);
  await writeFile(files.serverKeyFile, server.key);
  return {
    dir, ...files, ca: caPem, clientSpiffeId,
    clientCert: client.cert, clientKey: client.key, rogueClientCert: rogue.cert, rogueClientKey: rogue.key,
  };
}

export interface WorkloadIdentity {
  readonly spiffeId: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/**
 * A mesh CA and two Istio-style workload certificates (a SPIFFE URI SAN only, no DNS name): a
 * server workload (serverAuth) and a client workload (clientAuth), written as PEM files.
 */
export async function mintMeshPki(): Promise<{ readonly dir: string; readonly caFile: string; readonly server: WorkloadIdentity; readonly client: WorkloadIdentity }> {
  const ca = await selfSignedCa('CN=mesh CA,O=cluster.local');
  const dir = await mkdtemp(path.join(tmpdir(), 'wasmesh-mesh-'));
  const caFile = path.join(dir, 'ca.pem');
  await writeFile(caFile, ca.cert.toString('pem'));
  const workload = async (name: string, spiffeId: string, serial: string, usage: x509.ExtendedKeyUsage): Promise<WorkloadIdentity> => {
    const minted = await leaf(ca, `O=cluster.local,CN=${name}`, serial, [{ type: 'url', value: spiffeId }], usage);
    const files = { certFile: path.join(dir, `${name}.pem`), keyFile: path.join(dir, `${name}-key.pem`) };
    await writeFile(files.certFile, minted.cert);
    await writeFile(files.keyFile, minted.key);
    return { spiffeId, ...files };
  };
  return {
    dir, caFile,
    server: await workload('reviews', 'spiffe://cluster.local/ns/bookinfo/sa/bookinfo-reviews', '11', x509.ExtendedKeyUsage.serverAuth),
    client: await workload('productpage', 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage', '12', x509.ExtendedKeyUsage.clientAuth),
  };
}
