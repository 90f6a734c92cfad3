import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleCli } from '../../deployer/src/build/cli-bundle.js';
import { builtFilter, repoRoot } from '../setup/paths.js';
import { echoHandler, request1, startUpstream, type TestUpstream } from '../sidecar/helpers.js';
import { writeSidecarYaml } from './helpers.js';

/** Waits for the "listening on <url> ..., admin <url>" line the command prints on stderr. */
function waitForListening(child: ChildProcess): Promise<{ url: string; adminUrl: string; stderr: () => string }> {
  let stderr = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /listening on (\S+) .*admin (\S+)/.exec(stderr);
      if (match) resolve({ url: match[1]!, adminUrl: match[2]!, stderr: () => stderr });
    });
    child.once('exit', (code) => reject(new Error(`deployer run exited with ${code} before listening:\n${stderr}`)));
  });
}

describe('e2e: bundled CLI `node bin/deployer.mjs run --config`', () => {
  let upstream: TestUpstream;

  beforeAll(async () => {
    // bin/deployer.mjs runs build/deployer.mjs: bundle the current sources, as `npm run build` does.
    await bundleCli(repoRoot);
    upstream = await startUpstream(echoHandler('app'));
  });
  afterAll(async () => {
    await upstream?.close();
  });

  it('example: serves through the filter and stops cleanly on SIGTERM', async () => {
    const config = await writeSidecarYaml({
      listen: '127.0.0.1:0', admin: '127.0.0.1:0',
      filters: [{ name: 'example', root_id: 'example', vm_config: { code: { local: { filename: builtFilter('example') } } } }],
      clusters: { app: upstream.url },
      routes: [{ match: { prefix: '/' }, cluster: 'app' }],
    });
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'deployer.mjs'), 'run', '--config', config], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    try {
      const { url, adminUrl } = await waitForListening(child);
      const res = await request1(`${url}/via-cli`);
      expect(res.status).toBe(200);
      expect(res.headers['x-wasmesh-example']).toBe('hello');
      expect((await fetch(`${adminUrl}/ready`)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 50));
      expect(stdout).toMatch(/"GET \/via-cli HTTP\/1\.1" 200 - /);
    } finally {
      child.kill('SIGTERM');
    }
    const code = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve)));
    expect(code).toBe(0);
  });

  it('refuses a bad config naming the field, exit code 1', async () => {
    const config = await writeSidecarYaml({
      listen: '127.0.0.1:0',
      filters: [{ name: 'x', vm_config: { code: { local: { filename: 'build/filters/x.wasm' } } } }],
      clusters: { app: upstream.url },
      routes: [{ match: { prefix: '/' }, cluster: 'app' }],
    });
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'deployer.mjs'), 'run', '--config', config], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain('filters[0].vm_config.code.local.filename: file build/filters/x.wasm not found');
  });
});
