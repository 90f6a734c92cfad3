import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { completionScript, SHELLS } from '../../deployer/src/cli/completion.js';
import { register as registerCompletion } from '../../deployer/src/cli/commands/completion.js';
import { register as registerPush } from '../../deployer/src/cli/commands/push.js';
import { register as registerRun } from '../../deployer/src/cli/commands/run.js';
import { register as registerTranslate } from '../../deployer/src/cli/commands/translate.js';
import { formatVersion, register as registerVersion, versionInfo } from '../../deployer/src/cli/commands/version.js';
import { builtFiltersDir, findProjectRoot, packageRoot } from '../../deployer/src/cli/project-root.js';
import { repoRoot } from '../setup/paths.js';

function program(): Command {
  const p = new Command('deployer');
  for (const register of [registerPush, registerRun, registerTranslate, registerVersion, registerCompletion]) register(p);
  return p;
}

const hasShell = (shell: string): boolean => spawnSync(shell, ['-c', 'true']).status === 0;

describe('cli: deployer completion', () => {
  it.each(SHELLS)('cli: completion %s names every command and flag', (shell) => {
    const script = completionScript(program(), shell);
    for (const name of ['push', 'run', 'translate', 'version', 'completion']) expect(script).toContain(name);
    for (const flag of ['direction', 'selector', 'namespace', 'workload-labels'].filter((f) => f !== 'workload-labels')) expect(script).toContain(flag);
    // Hidden aliases are not offered.
    expect(script).not.toContain('kube-context');
    // Fixed choices complete as values.
    expect(script).toMatch(/inbound outbound gateway/);
  });

  it('cli: completion bash is valid bash and completes commands and flag values', () => {
    const script = completionScript(program(), 'bash');
    const complete = (line: string) => spawnSync('bash', ['-c', `${script}\nCOMP_WORDS=(${line}); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 )); _deployer_completion; printf '%s\\n' "\${COMPREPLY[@]}"`], { encoding: 'utf8' });
    expect(complete(`deployer tr`).stdout.trim()).toBe('translate');
    expect(complete(`deployer push --direction o`).stdout.trim()).toBe('outbound');
    expect(complete(`deployer run --sel`).stdout.trim()).toBe('--selector');
  });

  it.skipIf(!hasShell('zsh'))('cli: completion zsh parses', () => {
    expect(spawnSync('zsh', ['-n', '-c', completionScript(program(), 'zsh')]).status).toBe(0);
  });

  it.skipIf(!hasShell('fish'))('cli: completion fish parses', () => {
    expect(spawnSync('fish', ['--no-execute', '-c', completionScript(program(), 'fish')]).status).toBe(0);
  });
});

describe('cli: deployer version', () => {
  it("cli: version lists every built filter with its file's sha256 digest", () => {
    const info = versionInfo();
    expect(info.version).toBe((JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version);
    expect(info.filtersDir).toBe(builtFiltersDir());
    expect(info.filters.map((f) => f.name)).toContain('rbac');
    for (const f of info.filters) expect(f.sha256).toBe(`sha256:${createHash('sha256').update(readFileSync(f.file)).digest('hex')}`);
    const text = formatVersion(info);
    expect(text).toMatch(/^deployer \d+\.\d+\.\d+ \(node v\d+/);
    expect(text).toMatch(/^rbac +\d+ +sha256:[0-9a-f]{64}$/m);
  });

  it('cli: the package root is found from the code, not the working directory', () => {
    expect(packageRoot()).toBe(repoRoot);
    const saved = process.cwd();
    process.chdir('/');
    try {
      expect(builtFiltersDir()).toBe(path.join(repoRoot, 'build', 'filters'));
      // `deployer build` from elsewhere still finds the checkout it runs from.
      expect(findProjectRoot()).toBe(repoRoot);
    } finally {
      process.chdir(saved);
    }
  });

  it('cli: top-level --help has examples', () => {
    const result = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'deployer.mjs'), '--help'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Examples:');
    expect(result.stdout).toMatch(/\$ deployer run -c sidecar\.yaml --istio policies\/ -n shop -l app=reviews/);
    expect(result.stdout).toMatch(/completion <shell>/);
  });
});

describe('cli: deployer build progress', () => {
  it('cli: build reports each filter as it starts and when it is built, without colour off a terminal', async () => {
    const { buildProgress } = await import('../../deployer/src/cli/commands/build.js');
    const { palette } = await import('../../deployer/src/cli/output.js');
    const lines: string[] = [];
    const progress = buildProgress('release', (l) => lines.push(l), palette({ isTTY: false }));
    progress.onFilterStart('rbac', 2, 4);
    progress.onFilterBuilt({ name: 'rbac', path: '/x/rbac.wasm', size: 66783, sha256: 'ab', abiVersion: '0_2_1' });
    expect(lines[0]).toBe('[2/4] compiling rbac (release)…');
    expect(lines[1]).toMatch(/^✓ rbac 66783 bytes in \d+\.\d s$/);
  });
});
