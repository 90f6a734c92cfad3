import { RegistryNetworkError } from './errors.js';
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
  /** Extra attempts after a dropped connection (resuming chunked uploads where the registry left off). */
  readonly retries: number;
  readonly onProgress?: (progress: BlobProgress) => void;
}

export const DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024;
export const DEFAULT_RETRIES = 2;

type Report = (bytesDone: number, state: BlobProgress['state']) => void;

/** Returns the number of bytes sent (0 when the registry already had the blob). */
export async function uploadBlob(client: RegistryClient, blob: Blob, options: UploadBlobOptions): Promise<number> {
  const { digest, size } = blob.descriptor;
  const report: Report = (bytesDone, state) => options.onProgress?.({ digest, bytesDone, bytesTotal: size, state });

  if (await blobExists(client, digest)) {
    report(size, 'skipped');
    return 0;
  }
  report(0, 'started');
  let attemptsLeft = options.retries;
  let session: UploadSession | undefined;
  for (;;) {
    try {
      session ??= await startSession(client);
      await (size > options.chunkSize ? uploadChunked(client, session, blob, options.chunkSize, report) : uploadMonolithic(client, session, blob));
      report(size, 'done');
      return size;
    } catch (error) {
      if (!(error instanceof RegistryNetworkError) || error.aborted || attemptsLeft === 0) {
        if (session) await cancelSession(client, session);
        if (error instanceof RegistryNetworkError && options.retries > 0 && !error.aborted) {
          error.message += ` (gave up after ${options.retries + 1} attempts)`;
        }
        throw error;
      }
      attemptsLeft -= 1;
      // The final PUT may have landed with only its answer lost: then the blob is there.
      if (await blobExists(client, digest).catch(() => false)) {
        report(size, 'done');
        return size;
      }
      if (session && size <= options.chunkSize) {
        // A monolithic PUT cannot be resumed: drop the session and send the whole blob again.
        await cancelSession(client, session);
        session = undefined;
      } else if (session) {
        session = await resumeSession(client, session);
      }
    }
  }
}

interface UploadSession {
  location: string;
  /** Bytes the registry has accepted so far. */
  offset: number;
}

async function blobExists(client: RegistryClient, digest: string): Promise<boolean> {
  // distribution-spec "Checking if content exists in the registry": HEAD 200 means nothing to do.
  const head = await client.send({ method: 'HEAD', target: `${client.repositoryPath}/blobs/${digest}`, expect: [200, 404] });
  return head.status === 200;
}

async function startSession(client: RegistryClient): Promise<UploadSession> {
  const response = await client.send({ method: 'POST', target: `${client.repositoryPath}/blobs/uploads/`, expect: [202] });
  return { location: requireLocation(response, 'POST blobs/uploads/'), offset: 0 };
}

/**
 * distribution-spec "Resuming an upload" (GET on the upload URL → 204 with `Range: 0-<last byte>`).
 * Returns undefined when the session is gone, so the caller starts a new one.
 */
async function resumeSession(client: RegistryClient, session: UploadSession): Promise<UploadSession | undefined> {
  try {
    const response = await client.send({ method: 'GET', target: session.location, expect: [204, 404] });
    if (response.status === 404) return undefined;
    const range = /^(?:bytes=)?0-(\d+)$/.exec(response.headers.get('range') ?? '');
    return { location: response.headers.get('location') ?? session.location, offset: range ? Number(range[1]) + 1 : 0 };
  } catch (error) {
    if (error instanceof RegistryNetworkError) throw error;
    return undefined;
  }
}

/** "Pushing a blob monolithically" (POST then PUT): one request, as docker does for small layers. */
async function uploadMonolithic(client: RegistryClient, session: UploadSession, blob: Blob): Promise<void> {
  await client.send({
    method: 'PUT',
    target: withDigest(client, session.location, blob.descriptor.digest),
    headers: { 'content-type': 'application/octet-stream' },
    body: blob.bytes,
    expect: [201],
  });
}

/** "Pushing a blob in chunks": PATCH with Content-Range from the session offset, then PUT ?digest=. */
async function uploadChunked(client: RegistryClient, session: UploadSession, blob: Blob, chunkSize: number, report: Report): Promise<void> {
  const bytes = blob.bytes;
  while (session.offset < bytes.byteLength) {
    const chunk = bytes.subarray(session.offset, Math.min(session.offset + chunkSize, bytes.byteLength));
    const response = await client.send({
      method: 'PATCH',
      target: session.location,
      headers: { 'content-type': 'application/octet-stream', 'content-range': `${session.offset}-${session.offset + chunk.byteLength - 1}` },
      body: chunk,
      expect: [202],
    });
    session.location = requireLocation(response, 'PATCH upload chunk');
    session.offset += chunk.byteLength;
    report(session.offset, 'progress');
  }
  await client.send({ method: 'PUT', target: withDigest(client, session.location, blob.descriptor.digest), expect: [201] });
}

/** Best effort: free the partial upload (distribution-spec "Canceling an upload"); the original error matters more. */
async function cancelSession(client: RegistryClient, session: UploadSession): Promise<void> {
  await client.send({ method: 'DELETE', target: session.location, expect: [204, 404] }).catch(() => undefined);
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
