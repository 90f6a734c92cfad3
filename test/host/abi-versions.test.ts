/**
 * Per-version conformance of the ABI Envoy links (cpp-host src/wasm.cc registerCallbacks /
 * getFunctions): which imports each ABI version is offered or refused, the header callbacks'
 * signatures, and the 0.1.0-only paths (continue_request / continue_response /
 * clear_route_cache / get_configuration, absent headers reading as empty) on the built
 * AssemblyScript test filter test/fixtures/filters/abi010. The expectations are a fixture
 * written from cpp-host (test/fixtures/host/envoy-abi-versions.json), not the host's own table.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import binaryen from 'binaryen';
import { afterEach, describe, expect, it } from 'vitest';
import { createProxyWasmHost, type WasmProxyHost } from '../../deployer/src/host/host.js';
import { HostEmulator } from '../../deployer/src/host/testing/emulator.js';
import { inspectModule } from '../../deployer/src/inspect/inspect.js';
import { loadWasmFixture } from '../inspect/support.js';
import { repoRoot } from '../setup/paths.js';
import { GET, header, testFilter, withAction } from './helpers.js';

type Abi = '0_1_0' | '0_2_0' | '0_2_1';
interface Expectations {
  readonly abiSpecificImports: Record<string, { params: string[]; results: string[]; offeredTo: Abi[] }>;
  readonly commonImports: Record<string, [string[], string[]]>;
  readonly headerCallbacks: Record<Abi, { params: number; refusedParams: number }>;
}
const expected = JSON.parse(readFileSync(path.join(repoRoot, 'test', 'fixtures', 'host', 'envoy-abi-versions.json'), 'utf8')) as Expectations;
const VERSIONS: readonly Abi[] = ['0_1_0', '0_2_0', '0_2_1'];
const label = (abi: Abi) => abi.replace(/_/g, '.');

const funcType = (params: readonly string[], results: readonly string[]) =>
  `${params.length ? ` (param ${params.join(' ')})` : ''}${results.length ? ` (result ${results.join(' ')})` : ''}`;

/** A module declaring `abi` with the given imports and extra exported functions (assembled with binaryen). */
function module(abi: Abi, imports: readonly [string, string[], string[]][], headerParams?: number): Uint8Array<ArrayBuffer> {
  const lines = imports.map(([name, params, results], i) => {
    const [mod, fn] = name.split('.') as [string, string];
    return `(import "${mod}" "${fn}" (func $i${i}${funcType(params, results)}))`;
  });
  if (headerParams !== undefined) {
    const params = Array.from({ length: headerParams }, () => 'i32');
    lines.push(`(func (export "proxy_on_request_headers")${funcType(params, ['i32'])} (i32.const 0))`);
    lines.push(`(func (export "proxy_on_response_headers")${funcType(params, ['i32'])} (i32.const 0))`);
  }
  const text = `(module ${lines.filter((l) => l.startsWith('(import')).join(' ')}
    (memory (export "memory") 1)
    (func (export "proxy_abi_version_${abi}"))
    (func (export "malloc") (param i32) (result i32) (i32.const 1024))
    (func (export "proxy_on_context_create") (param i32 i32))
    ${lines.filter((l) => !l.startsWith('(import')).join(' ')})`;
  const m = binaryen.parseText(text);
  try {
    return new Uint8Array(m.emitBinary());
  } finally {
    m.dispose();
  }
}

let host: WasmProxyHost | undefined;
afterEach(async () => {
  await host?.close();
  host = undefined;
});

/** 'loaded', or the loader's refusal; inspect must agree with it. */
async function load(wasm: Uint8Array<ArrayBuffer>): Promise<string> {
  host = createProxyWasmHost({ onLog: () => undefined });
  const outcome = await host.loadPlugin({ name: 'm', rootId: '', wasm, configuration: '', failOpen: false }).then(() => 'loaded', (e: Error) => e.message);
  expect(inspectModule(wasm).ok).toBe(outcome === 'loaded');
  return outcome;
}

const specificCases = Object.entries(expected.abiSpecificImports).flatMap(([name, { params, results, offeredTo }]) =>
  VERSIONS.map((abi) => ({ name, abi, params, results, offered: offeredTo.includes(abi) })));

