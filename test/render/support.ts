import type { RenderOptions } from '../../deployer/src/render/types.js';

/** Fixed inputs for golden renders: fake but well-formed digests. */
export const MANIFEST_DIGEST = `sha256:${'1'.repeat(64)}`;
export const PREVIOUS_DIGEST = `sha256:${'0'.repeat(64)}`;

export function renderInput(filter: string, overrides: Partial<RenderOptions> = {}): RenderOptions {
  return {
    filter,
    namespace: 'shop',
    selector: { app: 'reviews' },
    context: 'inbound',
    via: 'envoyfilter',
    failStrategy: 'close',
    image: { url: `oci://registry.example:5000/wasmesh/${filter}@${MANIFEST_DIGEST}`, manifestDigest: MANIFEST_DIGEST, wasmSha256: 'a'.repeat(64) },
    pluginConfig: { example: true },
    ...overrides,
  };
}
