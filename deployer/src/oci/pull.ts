import { type RegistryCredentials, resolveCredentials } from './credentials.js';
import { sha256Digest, sha256Hex } from './digest.js';
import { OciError, withContext } from './errors.js';
import type { WasmImageFormat } from './image-builder.js';
import { type ImageManifest, extractWasmLikeIstio } from './istio-reader.js';
import { DOCKER_MANIFEST_LIST, DOCKER_MANIFEST_V2, MANIFEST_ACCEPT, OCI_INDEX, OCI_MANIFEST } from './media-types.js';
import { type ImageReference, formatImageReference, parseImageReference } from './reference.js';
import { RegistryClient } from './registry-client.js';

export interface PullOptions {
  readonly credentials?: RegistryCredentials;
  readonly dockerConfigPath?: string;
  readonly signal?: AbortSignal;
  /** Refuse blobs larger than this (default 256 MiB). */
  readonly maxBlobBytes?: number;
}

export interface PullResult {
  readonly wasm: Uint8Array;
  readonly format: WasmImageFormat;
  /** Digest of the image manifest (what `url: oci://…@sha256:` pins). */
  readonly manifestDigest: string;
  readonly wasmSha256: string;
}

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024; // distribution's own manifest limit
const DEFAULT_MAX_BLOB_BYTES = 256 * 1024 * 1024;
// go-containerregistry's default platform when a reference names an index (Istio inherits it).
const DEFAULT_PLATFORM = { os: 'linux', architecture: 'amd64' } as const;

interface FetchedManifest {
  readonly json: unknown;
  readonly mediaType: string;
  readonly digest: string;
}

/** Pull a Wasm image and extract the module the way Istio's agent does (see istio-reader.ts). */
export async function pullWasmImage(referenceText: string, options: PullOptions = {}): Promise<PullResult> {
  const reference = parseImageReference(referenceText);
  const display = formatImageReference(reference);
  const credentials = await resolveCredentials(reference.registry, options);
  const client = new RegistryClient({ reference, credentials, actions: 'pull', signal: options.signal });
  const maxBlobBytes = options.maxBlobBytes ?? DEFAULT_MAX_BLOB_BYTES;

  let manifest: FetchedManifest;
  try {
    manifest = await fetchManifest(client, reference, reference.digest ?? reference.tag ?? 'latest');
    if (manifest.mediaType === OCI_INDEX || manifest.mediaType === DOCKER_MANIFEST_LIST) {
      manifest = await fetchManifest(client, reference, pickPlatform(manifest.json));
    }
  } catch (error) {
    throw withContext(`could not fetch manifest for ${display}`, error);
  }

  const imageManifest = toImageManifest(manifest);
  try {
    const { wasm, format } = await extractWasmLikeIstio(imageManifest, (digest) => fetchBlob(client, digest, maxBlobBytes));
    return { wasm, format, manifestDigest: manifest.digest, wasmSha256: sha256Hex(wasm) };
  } catch (error) {
    throw withContext(`could not extract the Wasm module from ${display}@${manifest.digest}`, error);
  }
}

async function fetchManifest(client: RegistryClient, reference: ImageReference, tagOrDigest: string): Promise<FetchedManifest> {
  const response = await client.send({ method: 'GET', target: `${client.repositoryPath}/manifests/${tagOrDigest}`, headers: { accept: MANIFEST_ACCEPT }, expect: [200] });
  const bytes = await readLimited(response, MAX_MANIFEST_BYTES, 'manifest');
  const digest = sha256Digest(bytes);
  // A digest reference is a promise about content: check it rather than trust the registry.
  if (tagOrDigest.startsWith('sha256:') && digest !== tagOrDigest) {
    throw new OciError(`registry returned a manifest with digest ${digest} for ${tagOrDigest}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new OciError(`manifest of ${reference.repository}:${tagOrDigest} is not JSON`);
  }
  const declared = isRecord(json) && typeof json.mediaType === 'string' ? json.mediaType : undefined;
  const contentType = response.headers.get('content-type')?.split(';')[0]?.trim();
  const mediaType = declared ?? contentType ?? OCI_MANIFEST;
  return { json, mediaType, digest };
}

function pickPlatform(index: unknown): string {
  const manifests = isRecord(index) && Array.isArray(index.manifests) ? index.manifests : [];
  const platforms: string[] = [];
  for (const entry of manifests) {
    if (!isRecord(entry) || typeof entry.digest !== 'string') continue;
    const platform = isRecord(entry.platform) ? entry.platform : {};
    platforms.push(`${String(platform.os)}/${String(platform.architecture)}`);
    if (platform.os === DEFAULT_PLATFORM.os && platform.architecture === DEFAULT_PLATFORM.architecture) return entry.digest;
  }
  throw new OciError(`the reference names an image index without a ${DEFAULT_PLATFORM.os}/${DEFAULT_PLATFORM.architecture} entry (has: ${platforms.join(', ') || 'none'})`);
}

function toImageManifest(manifest: FetchedManifest): ImageManifest {
  const json = manifest.json;
  if (!isRecord(json) || !Array.isArray(json.layers)) {
    throw new OciError(`manifest ${manifest.digest} (${manifest.mediaType}) has no layers array`);
  }
  const layers = json.layers.map((layer, index) => {
    if (!isRecord(layer) || typeof layer.mediaType !== 'string' || typeof layer.digest !== 'string' || typeof layer.size !== 'number') {
      throw new OciError(`manifest ${manifest.digest}: layer ${index} lacks mediaType/digest/size`);
    }
    return { mediaType: layer.mediaType, digest: layer.digest, size: layer.size };
  });
  return { mediaType: manifest.mediaType === DOCKER_MANIFEST_V2 ? DOCKER_MANIFEST_V2 : manifest.mediaType, layers };
}

async function fetchBlob(client: RegistryClient, digest: string, maxBytes: number): Promise<Uint8Array> {
  try {
    const response = await client.send({ method: 'GET', target: `${client.repositoryPath}/blobs/${digest}`, expect: [200] });
    const bytes = await readLimited(response, maxBytes, `blob ${digest}`);
    const actual = sha256Digest(bytes);
    if (actual !== digest) throw new OciError(`content has digest ${actual}`);
    return bytes;
  } catch (error) {
    throw withContext(`could not fetch blob ${digest}`, error);
  }
}

async function readLimited(response: Response, maxBytes: number, what: string): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? 'NaN');
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel();
    throw new OciError(`${what} is ${declared} bytes, over the ${maxBytes}-byte limit`);
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.byteLength > maxBytes) throw new OciError(`${what} is ${bytes.byteLength} bytes, over the ${maxBytes}-byte limit`);
  return bytes;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
