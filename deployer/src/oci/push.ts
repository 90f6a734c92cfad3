import { performance } from 'node:perf_hooks';
import { inspectModule } from '../inspect/inspect.js';
import { DEFAULT_CHUNK_SIZE, DEFAULT_RETRIES, uploadBlob } from './blob-upload.js';
import { type RegistryCredentials, resolveCredentials } from './credentials.js';
import { sha256Hex } from './digest.js';
import { OciError, withContext } from './errors.js';
import { type WasmImageFormat, buildWasmImage } from './image-builder.js';
import { formatImageReference, parseImageReference } from './reference.js';
import { RegistryClient } from './registry-client.js';

export type { RegistryCredentials } from './credentials.js';
export type { WasmImageFormat } from './image-builder.js';

export type ProgressEvent =
  | { readonly step: 'inspect'; readonly size: number }
  | { readonly step: 'blob'; readonly digest: string; readonly mediaType: string; readonly bytesDone: number; readonly bytesTotal: number; readonly state: 'started' | 'progress' | 'skipped' | 'done' }
  | { readonly step: 'manifest'; readonly digest: string; readonly state: 'started' | 'done' };

export interface PushOptions {
  readonly wasm: Uint8Array;
  readonly reference: string;
  readonly format: WasmImageFormat;
  readonly credentials?: RegistryCredentials;
  readonly dockerConfigPath?: string;
  /** PATCH size for chunked upload; blobs not larger than this are sent in one PUT. */
  readonly chunkSize?: number;
  /** Extra attempts per blob after a dropped connection; chunked uploads resume where the registry left off (default 2). */
  readonly retries?: number;
  readonly onProgress?: (event: ProgressEvent) => void;
  readonly signal?: AbortSignal;
}

export interface PushResult {
  /** `host/repo:tag@sha256:…` — pin this in WasmPlugin/EnvoyFilter. */
  readonly reference: string;
  readonly manifestDigest: string;
  /** sha256 hex of the module itself (what Envoy's `sha256` field checks). */
  readonly wasmSha256: string;
  readonly layerDigest: string;
  readonly format: WasmImageFormat;
  readonly bytesUploaded: number;
  /** Milliseconds per step: inspect, pack, blobs, manifest, total. */
  readonly timings: Readonly<Record<string, number>>;
}

/**
 * Push a module as an Istio Wasm image. Blobs go first and the manifest last, so a failure at any
 * point leaves the tag untouched (nothing half-pushed is ever reachable by tag or digest).
 */
export async function pushWasmImage(options: PushOptions): Promise<PushResult> {
  validateOptions(options);
  const reference = parseImageReference(options.reference);
  const display = formatImageReference(reference);
  const timings: Record<string, number> = {};
  const started = performance.now();
  const timed = async <T>(step: string, work: () => Promise<T> | T): Promise<T> => {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      timings[step] = performance.now() - t0;
    }
  };

  const report = await timed('inspect', () => inspectModule(options.wasm));
  options.onProgress?.({ step: 'inspect', size: report.size });
  if (!report.ok) {
    throw new OciError(`refusing to push ${display}: the module would not load in Envoy: ${report.problems.join('; ')}`);
  }

  const image = await timed('pack', () => buildWasmImage({ wasm: options.wasm, format: options.format, abiVersion: report.abiVersion }));
  const credentials = await resolveCredentials(reference.registry, { credentials: options.credentials, dockerConfigPath: options.dockerConfigPath });
  const client = new RegistryClient({ reference, credentials, actions: 'pull,push', signal: options.signal });

  let bytesUploaded = 0;
  await timed('blobs', async () => {
    for (const blob of image.blobs) {
      const { digest, mediaType } = blob.descriptor;
      try {
        bytesUploaded += await uploadBlob(client, blob, {
          chunkSize: options.chunkSize ?? DEFAULT_CHUNK_SIZE,
          retries: options.retries ?? DEFAULT_RETRIES,
          onProgress: (progress) => options.onProgress?.({ step: 'blob', mediaType, ...progress }),
        });
      } catch (error) {
        throw withContext(`could not push blob ${digest} to ${display}`, error);
      }
    }
  });

  await timed('manifest', async () => {
    options.onProgress?.({ step: 'manifest', digest: image.manifestDigest, state: 'started' });
    const target = `${client.repositoryPath}/manifests/${reference.tag ?? image.manifestDigest}`;
    try {
      const response = await client.send({ method: 'PUT', target, headers: { 'content-type': image.manifestMediaType }, body: image.manifest, expect: [201] });
      const echoed = response.headers.get('docker-content-digest');
      if (echoed && echoed !== image.manifestDigest) {
        throw new OciError(`registry stored the manifest as ${echoed}, expected ${image.manifestDigest}`);
      }
    } catch (error) {
      throw withContext(`could not push manifest ${image.manifestDigest} to ${display}`, error);
    }
    bytesUploaded += image.manifest.byteLength;
    options.onProgress?.({ step: 'manifest', digest: image.manifestDigest, state: 'done' });
  });
  timings.total = performance.now() - started;

  return {
    reference: formatImageReference({ ...reference, digest: image.manifestDigest }),
    manifestDigest: image.manifestDigest,
    wasmSha256: sha256Hex(options.wasm),
    layerDigest: image.wasmLayer.digest,
    format: image.format,
    bytesUploaded,
    timings,
  };
}

function validateOptions(options: PushOptions): void {
  if (!(options.wasm instanceof Uint8Array)) throw new TypeError('wasm must be a Uint8Array holding the module bytes');
  if (options.format !== 'compat' && options.format !== 'oci') {
    throw new TypeError(`format "${String(options.format)}" is not supported: expected "compat" or "oci"`);
  }
  if (options.chunkSize !== undefined && (!Number.isInteger(options.chunkSize) || options.chunkSize < 1)) {
    throw new RangeError(`chunkSize ${String(options.chunkSize)} is invalid: expected a positive integer number of bytes`);
  }
  if (options.retries !== undefined && (!Number.isInteger(options.retries) || options.retries < 0)) {
    throw new RangeError(`retries ${String(options.retries)} is invalid: expected a whole number >= 0`);
  }
  const digestInReference = parseImageReference(options.reference).digest;
  if (digestInReference !== undefined) {
    throw new TypeError(`cannot push to "${options.reference}": a push target is a tag (repo:tag), the digest is computed from the content`);
  }
}
