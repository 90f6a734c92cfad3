/**
 * Certificates minted at test time with @peculiar/x509: a CA, a server certificate for
 * 127.0.0.1 and client certificates carrying SPIFFE URI SANs (Istio workload identities).
 */
import { webcrypto } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const HOUR = 60 * 60 * 1000;

interface Issuer { readonly cert: x509.X509Certificate; readonly keys: CryptoKeyPair }

export interface ClientIdentity { readonly spiffeId: string; readonly cert: string; readonly key: string }

export interface TestPki {
  readonly caFile: string;
  readonly ca: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly clients: ReadonlyMap<string, ClientIdentity>;
}

async function keys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

async function pkcs8(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

let serial = 16;

async function issue(issuer: Issuer, subject: string, names: x509.JsonGeneralName[], usage: x509.ExtendedKeyUsage): Promise<{ cert: string; key: string }> {
  const pair = await keys();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: (serial++).toString(16).padStart(2, '0'), subject, issuer: issuer.cert.subject,
    notBefore: new Date(Date.now() - HOUR), notAfter: new Date(Date.now() + HOUR),
    signingKey: issuer.keys.privateKey, publicKey: pair.publicKey, signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([usage]),
      new x509.SubjectAlternativeNameExtension(names),
    ],
  });
  return { cert: cert.toString('pem'), key: await pkcs8(pair.privateKey) };
}

/** Mints the CA, the server certificate and one client certificate per SPIFFE id. */
export async function mintPki(spiffeIds: readonly string[]): Promise<TestPki> {
  const caKeys = await keys();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01', name: 'CN=rbac test mesh CA,O=wasmesh', keys: caKeys, signingAlgorithm: ALGORITHM,
    notBefore: new Date(Date.now() - HOUR), notAfter: new Date(Date.now() + HOUR),
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
  });
  const ca: Issuer = { cert: caCert, keys: caKeys };
  const server = await issue(ca, 'CN=httpbin', [{ type: 'ip', value: '127.0.0.1' }, { type: 'dns', value: 'localhost' }], x509.ExtendedKeyUsage.serverAuth);
  const clients = new Map<string, ClientIdentity>();
  for (const spiffeId of spiffeIds) {
    const client = await issue(ca, `CN=${spiffeId.split('/').at(-1)}`, [{ type: 'url', value: spiffeId }], x509.ExtendedKeyUsage.clientAuth);
    clients.set(spiffeId, { spiffeId, ...client });
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'wasmesh-rbac-pki-'));
  const caPem = caCert.toString('pem');
  const files = { caFile: path.join(dir, 'ca.pem'), serverCertFile: path.join(dir, 'server.pem'), serverKeyFile: path.join(dir, 'server-key.pem') };
  await writeFile(files.caFile, caPem);
  await writeFile(files.serverCertFile, server.cert);
  await writeFile(files.serverKeyFile, server.key);
  return { ...files, ca: caPem, clients };
}
