import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullWasmImage } from '../../deployer/src/oci/pull.js';
import { type ProgressEvent, pushWasmImage } from '../../deployer/src/oci/push.js';
import { type RunningRegistry, startRegistry } from '../support/registry.js';
import { builtExampleFilter, rawGet } from './support/fixtures.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

interface Manifest {
  readonly mediaType: string;
  readonly config: { readonly mediaType: string; readonly digest: string };
  readonly layers: readonly { readonly mediaType: string; readonly digest: string; readonly size: number }[];
  readonly annotations?: Record<string, string>;
}

describe('oci push/pull against a real distribution registry', () => {
  let registry: RunningRegistry;
  const wasm = builtExampleFilter();

  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it.each([
    { format: 'compat' as const, layerType: 'application/vnd.oci.image.layer.v1.tar+gzip', configType: 'application/vnd.oci.image.config.v1+json', layerCount: 1 },
    { format: 'oci' as const, layerType: 'application/vnd.module.wasm.content.layer.v1+wasm', configType: 'application/vnd.module.wasm.config.v1+json', layerCount: 2 },
  ])('push then pull of the $format format returns the same bytes and digests', async ({ format, layerType, configType, layerCount }) => {
    const events: ProgressEvent[] = [];
    const pushed = await pushWasmImage({ wasm, reference: `oci://${registry.host}/wasmesh/example:${format}`, format, onProgress: (event) => events.push(event) });

    expect(pushed.format).toBe(format);
    expect(pushed.wasmSha256).toBe(sha256(wasm));
    expect(pushed.reference).toBe(`${registry.host}/wasmesh/example:${format}@${pushed.manifestDigest}`);
    expect(Object.keys(pushed.timings).sort()).toEqual(['blobs', 'inspect', 'manifest', 'pack', 'total']);
    expect(events.map((event) => event.step)).toContain('manifest');
    expect(events.filter((event) => event.step === 'blob' && event.state === 'done')).toHaveLength(2);

    // Independent check of what the registry stored (no deployer code involved).
    const raw = await rawGet(registry.url, `/v2/wasmesh/example/manifests/${format}`, OCI_MANIFEST);
    expect(raw.status).toBe(200);
    expect(`sha256:${sha256(raw.bytes)}`).toBe(pushed.manifestDigest);
    const manifest = JSON.parse(new TextDecoder().decode(raw.bytes)) as Manifest;
    expect(manifest.config.mediaType).toBe(configType);
    expect(manifest.layers).toHaveLength(layerCount);
    const wasmLayer = manifest.layers.find((layer) => layer.mediaType === layerType);
    expect(wasmLayer?.digest).toBe(pushed.layerDigest);

    const pulledByTag = await pullWasmImage(`oci://${registry.host}/wasmesh/example:${format}`);
    expect(Buffer.from(pulledByTag.wasm).equals(Buffer.from(wasm))).toBe(true);
    expect(pulledByTag).toMatchObject({ format, manifestDigest: pushed.manifestDigest, wasmSha256: pushed.wasmSha256 });

    const pulledByDigest = await pullWasmImage(`${registry.host}/wasmesh/example@${pushed.manifestDigest}`);
    expect(pulledByDigest.wasmSha256).toBe(pushed.wasmSha256);
  });

  it('compat layer is a gzip tar holding plugin.wasm, as Istio extracts it', async () => {
    const pushed = await pushWasmImage({ wasm, reference: `${registry.host}/wasmesh/layout:compat`, format: 'compat' });
    const layer = await rawGet(registry.url, `/v2/wasmesh/layout/blobs/${pushed.layerDigest}`);
    const tar = gunzipSync(layer.bytes);
    expect(tar.subarray(0, 11).toString('latin1')).toBe('plugin.wasm');
    const size = Number.parseInt(tar.subarray(124, 136).toString('latin1').trim(), 8);
    expect(size).toBe(wasm.byteLength);
    expect(Buffer.from(tar.subarray(512, 512 + size)).equals(Buffer.from(wasm))).toBe(true);
  });

  it('pushing the same module twice gives the same digest and uploads no blob again', async () => {
    const reference = `${registry.host}/wasmesh/repeat:v1`;
    const first = await pushWasmImage({ wasm, reference, format: 'oci' });
    const second = await pushWasmImage({ wasm, reference, format: 'oci' });
    expect(second.manifestDigest).toBe(first.manifestDigest);
    expect(first.bytesUploaded).toBeGreaterThan(wasm.byteLength);
    expect(second.bytesUploaded).toBeLessThan(2048); // only the manifest
  });

  it('chunked upload with a small chunk size sends many PATCHes and round-trips', async () => {
    const events: ProgressEvent[] = [];
    const chunkSize = 4096;
    const pushed = await pushWasmImage({ wasm, reference: `${registry.host}/wasmesh/chunked:v1`, format: 'oci', chunkSize, onProgress: (event) => events.push(event) });
    const progress = events.filter((event) => event.step === 'blob' && event.state === 'progress' && event.digest === pushed.layerDigest);
    expect(progress).toHaveLength(Math.ceil(wasm.byteLength / chunkSize));
    const pulled = await pullWasmImage(`${registry.host}/wasmesh/chunked:v1`);
    expect(pulled.wasmSha256).toBe(sha256(wasm));
  });
});
