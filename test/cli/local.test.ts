/**
 * `deployer local`: the compose invocations for v1 and v2 (a table, fixtures/local/), the
 * no-engine path (its one line and exit code 3, on machines where no Docker engine answers —
 * like ours), and `--fallback` serving the suite on our host with `local test` passing against it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { register } from '../../deployer/src/cli/commands/local.js';
import { findComposeCli, type ComposeCli } from '../../deployer/src/envoy/compose.js';
import { composeInvocation, type LocalAction } from '../../deployer/src/local/compose-command.js';
import { probeEngine } from '../../deployer/src/local/engine.js';
import { startLocalFallback, type RunningFallback } from '../../deployer/src/local/fallback.js';
import { composeFile, NO_ENGINE_EXIT } from '../../deployer/src/local/local.js';
import { repoRoot } from '../setup/paths.js';
import { runCommand } from '../support/cli.js';

interface InvocationCase { readonly cli: 'v1' | 'v2'; readonly action: LocalAction; readonly xds: boolean; readonly args: string[]; readonly config: string }
const cases = JSON.parse(readFileSync(path.join(repoRoot, 'test', 'fixtures', 'local', 'compose-invocations.json'), 'utf8')) as InvocationCase[];
const CLIS: Readonly<Record<'v1' | 'v2', ComposeCli>> = {
  v2: { command: 'docker', prefix: ['compose'], label: 'docker compose (v2)' },
  v1: { command: 'docker-compose', prefix: [], label: 'docker-compose (v1)' },
};

const deployer = (args: readonly string[]) => runCommand(register, args);

describe('local: compose invocations', () => {
  it.each(cases)('local: $cli $action (xds: $xds)', ({ cli, action, xds, args, config }) => {
    const invocation = composeInvocation(CLIS[cli], action, { file: 'F', projectName: 'wasmesh', xds });
    expect(invocation.command).toBe(CLIS[cli].command);
    expect(invocation.args).toEqual(args);
    expect(invocation.env).toEqual({ WASMESH_ENVOY_CONFIG: config });
  });

  it('local: --project-name and DEPLOYER_LOCAL_PROJECT name the compose project', async () => {
    const invocation = composeInvocation(CLIS.v2, 'up', { file: 'F', projectName: 'mine', xds: false });
    expect(invocation.args.slice(3, 5)).toEqual(['--project-name', 'mine']);
    const program = new Command('deployer');
    vi.stubEnv('DEPLOYER_LOCAL_PROJECT', 'from-env');
    try {
      register(program);
    } finally {
      vi.unstubAllEnvs();
    }
    const up = program.commands.find((c) => c.name() === 'local')!.commands.find((c) => c.name() === 'up')!;
    expect(up.opts<{ projectName: string }>().projectName).toBe('from-env');
  });
});

const engine = probeEngine(findComposeCli(), composeFile(repoRoot));

describe.skipIf(engine.answers)('local: no Docker engine answers', () => {
  it.each([['up'], ['test'], ['down'], ['logs']])('local: %s prints one line and exits with the documented code', async (action) => {
    const { code, stdout, stderr } = await deployer(['local', action]);
    expect(code).toBe(NO_ENGINE_EXIT);
    expect(stdout).toBe('');
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^deployer local: no Docker engine answers \(.+\); run the suite on wasmesh's own host instead: deployer run --config envoy-configs\/sidecar\.yaml .*deployer local up --fallback$/);
  });

  it('local: --help documents the exit code', () => {
    const program = new Command('deployer');
    register(program);
    const local = program.commands.find((c) => c.name() === 'local')!;
    expect(local.commands.find((c) => c.name() === 'up')!.helpInformation()).toContain('--fallback');
    let text = '';
    local.configureOutput({ writeOut: (s) => { text += s; } });
    local.outputHelp();
    expect(text).toContain(`${NO_ENGINE_EXIT}  no Docker engine answers here`);
  });
});

describe('local: --fallback on our host', () => {
  let fallback: RunningFallback;
  beforeAll(async () => {
    fallback = await startLocalFallback({ root: repoRoot, listen: '127.0.0.1:0', admin: '127.0.0.1:0', onLog: () => undefined });
  }, 60_000);
  afterAll(async () => fallback?.close());

  it('local: test against the fallback passes and prints the table and the suite\'s metrics', async () => {
    const { code, stdout } = await deployer(['local', 'test', '--target', fallback.url, '--admin-url', fallback.adminUrl]);
    expect(stdout, stdout).toContain('local test: all 7 requests behaved as expected');
    expect(code).toBe(0);
    expect(stdout).toMatch(/FILTER\s+REQUEST\s+STATUS\s+EXPECTED\s+WHAT THE CHAIN DID/);
    expect(stdout).toContain('request +x-jwt-sub: alice');
    expect(stdout).toContain('RBAC: access denied');
    expect(stdout).toContain('x-wasmesh-route: inbound|8080|v2|app.demo.svc.cluster.local');
    expect(stdout).toMatch(/istio_requests_total\{reporter="destination"/);
  }, 60_000);

  it('local: test fails (exit 1) when the proxy does not behave', async () => {
    // The app itself, without the chain: nothing is denied.
    const { code, stdout } = await deployer(['local', 'test', '--target', fallback.upstream.url, '--admin-url', fallback.adminUrl]);
    expect(stdout).toContain('MISMATCH');
    expect(code).toBe(1);
  }, 60_000);
});
