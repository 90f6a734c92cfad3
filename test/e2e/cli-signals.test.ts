/**
 * Issue #16 finding 7, on the real CLI process: SIGHUP does nothing (Envoy ignores it), SIGUSR1
 * reopens the access log (Envoy's logrotate hook), SIGTERM
 * drains (the listener stops accepting, the in-flight request finishes) and exits 0, and an
 * edit of the config file is applied while it runs.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtFilter } from '../setup/paths.js';
import { request1, startUpstream, type TestUpstream } from '../sidecar/helpers.js';
import { runCli, writeSidecarYaml } from './helpers.js';

async function eventually(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('condition not met in time');
}

describe('e2e: deployer run signals and live reload', () => {
  let upstream: TestUpstream;
  let releaseSlow: () => void = () => undefined;
  let slowArrived: () => void = () => undefined;
  beforeAll(async () => {
    upstream = await startUpstream((req, res) => {
      const answer = () => res.writeHead(200, { 'content-type': 'text/plain' }).end(`ok ${req.url}\n`);
      if (req.url === '/slow') {
        releaseSlow = answer;
        slowArrived();
      } else {
        answer();
      }
    });
  });
  afterAll(async () => { await upstream?.close(); });

  const sidecarYaml = (generation: string) => ({
    listen: '127.0.0.1:0', admin: '127.0.0.1:0',
    filters: [{ name: 'example', root_id: 'example', vm_config: { code: { local: { filename: builtFilter('example') } } }, configuration: { response_headers: { 'x-generation': generation } } }],
    clusters: { app: upstream.url },
    routes: [{ match: { prefix: '/' }, cluster: 'app' }],
  });

  it('survives SIGHUP, reopens the access log on SIGUSR1, reloads an edited config, and on SIGTERM drains the in-flight request then exits 0', async () => {
    const config = await writeSidecarYaml(sidecarYaml('1'));
    const accessLog = path.join(path.dirname(config), 'access.log');
    const cli = await runCli(['--config', config, '--drain-time-s', '10', '--access-log', accessLog]);
    try {
      cli.child.kill('SIGHUP');
      await cli.waitForStderr(/caught SIGHUP and ignored it/);
      const first = await request1(`${cli.url}/a`);
      expect([first.status, first.headers['x-generation']]).toEqual([200, '1']);

      // logrotate: the file is moved away, SIGUSR1 makes the next line go to a new one.
      await rename(accessLog, `${accessLog}.1`);
      cli.child.kill('SIGUSR1');
      await cli.waitForStderr(/caught SIGUSR1: access log reopened/);
      await request1(`${cli.url}/after-rotate`);
      await eventually(async () => (await readFile(accessLog, 'utf8').catch(() => '')).includes('/after-rotate'));
      expect(await readFile(`${accessLog}.1`, 'utf8')).toMatch(/"GET \/a HTTP\/1\.1" 200/);

      await writeFile(config, stringify(sidecarYaml('2')));
      await cli.waitForStderr(/reloaded after a change to .*sidecar\.yaml: version 2/);
      expect((await request1(`${cli.url}/b`)).headers['x-generation']).toBe('2');

      const arrived = new Promise<void>((resolve) => { slowArrived = resolve; });
      const slow = request1(`${cli.url}/slow`);
      await arrived;
      cli.child.kill('SIGTERM');
      await cli.waitForStderr(/SIGTERM: draining for up to 10s/);
      expect((await fetch(`${cli.adminUrl}/ready`)).status).toBe(503);
      // No new connections while draining.
      const port = Number(new URL(cli.url).port);
      const refused = await new Promise<boolean>((resolve) => {
        const socket = net.connect(port, '127.0.0.1');
        socket.once('connect', () => { socket.destroy(); resolve(false); });
        socket.once('error', () => resolve(true));
      });
      expect(refused).toBe(true);
      releaseSlow();
      const res = await slow;
      expect([res.status, res.body]).toEqual([200, 'ok /slow\n']);
      expect(await cli.exited()).toEqual({ code: 0, signal: null });
      expect(cli.stderr()).toMatch(/deployer run: drained/);
    } finally {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    }
  // A real process started through tsx: seconds on a quiet machine, far more under a full suite.
  }, 120_000);
});
