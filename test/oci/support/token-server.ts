// A minimal token service for the distribution "token" auth scheme (distribution docs/spec/auth/token.md
// and docs/spec/auth/jwt.md): checks Basic credentials, answers {"token"} signed RS256 with an x5c chain
// that the registry trusts through `auth.token.rootcertbundle`.
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID, X509Certificate } from 'node:crypto';
import { SignJWT, importPKCS8 } from 'jose';

export interface TokenServer {
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  readonly rootCertBundle: string;
  /** Scopes requested so far, for assertions. */
  readonly requestedScopes: readonly string[];
  stop(): Promise<void>;
}

export interface TokenUser {
  readonly username: string;
  readonly password: string;
  /** Actions this user is granted whatever it asks for (default: all it asks for). */
  readonly allowedActions?: readonly string[];
}

export async function startTokenServer(workDir: string, users: readonly TokenUser[]): Promise<TokenServer> {
  const keyPath = join(workDir, 'token-key.pem');
  const certPath = join(workDir, 'token-cert.pem');
  // openssl (Debian package openssl) makes the self-signed signing certificate.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', '/CN=wasmesh-test-token-issuer'], { stdio: 'ignore' });
  const privateKey = await importPKCS8(readFileSync(keyPath, 'utf8'), 'RS256');
  const certDer = new X509Certificate(readFileSync(certPath)).raw.toString('base64');
  const service = 'wasmesh-test-registry';
  const issuer = 'wasmesh-test-issuer';
  const requestedScopes: string[] = [];
  const basic = (user: TokenUser): string => `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;

  const server: Server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const user = users.find((candidate) => basic(candidate) === request.headers.authorization);
      if (!user) {
        response.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ details: 'incorrect username or password' }));
        return;
      }
      const scope = url.searchParams.get('scope') ?? '';
      requestedScopes.push(scope);
      const [type, name, actions] = scope.split(':');
      const granted = (actions ?? '').split(',').filter((action) => action !== '' && (user.allowedActions ?? [action]).includes(action));
      const access = type && name ? [{ type, name, actions: granted }] : [];
      const token = await new SignJWT({ access })
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', x5c: [certDer] })
        .setIssuer(issuer)
        .setSubject(user.username)
        .setAudience(url.searchParams.get('service') ?? '')
        .setIssuedAt()
        .setNotBefore(Math.floor(Date.now() / 1000) - 10)
        .setExpirationTime('5m')
        .setJti(randomUUID())
        .sign(privateKey);
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300 }));
    })().catch((error: unknown) => {
      response.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    rootCertBundle: certPath,
    requestedScopes,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
