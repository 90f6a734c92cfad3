import { copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningControlPlane } from '../../deployer/src/control-plane/control-plane.js';
import type { NodeIdentity } from '../../deployer/src/control-plane/types.js';
import { TypeUrl } from '../../deployer/src/control-plane/types.js';
import { FIXTURES, startTestControlPlane, tempConfigDir, writeFile } from './harness.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CART: NodeIdentity = { id: 'sidecar~10.0.0.7~cart-1.shop~shop.svc.cluster.local', cluster: '', generator: 'sidecar', namespace: 'shop', labels: { app: 'cart', version: 'v1' }, dnsDomain: 'shop.svc.cluster.local' };

describe('control-plane: config directory', () => {
  let cp: RunningControlPlane;
  let logs: string[];
  let config: ReturnType<typeof tempConfigDir>;

  beforeAll(async () => {
    config = tempConfigDir();
    ({ cp, logs } = await startTestControlPlane({ configDir: config.dir, filtersDir: path.join(ROOT, 'build/filters') }));
  });

  afterAll(async () => {
    await cp?.close();
    config?.cleanup();
  });

  it.each([
    ['bad-yaml.yaml', /bad-yaml\.yaml: document 1: YAML error: /],
    ['bad-field.yaml', /bad-field\.yaml: document 2: spec\.trafficPolicy\.loadBalancer\.simple: DestinationRule "cart-lb": expected one of .*"ROUND_ROBIN".*got "FASTEST"/],
    ['unknown-subset.yaml', /unknown-subset\.yaml: document 1: spec\.http\[0\]\.route\[0\]\.destination\.subset: v3: no DestinationRule defines this subset for cart\.shop\.svc\.cluster\.local/],
    ['unknown-host.yaml', /unknown-host\.yaml: document 1: spec\.http\[0\]\.route\[0\]\.destination\.host: nowhere\.example\.com: no ServiceEntry defines this host/],
    ['unsupported-route.yaml', /unsupported-route\.yaml: document 1: spec\.http\[0\]\.fault: not served by this control plane/],
    ['unknown-kind.yaml', /unknown-kind\.yaml: document 1: kind: EnvoyFilter is not served by this control plane/],
    ['wasm-missing-file.yaml', /wasm-missing-file\.yaml: document 1: spec\.url: file:\/\/\/nonexistent\/filter\.wasm: .* not found/],
    ['wasm-unknown-module.yaml', /wasm-unknown-module\.yaml: document 1: spec\.url: http:\/\/127\.0\.0\.1:15081\/modules\/sha256\/0{64}: no module with sha256 0{64} was pushed/],
  ])('refuses %s naming file, document and field; the last good configuration keeps serving', async (file, message) => {
    const before = cp.cache.snapshotFor(CART);
    let pushes = 0;
    const cancel = cp.cache.watch(CART, () => { pushes += 1; });
    copyFileSync(path.join(FIXTURES, 'invalid', file), path.join(config.dir, file));
    try {
      expect(await cp.reloadConfig()).toBe(false);
      expect(logs.at(-1)).toMatch(/^control-plane: refused the edit, last good configuration keeps serving: /);
      expect(logs.at(-1)).toMatch(message);
      await cp.settled();
      expect(pushes).toBe(0);
      expect(cp.cache.snapshotFor(CART)).toBe(before);
    } finally {
      cancel();
      writeFile(config.dir, file, '');
      expect(await cp.reloadConfig()).toBe(true);
      await cp.settled();
    }
  });

  it('refuses a directory with several bad documents in one go, naming every one; the last good configuration keeps serving', async () => {
    const many = path.join(FIXTURES, 'invalid-many');
    const expected = JSON.parse(readFileSync(path.join(many, 'expected.json'), 'utf8')) as string[];
    const files = ['a-routes.yaml', 'b-plugins.yaml'];
    const before = cp.cache.snapshotFor(CART);
    for (const file of files) copyFileSync(path.join(many, file), path.join(config.dir, file));
    try {
      expect(await cp.reloadConfig()).toBe(false);
      const [head, ...lines] = logs.at(-1)!.split('\n');
      expect(head).toMatch(new RegExp(`^control-plane: refused the edit, last good configuration keeps serving: .*: ${expected.length} problems:$`));
      expect(lines).toHaveLength(expected.length);
      lines.forEach((line, i) => expect(line, `problem ${i}`).toContain(expected[i]!));
      await cp.settled();
      expect(cp.cache.snapshotFor(CART)).toBe(before);
    } finally {
      for (const file of files) writeFile(config.dir, file, '');
      expect(await cp.reloadConfig()).toBe(true);
      await cp.settled();
    }
  });

  it('a WasmPlugin (file://) joins the inbound chain by phase and priority, with its pluginConfig', async () => {
    writeFile(config.dir, 'plugins.yaml', `apiVersion: extensions.istio.io/v1alpha1
kind: WasmPlugin
metadata:
  name: example
  namespace: shop
spec:
  url: file://${path.join(ROOT, 'build/filters/example.wasm')}
  phase: STATS
  priority: 10
  selector:
    matchLabels:
      app: cart
  pluginConfig:
    greeting: hi
---
apiVersion: extensions.istio.io/v1alpha1
kind: WasmPlugin
metadata:
  name: early
  namespace: istio-system
spec:
  url: file://${path.join(ROOT, 'build/filters/example.wasm')}
  phase: AUTHN
`);
    copyFileSync(path.join(FIXTURES, 'policies.yaml'), path.join(config.dir, 'policies.yaml'));
    expect(await cp.reloadConfig()).toBe(true);
    await cp.settled();
    const snapshot = cp.cache.snapshotFor(CART);
    expect([...snapshot.resources.get(TypeUrl.extensionConfig)!.keys()].sort()).toEqual(['istio-system.early', 'shop.example', 'wasmesh.jwt-auth', 'wasmesh.rbac']);
    const inbound = snapshot.resources.get(TypeUrl.listener)!.get('virtualInbound')!;
    expect(inbound.references.filter((r) => r.typeUrl === TypeUrl.extensionConfig).map((r) => r.name))
      .toEqual(['wasmesh.jwt-auth', 'istio-system.early', 'wasmesh.rbac', 'shop.example']);
    expect(Buffer.from(snapshot.resources.get(TypeUrl.extensionConfig)!.get('shop.example')!.value).toString('latin1')).toContain('{"greeting":"hi"}');
    const sha = cp.modules.list().map((m) => m.sha256);
    expect(sha).toContain((await import('node:crypto')).createHash('sha256').update(readFileSync(path.join(ROOT, 'build/filters/example.wasm'))).digest('hex'));
  });

  it('a burst of edits becomes one push (debounce)', async () => {
    let pushes = 0;
    const cancel = cp.cache.watch(CART, () => { pushes += 1; });
    for (let i = 0; i < 5; i += 1) writeFile(config.dir, 'burst.yaml', `apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata:
  name: burst
  namespace: shop
spec:
  address: 10.9.9.\${i}
  labels:
    app: cart
`);
    await new Promise((r) => setTimeout(r, 400));
    await cp.settled();
    cancel();
    expect(pushes).toBe(1);
  });
});
