import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningControlPlane } from '../../deployer/src/control-plane/control-plane.js';
import { TypeUrl, type NodeIdentity, type Snapshot } from '../../deployer/src/control-plane/types.js';
import { sidecarConfigFromXds } from '../../deployer/src/sidecar/xds/xds-config.js';
import { startTestControlPlane, tempConfigDir } from './harness.js';

const node = (labels: Record<string, string>): NodeIdentity => ({ id: 'sidecar~127.0.0.1~w.shop~shop.svc.cluster.local', cluster: '', generator: 'sidecar', namespace: 'shop', labels, dnsDomain: 'shop.svc.cluster.local' });
const all = (snapshot: Snapshot, type: TypeUrl) => [...snapshot.resources.get(type)!.values()].map((r) => ({ type_url: r.typeUrl, value: r.value }));

describe('sidecar xDS: the whole sidecar configuration from LDS/CDS/EDS (run --xds without --config)', () => {
  let cp: RunningControlPlane;
  let config: ReturnType<typeof tempConfigDir>;
  beforeAll(async () => { config = tempConfigDir(); ({ cp } = await startTestControlPlane({ configDir: config.dir })); });
  afterAll(async () => { await cp?.close(); config?.cleanup(); });

  it('listens where virtualInbound does and routes to the workload\'s inbound cluster', () => {
    const snapshot = cp.cache.snapshotFor(node({ app: 'cart' }));
    const sidecar = sidecarConfigFromXds({ listeners: all(snapshot, TypeUrl.listener), clusters: all(snapshot, TypeUrl.cluster), endpoints: all(snapshot, TypeUrl.endpoint), filters: [], admin: { host: '127.0.0.1', port: 0 } });
    expect(sidecar.listen).toEqual({ host: '0.0.0.0', port: 15006 });
    expect(sidecar.routes).toEqual([{ name: 'default', path: { kind: 'prefix', value: '/' }, headers: [], cluster: 'inbound|9080||', timeoutMs: 0 }]);
    expect(sidecar.clusters.get('inbound|9080||')?.url.href).toBe('http://127.0.0.1:9080/');
  });

  it('refuses a workload no ServiceEntry selects (its inbound route is a direct response), naming why', () => {
    const snapshot = cp.cache.snapshotFor(node({ app: 'nobody' }));
    expect(() => sidecarConfigFromXds({ listeners: all(snapshot, TypeUrl.listener), clusters: [], endpoints: [], filters: [], admin: { host: '127.0.0.1', port: 0 } }))
      .toThrow(/only route\.cluster actions are served by the local sidecar/);
  });
});
