import { describe, expect, it } from 'vitest';
import { conformance, GET, header, withAction } from './helpers.js';

describe('host: header map functions', () => {
  it('host: proxy_replace/remove/add/get_header_map_* edit the request headers', async () => {
    const emu = await conformance();
    const id = emu.initializeHttpContext();
    expect(emu.callOnRequestHeaders(id, withAction('headers', [['x-replace', 'old'], ['x-replace', 'old2'], ['x-remove', 'gone']]), true)).toBe('Continue');
    const headers = emu.getCurrentRequestHeaders(id);
    expect(headers.filter(([k]) => k === 'x-replace')).toEqual([['x-replace', 'new']]);
    // Replace is remove + add (Envoy HeaderMapImpl::setCopy): x-replace, first in the request,
    // now follows x-header-count, which the filter set before it (test/host/header-replace.test.ts).
    expect(headers.map(([k]) => k).slice(4, 8)).toEqual(['x-action', 'x-header-count', 'x-replace', 'x-added']);
    expect(header(headers, 'x-remove')).toBeUndefined();
    expect(headers.filter(([k]) => k === 'x-added').map(([, v]) => v)).toEqual(['1', '2']);
    expect(header(headers, 'x-get-missing')).toBe('0');
    // pairs counted before x-pairs/x-size/... were added: 4 pseudo + x-action + x-replace + x-header-count + 2 x-added + x-get-missing
    expect(header(headers, 'x-pairs')).toBe('10');
    expect(header(headers, 'x-size-result')).toBe('0');
    // Response headers are not available during a request callback (Envoy: BadArgument).
    expect(header(headers, 'x-response-map')).toBe('2');
  });

  it('host: proxy_on_request_headers gets the header count and keeps pseudo-headers first', async () => {
    const emu = await conformance();
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, withAction('continue'), false);
    const headers = emu.getCurrentRequestHeaders(id);
    expect(header(headers, 'x-header-count')).toBe('5');
    expect(headers.slice(0, 4).map(([k]) => k)).toEqual([':method', ':path', ':authority', ':scheme']);
  });

  it('host: proxy_get_header_map_size answers BadArgument for request headers in a response callback', async () => {
    const emu = await conformance();
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, GET, true);
    expect(emu.callOnResponseHeaders(id, [[':status', '201']], true)).toBe('Continue');
    const response = emu.getCurrentResponseHeaders(id);
    expect(header(response, 'x-conformance-response')).toBe('201');
    expect(header(response, 'x-request-map')).toBe('2');
  });

  it('host: proxy_add_header_map_value on request trailers in proxy_on_request_trailers', async () => {
    const emu = await conformance();
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, GET, false);
    expect(emu.callOnRequestTrailers(id, [['grpc-x', '1']])).toBe('Continue');
    expect(emu.getCurrentRequestTrailers(id)).toEqual([['grpc-x', '1'], ['x-trailer-seen', '1']]);
  });
});

