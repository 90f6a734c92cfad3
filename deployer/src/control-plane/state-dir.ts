import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync, fsyncSync, closeSync, renameSync, writeFileSync, readFileSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';

/**
 * The control plane's state directory: uploaded modules (`modules/<sha256>.wasm`) and
 * attachments (`attachments.json`). Every write goes to a temporary file in the same directory,
 * is fsynced, then renamed over the target — a crash leaves the old file or the new one, never
 * half of either (rename(2) is atomic within a filesystem).
 */
export class StateDir {
  readonly modulesDir: string;

  constructor(readonly root: string) {
    this.modulesDir = path.join(root, 'modules');
    try {
      mkdirSync(this.modulesDir, { recursive: true });
    } catch (error) {
      throw new Error(`could not create the state directory ${root}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  writeAtomic(relative: string, data: Uint8Array | string): void {
    const target = path.join(this.root, relative);
    const temporary = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      writeFileSync(temporary, data);
      const fd = openSync(temporary, 'r');
      try { fsyncSync(fd); } finally { closeSync(fd); }
      renameSync(temporary, target);
    } catch (error) {
      rmSync(temporary, { force: true });
      throw new Error(`could not write ${target}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  read(relative: string): Buffer | undefined {
    const file = path.join(this.root, relative);
    return existsSync(file) ? readFileSync(file) : undefined;
  }

  remove(relative: string): void {
    rmSync(path.join(this.root, relative), { force: true });
  }
}
