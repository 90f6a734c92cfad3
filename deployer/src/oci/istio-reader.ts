import { createGunzip } from 'node:zlib';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract } from 'tar-stream';
import { COMPAT_PLUGIN_FILE, DOCKER_LAYER_TAR_GZIP, DOCKER_MANIFEST_V2, OCI_LAYER_TAR_GZIP, WASM_CONTENT_LAYER } from './media-types.js';
import type { WasmImageFormat } from './image-builder.js';

export interface ImageManifest {
  readonly mediaType?: string;
  readonly layers: readonly { readonly mediaType: string; readonly digest: string; readonly size: number }[];
}

export type BlobFetcher = (digest: string) => Promise<Uint8Array>;

export interface ExtractedWasm {
  readonly wasm: Uint8Array;
  readonly format: WasmImageFormat;
}

/**
 * Extract the module exactly as Istio's agent does (istio/istio pkg/wasm/imagefetcher.go PrepareFetch):
 *  - Docker schema-2 manifest: last layer must be a Docker tar.gzip layer holding plugin.wasm (no fallback);
 *  - otherwise try compat (last layer application/vnd.oci.image.layer.v1.tar+gzip holding plugin.wasm),
 *  - then oci (exactly 2 layers, one of type application/vnd.module.wasm.content.layer.v1+wasm, raw).
 * Error texts mirror Istio's so a failure here predicts the failure a sidecar would log.
 */
export async function extractWasmLikeIstio(manifest: ImageManifest, fetchBlob: BlobFetcher): Promise<ExtractedWasm> {
  if (manifest.mediaType === DOCKER_MANIFEST_V2) {
    try {
      return { wasm: await extractCompat(manifest, DOCKER_LAYER_TAR_GZIP, fetchBlob), format: 'compat' };
    } catch (error) {
      throw new Error(`could not extract Wasm file from the image as Docker container: ${message(error)}`, { cause: error });
    }
  }
  let compatError: unknown;
  try {
    return { wasm: await extractCompat(manifest, OCI_LAYER_TAR_GZIP, fetchBlob), format: 'compat' };
  } catch (error) {
    compatError = error;
  }
  try {
    return { wasm: await extractOciArtifact(manifest, fetchBlob), format: 'oci' };
  } catch (ociError) {
    throw new Error(
      `the given image is in invalid format as an OCI image: could not parse as compat variant: ${message(compatError)}; could not parse as oci variant: ${message(ociError)}`,
    );
  }
}

async function extractCompat(manifest: ImageManifest, expectedMediaType: string, fetchBlob: BlobFetcher): Promise<Uint8Array> {
  const layer = manifest.layers.at(-1);
  if (!layer) throw new Error('number of layers must be greater than zero');
  if (layer.mediaType !== expectedMediaType) throw new Error(`invalid media type ${layer.mediaType} (expect ${expectedMediaType})`);
  const compressed = await fetchBlob(layer.digest);
  return findPluginInTarGz(compressed);
}

async function extractOciArtifact(manifest: ImageManifest, fetchBlob: BlobFetcher): Promise<Uint8Array> {
  if (manifest.layers.length !== 2) throw new Error(`number of layers must be 2 but got ${manifest.layers.length}`);
  const layer = manifest.layers.find((candidate) => candidate.mediaType === WASM_CONTENT_LAYER);
  if (!layer) throw new Error(`could not find the layer of type ${WASM_CONTENT_LAYER}`);
  return fetchBlob(layer.digest);
}

/** First tar entry whose base name is plugin.wasm, like Istio's extractWasmPluginBinary (gzip required). */
async function findPluginInTarGz(compressed: Uint8Array): Promise<Uint8Array> {
  if (compressed[0] !== 0x1f || compressed[1] !== 0x8b) throw new Error('failed to parse layer as tar.gz: gzip: invalid header');
  const archive = extract();
  let found: Uint8Array | undefined;
  archive.on('entry', (header, stream, next) => {
    if (found === undefined && header.type === 'file' && basename(header.name) === COMPAT_PLUGIN_FILE) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
      stream.on('end', () => {
        found = Buffer.concat(chunks);
        next();
      });
    } else {
      stream.on('end', () => next());
      stream.resume();
    }
  });
  try {
    await pipeline(Readable.from([Buffer.from(compressed)]), createGunzip(), archive);
  } catch (error) {
    throw new Error(`could not extract wasm binary: ${message(error)}`, { cause: error });
  }
  if (found === undefined) throw new Error(`${COMPAT_PLUGIN_FILE} not found in the archive`);
  return found;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
