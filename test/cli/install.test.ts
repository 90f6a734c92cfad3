import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { bundleCli } from '../../deployer/src/build/cli-bundle.js';
import { repoRoot } from '../setup/paths.js';

/**
 * The real install path: `npm pack` → `npm i -g --prefix <tmp> <tgz>` → `<tmp>/bin/deployer` from
 * an unrelated working directory, with no checkout, no ../shared and no DEPLOYER_* settings.
 *
 * The package is packed from a staging copy of what package.json "files" ships (filters built by
 * the test setup, the CLI bundled here) with --ignore-scripts: `prepack` would rebuild every
 * filter (a minute), and a bundle written into the checkout would race other test files that
 * bundle it. Dependencies come from npm's cache when `npm ci` filled it (--prefer-offline).
 */
const run = promisify(execFile);
const work = mkdtempSync(path.join(tmpdir(), 'wasmesh-install-'));
const staging = path.join(work, 'staging');
const prefix = path.join(work, 'prefix');
const elsewhere = path.join(work, 'elsewhere');

/** The environment of a user's shell: none of npm's or the deployer's settings from this run. */
const userEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|DEPLOYER_|VITEST|KUBECONFIG$)/i.test(k)));

let tarball = '';
let packed: string[] = [];

describe('cli: npm pack → npm i -g → deployer from any directory', () => {
  beforeAll(async () => {
    for (const dir of ['bin', 'scripts', 'build/filters']) mkdirSync(path.join(staging, dir), { recursive: true });
    for (const file of ['package.json', 'README.md', 'CHANGELOG.md', 'bin/deployer.mjs', 'scripts/postinstall.mjs']) {
      if (existsSync(path.join(repoRoot, file))) copyFileSync(path.join(repoRoot, file), path.join(staging, file));
    }
    for (const wasm of readdirSync(path.join(repoRoot, 'build', 'filters')).filter((f) => f.endsWith('.wasm'))) {
      copyFileSync(path.join(repoRoot, 'build', 'filters', wasm), path.join(staging, 'build', 'filters', wasm));
    }
    // Sources a stray bundle must not see: the test filters and build leftovers stay out (package.json "files").
    mkdirSync(path.join(staging, 'build', 'test-filters'));
    copyFileSync(path.join(repoRoot, 'package.json'), path.join(staging, 'build', 'test-filters', 'leftover.json'));
    await bundleCli(repoRoot, path.join(staging, 'build', 'deployer.mjs'));
    mkdirSync(elsewhere);
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: staging, env: userEnv });
    const [info] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    tarball = path.join(work, info!.filename);
    packed = info!.files.map((f) => f.path);
    await run('npm', ['install', '--global', '--prefix', prefix, tarball, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: elsewhere, env: userEnv, timeout: 240_000 });
  }, 300_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const deployer = (...args: string[]) => run(path.join(prefix, 'bin', 'deployer'), args, { cwd: elsewhere, env: userEnv, timeout: 60_000 });
  const installed = () => path.join(prefix, 'lib', 'node_modules', 'wasmesh');

  it('cli: the package ships the CLI bundle and the built filters, no sources', () => {
    expect(packed).toEqual(expect.arrayContaining(['bin/deployer.mjs', 'build/deployer.mjs', 'build/filters/rbac.wasm', 'build/filters/jwt-auth.wasm', 'package.json', 'README.md']));
    expect(packed.some((f) => f.startsWith('build/deployer-chunks/'))).toBe(true);
    expect(packed.filter((f) => /^(deployer|filters|test|patches)\/|test-filters|\.ts$/.test(f))).toEqual([]);
  });

  it('cli: installed `deployer version` lists the shipped filters and the packaged Istio schemas', async () => {
    const { stdout } = await deployer('version', '-o', 'json');
    const info = JSON.parse(stdout) as { filtersDir: string; istioSchemas: string; filters: { name: string; sha256: string }[] };
    expect(info.filtersDir).toBe(path.join(installed(), 'build', 'filters'));
    expect(info.istioSchemas).toMatch(/^package:@kubernetes-models\/istio@\d/);
    expect(info.filters.map((f) => f.name)).toEqual(expect.arrayContaining(['jwt-auth', 'rbac']));
  });

  it('cli: installed `deployer inspect` and `render` work outside any checkout', async () => {
    const rbac = path.join(installed(), 'build', 'filters', 'rbac.wasm');
    expect((await deployer('inspect', rbac)).stdout).toContain('Envoy would load this module');
    const { stdout } = await deployer('render', rbac, '--image', 'oci://registry.local:5000/wasmesh/rbac:v1', '--via', 'wasmplugin', '-n', 'shop', '-l', 'app=reviews', '--direction', 'inbound',
      // The config is proven against the module (issue #10): rbac refuses the empty one a WasmPlugin without pluginConfig ships.
      '--config', '{"policies":[]}');
    const [plugin] = parseAllDocuments(stdout).map((d) => d.toJS() as { kind: string; metadata: { namespace: string }; spec: { url: string } });
    expect(plugin).toMatchObject({ kind: 'WasmPlugin', metadata: { namespace: 'shop' } });
    expect(plugin!.spec.url).toMatch(/^oci:\/\/registry\.local:5000\/wasmesh\/rbac@sha256:[0-9a-f]{64}$/);
  });

  it('cli: installed `deployer build` explains that it needs a checkout', async () => {
    const error = await deployer('build').catch((e: { stderr: string }) => e);
    expect((error as { stderr: string }).stderr).toContain('no wasmesh checkout found');
    expect((error as { stderr: string }).stderr).toContain(path.join(installed(), 'build', 'filters'));
  });
});
