import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { StateDir } from './state-dir.js';

export interface StoredModule {
  readonly sha256: string;
  readonly size: number;
}

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];
const SHA256_HEX = /^[0-9a-f]{64}$/;

export function isSha256Hex(text: string): boolean {
  return SHA256_HEX.test(text);
}

/**
 * Wasm modules addressed by their sha256: what is stored under a digest is exactly the bytes that
 * hash to it, so a proxy checking Wasm.config.vm_config.code.remote.sha256 always succeeds.
 * Modules live in memory and, with a state directory, on disk (written atomically).
 */
export class ModuleStore {
  private readonly modules = new Map<string, Buffer>();

  constructor(private readonly state?: StateDir) {
    if (!state) return;
    for (const file of readdirSync(state.modulesDir)) {
      const match = /^([0-9a-f]{64})\.wasm$/.exec(file);
      if (!match) continue;
      const bytes = readFileSync(path.join(state.modulesDir, file));
      // A file whose content does not hash to its name is not served (disk corruption, manual edit).
      if (sha256Hex(bytes) === match[1]) this.modules.set(match[1]!, bytes);
    }
  }

  /** Store a module; refuses anything that is not a WebAssembly binary. Returns its digest. */
  put(bytes: Uint8Array): StoredModule {
    if (bytes.length < 8 || WASM_MAGIC.some((b, i) => bytes[i] !== b)) {
      throw new Error(`not a WebAssembly module: expected the \\0asm magic, got ${Buffer.from(bytes.subarray(0, 4)).toString('hex') || 'an empty body'}`);
    }
    const sha256 = sha256Hex(bytes);
    if (!this.modules.has(sha256)) {
      const copy = Buffer.from(bytes);
      this.state?.writeAtomic(path.join('modules', `${sha256}.wasm`), copy);
      this.modules.set(sha256, copy);
    }
    return { sha256, size: bytes.length };
  }

  get(sha256: string): Buffer | undefined {
    return this.modules.get(sha256);
  }

  has(sha256: string): boolean {
    return this.modules.has(sha256);
  }

  list(): StoredModule[] {
    return [...this.modules].map(([sha256, bytes]) => ({ sha256, size: bytes.length })).sort((a, b) => a.sha256.localeCompare(b.sha256));
  }

  /**
   * Drop modules nothing needs: not in `keep` (referenced by a served snapshot or an attachment,
   * including its rollback history) and older than `graceMs` on disk (a module uploaded a moment
   * ago is about to be attached).
   */
  collect(keep: ReadonlySet<string>, graceMs = 60 * 60 * 1000): string[] {
    const removed: string[] = [];
    for (const sha256 of [...this.modules.keys()]) {
      if (keep.has(sha256)) continue;
      const file = this.state ? path.join(this.state.modulesDir, `${sha256}.wasm`) : undefined;
      const age = file ? Date.now() - statSync(file).mtimeMs : Infinity;
      if (age < graceMs) continue;
      this.modules.delete(sha256);
      this.state?.remove(path.join('modules', `${sha256}.wasm`));
      removed.push(sha256);
    }
    return removed;
  }
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
