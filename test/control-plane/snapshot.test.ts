import { describe, expect, it } from 'vitest';
import { nodeIdentity, NodeIdentityError } from '../../deployer/src/control-plane/node-identity.js';
import { buildResource, createSnapshot, SnapshotInconsistentError } from '../../deployer/src/control-plane/snapshot.js';
import { EMPTY_MODEL, type FilterAttachment, type MeshModel } from '../../deployer/src/control-plane/mesh-model.js';
import { SnapshotGenerator } from '../../deployer/src/control-plane/snapshot-generator.js';
import { TypeUrl, type NodeIdentity } from '../../deployer/src/control-plane/types.js';
import { jsonToStruct } from '../../deployer/src/control-plane/xds-protos.js';

const cluster = (name: string) => buildResource({ typeUrl: TypeUrl.cluster, name, message: { name, type: 'EDS', eds_cluster_config: { service_name: name, eds_config: { ads: {} } } }, references: [{ typeUrl: TypeUrl.endpoint, name }] });
const endpoints = (name: string, port = 80) => buildResource({ typeUrl: TypeUrl.endpoint, name, message: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }] } });

describe('control-plane: snapshots', () => {
  it('a consistent snapshot gets one version per type; equal content, equal version', () => {
    const a = createSnapshot('g', [cluster('c'), endpoints('c')]);
    const b = createSnapshot('g', [endpoints('c'), cluster('c')]);
    expect(a.versions).toEqual(b.versions);
    expect(Object.isFrozen(a)).toBe(true);
    const c = createSnapshot('g', [cluster('c'), endpoints('c', 81)]);
    expect(c.versions[TypeUrl.endpoint]).not.toBe(a.versions[TypeUrl.endpoint]);
    expect(c.versions[TypeUrl.cluster]).toBe(a.versions[TypeUrl.cluster]);
  });

  it.each([
    ['a cluster without its endpoints', [cluster('c')], /CDS "c" refers to EDS "c", which is not in the snapshot/],
    ['a name defined twice', [cluster('c'), endpoints('c'), endpoints('c')], /EDS "c" is defined twice/],
  ])('refuses %s before it can be served', (_label, resources, message) => {
    expect(() => createSnapshot('g', resources)).toThrow(SnapshotInconsistentError);
    expect(() => createSnapshot('g', resources)).toThrow(message);
  });

  it.each([
    ['an unknown field', { name: 'x', colour: 'blue' }, /colour: no such field in envoy\.config\.cluster\.v3\.Cluster/],
    ['a bad enum name', { name: 'x', type: 'FASTEST' }, /type: "FASTEST" is not a value of envoy\.config\.cluster\.v3\.Cluster\.DiscoveryType/],
    ['a scalar where a message goes', { name: 'x', connect_timeout: 5 }, /connect_timeout: expected a google\.protobuf\.Duration object/],
  ])('refuses to encode %s, naming the field', (_label, message, error) => {
    expect(() => buildResource({ typeUrl: TypeUrl.cluster, name: 'x', message })).toThrow(error);
  });
});

describe('control-plane: node identity', () => {
  it.each([
    ['Istio sidecar id + metadata', { id: 'sidecar~10.0.0.7~cart-1.shop~shop.svc.cluster.local', metadata: { NAMESPACE: 'shop', LABELS: { app: 'cart' }, WORKLOAD_NAME: 'cart' } },
      { generator: 'sidecar', ip: '10.0.0.7', namespace: 'shop', labels: { app: 'cart' }, workloadName: 'cart', dnsDomain: 'shop.svc.cluster.local' }],
    ['namespace from the id when metadata has none', { id: 'sidecar~10.0.0.8~pod.payments~payments.svc.cluster.local' },
      { generator: 'sidecar', namespace: 'payments', labels: {}, workloadName: 'pod' }],
    ['proxyless gRPC (GENERATOR: grpc)', { id: 'sidecar~10.0.0.9~client.shop~shop.svc.cluster.local', metadata: { GENERATOR: 'grpc' } },
      { generator: 'grpc', namespace: 'shop' }],
    ['a plain Envoy id', { id: 'envoy-1', metadata: { NAMESPACE: 'edge' } }, { generator: 'sidecar', namespace: 'edge', ip: undefined }],
  ])('%s', (_label, node, expected) => {
    expect(nodeIdentity({ id: node.id, metadata: 'metadata' in node && node.metadata ? jsonToStruct(node.metadata) : undefined })).toMatchObject(expected);
  });

  it.each([
    ['no id', {}, /no node id/],
    ['LABELS not a map', { id: 'a', metadata: jsonToStruct({ LABELS: 'app=cart' }) }, /metadata LABELS is "app=cart": expected a map of strings/],
  ])('refuses %s', (_label, node, message) => {
    expect(() => nodeIdentity(node)).toThrow(NodeIdentityError);
    expect(() => nodeIdentity(node)).toThrow(message);
  });
});

describe('control-plane: node groups', () => {
  const filter = (name: string, selector: Record<string, string>): FilterAttachment => ({
    name: `shop.${name}`, namespace: 'shop', selector, phase: 'AUTHZ', priority: 0, rootId: name, sha256: 'a'.repeat(64), configuration: '{}', failOpen: false, origin: 'test',
  });
  const model: MeshModel = { ...EMPTY_MODEL, filters: [filter('all-carts', { app: 'cart' }), filter('canary', { app: 'cart', track: 'canary' })] };
  const generator = new SnapshotGenerator({ model, moduleBaseUrl: 'http://127.0.0.1:15081', builtModules: new Map() });
  const node = (pod: string, labels: Record<string, string>): NodeIdentity => ({ id: `sidecar~10.0.0.1~${pod}.shop~shop.svc.cluster.local`, cluster: '', generator: 'sidecar', namespace: 'shop', labels, workloadName: pod, dnsDomain: 'shop.svc.cluster.local' });

  it.each([
    ['pods differing only in per-pod labels share a group', node('cart-1', { app: 'cart', 'pod-name': 'cart-1' }), node('cart-2', { app: 'cart', 'pod-name': 'cart-2' }), true],
    ['a pod a further WasmPlugin selects is another group', node('cart-1', { app: 'cart' }), node('cart-c', { app: 'cart', track: 'canary' }), false],
    ['another namespace is another group', node('cart-1', { app: 'cart' }), { ...node('cart-1', { app: 'cart' }), namespace: 'other' }, false],
  ])('%s', (_label, a, b, same) => {
    expect(generator.groupOf(a) === generator.groupOf(b)).toBe(same);
    if (same) expect(generator.snapshotFor(a).versions).toEqual(generator.snapshotFor(b).versions);
  });
});
