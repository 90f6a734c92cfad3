import { describe, expect, it } from 'vitest';
import { compiledByDigest, compiledModuleCount } from '../../deployer/src/host/compiled-modules.js';

describe('host: compiled modules by sha256', () => {
  it('compiles a module once however many plugins load it; a failed compile is retried next time', async () => {
    const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 42]);
    let compiles = 0;
    const compile = async () => { compiles += 1; return { n: compiles }; };
    const first = await compiledByDigest(bytes, compile);
    expect(await compiledByDigest(new Uint8Array(bytes), compile)).toBe(first);
    expect(compiles).toBe(1);

    const broken = new Uint8Array([1, 2, 3]);
    await expect(compiledByDigest(broken, () => Promise.reject(new Error('bad module')))).rejects.toThrow('bad module');
    await new Promise((r) => setImmediate(r));
    expect(await compiledByDigest(broken, async () => 'fixed')).toBe('fixed');
  });

  it('keeps at most 32 modules, dropping the least recently used', async () => {
    for (let i = 0; i < 40; i += 1) await compiledByDigest(new Uint8Array([7, i]), async () => i);
    expect(compiledModuleCount()).toBe(32);
    let recompiled = false;
    await compiledByDigest(new Uint8Array([7, 0]), async () => { recompiled = true; return 0; });
    expect(recompiled).toBe(true);
  });
});