describe('host: stream control', () => {
  it('host: proxy_send_local_response ends the stream and runs the response path of the filter', async () => {
    const emu = await conformance();
    const id = emu.initializeHttpContext();
    expect(emu.callOnRequestHeaders(id, withAction('local-reply'), true)).toBe('EndWithLocalResponse');
    const reply = emu.getSentLocalResponse(id)!;
    expect(reply.status).toBe(403);
    expect(reply.details).toBe('denied_by_test');
    expect(new TextDecoder().decode(reply.body)).toBe('nope');
    expect(reply.grpcStatus).toBeUndefined();
    expect(reply.headers).toEqual(expect.arrayContaining([['x-reason', 'test'], ['x-upper', 'v'], ['content-type', 'text/plain'], ['content-length', '4'], ['x-conformance-response', '403']]));
    expect(emu.getCurrentHttpStreamAction(id)).toBe('EndWithLocalResponse');
  });

  it('host: proxy_continue_stream from proxy_on_tick resumes a paused request', async () => {
    const emu = await conformance({ configuration: 'tick:250' });
    expect(emu.getTickPeriod()).toBe(250);
    const id = emu.initializeHttpContext();
    expect(emu.callOnRequestHeaders(id, withAction('pause-tick'), true)).toBe('Pause');
    expect(emu.getCurrentHttpStreamAction(id)).toBe('Pause');
    emu.tick();
    expect(emu.getCurrentHttpStreamAction(id)).toBe('Continue');
    expect(header(emu.getCurrentRequestHeaders(id), 'x-resumed-by')).toBe('tick');
    expect(emu.getLogs('info')).toContain('tick');
  });

  it('host: proxy_close_stream resets the stream with wasm_close_stream', async () => {
    const emu = await conformance();
    const id = emu.initializeHttpContext();
    expect(emu.callOnRequestHeaders(id, withAction('close'), true)).toBe('EndWithLocalResponse');
    expect(emu.getSentLocalResponse(id)).toMatchObject({ reset: true, details: 'wasm_close_stream', status: 0 });
  });

  it('host: proxy_clear_route_cache and header edits report routeCacheCleared', async () => {
    const emu = await conformance();
    const chain = emu.host.newFilterChain(emu['plugin'] ? [emu['plugin']] : []);
    const plain = await chain.newStream({ connection: { id: 1, sourceAddress: '1.1.1.1', sourcePort: 1, destinationAddress: '2.2.2.2', destinationPort: 2 }, protocol: 'HTTP/2' })
      .requestHeaders([[':method', 'GET'], [':path', '/'], [':authority', 'a'], ['x-action', 'clear-route-cache']], true);
    expect(plain).toMatchObject({ action: 'continue', routeCacheCleared: true });
  });

  it('host: proxy_on_request_body with StopIterationAndBuffer gets the whole body at end of stream', async () => {
    const emu = await conformance();
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, withAction('body-buffer'), false);
    expect(emu.callOnRequestBody(id, 'hello ', false)).toBe('Pause');
    expect(new TextDecoder().decode(emu.getCurrentRequestBody(id))).toBe('hello ');
    expect(emu.callOnRequestBody(id, 'world', true)).toBe('Continue');
    expect(new TextDecoder().decode(emu.getCurrentRequestBody(id))).toBe('[HELLO WORLD]');
  });

  it('host: proxy_on_request_body with StopIterationAndBuffer past bufferLimitBytes ends the stream with 413 through the response callbacks', async () => {
    const emu = await conformance();
    const id = emu.initializeHttpContext({ streamInfo: { bufferLimitBytes: 8 } });
    emu.callOnRequestHeaders(id, withAction('body-buffer'), false);
    expect(emu.callOnRequestBody(id, '12345678', false)).toBe('Pause');
    expect(emu.callOnRequestBody(id, '9', false)).toBe('EndWithLocalResponse');
    const reply = emu.getSentLocalResponse(id)!;
    expect([reply.status, reply.details, new TextDecoder().decode(reply.body)]).toEqual([413, 'request_payload_too_large', 'Payload Too Large']);
    expect(reply.headers).toEqual(expect.arrayContaining([['x-conformance-response', '413']]));
  });

  it('host: proxy_on_response_body with StopIterationAndBuffer past bufferLimitBytes ends the stream with 500 response_payload_too_large', async () => {
    const emu = await conformance();
    const id = emu.initializeHttpContext({ streamInfo: { bufferLimitBytes: 3 } });
    emu.callOnRequestHeaders(id, withAction('response-body-buffer'), true);
    emu.callOnResponseHeaders(id, [[':status', '200']], false);
    expect(emu.callOnResponseBody(id, 'abc', false)).toBe('Pause');
    expect(emu.callOnResponseBody(id, 'd', false)).toBe('EndWithLocalResponse');
    expect(emu.getSentLocalResponse(id)).toMatchObject({ status: 500, details: 'response_payload_too_large' });
  });

  it('host: proxy_on_request_body with StopIterationAndWatermark past bufferLimitBytes waits (flow control) instead of 413, and continue_stream forwards the body', async () => {
    const emu = await conformance({ configuration: 'tick:100' });
    const id = emu.initializeHttpContext({ streamInfo: { bufferLimitBytes: 4 } });
    emu.callOnRequestHeaders(id, withAction('body-watermark'), false);
    expect(emu.callOnRequestBody(id, 'abc', false)).toBe('Pause');
    expect(emu.callOnRequestBody(id, 'de', false)).toBe('Pause');
    expect(emu.getSentLocalResponse(id)).toBeUndefined();
    emu.tick();
    expect(emu.getCurrentHttpStreamAction(id)).toBe('Continue');
    expect(new TextDecoder().decode(emu.getCurrentRequestBody(id))).toBe('abcde');
  });

  it('host: proxy_set_buffer_bytes at the end appends and proxy_get_buffer_bytes clamps ranges', async () => {
    const emu = await conformance();
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, withAction('body-append'), false);
    emu.callOnRequestBody(id, 'abc', true);
    expect(new TextDecoder().decode(emu.getCurrentRequestBody(id))).toBe('abc!');
    const other = emu.initializeHttpContext();
    emu.callOnRequestHeaders(other, withAction('body-range'), false);
    emu.callOnRequestBody(other, 'abcdef', true);
    expect(emu.getLogs('info')).toContain('tail=cdef past=0 length=6');
  });

  it('host: proxy_on_response_body buffers the response until end of stream', async () => {
    const emu = await conformance();
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, withAction('response-body-buffer'), true);
    emu.callOnResponseHeaders(id, [[':status', '200']], false);
    expect(emu.callOnResponseBody(id, 'ab', false)).toBe('Pause');
    expect(emu.callOnResponseBody(id, 'cd', true)).toBe('Continue');
    expect(new TextDecoder().decode(emu.getCurrentResponseBody(id))).toBe('abcd|4');
  });

  it('host: proxy_on_log, proxy_on_done, proxy_on_delete run on completion in Envoy order with log-phase access', async () => {
    const emu = await conformance();
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, GET, true);
    emu.callOnResponseHeaders(id, [[':status', '204']], true);
    emu.completeHttpContext(id);
    const logs = emu.getLogs();
    const done = logs.findIndex((l) => l.startsWith('on_done'));
    const log = logs.findIndex((l) => l.startsWith('on_log'));
    const del = logs.findIndex((l) => l.startsWith('on_delete'));
    expect(log).toBeGreaterThanOrEqual(0);
    expect(done).toBeGreaterThan(log);
    expect(del).toBeGreaterThan(done);
    expect(logs[log]).toBe('on_log code=204 path=/items?id=7');
  });
});

