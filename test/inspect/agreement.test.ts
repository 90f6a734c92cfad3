/**
 * `deployer inspect` and the loader behind `deployer run` must never disagree: over every fixture
 * module (the .wat/.bin inspect fixtures, every built test filter, every built filter), inspect
 * says OK exactly when the host links the module, and when both refuse it the loader names the
 * same reasons inspect prints. (A linked module may still refuse to start: its proxy_on_vm_start
 * or proxy_on_configure answers false with the empty configuration used here; that is the
 * module's decision, not a link verdict.)
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createProxyWasmHost, type WasmProxyHost } from '../../deployer/src/host/host.js';
import { inspectModule } from '../../deployer/src/inspect/inspect.js';
import { loadWasmFixture, repoRoot, wasmFixtureDir } from './support.js';

function modules(): { name: string; bytes: () => Uint8Array }[] {
  const fixtures = readdirSync(wasmFixtureDir).filter((f) => f.endsWith('.wat') || f.endsWith('.bin'))
    .map((f) => ({ name: `fixtures/wasm/${f}`, bytes: () => loadWasmFixture(f) }));
  const built = ['test-filters', 'filters'].flatMap((dir) => {
    const full = join(repoRoot, 'build', dir);
    return existsSync(full) ? readdirSync(full).filter((f) => f.endsWith('.wasm')).map((f) => ({ name: `build/${dir}/${f}`, bytes: () => new Uint8Array(readFileSync(join(full, f))) })) : [];
  });
  return [...fixtures, ...built];
}

/** Refusals that come after linking: the module started and then said no, or trapped. */
const AFTER_LINK = /proxy_on_(context_create|vm_start|configure) (returned false|trapped)|start function trapped/;

let host: WasmProxyHost | undefined;
afterEach(async () => {
  await host?.close();
  host = undefined;
});

describe('inspect and the loader agree', () => {
  const all = modules();

  it('covers the fixtures, the built test filters (ABI 0.1.0 ones included) and the built filters', () => {
    const names = all.map((m) => m.name);
    expect(names).toEqual(expect.arrayContaining(['fixtures/wasm/abi010-minimal.wat', 'build/test-filters/abi010.wasm', 'build/test-filters/conformance.wasm', 'build/filters/rbac.wasm']));
  });

  it.each(all)('inspect and loader: $name', async ({ bytes }) => {
    const wasm = new Uint8Array(bytes());
    const report = inspectModule(wasm);
    host = createProxyWasmHost({ onLog: () => undefined });
    const refusal = await host.loadPlugin({ name: 'agree', rootId: '', wasm, configuration: '', failOpen: false }).then(() => undefined, (e: Error) => e.message);
    const linked = refusal === undefined || AFTER_LINK.test(refusal);
    expect({ linked, refusal }).toEqual({ linked: report.ok, refusal });
    if (!report.ok && !report.problems.some((p) => p.startsWith('module does not compile') || p.startsWith('not a Wasm') || p.startsWith('unsupported Wasm'))) {
      expect(refusal).toBe(`wasm plugin "agree": ${report.problems.join('; ')}`);
    }
  });
});
