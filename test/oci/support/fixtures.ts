import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The example filter as built by test/setup/build-wasm.ts (vitest globalSetup). */
export function builtExampleFilter(): Uint8Array {
  return new Uint8Array(readFileSync(join(repoRoot, 'build', 'filters', 'example.wasm')));
}

export function ociFixture(name: string): string {
  return join(repoRoot, 'test', 'fixtures', 'oci', name);
}

/** Raw distribution API GET, bypassing the code under test. */
export async function rawGet(registryUrl: string, path: string, accept?: string): Promise<{ readonly status: number; readonly bytes: Uint8Array; readonly headers: Headers }> {
  const response = await fetch(`${registryUrl}${path}`, { headers: accept ? { accept } : {} });
  return { status: response.status, bytes: new Uint8Array(await response.arrayBuffer()), headers: response.headers };
}
