/**
 * Codec settings from the HCM config on both listeners (issue #16 leftovers):
 * http2_protocol_options.initial_stream_window_size is advertised in the HTTP/2 SETTINGS and
 * initial_connection_window_size opens the connection window
 * (plaintext h2c and TLS, and after a reload for new connections), and HTTP/1.1 over the mTLS
 * listener gets the HCM's request_headers_timeout and idle_timeout as the plaintext one does,
 * rebuilt on reload.
 */
import http2 from 'node:http2';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenerSettingChanges } from '../../deployer/src/sidecar/hcm/changes.js';
import { mintPki, type MintedPki } from '../e2e/mtls-certs.js';
import { echoHandler, sidecarConfig, startTestSidecar, startUpstream, type StartedSidecar, type TestUpstream } from './helpers.js';
import { parseHttp1 } from './hostile/wire.js';

/** SETTINGS_INITIAL_WINDOW_SIZE the server advertised on a new HTTP/2 connection. */
function advertisedWindow(url: string, tlsOptions: http2.SecureClientSessionOptions = {}): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url, tlsOptions);
    session.once('remoteSettings', (settings) => {
      resolve(settings.initialWindowSize);
      session.destroy();
    });
    session.once('error', reject);
  });
}

describe('HTTP/2 SETTINGS_INITIAL_WINDOW_SIZE from http2_protocol_options.initial_stream_window_size', () => {
  let app: TestUpstream;
  beforeAll(async () => { app = await startUpstream(echoHandler('app')); });
  afterAll(async () => { await app?.close(); });

  it.each([
    ['Envoy default (256 MiB)', undefined, 268_435_456],
    ['configured 1 MiB', 1_048_576, 1_048_576],
  ])('plaintext h2c, %s', async (_name, size, expected) => {
    const sidecar = await startTestSidecar(sidecarConfig({
      ...(size !== undefined ? { http_connection_manager: { http2_protocol_options: { initial_stream_window_size: size } } } : {}),
      clusters: { app: app.url }, routes: [{ match: { prefix: '/' }, cluster: 'app' }],
    }));
    try {
      expect(await advertisedWindow(sidecar.url)).toBe(expected);
    } finally {
      await sidecar.close();
    }
  });

  it('plaintext h2c: a reload changes it for new connections', async () => {
    const config = (size: number) => sidecarConfig({
      http_connection_manager: { http2_protocol_options: { initial_stream_window_size: size } },
      clusters: { app: app.url }, routes: [{ match: { prefix: '/' }, cluster: 'app' }],
    });
    const sidecar = await startTestSidecar(config(65_535));
    try {
      expect(await advertisedWindow(sidecar.url)).toBe(65_535);
      await sidecar.reload(config(2_097_152));
      expect(await advertisedWindow(sidecar.url)).toBe(2_097_152);
    } finally {
      await sidecar.close();
    }
  });
});

/**
 * The connection-level window the server opened: node's client session reports the window it may
 * still send into (state.remoteWindowSize) once the server's WINDOW_UPDATE on stream 0 arrived
 * (a PING round trip after the SETTINGS exchange orders it behind that frame).
 */
function connectionWindow(url: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    session.once('error', reject);
    session.once('remoteSettings', () => {
      session.ping(() => {
        resolve(session.state.remoteWindowSize);
        session.destroy();
      });
    });
  });
}

