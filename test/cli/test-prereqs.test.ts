import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../setup/paths.js';

/**
 * scripts/test-prereqs.mjs (npm pretest): silent when docker-registry, openssl and docker-compose are there; when
 * they are missing and it cannot install them (not root), one line says what and how. The
 * apt-get path is not exercised here: it would install packages on the machine running the tests.
 */
const script = path.join(repoRoot, 'scripts', 'test-prereqs.mjs');
const isRoot = process.getuid?.() === 0;
const setpriv = spawnSync('sh', ['-c', 'command -v setpriv'], { encoding: 'utf8' }).stdout.trim();

/**
 * The script, where the unprivileged user can read it: a checkout may sit in a root-only folder
 * (mktemp -d is 0700), and the script needs only node's builtins.
 */
function readableCopy(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'wasmesh-prereqs-'));
  chmodSync(dir, 0o755);
  const copy = path.join(dir, 'test-prereqs.mjs');
  copyFileSync(script, copy);
  chmodSync(copy, 0o644);
  return copy;
}

function runScript(env: NodeJS.ProcessEnv) {
  // As root the script would install; drop to nobody so it takes the "cannot install" branch.
  const [command, args] = isRoot
    ? [setpriv, ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, readableCopy()]]
    : [process.execPath, [script]];
  return spawnSync(command, args, { encoding: 'utf8', env: { PATH: process.env.PATH, ...env }, cwd: '/' });
}

describe('npm pretest: system programs the tests need', () => {
  it('pretest: says nothing when docker-registry and openssl are installed', () => {
    const present = spawnSync(process.execPath, [script], { encoding: 'utf8', env: { ...process.env, WASMESH_REGISTRY_BINARY: process.execPath } });
    expect(present.status).toBe(0);
    expect(present.stdout + present.stderr).toBe('');
  });

  it.skipIf(isRoot && setpriv === '')('pretest: a missing program it cannot install is named in one line, with the command to get it', () => {
    const result = runScript({ WASMESH_REGISTRY_BINARY: '/nonexistent/docker-registry', PATH: path.dirname(process.execPath) === '/usr/bin' ? '/nonexistent' : path.dirname(process.execPath) });
    expect(result.status).toBe(0);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe('pretest: docker-registry openssl docker-compose not found and not installable here (not root): install the Debian package(s) docker-registry openssl docker-compose (sudo apt-get install docker-registry openssl docker-compose); the tests that need them fail naming them');
  });
});
