// Images built by other tools (docker build, buildah, wasme) must be read exactly as Istio's agent
// reads them (istio/istio pkg/wasm/imagefetcher.go); the error texts follow Istio's.
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullWasmImage } from '../../deployer/src/oci/pull.js';
import { type RunningRegistry, startRegistry } from '../support/registry.js';
import { builtExampleFilter } from './support/fixtures.js';
import { type RawBlob, rawPushImage } from './support/raw-push.js';

const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const wasm = builtExampleFilter();

async function tarOf(files: Readonly<Record<string, Uint8Array>>): Promise<Uint8Array> {
  const archive = pack();
  const chunks: Buffer[] = [];
  archive.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
  const done = new Promise<void>((resolve) => archive.on('end', () => resolve()));
  for (const [name, content] of Object.entries(files)) archive.entry({ name, size: content.byteLength }, Buffer.from(content));
  archive.finalize();
  await done;
  return Buffer.concat(chunks);
}

const json = (value: object): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

interface ReaderCase {
  readonly name: string;
  readonly manifestType: string;
  readonly config: () => RawBlob;
  readonly layers: () => Promise<readonly RawBlob[]>;
  readonly expected: { readonly format: 'compat' | 'oci' } | { readonly error: string };
}

const cases: readonly ReaderCase[] = [
  {
    name: 'docker schema-2 image from `docker build` (plugin.wasm under ./)',
    manifestType: DOCKER_MANIFEST,
    config: () => ({ mediaType: 'application/vnd.docker.container.image.v1+json', bytes: json({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }) }),
    layers: async () => [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', bytes: gzipSync(await tarOf({ './plugin.wasm': wasm })) }],
    expected: { format: 'compat' },
  },
  {
    name: 'compat image whose last of two layers holds plugin.wasm',
    manifestType: OCI_MANIFEST,
    config: () => ({ mediaType: 'application/vnd.oci.image.config.v1+json', bytes: json({ architecture: 'wasm', os: 'wasip1' }) }),
    layers: async () => [
      { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', bytes: gzipSync(await tarOf({ 'README.md': new TextEncoder().encode('hi') })) },
      { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', bytes: gzipSync(await tarOf({ 'README.md': new TextEncoder().encode('x'), 'plugin.wasm': wasm })) },
    ],
    expected: { format: 'compat' },
  },
  {
    name: 'docker image whose layer is an OCI media type',
    manifestType: DOCKER_MANIFEST,
    config: () => ({ mediaType: 'application/vnd.docker.container.image.v1+json', bytes: json({}) }),
    layers: async () => [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', bytes: gzipSync(await tarOf({ 'plugin.wasm': wasm })) }],
    expected: { error: 'could not extract Wasm file from the image as Docker container: invalid media type application/vnd.oci.image.layer.v1.tar+gzip (expect application/vnd.docker.image.rootfs.diff.tar.gzip)' },
  },
  {
    name: 'uncompressed tar layer (Istio requires gzip)',
    manifestType: OCI_MANIFEST,
    config: () => ({ mediaType: 'application/vnd.oci.image.config.v1+json', bytes: json({}) }),
    layers: async () => [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', bytes: await tarOf({ 'plugin.wasm': wasm }) }],
    expected: {
      error:
        'the given image is in invalid format as an OCI image: could not parse as compat variant: invalid media type application/vnd.oci.image.layer.v1.tar (expect application/vnd.oci.image.layer.v1.tar+gzip); could not parse as oci variant: number of layers must be 2 but got 1',
    },
  },
  {
    name: 'compat layer without plugin.wasm',
    manifestType: OCI_MANIFEST,
    config: () => ({ mediaType: 'application/vnd.oci.image.config.v1+json', bytes: json({}) }),
    layers: async () => [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', bytes: gzipSync(await tarOf({ 'filter.wasm': wasm })) }],
    expected: { error: 'could not parse as compat variant: plugin.wasm not found in the archive' },
  },
  {
    name: 'oci variant with only the content layer',
    manifestType: OCI_MANIFEST,
    config: () => ({ mediaType: 'application/vnd.module.wasm.config.v1+json', bytes: json({ type: 'envoy_proxy' }) }),
    layers: async () => [{ mediaType: 'application/vnd.module.wasm.content.layer.v1+wasm', bytes: wasm }],
    expected: { error: 'could not parse as oci variant: number of layers must be 2 but got 1' },
  },
  {
    name: 'oci variant with config and content layers in wasme order',
    manifestType: OCI_MANIFEST,
    config: () => ({ mediaType: 'application/vnd.module.wasm.config.v1+json', bytes: json({ type: 'envoy_proxy', abiVersions: [], config: { root_ids: ['x'] } }) }),
    layers: async () => [
      { mediaType: 'application/vnd.module.wasm.config.v1+json', bytes: json({ type: 'envoy_proxy', abiVersions: [], config: { root_ids: ['x'] } }) },
      { mediaType: 'application/vnd.module.wasm.content.layer.v1+wasm', bytes: wasm },
    ],
    expected: { format: 'oci' },
  },
];

describe('oci pull reads images the way Istio does', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('follows an image index to its linux/amd64 manifest, as go-containerregistry does for Istio', async () => {
    const config: RawBlob = { mediaType: 'application/vnd.oci.image.config.v1+json', bytes: json({ architecture: 'amd64', os: 'linux' }) };
    const layer: RawBlob = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', bytes: gzipSync(await tarOf({ 'plugin.wasm': wasm })) };
    const imageDigest = await rawPushImage(registry.url, 'reader/index', 'amd64', OCI_MANIFEST, config, [layer]);
    const armConfig: RawBlob = { mediaType: 'application/vnd.oci.image.config.v1+json', bytes: json({ architecture: 'arm64', os: 'linux' }) };
    const armDigest = await rawPushImage(registry.url, 'reader/index', 'arm64', OCI_MANIFEST, armConfig, [layer]);
    const armSize = (await (await fetch(`${registry.url}/v2/reader/index/manifests/arm64`, { headers: { accept: OCI_MANIFEST } })).arrayBuffer()).byteLength;
    const image = await fetch(`${registry.url}/v2/reader/index/manifests/amd64`, { headers: { accept: OCI_MANIFEST } });
    const size = (await image.arrayBuffer()).byteLength;
    const index = json({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { mediaType: OCI_MANIFEST, digest: armDigest, size: armSize, platform: { os: 'linux', architecture: 'arm64' } },
        { mediaType: OCI_MANIFEST, digest: imageDigest, size, platform: { os: 'linux', architecture: 'amd64' } },
      ],
    });
    const put = await fetch(`${registry.url}/v2/reader/index/manifests/multi`, { method: 'PUT', body: index as Uint8Array<ArrayBuffer>, headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' } });
    expect(put.status).toBe(201);
    const pulled = await pullWasmImage(`${registry.host}/reader/index:multi`);
    expect(pulled.manifestDigest).toBe(imageDigest);
    expect(pulled.format).toBe('compat');
  });

  it.each(cases.map((entry, index) => ({ ...entry, index })))('$name', async ({ manifestType, config, layers, expected, index }) => {
    const repository = `reader/case${index}`;
    const digest = await rawPushImage(registry.url, repository, 'v1', manifestType, config(), await layers());
    const pull = pullWasmImage(`${registry.host}/${repository}:v1`);
    if ('format' in expected) {
      const pulled = await pull;
      expect(pulled.format).toBe(expected.format);
      expect(pulled.manifestDigest).toBe(digest);
      expect(Buffer.from(pulled.wasm).equals(Buffer.from(wasm))).toBe(true);
    } else {
      await expect(pull).rejects.toThrow(expected.error);
      await expect(pull).rejects.toThrow(`could not extract the Wasm module from ${registry.host}/${repository}:v1@${digest}`);
    }
  });
});
