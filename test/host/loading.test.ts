import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createProxyWasmHost, type WasmProxyHost } from '../../deployer/src/host/host.js';
import { HostEmulator } from '../../deployer/src/host/testing/emulator.js';
import { builtFilter } from '../setup/paths.js';
import { GET, conformance, header, testFilter } from './helpers.js';

let host: WasmProxyHost | undefined;
afterEach(async () => {
  await host?.close();
  host = undefined;
});

const spec = (name: string, overrides: Record<string, unknown> = {}) => ({
  name, rootId: name, wasm: testFilter(name), configuration: '', failOpen: false, ...overrides,
});

describe('host: loading modules', () => {
  it('host: module import env.seed is refused naming the import', async () => {
    host = createProxyWasmHost({ onLog: () => undefined });
    await expect(host.loadPlugin(spec('bad-import'))).rejects.toThrow('wasm plugin "bad-import": module imports env.seed, which Envoy does not provide');
  });

  it('host: proxy_get_log_level is not provided to an ABI 0.2.0 module', async () => {
    host = createProxyWasmHost({ onLog: () => undefined });
    await expect(host.loadPlugin(spec('abi020-log-level'))).rejects.toThrow(/env\.proxy_get_log_level/);
  });

  it('host: proxy_abi_version_0_2_0 module runs with proxy_continue_stream range checks', async () => {
    const emu = await HostEmulator.load({ wasm: testFilter('abi020'), rootId: '' });
    const id = emu.initializeHttpContext();
    expect(emu.callOnRequestHeaders(id, GET, true)).toBe('Continue');
    expect(header(emu.getCurrentRequestHeaders(id), 'x-abi')).toBe('0.2.0');
  });

  it('host: a module without an ABI marker is refused', async () => {
    host = createProxyWasmHost({ onLog: () => undefined });
    // A valid module with a memory and malloc but no proxy_abi_version_* export.
    const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
    await expect(host.loadPlugin({ ...spec('empty'), name: 'nomarker', wasm: bytes })).rejects.toThrow(/wasm plugin "nomarker": Missing or unknown Proxy-Wasm ABI version/);
  });

  it('host: loadPlugin names the bad field of a spec', async () => {
    host = createProxyWasmHost({ onLog: () => undefined });
    await expect(host.loadPlugin({ ...spec('empty'), workers: 0 })).rejects.toThrow('wasm plugin "empty": workers is 0; expected an integer from 1 to 256');
  });

  it('host: built example filter validates and exports the ABI', async () => {
    const bytes = new Uint8Array(readFileSync(builtFilter('example')));
    expect(WebAssembly.validate(bytes)).toBe(true);
    const exports = WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map((e) => e.name);
    expect(exports).toEqual(expect.arrayContaining(['proxy_abi_version_0_2_1', 'malloc', 'proxy_on_memory_allocate', 'proxy_on_context_create', 'proxy_on_request_headers']));
    const emu = await HostEmulator.load({ wasm: bytes, rootId: 'example', configuration: '' });
    const id = emu.initializeHttpContext();
    emu.callOnRequestHeaders(id, GET, true);
    expect(emu.callOnResponseHeaders(id, [[':status', '200']], true)).toBe('Continue');
    expect(header(emu.getCurrentResponseHeaders(id), 'x-wasmesh-example')).toBe('hello');
  });
});

describe('host: proxy_on_vm_start and proxy_on_configure', () => {
  it('host: proxy_on_vm_start receives the vm configuration buffer', async () => {
    const emu = await conformance({ vmConfiguration: 'vm-config-1' });
    expect(emu.getLogs('info')).toContain('vm_start: vm-config-1');
  });

  it('host: proxy_on_vm_start returning false refuses the plugin', async () => {
    await expect(conformance({ vmConfiguration: 'refuse-vm' })).rejects.toThrow('wasm plugin "conformance": proxy_on_vm_start returned false');
  });

  it('host: proxy_on_configure returning false rejects loadPlugin naming the plugin and the reason', async () => {
    await expect(conformance({ configuration: 'refuse' })).rejects.toThrow('wasm plugin "conformance": proxy_on_configure returned false (configuration refused): refusing configuration');
  });

  it('host: proxy_on_configure refusal on reconfigure keeps the last good configuration', async () => {
    const emu = await conformance({ configuration: 'good-1' });
    await expect(emu.reconfigure('refuse')).rejects.toThrow(/configuration refused/);
    await emu.reconfigure('good-2');
    expect(emu.getLogs('info').filter((l) => l.startsWith('configure:'))).toEqual(['configure: good-1', 'configure: refuse', 'configure: good-2']);
    const id = emu.initializeHttpContext();
    expect(emu.callOnRequestHeaders(id, GET, true)).toBe('Continue');
  });

  it('host: proxy_on_configure trap refuses the plugin', async () => {
    await expect(conformance({ configuration: 'trap-configure' })).rejects.toThrow(/proxy_on_configure trapped/);
  });
});
