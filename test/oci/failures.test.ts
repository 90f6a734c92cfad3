import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullWasmImage } from '../../deployer/src/oci/pull.js';
import { pushWasmImage } from '../../deployer/src/oci/push.js';
import { type RunningRegistry, freePort, startRegistry } from '../support/registry.js';
import { type DroppingProxy, startDroppingProxy } from './support/dropping-proxy.js';
import { builtExampleFilter, rawGet } from './support/fixtures.js';

const wasm = builtExampleFilter();

describe('oci push failures', () => {
  let registry: RunningRegistry;
  let proxy: DroppingProxy;
  beforeAll(async () => {
    registry = await startRegistry();
    proxy = await startDroppingProxy(registry.port, 6000);
  });
  afterAll(async () => {
    await proxy?.stop();
    await registry?.stop();
  });

  it.each([
    { reference: 'oci://', message: 'invalid image reference "oci://": repository name is missing' },
    { reference: 'ftp://127.0.0.1:5000/repo:v1', message: 'scheme "ftp://" is not supported' },
    { reference: '127.0.0.1:99999/repo:v1', message: 'registry port 99999 is outside 1-65535' },
    { reference: '127.0.0.1:5000/Repo:v1', message: 'repository component "Repo" must be lowercase' },
    { reference: '127.0.0.1:5000/repo:bad tag', message: 'tag "bad tag" must match' },
  ])('rejects the malformed reference $reference before any network call', async ({ reference, message }) => {
    await expect(pushWasmImage({ wasm, reference, format: 'compat' })).rejects.toThrow(message);
  });

  it.each([
    { name: 'a module that is not Wasm', options: { wasm: new TextEncoder().encode('not wasm at all'), format: 'compat' }, message: 'refusing to push 127.0.0.1:9/never/contacted:v1: the module would not load in Envoy: not a Wasm module: magic is 6e 6f 74 20' },
    { name: 'an unknown format', options: { wasm, format: 'zip' }, message: 'format "zip" is not supported: expected "compat" or "oci"' },
    { name: 'a zero chunk size', options: { wasm, format: 'oci', chunkSize: 0 }, message: 'chunkSize 0 is invalid: expected a positive integer number of bytes' },
    { name: 'a digest as push target', options: { wasm, format: 'oci', reference: `127.0.0.1:9/never/contacted@sha256:${'0'.repeat(64)}` }, message: 'a push target is a tag (repo:tag), the digest is computed from the content' },
  ])('refuses $name before contacting the registry', async ({ options, message }) => {
    // Port 9 (discard) is never contacted: any network attempt would surface as a different error.
    const push = pushWasmImage({ reference: '127.0.0.1:9/never/contacted:v1', ...options } as Parameters<typeof pushWasmImage>[0]);
    await expect(push).rejects.toThrow(message);
  });

  it('stops when the caller aborts', async () => {
    const controller = new AbortController();
    controller.abort();
    const push = pushWasmImage({ wasm, reference: `${registry.host}/aborted/image:v1`, format: 'oci', signal: controller.signal });
    await expect(push).rejects.toThrow(/could not push blob sha256:[0-9a-f]{64} to .*\/aborted\/image:v1: HEAD \S+ failed: aborted/);
    expect((await rawGet(registry.url, '/v2/aborted/image/manifests/v1')).status).toBe(404);
  });

  it('names the blob, the reference and the network error when nothing listens at the registry address', async () => {
    const port = await freePort();
    const push = pushWasmImage({ wasm, reference: `127.0.0.1:${port}/nothing/here:v1`, format: 'compat' });
    await expect(push).rejects.toThrow(
      new RegExp(`^could not push blob sha256:[0-9a-f]{64} to 127\\.0\\.0\\.1:${port}/nothing/here:v1: HEAD http://127\\.0\\.0\\.1:${port}/v2/nothing/here/blobs/sha256:[0-9a-f]{64} failed: network error: .*ECONNREFUSED`),
    );
  });

  it('names the manifest and the reference when pulling a tag that does not exist', async () => {
    await expect(pullWasmImage(`${registry.host}/missing/image:v1`)).rejects.toThrow(
      `could not fetch manifest for ${registry.host}/missing/image:v1: GET ${registry.url}/v2/missing/image/manifests/v1 returned 404: MANIFEST_UNKNOWN manifest unknown`,
    );
  });

  it.each([
    { format: 'compat' as const, chunkSize: undefined },
    { format: 'oci' as const, chunkSize: 4096 },
  ])('a connection dropped once mid-upload ($format, chunk $chunkSize) is retried and the image is complete', async ({ format, chunkSize }) => {
    const flaky = await startDroppingProxy(registry.port, 6000, 1);
    try {
      const reference = `${flaky.host}/flaky/${format}:v1`;
      const pushed = await pushWasmImage({ wasm, reference, format, chunkSize });
      expect(flaky.drops()).toBe(1);
      const pulled = await pullWasmImage(reference);
      expect(Buffer.from(pulled.wasm).equals(Buffer.from(wasm))).toBe(true);
      expect(pulled.manifestDigest).toBe(pushed.manifestDigest);
    } finally {
      await flaky.stop();
    }
  });

  it.each([
    { format: 'compat' as const, chunkSize: undefined },
    { format: 'oci' as const, chunkSize: 4096 },
  ])('a connection dropped mid-upload ($format, chunk $chunkSize) gives a clear error and writes no manifest', async ({ format, chunkSize }) => {
    const repository = `dropped/${format}`;
    const push = pushWasmImage({ wasm, reference: `${proxy.host}/${repository}:v1`, format, chunkSize });
    const dropsBefore = proxy.drops();
    await expect(push).rejects.toThrow(
      new RegExp(`^could not push blob sha256:[0-9a-f]{64} to ${proxy.host.replace(/\./g, '\\.')}/${repository}:v1: (PUT|PATCH) \\S+ failed: network error: .* \\(gave up after 3 attempts\\)$`),
    );
    expect(proxy.drops() - dropsBefore).toBe(3);

    const manifest = await rawGet(registry.url, `/v2/${repository}/manifests/v1`);
    expect(manifest.status).toBe(404);
  });
});
