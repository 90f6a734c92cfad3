// Pushes hand-made images straight through the distribution API (no deployer code), to feed the
// Istio-style reader images built the way other tools (docker, buildah, wasme) build them.
import { createHash } from 'node:crypto';

export interface RawBlob {
  readonly mediaType: string;
  readonly bytes: Uint8Array;
}

export function descriptorOf(blob: RawBlob): { readonly mediaType: string; readonly digest: string; readonly size: number } {
  return { mediaType: blob.mediaType, digest: `sha256:${createHash('sha256').update(blob.bytes).digest('hex')}`, size: blob.bytes.byteLength };
}

export async function rawPushImage(registryUrl: string, repository: string, tag: string, manifestMediaType: string, config: RawBlob, layers: readonly RawBlob[]): Promise<string> {
  for (const blob of [config, ...layers]) {
    const start = await fetch(`${registryUrl}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
    if (start.status !== 202) throw new Error(`raw push: POST upload returned ${start.status}`);
    const location = new URL(start.headers.get('location') ?? '', registryUrl);
    location.searchParams.set('digest', descriptorOf(blob).digest);
    const put = await fetch(location, { method: 'PUT', body: blob.bytes as Uint8Array<ArrayBuffer>, headers: { 'content-type': 'application/octet-stream' } });
    if (put.status !== 201) throw new Error(`raw push: PUT blob returned ${put.status}: ${await put.text()}`);
  }
  const manifest = new TextEncoder().encode(
    JSON.stringify({ schemaVersion: 2, mediaType: manifestMediaType, config: descriptorOf(config), layers: layers.map(descriptorOf) }),
  );
  const put = await fetch(`${registryUrl}/v2/${repository}/manifests/${tag}`, { method: 'PUT', body: manifest, headers: { 'content-type': manifestMediaType } });
  if (put.status !== 201) throw new Error(`raw push: PUT manifest returned ${put.status}: ${await put.text()}`);
  return `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
}
