// Starts a real CNCF distribution registry (Debian package `docker-registry`, /usr/bin/docker-registry)
// on a free loopback port with throw-away storage, optionally behind htpasswd (bcrypt) or token auth.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { stringify } from 'yaml';

const INSTANCE_HEADER = 'X-Wasmesh-Registry-Instance';

export const REGISTRY_BINARY = process.env.WASMESH_REGISTRY_BINARY ?? '/usr/bin/docker-registry';

export interface HtpasswdUser {
  readonly username: string;
  readonly password: string;
}

export interface TokenAuthSettings {
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  /** PEM file with the certificate(s) whose keys sign the tokens. */
  readonly rootCertBundle: string;
}

export interface RegistryOptions {
  readonly htpasswd?: readonly HtpasswdUser[];
  readonly token?: TokenAuthSettings;
}

export interface RunningRegistry {
  /** `127.0.0.1:<port>` — use as the registry part of an image reference. */
  readonly host: string;
  readonly url: string;
  readonly port: number;
  readonly storageDir: string;
  stop(): Promise<void>;
}

export async function startRegistry(options: RegistryOptions = {}): Promise<RunningRegistry> {
  const workDir = await mkdtemp(join(tmpdir(), 'wasmesh-registry-'));
  const storageDir = join(workDir, 'storage');
  const auth = await authSection(workDir, options);
  // freePort() can race with other test processes: another registry may grab the port between our
  // probe and bind. Each instance stamps its responses with its own id, so readiness only counts
  // when *our* process answers; if it lost the port it exits and we try another.
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const port = await freePort();
    const instanceId = randomUUID();
    const config = {
      version: 0.1,
      log: { level: 'error', accesslog: { disabled: true } },
      storage: { filesystem: { rootdirectory: storageDir }, delete: { enabled: true }, maintenance: { uploadpurging: { enabled: false } } },
      http: { addr: `127.0.0.1:${port}`, secret: 'wasmesh-test-only-secret', headers: { [INSTANCE_HEADER]: [instanceId] } },
      ...(auth ? { auth } : {}),
    };
    const configPath = join(workDir, 'config.yml');
    await writeFile(configPath, stringify(config));

    const child = spawn(REGISTRY_BINARY, ['serve', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4000);
    });
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitUntilReady(url, instanceId, child, () => stderr);
    } catch (error) {
      lastError = error;
      await stopProcess(child);
      continue;
    }
    return {
      host: `127.0.0.1:${port}`,
      url,
      port,
      storageDir,
      async stop() {
        await stopProcess(child);
        await rm(workDir, { recursive: true, force: true });
      },
    };
  }
  await rm(workDir, { recursive: true, force: true });
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

async function authSection(workDir: string, options: RegistryOptions): Promise<object | undefined> {
  if (options.htpasswd && options.token) throw new Error('startRegistry: choose htpasswd or token auth, not both');
  if (options.htpasswd) {
    const path = join(workDir, 'htpasswd');
    // distribution only accepts bcrypt entries (registry/auth/htpasswd); cost 5 keeps tests fast.
    const lines = options.htpasswd.map((user) => `${user.username}:${bcrypt.hashSync(user.password, 5)}`);
    await writeFile(path, `${lines.join('\n')}\n`);
    return { htpasswd: { realm: 'wasmesh-test', path } };
  }
  if (options.token) {
    const { realm, service, issuer, rootCertBundle } = options.token;
    return { token: { realm, service, issuer, rootcertbundle: rootCertBundle } };
  }
  return undefined;
}

async function waitUntilReady(url: string, instanceId: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}: ${stderr()}`);
    try {
      const response = await fetch(`${url}/v2/`);
      await response.body?.cancel();
      const ours = response.headers.get(INSTANCE_HEADER) === instanceId;
      if (ours && (response.status === 200 || response.status === 401)) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`docker-registry did not answer on ${url}/v2/ within 15s: ${stderr()}`);
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
