import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { sha256Digest } from './digest.js';
import {
  COMPAT_PLUGIN_FILE,
  COMPAT_VARIANT_ANNOTATION,
  IMAGE_TITLE_ANNOTATION,
  OCI_IMAGE_CONFIG,
  OCI_LAYER_TAR_GZIP,
  OCI_MANIFEST,
  WASM_CONFIG,
  WASM_CONTENT_LAYER,
} from './media-types.js';

export type WasmImageFormat = 'compat' | 'oci';

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface Blob {
  readonly descriptor: Descriptor;
  readonly bytes: Uint8Array;
}

export interface BuiltImage {
  readonly format: WasmImageFormat;
  /** Unique blobs to upload (config first, the Wasm-carrying layer last). */
  readonly blobs: readonly Blob[];
  /** The layer holding the module (tar.gz for compat, raw wasm for oci). */
  readonly wasmLayer: Descriptor;
  readonly manifest: Uint8Array;
  readonly manifestMediaType: string;
  readonly manifestDigest: string;
}

export interface BuildImageInput {
  readonly wasm: Uint8Array;
  readonly format: WasmImageFormat;
  /** ABI export found by inspect, recorded in the oci runtime config. */
  readonly abiVersion?: string;
}

/**
 * Build one of Istio's two Wasm image variants. Output is deterministic (no timestamps, tar mtime 0)
 * so the same module always yields the same manifest digest and re-pushes are no-ops.
 */
export async function buildWasmImage(input: BuildImageInput): Promise<BuiltImage> {
  return input.format === 'compat' ? buildCompatImage(input.wasm) : buildOciImage(input);
}

/** solo-io/wasm spec/spec-compat.md: one tar+gzip layer holding plugin.wasm, annotated variant=compat. */
async function buildCompatImage(wasm: Uint8Array): Promise<BuiltImage> {
  const tar = await tarSingleFile(COMPAT_PLUGIN_FILE, wasm);
  const layerBytes = gzipSync(tar, { level: 9 });
  const layer = blob(OCI_LAYER_TAR_GZIP, layerBytes);
  // A real OCI image config so generic tools (crane, skopeo, docker pull) accept the image too.
  const config = blob(
    OCI_IMAGE_CONFIG,
    json({
      architecture: 'wasm',
      os: 'wasip1',
      config: {},
      rootfs: { type: 'layers', diff_ids: [sha256Digest(tar)] },
    }),
  );
  return finish('compat', [config, layer], layer.descriptor, {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: config.descriptor,
    layers: [layer.descriptor],
    annotations: { [COMPAT_VARIANT_ANNOTATION]: 'compat' },
  });
}

/**
 * solo-io/wasm spec/spec.md: runtime config + raw module. Istio's extractOCIArtifactImage wants exactly
 * two layers (config layer and content layer), so the runtime config is both manifest config and a layer,
 * as `wasme` pushes it.
 */
async function buildOciImage(input: BuildImageInput): Promise<BuiltImage> {
  const runtimeConfig = blob(
    WASM_CONFIG,
    json({ type: 'envoy_proxy', abiVersions: input.abiVersion ? [input.abiVersion] : [], config: { root_ids: [] } }),
    { [IMAGE_TITLE_ANNOTATION]: 'runtime-config.json' },
  );
  const wasmLayer = blob(WASM_CONTENT_LAYER, input.wasm, { [IMAGE_TITLE_ANNOTATION]: COMPAT_PLUGIN_FILE });
  const { annotations: _ignored, ...configDescriptor } = runtimeConfig.descriptor;
  return finish('oci', [runtimeConfig, wasmLayer], wasmLayer.descriptor, {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: configDescriptor,
    layers: [runtimeConfig.descriptor, wasmLayer.descriptor],
  });
}

function finish(format: WasmImageFormat, blobs: readonly Blob[], wasmLayer: Descriptor, manifest: object): BuiltImage {
  const manifestBytes = json(manifest);
  return { format, blobs, wasmLayer, manifest: manifestBytes, manifestMediaType: OCI_MANIFEST, manifestDigest: sha256Digest(manifestBytes) };
}

function blob(mediaType: string, bytes: Uint8Array, annotations?: Readonly<Record<string, string>>): Blob {
  return { bytes, descriptor: { mediaType, digest: sha256Digest(bytes), size: bytes.byteLength, ...(annotations ? { annotations } : {}) } };
}

function json(value: object): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

async function tarSingleFile(name: string, content: Uint8Array): Promise<Buffer> {
  const archive = pack();
  const chunks: Buffer[] = [];
  archive.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
  const ended = new Promise<void>((resolve, reject) => {
    archive.on('end', resolve);
    archive.on('error', reject);
  });
  await new Promise<void>((resolve, reject) => {
    archive.entry({ name, size: content.byteLength, mode: 0o644, mtime: new Date(0), uid: 0, gid: 0, type: 'file' }, Buffer.from(content), (error) =>
      error ? reject(error) : resolve(),
    );
  });
  archive.finalize();
  await ended;
  return Buffer.concat(chunks);
}
