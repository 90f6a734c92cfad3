import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { startControlPlane, type ControlPlaneOptions, type RunningControlPlane } from '../../deployer/src/control-plane/control-plane.js';

export const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/control-plane');
export const TOKEN = 'test-token-0123456789';

/** A copy of a fixture config dir in a temp folder (tests edit it). */
export function tempConfigDir(fixture = 'mesh'): { dir: string; cleanup(): void } {
  const root = mkdtempSync(path.join(tmpdir(), 'wasmesh-cp-'));
  const dir = path.join(root, 'config');
  cpSync(path.join(FIXTURES, fixture), dir, { recursive: true });
  return { dir, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export function tempDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'wasmesh-cp-state-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function startTestControlPlane(options: Partial<ControlPlaneOptions> = {}): Promise<{ cp: RunningControlPlane; logs: string[] }> {
  const logs: string[] = [];
  const cp = await startControlPlane({ xdsAddress: '127.0.0.1:0', httpAddress: '127.0.0.1:0', token: TOKEN, debounceAfterMs: 10, log: (l) => logs.push(l), ...options });
  return { cp, logs };
}

export function writeFile(dir: string, name: string, text: string): void {
  writeFileSync(path.join(dir, name), text);
}

/** A unary gRPC "echo" service with JSON payloads that says which server answered. */
export const ECHO_SERVICE: grpc.ServiceDefinition = {
  Say: {
    path: '/wasmesh.test.Echo/Say', requestStream: false, responseStream: false,
    requestSerialize: (v: unknown) => Buffer.from(JSON.stringify(v)), requestDeserialize: (b: Buffer) => JSON.parse(b.toString()) as unknown,
    responseSerialize: (v: unknown) => Buffer.from(JSON.stringify(v)), responseDeserialize: (b: Buffer) => JSON.parse(b.toString()) as unknown,
  },
} as unknown as grpc.ServiceDefinition;

export async function startEchoServer(name: string): Promise<{ port: number; close(): Promise<void> }> {
  const server = new grpc.Server();
  server.addService(ECHO_SERVICE, {
    Say: (call: grpc.ServerUnaryCall<{ text: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => callback(null, { server: name, text: call.request.text }),
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return { port, close: () => new Promise((resolve) => server.tryShutdown(() => resolve())) };
}

export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${lastError instanceof Error ? lastError.message : String(lastError)}` : ''}`);
}