describe('HTTP/2 connection window from http2_protocol_options.initial_connection_window_size', () => {
  let app: TestUpstream;
  beforeAll(async () => { app = await startUpstream(echoHandler('app')); });
  afterAll(async () => { await app?.close(); });

  it.each([
    ['Envoy default (256 MiB)', undefined, 268_435_456],
    ['configured 1 MiB', 1_048_576, 1_048_576],
    ['HTTP/2\'s initial 65,535 (no WINDOW_UPDATE)', 65_535, 65_535],
  ])('plaintext h2c, %s', async (_name, size, expected) => {
    const sidecar = await startTestSidecar(sidecarConfig({
      ...(size !== undefined ? { http_connection_manager: { http2_protocol_options: { initial_connection_window_size: size } } } : {}),
      clusters: { app: app.url }, routes: [{ match: { prefix: '/' }, cluster: 'app' }],
    }));
    try {
      expect(await connectionWindow(sidecar.url)).toBe(expected);
    } finally {
      await sidecar.close();
    }
  });

  it('a reload changes it for new connections', async () => {
    const config = (size: number) => sidecarConfig({
      http_connection_manager: { http2_protocol_options: { initial_connection_window_size: size } },
      clusters: { app: app.url }, routes: [{ match: { prefix: '/' }, cluster: 'app' }],
    });
    const sidecar = await startTestSidecar(config(1_048_576));
    try {
      expect(await connectionWindow(sidecar.url)).toBe(1_048_576);
      await sidecar.reload(config(4_194_304));
      expect(await connectionWindow(sidecar.url)).toBe(4_194_304);
      expect(listenerSettingChanges(config(1_048_576), config(4_194_304)))
        .toEqual(['http_connection_manager.http2_protocol_options.initial_connection_window_size: 1048576 → 4194304']);
    } finally {
      await sidecar.close();
    }
  });
});

describe('mTLS listener: HTTP/2 SETTINGS and HTTP/1.1 timeouts follow the HCM config and its reloads', () => {
  let pki: MintedPki;
  let app: TestUpstream;
  let sidecar: StartedSidecar;
  const config = (hcm: Record<string, unknown>) => sidecarConfig({
    tls: { cert: pki.serverCertFile, key: pki.serverKeyFile, client_ca: pki.caFile },
    http_connection_manager: hcm,
    clusters: { app: app.url }, routes: [{ match: { prefix: '/' }, cluster: 'app' }],
  });
  const h1Connect = () => new Promise<tls.TLSSocket>((resolve) => {
    const socket = tls.connect({ port: sidecar.listen.port, host: '127.0.0.1', ca: pki.ca, cert: pki.clientCert, key: pki.clientKey, ALPNProtocols: ['http/1.1'], servername: 'localhost' }, () => resolve(socket));
    socket.on('error', () => undefined);
  });
  /** Sends part of a request's headers and waits for the connection to close; the reply and how long it took. */
  const trickle = async () => {
    const socket = await h1Connect();
    const started = performance.now();
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.write('GET / HTTP/1.1\r\nHost: app\r\nx-slow: ');
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    return { reply: Buffer.concat(chunks), ms: performance.now() - started };
  };
  beforeAll(async () => {
    pki = await mintPki();
    app = await startUpstream(echoHandler('app'));
    sidecar = await startTestSidecar(config({ http2_protocol_options: { initial_stream_window_size: 1_048_576 }, request_headers_timeout: '0.3s' }));
  });
  afterAll(async () => {
    await sidecar?.close();
    await app?.close();
  });

  it('advertises the configured window, and the reloaded one on a new connection', async () => {
    const options = { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey, servername: 'localhost' };
    expect(await advertisedWindow(sidecar.url, options)).toBe(1_048_576);
    await sidecar.reload(config({ http2_protocol_options: { initial_stream_window_size: 4_194_304 }, request_headers_timeout: '0.3s' }));
    expect(await advertisedWindow(sidecar.url, options)).toBe(4_194_304);
  });

  it('HTTP/1.1: request_headers_timeout answers 408 to trickled headers, and a reload changes it', async () => {
    await sidecar.reload(config({ request_headers_timeout: '0.3s' }));
    const first = await trickle();
    expect(parseHttp1(first.reply).status).toBe(408);
    expect(first.ms).toBeLessThan(5_000);
    await sidecar.reload(config({ request_headers_timeout: '2s' }));
    const second = await trickle();
    expect(parseHttp1(second.reply).status).toBe(408);
    expect(second.ms).toBeGreaterThanOrEqual(1_500);
  });

  it('HTTP/1.1: idle_timeout closes an idle keep-alive connection after its response', async () => {
    await sidecar.reload(config({ common_http_protocol_options: { idle_timeout: '0.3s' } }));
    const socket = await h1Connect();
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write('GET /a HTTP/1.1\r\nHost: app\r\n\r\n');
    await new Promise<void>((resolve) => socket.once('data', () => resolve()));
    const idleSince = performance.now();
    await closed;
    expect(performance.now() - idleSince).toBeLessThan(5_000);
  });
});
