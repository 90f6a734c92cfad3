import { createHash } from 'node:crypto';

/**
 * Compiled modules by sha256 of their bytes. A filter whose configuration changes (an ECDS
 * update with a new pluginConfig, a rollback, a file reload) keeps its module: Envoy keys its
 * VMs by code hash too (source/extensions/common/wasm/wasm.cc, the vm_key built from the code's
 * sha256), so the module is compiled and checked once, and a new plugin only instantiates it.
 * Bounded: the least recently used entry goes past `MAX_ENTRIES`; a failed compile is not kept.
 */
const MAX_ENTRIES = 32;
const entries = new Map<string, Promise<unknown>>();

export function compiledByDigest<T>(wasm: Uint8Array, compile: () => Promise<T>): Promise<T> {
  const digest = createHash('sha256').update(wasm).digest('hex');
  const hit = entries.get(digest) as Promise<T> | undefined;
  if (hit) {
    entries.delete(digest);
    entries.set(digest, hit);
    return hit;
  }
  const compiled = compile();
  entries.set(digest, compiled);
  compiled.catch(() => { if (entries.get(digest) === compiled) entries.delete(digest); });
  while (entries.size > MAX_ENTRIES) entries.delete(entries.keys().next().value!);
  return compiled;
}

/** Entries held now (tests). */
export function compiledModuleCount(): number {
  return entries.size;
}
