/**
 * envoy-configs/docker-compose.yml is checked by a real Compose implementation: `docker compose`
 * (v2) or Debian's `docker-compose` (v1) parse and resolve it with `config`, no engine needed.
 * CI must install one (.ci/run: apt package docker-compose); without it the test is skipped and
 * says why.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkComposeFile, findComposeCli } from '../../deployer/src/envoy/compose.js';
import { repoRoot } from '../setup/paths.js';

const composeFile = path.join(repoRoot, 'envoy-configs', 'docker-compose.yml');
const cli = findComposeCli();
if (cli === undefined) {
  process.stderr.write('[compose.test] SKIPPED: neither `docker compose` nor `docker-compose` is installed; add the Debian package docker-compose to .ci/run\n');
}

describe.skipIf(cli === undefined)(`compose: envoy-configs/docker-compose.yml through ${cli?.label ?? 'docker compose'}`, () => {
  it('compose: `config` parses and resolves the file (no engine needed)', () => {
    expect(checkComposeFile(composeFile)).toEqual({ cli });
  });

  it('compose: the xds profile parses and adds the control plane', () => {
    const services = execFileSync(cli!.command, [...cli!.prefix, '-f', composeFile, '--profile', 'xds', 'config', '--services'], { encoding: 'utf8', cwd: path.dirname(composeFile) });
    expect(services.trim().split('\n').sort()).toEqual(['app', 'control-plane', 'envoy', 'jwks']);
  });

  it.each([[[]], [['--profile', 'xds']]])('compose: every bind-mounted host path exists after the build (%j)', (profile: string[]) => {
    const resolved = parse(execFileSync(cli!.command, [...cli!.prefix, '-f', composeFile, ...profile, 'config'], { encoding: 'utf8', cwd: path.dirname(composeFile) })) as {
      services: Record<string, { volumes?: (string | { type?: string; source?: string })[] }>;
    };
    const sources = Object.values(resolved.services).flatMap((s) => s.volumes ?? [])
      .map((v) => (typeof v === 'string' ? v.split(':')[0]! : v.type === 'bind' || v.type === undefined ? v.source ?? '' : ''))
      .filter((source) => source.startsWith('/') || source.startsWith('.'));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect(existsSync(path.resolve(path.dirname(composeFile), source)), source).toBe(true);
  });

  it('compose: a broken compose file is refused with compose\'s own reason', () => {
    const result = checkComposeFile(path.join(repoRoot, 'test', 'fixtures', 'envoy', 'compose-broken.yml'));
    expect(result.error).toMatch(/servce|Unsupported config option|additional property|invalid/i);
  });
});
