/**
 * Is there a Docker engine to run the stack on? Compose parses files without one, so finding
 * compose says nothing; the engine has to answer. With the docker CLI: `docker version --format
 * {{.Server.Version}}` exits non-zero when the daemon does not answer. With only compose v1
 * (docker-py, no docker CLI): `docker-compose ps` fails the same way.
 */
import { spawnSync } from 'node:child_process';
import type { ComposeCli } from '../envoy/compose.js';

export interface EngineProbe {
  readonly answers: boolean;
  /** What was asked, for the one-line message. */
  readonly asked: string;
}

export function probeEngine(cli: ComposeCli | undefined, composeFile: string): EngineProbe {
  const docker = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], { stdio: 'ignore', timeout: 15_000 });
  if (docker.error === undefined) return { answers: docker.status === 0, asked: 'docker version' };
  if (cli === undefined) return { answers: false, asked: 'docker (not installed)' };
  const ps = spawnSync(cli.command, [...cli.prefix, '-f', composeFile, 'ps', '-q'], { stdio: 'ignore', timeout: 15_000 });
  return { answers: ps.status === 0, asked: `${cli.label} ps` };
}
