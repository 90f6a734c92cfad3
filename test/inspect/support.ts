import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import binaryen from 'binaryen';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const wasmFixtureDir = join(repoRoot, 'test', 'fixtures', 'wasm');

/**
 * Fixture modules are kept as text (.wat, assembled here with binaryen, which AssemblyScript already
 * depends on) or as tiny raw byte files (.bin) for the malformed cases — no .wasm build output is committed.
 */
export function loadWasmFixture(file: string): Uint8Array {
  const path = join(wasmFixtureDir, file);
  if (!file.endsWith('.wat')) return new Uint8Array(readFileSync(path));
  const module = binaryen.parseText(readFileSync(path, 'utf8'));
  try {
    if (!module.validate()) throw new Error(`fixture ${file} does not validate`);
    return module.emitBinary();
  } finally {
    module.dispose();
  }
}

export function builtFilter(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(repoRoot, 'build', 'filters', `${name}.wasm`)));
}
