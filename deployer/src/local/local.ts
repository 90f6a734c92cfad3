/**
 * `deployer local up|test|down|logs`: the suite inside a real Envoy with docker compose
 * (envoy-configs/docker-compose.yml), or — where no Docker engine answers — one line saying so,
 * exit code NO_ENGINE_EXIT, and the equivalent `deployer run`; `--fallback` runs that on our host.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { buildFilters, discoverFilters } from '../build/filters.js';
import { findComposeCli, type ComposeCli } from '../envoy/compose.js';
import { composeInvocation, type ComposeTarget, type Invocation, type LocalAction } from './compose-command.js';
import { probeEngine } from './engine.js';
import { FALLBACK_RUN_COMMAND } from './fallback.js';

/** Distinct from 1 (a failure of the stack or of a test): there is nothing to run it on here. */
export const NO_ENGINE_EXIT = 3;

export interface LocalOptions {
  readonly root: string;
  readonly projectName: string;
  readonly xds: boolean;
  readonly out: (text: string) => void;
}

export class NoEngineError extends Error {
  readonly exitCode = NO_ENGINE_EXIT;
  constructor(asked: string) {
    super(`deployer local: no Docker engine answers (${asked} failed); run the suite on wasmesh's own host instead: ${FALLBACK_RUN_COMMAND}, or: deployer local up --fallback`);
    this.name = 'NoEngineError';
  }
}

export function composeFile(root: string): string {
  return path.join(root, 'envoy-configs', 'docker-compose.yml');
}

/** The compose CLI and target, once an engine is known to answer; NoEngineError otherwise. */
export function composeContext(options: LocalOptions): { cli: ComposeCli; target: ComposeTarget } {
  const file = composeFile(options.root);
  const cli = findComposeCli();
  const probe = probeEngine(cli, file);
  if (!probe.answers || cli === undefined) throw new NoEngineError(cli === undefined ? 'neither `docker compose` nor `docker-compose` is installed; ' + probe.asked : probe.asked);
  return { cli, target: { file, projectName: options.projectName, xds: options.xds } };
}

function run(invocation: Invocation, root: string, capture = false): { status: number; stdout: string } {
  const result = spawnSync(invocation.command, invocation.args, {
    cwd: path.join(root, 'envoy-configs'),
    env: { ...process.env, ...invocation.env },
    stdio: capture ? ['ignore', 'pipe', 'inherit'] : 'inherit',
    encoding: 'utf8',
  });
  if (result.error) throw new Error(`could not run ${invocation.command} ${invocation.args.join(' ')}: ${result.error.message}`);
  return { status: result.status ?? 1, stdout: result.stdout ?? '' };
}

/** Filters whose module is missing or older than a source of theirs (their folder, or filters/lib they share). */
export function staleFilters(root: string): string[] {
  const shared = path.join(root, 'filters', 'lib');
  const sharedNewest = existsSync(shared) ? newestMtime(shared) : 0;
  return discoverFilters(root).filter((name) => {
    const wasm = path.join(root, 'build', 'filters', `${name}.wasm`);
    if (!existsSync(wasm)) return true;
    const built = statSync(wasm).mtimeMs;
    return Math.max(sharedNewest, newestMtime(path.join(root, 'filters', name, 'assembly'))) > built;
  });
}

function newestMtime(dir: string): number {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const entry = path.join(dir, name);
    const stat = statSync(entry);
    newest = Math.max(newest, stat.isDirectory() ? newestMtime(entry) : stat.mtimeMs);
  }
  return newest;
}

export async function localUp(options: LocalOptions): Promise<void> {
  const { cli, target } = composeContext(options);
  const stale = staleFilters(options.root);
  if (stale.length) {
    options.out(`building ${stale.join(', ')} (stale or missing)...\n`);
    await buildFilters({ root: options.root, filters: stale });
  }
  const up = run(composeInvocation(cli, 'up', target), options.root);
  if (up.status !== 0) throw new Error(`${cli.label} up exited ${up.status}`);
  await waitForReady(() => run(composeInvocation(cli, 'ready', target), options.root, true), options.out);
  options.out(`deployer local: Envoy ${target.xds ? '(xDS from the control plane)' : '(static envoy.yaml)'} is ready on http://127.0.0.1:15006; next: deployer local test\n`);
}

/** Envoy's admin is only on its loopback: polls /ready from inside Envoy's namespace until it says LIVE (curl -f: 200). */
async function waitForReady(probe: () => { status: number }, out: (text: string) => void, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (probe().status === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  out('deployer local: Envoy did not become ready within 60s; see deployer local logs\n');
  throw new Error('Envoy did not become ready');
}

export function localMetricsFromCompose(options: LocalOptions): Promise<string> {
  const { cli, target } = composeContext(options);
  const result = run(composeInvocation(cli, 'metrics', target), options.root, true);
  if (result.status !== 0) return Promise.reject(new Error(`${cli.label} exec envoy curl exited ${result.status}`));
  return Promise.resolve(result.stdout);
}

export function localDown(options: LocalOptions): void {
  const { cli, target } = composeContext(options);
  const result = run(composeInvocation(cli, 'down', target), options.root);
  if (result.status !== 0) throw new Error(`${cli.label} down exited ${result.status}`);
}

export function localLogs(options: LocalOptions): Promise<number> {
  const { cli, target } = composeContext(options);
  const invocation = composeInvocation(cli, 'logs', target);
  const child = spawn(invocation.command, invocation.args, { cwd: path.join(options.root, 'envoy-configs'), env: { ...process.env, ...invocation.env }, stdio: 'inherit' });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 0)));
}

export type { LocalAction };
