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

/**
 * Each HTTP/2 window field, the probe that reads what a new connection got, and two sizes a
 * reload switches between.
 */
const WINDOWS = [
  { field: 'initial_stream_window_size', what: 'SETTINGS_INITIAL_WINDOW_SIZE', read: (url: string) => advertisedWindow(url), reload: [65_535, 2_097_152] },
  { field: 'initial_connection_window_size', what: 'the connection window (WINDOW_UPDATE on stream 0)', read: connectionWindow, reload: [1_048_576, 4_194_304] },
] as const;

describe.each(WINDOWS)('HTTP/2 http2_protocol_options.$field sets $what', ({ field, read, reload }) => {
  let app: TestUpstream;
  beforeAll(async () => { app = await startUpstream(echoHandler('app')); });
  afterAll(async () => { await app?.close(); });
  const config = (size: number | undefined) => sidecarConfig({
    ...(size !== undefined ? { http_connection_manager: { http2_protocol_options: { [field]: size } } } : {}),
    clusters: { app: app.url }, routes: [{ match: { prefix: '/' }, cluster: 'app' }],
  });

  it.each([
    ['Envoy default (256 MiB)', undefined, 268_435_456],
    ['configured 1 MiB', 1_048_576, 1_048_576],
    ['HTTP/2\'s initial 65,535', 65_535, 65_535],
  ])('plaintext h2c, %s', async (_name, size, expected) => {
    const sidecar = await startTestSidecar(config(size));
    try {
      expect(await read(sidecar.url)).toBe(expected);
    } finally {
      await sidecar.close();
    }
  });

  it('plaintext h2c: a reload changes it for new connections, reported by field', async () => {
    const [before, after] = reload;
    const sidecar = await startTestSidecar(config(before));
    try {
      expect(await read(sidecar.url)).toBe(before);
      await sidecar.reload(config(after));
      expect(await read(sidecar.url)).toBe(after);
      expect(listenerSettingChanges(config(before), config(after))).toEqual([`http_connection_manager.http2_protocol_options.${field}: ${before} → ${after}`]);
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
