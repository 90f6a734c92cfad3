import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ModuleStore, sha256Hex } from '../../deployer/src/control-plane/module-store.js';
import { StateDir } from '../../deployer/src/control-plane/state-dir.js';
import { tempDir } from './harness.js';

const wasm = (tag: number) => Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, tag]);

describe('control-plane: module store and state directory', () => {
  const dirs: { cleanup(): void }[] = [];
  afterEach(() => { for (const d of dirs.splice(0)) d.cleanup(); });
  const state = () => { const d = tempDir(); dirs.push(d); return new StateDir(d.dir); };

  it('stores by sha256, survives a restart, and leaves no temporary files', () => {
    const dir = state();
    const { sha256 } = new ModuleStore(dir).put(wasm(1));
    expect(sha256).toBe(sha256Hex(wasm(1)));
    expect(readdirSync(dir.modulesDir)).toEqual([`${sha256}.wasm`]);
    expect(new ModuleStore(dir).get(sha256)).toEqual(Buffer.from(wasm(1)));
  });

  it('does not serve a file whose content no longer hashes to its name', () => {
    const dir = state();
    const { sha256 } = new ModuleStore(dir).put(wasm(2));
    writeFileSync(path.join(dir.modulesDir, `${sha256}.wasm`), wasm(3));
    expect(new ModuleStore(dir).has(sha256)).toBe(false);
  });

  it('collects only modules nothing refers to and that are past the grace period', () => {
    const dir = state();
    const store = new ModuleStore(dir);
    const kept = store.put(wasm(4)).sha256;
    const fresh = store.put(wasm(5)).sha256;
    const old = store.put(wasm(6)).sha256;
    const past = new Date(Date.now() - 2 * 60 * 60 * 1000);
    for (const sha of [kept, old]) utimesSync(path.join(dir.modulesDir, `${sha}.wasm`), past, past);
    expect(store.collect(new Set([kept]))).toEqual([old]);
    expect(store.list().map((m) => m.sha256).sort()).toEqual([kept, fresh].sort());
    expect(existsSync(path.join(dir.modulesDir, `${old}.wasm`))).toBe(false);
  });

  it('refuses what is not WebAssembly, naming what it got', () => {
    expect(() => new ModuleStore().put(Buffer.from('PK\x03\x04zipfile'))).toThrow(/not a WebAssembly module: expected the \\0asm magic, got 504b0304/);
  });

  it('writes atomically: the target is replaced whole', () => {
    const dir = state();
    dir.writeAtomic('attachments.json', 'first');
    dir.writeAtomic('attachments.json', 'second');
    expect(readFileSync(path.join(dir.root, 'attachments.json'), 'utf8')).toBe('second');
    expect(readdirSync(dir.root).sort()).toEqual(['attachments.json', 'modules']);
  });
});
