import type { Blob } from './image-builder.js';
import type { RegistryClient } from './registry-client.js';

export interface BlobProgress {
  readonly digest: string;
  readonly bytesDone: number;
  readonly bytesTotal: number;
  readonly state: 'started' | 'progress' | 'skipped' | 'done';
}

export interface UploadBlobOptions {
  /** Bytes per PATCH; blobs not larger than this go up in a single PUT. */
  readonly chunkSize: number;
  readonly onProgress?: (progress: BlobProgress) => void;
}

export const DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024;

/** Returns the number of bytes sent (0 when the registry already had the blob). */
export async function uploadBlob(client: RegistryClient, blob: Blob, options: UploadBlobOptions): Promise<number> {
  const { digest, size } = blob.descriptor;
  const report = (bytesDone: number, state: BlobProgress['state']): void => options.onProgress?.({ digest, bytesDone, bytesTotal: size, state });

  // distribution-spec "Checking if content exists in the registry": HEAD 200 means nothing to do.
  const head = await client.send({ method: 'HEAD', target: `${client.repositoryPath}/blobs/${digest}`, expect: [200, 404] });
  if (head.status === 200) {
    report(size, 'skipped');
    return 0;
  }

  report(0, 'started');
  const start = await client.send({ method: 'POST', target: `${client.repositoryPath}/blobs/uploads/`, expect: [202] });
  let location = requireLocation(start, 'POST blobs/uploads/');

  try {
    if (size > options.chunkSize) {
      location = await patchChunks(client, location, blob.bytes, options.chunkSize, (done) => report(done, 'progress'));
      await client.send({ method: 'PUT', target: withDigest(client, location, digest), expect: [201] });
    } else {
      // "Pushing a blob monolithically" (POST then PUT): one request, as docker does for small layers.
      await client.send({
        method: 'PUT',
        target: withDigest(client, location, digest),
        headers: { 'content-type': 'application/octet-stream' },
        body: blob.bytes,
        expect: [201],
      });
    }
  } catch (error) {
    // Best effort: cancel the session so the registry frees the partial upload (distribution-spec
    // "Canceling an upload"). The original error is what the user needs to see.
    await client.send({ method: 'DELETE', target: location, expect: [204, 404] }).catch(() => undefined);
    throw error;
  }
  report(size, 'done');
  return size;
}

/** distribution-spec "Pushing a blob in chunks": PATCH with Content-Range, following each new Location. */
async function patchChunks(
  client: RegistryClient,
  firstLocation: string,
  bytes: Uint8Array,
  chunkSize: number,
  onChunk: (bytesDone: number) => void,
): Promise<string> {
  let location = firstLocation;
  for (let offset = 0; offset < bytes.byteLength; offset += chunkSize) {
    const chunk = bytes.subarray(offset, Math.min(offset + chunkSize, bytes.byteLength));
    const response = await client.send({
      method: 'PATCH',
      target: location,
      headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + chunk.byteLength - 1}` },
      body: chunk,
      expect: [202],
    });
    location = requireLocation(response, 'PATCH upload chunk');
    onChunk(offset + chunk.byteLength);
  }
  return location;
}

function requireLocation(response: Response, step: string): string {
  const location = response.headers.get('location');
  if (!location) throw new Error(`registry answered ${step} without a Location header`);
  return location;
}

function withDigest(client: RegistryClient, location: string, digest: string): string {
  const url = client.resolve(location);
  url.searchParams.set('digest', digest);
  return url.toString();
}