describe('host: imports offered and refused per ABI version (cpp-host registerCallbacks)', () => {
  it.each(specificCases)('host: ABI $abi module importing env.$name is offered it: $offered', async ({ name, abi, params, results, offered }) => {
    const outcome = await load(module(abi, [[`env.${name}`, params, results]]));
    if (offered) expect(outcome).toBe('loaded');
    else expect(outcome).toContain(`module imports env.${name}, which Envoy does not provide to ABI ${label(abi)} modules`);
  });

  it.each(VERSIONS)('host: ABI %s module gets every common host, emscripten and WASI function with its exports.h type', async (abi) => {
    const imports = Object.entries(expected.commonImports).map(([name, [params, results]]): [string, string[], string[]] => [name, params, results]);
    expect(await load(module(abi, imports))).toBe('loaded');
  });

  it.each(VERSIONS)('host: ABI %s module importing a host function with another type is refused as V8 link refuses it', async (abi) => {
    expect(await load(module(abi, [['env.proxy_log', ['i32', 'i32'], ['i32']]])))
      .toContain('import type mismatch: env.proxy_log, want: i32 i32 -> i32, but host exports: i32 i32 i32 -> i32');
  });
});

describe('host: header callback signatures per ABI version (cpp-host getFunctions _abi_01 / _abi_02)', () => {
  it.each(VERSIONS.map((abi) => ({ abi, ...expected.headerCallbacks[abi] })))('host: ABI $abi proxy_on_request_headers takes $params parameters', async ({ abi, params, refusedParams }) => {
    expect(await load(module(abi, [], params))).toBe('loaded');
    const want = `want: ${Array.from({ length: params }, () => 'i32').join(' ')} -> i32`;
    expect(await load(module(abi, [], refusedParams))).toContain(`Bad function signature for: proxy_on_request_headers, ${want}`);
  });

  it.each([
    ['abi010-eos-headers', 'Bad function signature for: proxy_on_request_headers, want: i32 i32 -> i32, but the module exports: i32 i32 i32 -> i32 (ABI 0.1.0)'],
    ['abi020-two-arg-headers', 'Bad function signature for: proxy_on_request_headers, want: i32 i32 i32 -> i32, but the module exports: i32 i32 -> i32 (ABI 0.2.0)'],
    ['abi010-continue-stream', 'module imports env.proxy_continue_stream, which Envoy does not provide to ABI 0.1.0 modules (only to ABI 0.2.0, 0.2.1)'],
    ['abi021-clear-route-cache', 'module imports env.proxy_clear_route_cache, which Envoy does not provide to ABI 0.2.1 modules (only to ABI 0.1.0)'],
  ])('host: built test filter %s is refused naming the reason', async (name, reason) => {
    expect(await load(testFilter(name))).toBe(`wasm plugin "m": ${reason}`);
  });
});

const abi010 = (configuration = '', vmConfiguration = 'vm-config') =>
  HostEmulator.load({ wasm: testFilter('abi010'), rootId: '', name: 'abi010', configuration, vmConfiguration });

