/**
 * Deployer code as it ships. Benchmarks run under tsx, which compiles with keepNames (a
 * name-setting defineProperty around every named function created: about half a microsecond per
 * closure made on a request path); the CLI users run (build/deployer.mjs) is bundled without it.
 * So the code a benchmark times is imported from a bundle compiled like the CLI (bundleModule).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleModule } from '../deployer/src/build/cli-bundle.js';
import type { createProxyWasmHost as CreateProxyWasmHost } from '../deployer/src/host/host.js';
import type { validateSidecarConfig as ValidateSidecarConfig } from '../deployer/src/sidecar/config/validate.js';
import type { startSidecar as StartSidecar } from '../deployer/src/sidecar/sidecar.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function shipped<T>(name: string, exports: Readonly<Record<string, string>>): Promise<T> {
  return await import(await bundleModule(root, exports, path.join(root, 'build', 'bench', `${name}.mjs`))) as T;
}

/** The proxy-wasm host (deployer/src/host/host.ts) as shipped. */
export async function shippedHost(): Promise<typeof CreateProxyWasmHost> {
  return (await shipped<{ createProxyWasmHost: typeof CreateProxyWasmHost }>('host', { createProxyWasmHost: 'deployer/src/host/host.ts' })).createProxyWasmHost;
}

/** `deployer run`'s sidecar (start and config validation) as shipped. */
export async function shippedSidecar(): Promise<{ startSidecar: typeof StartSidecar; validateSidecarConfig: typeof ValidateSidecarConfig }> {
  return shipped('sidecar', { startSidecar: 'deployer/src/sidecar/sidecar.ts', validateSidecarConfig: 'deployer/src/sidecar/config/validate.ts' });
}