describe('host: bodies while headers are paused (emulator)', () => {
  it('host: proxy_on_request_body is not called while proxy_on_request_headers is paused; the body follows the resumed headers', async () => {
    const emu = await conformance({ configuration: 'tick:100' });
    const id = emu.initializeHttpContext();
    expect(emu.callOnRequestHeaders(id, withAction('pause-tick'), false)).toBe('Pause');
    expect(emu.callOnRequestBody(id, 'held', true)).toBe('Pause');
    emu.tick();
    expect(emu.getCurrentHttpStreamAction(id)).toBe('Continue');
    expect(new TextDecoder().decode(emu.getCurrentRequestBody(id))).toBe('held');
  });
});

describe('host: context and unsupported calls', () => {
  it('host: proxy_set_effective_context answers BadArgument for an unknown context; proxy_done NotFound outside a pending done; proxy_grpc_call BadArgument', async () => {
    const emu = await conformance();
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, withAction('effective-context'), true);
    const headers = emu.getCurrentRequestHeaders(id);
    expect(header(headers, 'x-effective-unknown')).toBe('2');
    expect(header(headers, 'x-effective-self')).toBe('0');
    expect(header(headers, 'x-done')).toBe('1');
    expect(header(headers, 'x-grpc')).toBe('2');
  });
});
