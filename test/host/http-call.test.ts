import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HeadersOutcome, LocalReply } from '../../deployer/src/host/api.js';
import { createProxyWasmHost, HttpClusterDispatcher, type WasmProxyHost } from '../../deployer/src/host/host.js';
import { COMPLETION, STREAM_INFO, conformance, header, testFilter, withAction } from './helpers.js';

let server: http.Server;
let host: WasmProxyHost;
const seen: { path?: string; fromFilter?: string; host?: string }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push({ path: req.url, fromFilter: req.headers['x-from-filter'] as string, host: req.headers.host });
    if (req.url === '/slow') {
      setTimeout(() => res.end('late'), 400);
      return;
    }
    res.setHeader('x-upstream', 'yes');
    res.end(`body for ${req.url}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  host = createProxyWasmHost({ clusters: new HttpClusterDispatcher({ clusters: { backend: `http://127.0.0.1:${port}` } }), onLog: () => undefined });
});
afterAll(async () => {
  await host.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function run(extra: [string, string][]): Promise<HeadersOutcome> {
  const plugin = await host.loadPlugin({ name: `c${Math.random()}`, rootId: 'conformance', wasm: testFilter('conformance'), configuration: '', failOpen: false });
  const stream = host.newFilterChain([plugin]).newStream(STREAM_INFO);
  const outcome = await stream.requestHeaders(withAction('http-call', extra), true);
  stream.complete(COMPLETION);
  return outcome;
}

const headersOf = (o: HeadersOutcome) => (o.action === 'continue' ? o.headers : []);

describe('host: proxy_http_call to a real loopback cluster', () => {
  it('host: proxy_http_call delivers proxy_on_http_call_response with headers and body', async () => {
    const outcome = await run([['x-cluster', 'backend'], ['x-call-path', '/jwks']]);
    expect(header(headersOf(outcome), 'x-call-result')).toBe('0');
    expect(header(headersOf(outcome), 'x-call-status')).toBe('200');
    expect(header(headersOf(outcome), 'x-call-body')).toBe('body for /jwks');
    expect(Number(header(headersOf(outcome), 'x-call-header-count'))).toBeGreaterThan(2);
    expect(seen.at(-1)).toMatchObject({ path: '/jwks', fromFilter: 'yes', host: 'conformance' });
  });

  it('host: proxy_http_call timeout delivers a failed response (0 headers, BrokenConnection "reset")', async () => {
    const outcome = await run([['x-cluster', 'backend'], ['x-call-path', '/slow'], ['x-call-timeout', '50']]);
    expect(header(headersOf(outcome), 'x-call-status')).toBe('failed:11:reset');
  });

  it('host: proxy_http_call to an unknown cluster answers BadArgument', async () => {
    const outcome = await run([['x-cluster', 'nowhere'], ['x-call-path', '/']]);
    expect(outcome.action).toBe('continue');
    expect(header(headersOf(outcome), 'x-call-result')).toBe('2');
  });

  it.each([':path', ':method', ':authority'])('host: proxy_http_call without %s answers BadArgument', async (omit) => {
    const outcome = await run([['x-cluster', 'backend'], ['x-call-path', '/'], ['x-call-omit', omit]]);
    expect(header(headersOf(outcome), 'x-call-result')).toBe('2');
  });

  it('host: proxy_send_local_response from proxy_on_http_call_response ends the paused stream', async () => {
    const outcome = await run([['x-cluster', 'backend'], ['x-call-path', '/jwks'], ['x-after-call', 'deny']]);
    expect(outcome.action).toBe('localReply');
    const reply = (outcome as { reply: LocalReply }).reply;
    expect(reply).toMatchObject({ status: 401, details: 'denied_after_call', grpcStatus: 16 });
    expect(new TextDecoder().decode(reply.body)).toBe('call said no');
  });
});

describe('host: proxy_http_call in the emulator', () => {
  it('host: proxy_http_call is recorded and answered with respondToHttpCall', async () => {
    const emu = await conformance();
    const id = emu.initializeHttpContext();
    expect(emu.callOnRequestHeaders(id, withAction('http-call', [['x-cluster', 'idp'], ['x-call-path', '/keys'], ['x-call-body', 'q'], ['x-call-timeout', '250']]), true)).toBe('Pause');
    const [call] = emu.getHttpCalls();
    expect(call).toMatchObject({ cluster: 'idp', timeoutMs: 250, plugin: 'conformance' });
    expect(call!.headers).toEqual(expect.arrayContaining([[':path', '/keys'], ['content-length', '1']]));
    emu.respondToHttpCall(call!.token, [[':status', '404']], 'none');
    expect(emu.getCurrentHttpStreamAction(id)).toBe('Continue');
    expect(header(emu.getCurrentRequestHeaders(id), 'x-call-status')).toBe('404');
    expect(header(emu.getCurrentRequestHeaders(id), 'x-call-body')).toBe('none');
  });

  it('host: proxy_http_call failure via failHttpCall reports BrokenConnection', async () => {
    const emu = await conformance({ clusters: ['idp'] });
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, withAction('http-call', [['x-cluster', 'idp'], ['x-call-path', '/keys']]), true);
    emu.failHttpCall(emu.getHttpCalls()[0]!.token);
    expect(header(emu.getCurrentRequestHeaders(id), 'x-call-status')).toBe('failed:11:reset');
    const other = emu.initializeHttpContext();
    emu.callOnRequestHeaders(other, withAction('http-call', [['x-cluster', 'elsewhere'], ['x-call-path', '/']]), true);
    expect(header(emu.getCurrentRequestHeaders(other), 'x-call-result')).toBe('2');
  });
});