describe('host: ABI 0.1.0 paths on the built abi010 filter', () => {
  it('host: 0.1.0 proxy_on_request_headers gets (context, header count) and adds to the request', async () => {
    const emu = await abi010('plugin-config');
    const id = emu.initializeHttpContext();
    expect(emu.callOnRequestHeaders(id, withAction('none'), true)).toBe('Continue');
    const headers = emu.getCurrentRequestHeaders(id);
    expect(header(headers, 'x-abi')).toBe('0.1.0');
    expect(header(headers, 'x-headers-arg')).toBe('5');
    expect(emu.callOnResponseHeaders(id, [[':status', '200'], ['server', 'x']], true)).toBe('Continue');
    expect(header(emu.getCurrentResponseHeaders(id), 'x-headers-arg')).toBe('2');
  });

  it('host: 0.1.0 proxy_get_configuration answers the plugin configuration in on_context_create(root) and on_configure, the VM configuration elsewhere', async () => {
    const emu = await abi010('plugin-config', 'vm-config');
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, withAction('none'), true);
    const headers = emu.getCurrentRequestHeaders(id);
    expect(header(headers, 'x-create-configuration')).toBe('plugin-config');
    expect(header(headers, 'x-configuration')).toBe('plugin-config');
    expect(header(headers, 'x-vm-configuration')).toBe('vm-config');
    expect(header(headers, 'x-stream-configuration')).toBe('vm-config');
  });

  it('host: 0.1.0 proxy_get_header_map_value answers Ok with an empty value for an absent header (0.2.x: NotFound)', async () => {
    const emu = await abi010();
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, GET, true);
    expect(header(emu.getCurrentRequestHeaders(id), 'x-absent')).toBe('[]');
  });

  it('host: 0.1.0 proxy_get_header_map_value in proxy_on_log reads an unavailable map as empty (Ok)', async () => {
    const emu = await abi010();
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, GET, true);
    emu.callOnResponseHeaders(id, [[':status', '200']], true);
    emu.completeHttpContext(id);
    expect(emu.getLogs('info')).toContain('log: status=200 trailers=[]');
  });

  it.each([
    ['request', 'pause-request', (emu: HostEmulator, id: number) => emu.callOnRequestHeaders(id, withAction('pause-request'), true)],
    ['response', 'pause-response', (emu: HostEmulator, id: number) => {
      emu.callOnRequestHeaders(id, withAction('pause-response'), true);
      return emu.callOnResponseHeaders(id, [[':status', '200']], true);
    }],
  ])('host: 0.1.0 proxy_continue_%s from proxy_on_tick (through proxy_set_effective_context) resumes the paused %s', async (direction, _action, pause) => {
    const emu = await abi010('tick');
    const id = emu.initializeHttpContext();
    expect(pause(emu, id)).toBe('Pause');
    emu.tick();
    expect(emu.getCurrentHttpStreamAction(id)).toBe('Continue');
    expect(emu.getLogs('info')).toContain(`continue_${direction}: 0`);
  });

  it('host: 0.1.0 proxy_continue_request inside on_request_headers answers Ok', async () => {
    const emu = await abi010();
    const id = emu.initializeHttpContext();
    expect(emu.callOnRequestHeaders(id, withAction('continue-request-here'), true)).toBe('Continue');
    expect(header(emu.getCurrentRequestHeaders(id), 'x-continue-result')).toBe('0');
  });

  it.each([
    ['clear-route-cache-only', true, '/items?id=7'],
    ['read-only', false, '/items?id=7'],
    ['clear-route-cache', true, '/rerouted'],
  ])('host: 0.1.0 x-action %s: routeCacheCleared %s, :path %s', async (action, cleared, finalPath) => {
    const emu = await abi010();
    const chain = emu.host.newFilterChain(emu['plugin'] ? [emu['plugin']] : []);
    const stream = chain.newStream({ connection: { id: 1, sourceAddress: '1.1.1.1', sourcePort: 1, destinationAddress: '2.2.2.2', destinationPort: 2 }, protocol: 'HTTP/1.1' });
    const outcome = await stream.requestHeaders(withAction(action), true);
    expect(outcome).toMatchObject({ action: 'continue', routeCacheCleared: cleared });
    expect(outcome.action === 'continue' && header(outcome.headers, ':path')).toBe(finalPath);
  });

  it('host: 0.1.0 proxy_on_configure returning false refuses the plugin', async () => {
    const emu = await HostEmulator.load({ wasm: testFilter('abi010'), rootId: '', configuration: 'refuse', start: false });
    expect(await emu.startPlugin()).toBe(false);
    expect(emu.getStartError()).toContain('proxy_on_configure returned false');
  });
});

describe('host: memory the way Envoy links it (cpp-host src/v8/v8.cc)', () => {
  it.each([
    ['imported-memory.wat', 'hello from imported memory'],
    ['renamed-memory.wat', 'hello from renamed memory'],
  ])('host: %s runs and the host reads its memory', async (file, text) => {
    const logs: string[] = [];
    host = createProxyWasmHost({ onLog: (entry) => logs.push(entry.message) });
    await host.loadPlugin({ name: 'm', rootId: '', wasm: new Uint8Array(loadWasmFixture(file)), configuration: '', failOpen: false });
    expect(logs).toContain(text);
  });
});
