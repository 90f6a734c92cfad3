/**
 * GenerationSet bookkeeping behind `sidecar.reload`: plugins and cluster pools shared between
 * generations while their configuration is unchanged, released (VMs unloaded, pools closed)
 * once the last generation using them has no stream left, a failed build leaving nothing behind.
 */
import { describe, expect, it } from 'vitest';
import type { FilterChain, PluginSpec, ProxyWasmHost, WasmPluginHandle } from '../../deployer/src/host/api.js';
import { GenerationBuildError, GenerationSet } from '../../deployer/src/sidecar/generation.js';
import type { ClusterPool } from '../../deployer/src/sidecar/upstream.js';
import { builtFilter } from '../setup/paths.js';
import { sidecarConfig } from './helpers.js';

/** A host that records what it loads and unloads; a configuration "refuse" is refused. */
function recordingHost() {
  const loaded: string[] = [];
  const unloaded: string[] = [];
  const host: ProxyWasmHost = {
    loadPlugin: (spec: PluginSpec) => {
      if (spec.configuration.includes('refuse')) return Promise.reject(new Error('configuration refused'));
      loaded.push(`${spec.name}:${spec.configuration}`);
      return Promise.resolve({ spec, reconfigure: () => Promise.resolve() });
    },
    newFilterChain: (plugins: readonly WasmPluginHandle[]): FilterChain => ({ plugins, newStream: () => { throw new Error('not used'); } }),
    metrics: () => [],
    unloadPlugin: (plugin) => { unloaded.push(`${plugin.spec.name}:${plugin.spec.configuration}`); },
    close: () => Promise.resolve(),
  };
  return { host, loaded, unloaded };
}

const config = (filters: Record<string, string>, clusters: Record<string, string> = { app: 'http://127.0.0.1:9' }) => sidecarConfig({
  filters: Object.entries(filters).map(([name, configuration]) => ({ name, vm_config: { code: { local: { filename: builtFilter('example') } } }, configuration })),
  clusters,
  routes: [{ match: { prefix: '/' }, cluster: Object.keys(clusters)[0] }],
});

function setup() {
  const recorder = recordingHost();
  const liveClusters = new Map<string, ClusterPool>();
  const set = new GenerationSet({ host: () => recorder.host, liveClusters });
  return { ...recorder, set, liveClusters };
}

describe('GenerationSet', () => {
  it('reuses unchanged plugins, loads changed ones, and unloads the old ones when the last stream leaves', async () => {
    const { set, loaded, unloaded } = setup();
    set.swap(await set.build(config({ a: 'one', b: 'one' }), 1));
    const stream = set.enter();
    set.swap(await set.build(config({ a: 'one', b: 'two' }), 2));
    expect(loaded).toEqual(['a:one', 'b:one', 'b:two']);
    // The old generation still has a stream: nothing unloaded yet.
    expect(unloaded).toEqual([]);
    expect(set.retiredCount).toBe(1);
    set.leave(stream);
    expect(unloaded).toEqual(['b:one']);
    expect(set.retiredCount).toBe(0);
    expect(set.inFlight).toBe(0);
  });

  it('keeps pools of unchanged clusters, closes replaced ones, and shows plugins the newest clusters', async () => {
    const { set, liveClusters } = setup();
    const first = await set.build(config({}, { app: 'http://127.0.0.1:9', old: 'http://127.0.0.1:10' }), 1);
    set.swap(first);
    const second = await set.build(config({}, { app: 'http://127.0.0.1:9', fresh: 'http://127.0.0.1:11' }), 2);
    set.swap(second);
    expect(second.pools.get('app')).toBe(first.pools.get('app'));
    expect([...liveClusters.keys()]).toEqual(['app', 'fresh']);
  });

  it('leaves nothing behind when a build fails, and the current generation keeps serving', async () => {
    const { set, loaded, unloaded, liveClusters } = setup();
    const first = await set.build(config({ a: 'one' }), 1);
    set.swap(first);
    const failed = await set.build(config({ a: 'one', b: 'refuse', c: 'x' }, { other: 'http://127.0.0.1:12' }), 2).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(GenerationBuildError);
    expect((failed as Error).message).toMatch(/^filters\[1\] \(b\): could not load .*configuration refused/);
    expect(loaded).toEqual(['a:one']);
    expect(unloaded).toEqual([]);
    expect(set.latest).toBe(first);
    expect([...liveClusters.keys()]).toEqual(['app']);
  });

  it('whenIdle resolves when the last stream leaves, or false at the timeout', async () => {
    const { set } = setup();
    set.swap(await set.build(config({}), 1));
    const stream = set.enter();
    expect(await set.whenIdle(10)).toBe(false);
    const idle = set.whenIdle(5_000);
    set.leave(stream);
    expect(await idle).toBe(true);
  });
});
