import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { repoRoot } from '../setup/paths.js';

/** Writes a sidecar.yaml into a fresh temp folder; returns its path. */
export async function writeSidecarYaml(config: Record<string, unknown>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'wasmesh-sidecar-'));
  const file = path.join(dir, 'sidecar.yaml');
  await writeFile(file, stringify(config));
  return file;
}

export interface RunningCli {
  readonly child: ChildProcess;
  readonly url: string;
  readonly adminUrl: string;
  stderr(): string;
  stdout(): string;
  waitForStderr(pattern: RegExp): Promise<void>;
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `deployer run <args>` as a real process (bin/deployer.mjs), once it says where it listens. */
export async function runCli(args: readonly string[], env?: Readonly<Record<string, string>>): Promise<RunningCli> {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'deployer.mjs'), 'run', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], ...(env ? { env: { ...process.env, ...env } } : {}) });
  let stderr = '';
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
  const listeners = new Set<() => void>();
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const check of listeners) check();
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const waitForStderr = (pattern: RegExp) => new Promise<void>((resolve, reject) => {
    const check = () => {
      if (pattern.test(stderr)) {
        listeners.delete(check);
        resolve();
      }
    };
    listeners.add(check);
    void exit.then(() => { if (listeners.has(check)) reject(new Error(`exited before ${pattern}:\n${stderr}`)); });
    check();
  });
  await waitForStderr(/listening on \S+ .*admin \S+/);
  const match = /listening on (\S+) .*admin (\S+)/.exec(stderr)!;
  return { child, url: match[1]!, adminUrl: match[2]!, stderr: () => stderr, stdout: () => stdout, waitForStderr, exited: () => exit };
}
