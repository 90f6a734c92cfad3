/**
 * Docker Compose, found and used without an engine: `docker compose` (v2 plugin) or
 * `docker-compose` (v1, Debian's package) — both parse and resolve a file with `config`
 * without talking to a Docker daemon, which is how compose files are checked on machines
 * (and CI) that have no engine.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

export interface ComposeCli {
  /** The executable and the arguments before compose's own (`docker` + `compose`, or `docker-compose`). */
  readonly command: string;
  readonly prefix: readonly string[];
  readonly label: 'docker compose (v2)' | 'docker-compose (v1)';
}

const CANDIDATES: readonly ComposeCli[] = [
  { command: 'docker', prefix: ['compose'], label: 'docker compose (v2)' },
  { command: 'docker-compose', prefix: [], label: 'docker-compose (v1)' },
];

let found: ComposeCli | null | undefined;

/** The first compose implementation that answers `version`; undefined when there is none. */
export function findComposeCli(): ComposeCli | undefined {
  if (found === undefined) {
    found = CANDIDATES.find((cli) => spawnSync(cli.command, [...cli.prefix, 'version'], { stdio: 'ignore', timeout: 20_000 }).status === 0) ?? null;
  }
  return found ?? undefined;
}

export interface ComposeCheck {
  readonly cli?: ComposeCli;
  /** compose's own complaint, when it refused the file. */
  readonly error?: string;
}

/** Runs `<compose> -f <file> config -q` (parse, interpolate, validate against the compose schema). */
export function checkComposeFile(file: string): ComposeCheck {
  const cli = findComposeCli();
  if (cli === undefined) return {};
  const result = spawnSync(cli.command, [...cli.prefix, '-f', path.resolve(file), 'config', '-q'], { encoding: 'utf8', timeout: 60_000, cwd: path.dirname(path.resolve(file)) });
  if (result.status === 0) return { cli };
  const error = (result.stderr || result.stdout || String(result.error ?? `exit ${result.status}`)).trim().split('\n').filter((l) => l.trim() !== '').slice(-3).join(' ');
  return { cli, error };
}
