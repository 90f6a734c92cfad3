/**
 * Istio's HTTP metadata exchange (istio/proxy extensions/metadata_exchange/plugin.cc): the peer's
 * x-envoy-peer-metadata(-id) are read and removed; this proxy's own are sent upstream (outbound)
 * or back to a downstream that sent its own (inbound). The header value is decoded here with
 * protobufjs, an encoder/decoder independent of the filter's.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { StructType, decode } from '../../../deployer/src/host/abi/proto.js';
import type { HostEmulator } from '../../../deployer/src/host/testing/emulator.js';
import { loadMetrics, node, peerHeaders, requestHeaders, runStream, seriesNamed } from './harness.js';

const EXCHANGE = ['x-envoy-peer-metadata', 'x-envoy-peer-metadata-id'];
const names = (headers: ReadonlyArray<readonly [string, string]>) => headers.map(([k]) => k);
const header = (headers: ReadonlyArray<readonly [string, string]>, name: string) => headers.find(([k]) => k === name)?.[1];

interface ProtoValue { readonly string_value?: string; readonly struct_value?: { readonly fields: Record<string, ProtoValue> } }
function decodeExchange(value: string): Record<string, unknown> {
  const struct = decode(StructType, new Uint8Array(Buffer.from(value, 'base64'))) as { fields: Record<string, ProtoValue> };
  const plain = (v: ProtoValue): unknown =>
    v.string_value ?? Object.fromEntries(Object.entries(v.struct_value?.fields ?? {}).map(([k, inner]) => [k, plain(inner)]));
  return Object.fromEntries(Object.entries(struct.fields).map(([k, v]) => [k, plain(v)]));
}

describe('metrics: metadata exchange', () => {
  let emu: HostEmulator | undefined;
  afterEach(async () => { await emu?.close(); emu = undefined; });

  it('metrics: onRequestHeaders inbound strips the peer headers and answers with its own', async () => {
    emu = await loadMetrics({ local: 'reviews', direction: 'INBOUND' });
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, requestHeaders({ peer: 'productpage' }), true);
    expect(names(emu.getCurrentRequestHeaders(id))).not.toEqual(expect.arrayContaining([EXCHANGE[0]]));
    expect(names(emu.getCurrentRequestHeaders(id)).filter((n) => EXCHANGE.includes(n))).toEqual([]);
    emu.callOnResponseHeaders(id, [[':status', '200']], true);
    const response = emu.getCurrentResponseHeaders(id);
    expect(header(response, 'x-envoy-peer-metadata-id')).toBe(node('reviews').id);
    const sent = decodeExchange(header(response, 'x-envoy-peer-metadata')!);
    expect(sent).toEqual({
      CLUSTER_ID: 'east', LABELS: { app: 'reviews', version: 'v2' }, MESH_ID: 'cluster.local', NAME: 'reviews-v2-5b4f8f6d9-x2k7p',
      NAMESPACE: 'bookinfo', WORKLOAD_NAME: 'reviews-v2',
    });
    emu.completeHttpContext(id);
  });

  it('metrics: onResponseHeaders inbound sends nothing to a downstream that sent no metadata', async () => {
    emu = await loadMetrics({ local: 'reviews', direction: 'INBOUND' });
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, requestHeaders({}), true);
    emu.callOnResponseHeaders(id, [[':status', '200']], true);
    expect(names(emu.getCurrentResponseHeaders(id)).filter((n) => EXCHANGE.includes(n))).toEqual([]);
    emu.completeHttpContext(id);
  });

  it('metrics: onRequestHeaders outbound sends its own metadata (only the exchanged keys, sorted) and strips the upstream answer', async () => {
    emu = await loadMetrics({ local: 'productpage', direction: 'OUTBOUND' });
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, requestHeaders({}), true);
    const request = emu.getCurrentRequestHeaders(id);
    expect(header(request, 'x-envoy-peer-metadata-id')).toBe(node('productpage').id);
    const sent = decodeExchange(header(request, 'x-envoy-peer-metadata')!);
    expect(Object.keys(sent)).toEqual(['CLUSTER_ID', 'INSTANCE_IPS', 'ISTIO_VERSION', 'LABELS', 'MESH_ID', 'NAME', 'NAMESPACE', 'OWNER', 'SERVICE_ACCOUNT', 'WORKLOAD_NAME']);
    expect(sent.LABELS).toMatchObject({ app: 'productpage', 'service.istio.io/canonical-revision': 'v1' });
    emu.callOnResponseHeaders(id, [[':status', '200'], ...peerHeaders('reviews')], true);
    expect(names(emu.getCurrentResponseHeaders(id)).filter((n) => EXCHANGE.includes(n))).toEqual([]);
    emu.completeHttpContext(id);
  });

  it('metrics: onRequestHeaders a malformed peer header is removed and the peer reads unknown', async () => {
    emu = await loadMetrics({ local: 'reviews', direction: 'INBOUND' });
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, [...requestHeaders({}), ['x-envoy-peer-metadata', '!!not base64!!'], ['x-envoy-peer-metadata-id', 'x']], true);
    expect(names(emu.getCurrentRequestHeaders(id)).filter((n) => EXCHANGE.includes(n))).toEqual([]);
    emu.callOnResponseHeaders(id, [[':status', '200']], true);
    emu.completeHttpContext(id);
    expect(emu.isVmFailed()).toBe(false);
  });

  // istio/proxy extensions/metadata_exchange/plugin.cc: an id alone sets no peer (only the
  // metadata header calls updatePeer); the response carries back only what the downstream sent.
  it.each([
    { sent: 'id only', drop: 'x-envoy-peer-metadata', answered: ['x-envoy-peer-metadata-id'] },
    { sent: 'metadata only', drop: 'x-envoy-peer-metadata-id', answered: ['x-envoy-peer-metadata'] },
  ])('metrics: onResponseHeaders inbound with $sent answers with the same header only', async ({ drop, answered }) => {
    emu = await loadMetrics({ local: 'reviews', direction: 'INBOUND' });
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, requestHeaders({ peer: 'productpage' }).filter(([k]) => k !== drop), true);
    emu.callOnResponseHeaders(id, [[':status', '200']], true);
    expect(names(emu.getCurrentResponseHeaders(id)).filter((n) => EXCHANGE.includes(n))).toEqual(answered);
    emu.completeHttpContext(id, 200);
  });

  // The application's own exchange headers never reach the client: stripped, or overwritten by a
  // replace (Envoy's setCopy drops every earlier value).
  it.each([
    { sent: 'both headers', drop: [] as string[], answered: ['x-envoy-peer-metadata', 'x-envoy-peer-metadata-id'] },
    { sent: 'metadata only', drop: ['x-envoy-peer-metadata-id'], answered: ['x-envoy-peer-metadata'] },
    { sent: 'no exchange headers', drop: EXCHANGE, answered: [] as string[] },
  ])('metrics: onResponseHeaders inbound with $sent replaces the application\'s exchange headers', async ({ drop, answered }) => {
    emu = await loadMetrics({ local: 'reviews', direction: 'INBOUND' });
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, requestHeaders({ peer: 'productpage' }).filter(([k]) => !drop.includes(k)), true);
    const fromApp = peerHeaders('bare');
    emu.callOnResponseHeaders(id, [[':status', '200'], ...fromApp, ['x-envoy-peer-metadata-id', 'second'], ['x-envoy-peer-metadata', 'c2Vjb25k']], true);
    const response = emu.getCurrentResponseHeaders(id);
    expect(names(response).filter((n) => EXCHANGE.includes(n)).sort()).toEqual(answered);
    if (answered.includes('x-envoy-peer-metadata')) expect(decodeExchange(header(response, 'x-envoy-peer-metadata')!).WORKLOAD_NAME).toBe('reviews-v2');
    if (answered.includes('x-envoy-peer-metadata-id')) expect(header(response, 'x-envoy-peer-metadata-id')).toBe(node('reviews').id);
    emu.completeHttpContext(id, 200);
    const series = seriesNamed(emu, 'istio_requests_total');
    expect(series[0]?.labels.source_workload).toBe(drop.includes('x-envoy-peer-metadata') ? 'unknown' : 'productpage-v1');
  });

  it('metrics: onLog a known peer id without x-envoy-peer-metadata names no peer (as Istio)', async () => {
    emu = await loadMetrics({ local: 'reviews', direction: 'INBOUND' });
    runStream(emu, { peer: 'productpage', response: { status: 200 } });
    const idOnly = emu.initializeHttpContext();
    emu.callOnRequestHeaders(idOnly, requestHeaders({ peer: 'productpage' }).filter(([k]) => k !== 'x-envoy-peer-metadata'), true);
    emu.callOnResponseHeaders(idOnly, [[':status', '201']], true);
    emu.completeHttpContext(idOnly, 201);
    const byCode = Object.fromEntries(seriesNamed(emu, 'istio_requests_total').map((s) => [s.labels.response_code, s.labels]));
    expect(byCode['200']).toMatchObject({ source_workload: 'productpage-v1', source_app: 'productpage' });
    expect(byCode['201']).toMatchObject({ source_workload: 'unknown', source_app: 'unknown' });
  });

  it('metrics: onRequestHeaders a cached peer id reuses the decoded peer even if its metadata header changed (Istio updatePeer)', async () => {
    emu = await loadMetrics({ local: 'reviews', direction: 'INBOUND' });
    runStream(emu, { peer: 'productpage', response: { status: 200 } });
    const [, bare] = peerHeaders('bare');
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, [...requestHeaders({}), ['x-envoy-peer-metadata-id', node('productpage').id], bare!], true);
    emu.callOnResponseHeaders(id, [[':status', '201']], true);
    emu.completeHttpContext(id, 201);
    const created = seriesNamed(emu, 'istio_requests_total').find((s) => s.labels.response_code === '201');
    expect(created?.labels.source_workload).toBe('productpage-v1');
  });

  it('metrics: onRequestHeaders maxPeerCacheSize 0 decodes every metadata header', async () => {
    emu = await loadMetrics({ local: 'reviews', direction: 'INBOUND', config: { maxPeerCacheSize: 0 } });
    runStream(emu, { peer: 'productpage', response: { status: 200 } });
    const [, bare] = peerHeaders('bare');
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, [...requestHeaders({}), ['x-envoy-peer-metadata-id', node('productpage').id], bare!], true);
    emu.callOnResponseHeaders(id, [[':status', '201']], true);
    emu.completeHttpContext(id, 201);
    const created = seriesNamed(emu, 'istio_requests_total').find((s) => s.labels.response_code === '201');
    expect(created?.labels.source_workload).toBe('bare');
  });
});
