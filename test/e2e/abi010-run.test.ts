/**
 * ABI 0.1.0 through `deployer run`: the built abi010 test filter (two-argument header callbacks,
 * proxy_get_configuration, proxy_continue_request / _response from a tick,
 * proxy_clear_route_cache) in a real sidecar with real loopback upstreams.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSidecarCommand } from '../../deployer/src/cli/commands/run.js';
import type { RunningSidecar } from '../../deployer/src/sidecar/sidecar.js';
import { builtTestFilter } from '../setup/paths.js';
import { echoHandler, request1, startUpstream, type TestUpstream } from '../sidecar/helpers.js';
import { writeSidecarYaml } from './helpers.js';

interface Echo { readonly upstream: string; readonly url: string; readonly headers: Record<string, string> }

describe('e2e: deployer run with an ABI 0.1.0 filter', () => {
  let app: TestUpstream;
  let rerouted: TestUpstream;
  let sidecar: RunningSidecar;

  beforeAll(async () => {
    app = await startUpstream(echoHandler('app'));
    rerouted = await startUpstream(echoHandler('rerouted'));
    const configFile = await writeSidecarYaml({
      listen: '127.0.0.1:0',
      admin: '127.0.0.1:0',
      filters: [{ name: 'abi010', root_id: '', vm_config: { configuration: 'vm-config', code: { local: { filename: builtTestFilter('abi010') } } }, configuration: 'tick' }],
      clusters: { app: app.url, rerouted: rerouted.url },
      routes: [
        { name: 'rerouted', match: { prefix: '/rerouted' }, cluster: 'rerouted' },
        { name: 'all', match: { prefix: '/' }, cluster: 'app' },
      ],
    });
    sidecar = await runSidecarCommand({ config: configFile, accessLog: '/dev/null', logLevel: 'warn', namespace: 'default' });
  });
  afterAll(async () => {
    await sidecar?.close();
    await app?.close();
    await rerouted?.close();
  });

  const get = async (action: string) => {
    const res = await request1(`${sidecar.url}/items`, { headers: { 'x-action': action } });
    return { res, echo: JSON.parse(res.body) as Echo };
  };

  it('abi010: on_request_headers(context, headers) and proxy_get_configuration reach the upstream request', async () => {
    const { res, echo } = await get('none');
    expect(res.status).toBe(200);
    expect(echo.upstream).toBe('app');
    expect(echo.headers).toMatchObject({ 'x-abi': '0.1.0', 'x-absent': '[]', 'x-configuration': 'tick', 'x-vm-configuration': 'vm-config', 'x-stream-configuration': 'vm-config' });
    expect(Number(echo.headers['x-headers-arg'])).toBeGreaterThan(3);
    expect(res.headers['x-abi']).toBe('0.1.0');
  });

  it('abi010: proxy_clear_route_cache after rewriting :path routes the request again', async () => {
    const { echo } = await get('clear-route-cache');
    expect(echo).toMatchObject({ upstream: 'rerouted', url: '/rerouted' });
  });

  it('abi010: proxy_continue_request from a tick resumes a request paused in on_request_headers', async () => {
    const { res, echo } = await get('pause-request');
    expect(res.status).toBe(200);
    expect(echo.upstream).toBe('app');
  });

  it('abi010: proxy_continue_response from a tick resumes a response paused in on_response_headers', async () => {
    const { res } = await get('pause-response');
    expect(res.status).toBe(200);
    expect(res.headers['x-abi']).toBe('0.1.0');
  });
});
