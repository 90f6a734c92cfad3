import { describe, expect, it } from 'vitest';
import type { LogEntry } from '../../deployer/src/host/api.js';
import { buildImports } from '../../deployer/src/host/abi/imports.js';
import { createProxyWasmHost } from '../../deployer/src/host/host.js';
import { PluginVm } from '../../deployer/src/host/plugin-vm.js';
import { ProcExit } from '../../deployer/src/host/vm.js';
import { ManualClock } from '../../deployer/src/host/testing/manual-time.js';
import { testFilter } from './helpers.js';

type Fn = (...args: (number | bigint)[]) => number | void;

function setup() {
  const logs: LogEntry[] = [];
  const clock = new ManualClock(1_000);
  const host = createProxyWasmHost({ onLog: (e) => logs.push(e), clock, environment: [['MODE', 'test']] });
  const module = new WebAssembly.Module(testFilter('empty'));
  const vm = new PluginVm({ name: 'wasi', rootId: 'empty', wasm: testFilter('empty'), configuration: '', failOpen: false }, host.services, module, '0_2_1');
  vm.start();
  const wasi = buildImports(vm)['wasi_snapshot_preview1'] as unknown as Record<string, Fn>;
  const scratch = vm.vm.allocate(256);
  return { vm, wasi, logs, scratch };
}

describe('host: WASI functions (cpp-host exports.cc)', () => {
  it('host: fd_write to stdout logs at info without the trailing newline; other fds are EBADF', () => {
    const { vm, wasi, logs, scratch } = setup();
    const text = new TextEncoder().encode('hello wasi\n');
    vm.vm.setBytes(scratch + 64, text);
    vm.vm.setU32(scratch, scratch + 64);
    vm.vm.setU32(scratch + 4, text.length);
    expect(wasi['fd_write']!(1, scratch, 1, scratch + 16)).toBe(0);
    expect(vm.vm.getU32(scratch + 16)).toBe(text.length);
    expect(logs).toContainEqual({ level: 'info', plugin: 'wasi', message: 'hello wasi' });
    expect(wasi['fd_write']!(2, scratch, 1, scratch + 16)).toBe(0);
    expect(logs.at(-1)!.level).toBe('error');
    expect(wasi['fd_write']!(3, scratch, 1, scratch + 16)).toBe(8);
  });

  it('host: clock_time_get reads the host clock; unknown clocks are ENOTSUP', () => {
    const { vm, wasi, scratch } = setup();
    expect(wasi['clock_time_get']!(0, 1n, scratch)).toBe(0);
    expect(Buffer.from(vm.vm.bytes(scratch, 8)!).readBigUint64LE(0)).toBe(1_000_000_000n);
    expect(wasi['clock_time_get']!(2, 1n, scratch)).toBe(58);
  });

  it('host: random_get fills the buffer and refuses more than 64 KiB', () => {
    const { vm, wasi, scratch } = setup();
    vm.vm.setBytes(scratch, new Uint8Array(32));
    expect(wasi['random_get']!(scratch, 32)).toBe(0);
    expect(vm.vm.bytes(scratch, 32)!.some((b) => b !== 0)).toBe(true);
    expect(wasi['random_get']!(scratch, 65537)).toBe(28);
  });

  it('host: environ_sizes_get / environ_get expose the VM environment; args are empty', () => {
    const { vm, wasi, scratch } = setup();
    expect(wasi['environ_sizes_get']!(scratch, scratch + 4)).toBe(0);
    expect([vm.vm.getU32(scratch), vm.vm.getU32(scratch + 4)]).toEqual([1, 10]);
    expect(wasi['environ_get']!(scratch + 8, scratch + 32)).toBe(0);
    expect(vm.vm.getU32(scratch + 8)).toBe(scratch + 32);
    expect(new TextDecoder().decode(vm.vm.bytes(scratch + 32, 10))).toBe('MODE=test\0');
    expect(wasi['args_sizes_get']!(scratch, scratch + 4)).toBe(0);
    expect(vm.vm.getU32(scratch)).toBe(0);
  });

  it('host: proc_exit fails the VM; poll_oneoff reports no events; path_open is ENOENT', () => {
    const { vm, wasi, scratch } = setup();
    expect(() => wasi['proc_exit']!(3)).toThrow(ProcExit);
    expect(wasi['poll_oneoff']!(0, 0, 1, scratch)).toBe(0);
    expect(vm.vm.getU32(scratch)).toBe(0);
    expect(wasi['path_open']!(3, 0, 0, 0, 0, 0n, 0n, 0, scratch)).toBe(44);
    expect(wasi['sched_yield']!()).toBe(0);
  });
});
