/**
 * What each metric records (Istio's extractors, istio/proxy extensions/stats/plugin.cc):
 * duration in whole milliseconds, request/response total sizes, gRPC message counts, into
 * Envoy's default histogram buckets (which Istio keeps).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { HostEmulator } from '../../../deployer/src/host/testing/emulator.js';
import { DEFAULT_HISTOGRAM_BUCKETS } from '../../../deployer/src/host/abi/metrics.js';
import { loadMetrics, requestHeaders, seriesNamed } from './harness.js';

function grpcFrame(payload: number): Uint8Array {
  const out = new Uint8Array(5 + payload);
  new DataView(out.buffer).setUint32(1, payload);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

describe('metrics: onLog values', () => {
  let emu: HostEmulator | undefined;
  afterEach(async () => { await emu?.close(); emu = undefined; });

  it('metrics: onLog histograms use the default buckets with duration in ms and total sizes', async () => {
    emu = await loadMetrics({ local: 'reviews', direction: 'INBOUND' });
    for (const [ms, body] of [[3, 10], [120, 2000], [7000, 0]] as const) {
      const id = emu.initializeHttpContext();
      emu.callOnRequestHeaders(id, requestHeaders({ request: { body } }), body === 0);
      if (body > 0) emu.callOnRequestBody(id, new Uint8Array(body), true);
      emu.advanceTimeMs(ms);
      emu.callOnResponseHeaders(id, [[':status', '200']], false);
      emu.callOnResponseBody(id, new Uint8Array(body * 2), true);
      emu.completeHttpContext(id);
    }
    const duration = seriesNamed(emu, 'istio_request_duration_milliseconds')[0]!.sample;
    expect(duration.count).toBe(3);
    expect(duration.value).toBe(3 + 120 + 7000);
    expect(duration.buckets!.map(([b]) => b)).toEqual(DEFAULT_HISTOGRAM_BUCKETS);
    const cumulative = (le: number) => duration.buckets!.find(([b]) => b === le)![1];
    expect([cumulative(1), cumulative(5), cumulative(250), cumulative(5000), cumulative(10000)]).toEqual([0, 1, 2, 2, 3]);
    const requestBytes = seriesNamed(emu, 'istio_request_bytes')[0]!.sample;
    const responseBytes = seriesNamed(emu, 'istio_response_bytes')[0]!.sample;
    expect(requestBytes.count).toBe(3);
    // total_size = body + headers (the host's header byte count): bodies must be in the sums.
    expect(requestBytes.value).toBeGreaterThan(2010);
    expect(responseBytes.value).toBeGreaterThanOrEqual(4020);
    expect(seriesNamed(emu, 'istio_requests_total')[0]!.sample.value).toBe(3);
  });

  it('metrics: onRequestBody counts gRPC messages across chunk boundaries (streaming both ways)', async () => {
    emu = await loadMetrics({ local: 'reviews', direction: 'INBOUND' });
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, requestHeaders({ request: { method: 'POST', headers: { 'content-type': 'application/grpc' } } }), false);
    const request = concat([grpcFrame(3), grpcFrame(0), grpcFrame(70000), grpcFrame(1)]);
    // Cut inside a prefix (2 bytes in) and inside a payload.
    for (const [from, to] of [[0, 10], [10, 12], [12, 40000], [40000, request.length]] as const) {
      emu.callOnRequestBody(id, request.subarray(from, to), to === request.length);
    }
    emu.callOnResponseHeaders(id, [[':status', '200'], ['content-type', 'application/grpc']], false);
    emu.callOnResponseBody(id, concat([grpcFrame(5), grpcFrame(5)]), false);
    emu.callOnResponseTrailers(id, [['grpc-status', '0']]);
    emu.completeHttpContext(id);
    expect(seriesNamed(emu, 'istio_request_messages_total')[0]!.sample.value).toBe(4);
    expect(seriesNamed(emu, 'istio_response_messages_total')[0]!.sample.value).toBe(2);
    expect(seriesNamed(emu, 'istio_request_messages_total')[0]!.labels).toMatchObject({ request_protocol: 'grpc', grpc_response_status: '0' });
  });

  it('metrics: onLog plain HTTP defines no gRPC message metrics', async () => {
    emu = await loadMetrics({ local: 'reviews', direction: 'INBOUND' });
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, requestHeaders({}), true);
    emu.callOnResponseHeaders(id, [[':status', '200']], true);
    emu.completeHttpContext(id);
    expect(seriesNamed(emu, 'istio_request_messages_total')).toHaveLength(0);
  });
});
