/**
 * Issue #16: SIGTERM/SIGINT drain (`sidecar.drain`) treats open connections as Envoy's drain
 * sequence does: every HTTP/2 connection gets GOAWAY (with the last stream id it processed) and
 * closes once its streams finish; idle HTTP/1 keep-alive connections are closed; a busy one gets
 * `connection: close` on the response in progress; in-flight requests finish; the listener takes
 * no new connections.
 */
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sidecarConfig, startTestSidecar, startUpstream, type StartedSidecar, type TestUpstream } from './helpers.js';
import { clientPreface, Flags, frame, framesIn, FrameType, requestHeaders } from './hostile/wire.js';

/** An upstream that holds `/slow*` requests until `release()`. */
async function holdingUpstream(): Promise<TestUpstream & { release(): void; held(count: number): Promise<void> }> {
  const waiting: (() => void)[] = [];
  let onHeld: () => void = () => undefined;
  const upstream = await startUpstream((req, res) => {
    const answer = () => res.writeHead(200, { 'content-type': 'text/plain' }).end(`ok ${req.url}\n`);
    if (req.url?.startsWith('/slow')) {
      waiting.push(answer);
      onHeld();
    } else {
      answer();
    }
  });
  const held = (count: number) => new Promise<void>((resolve) => {
    onHeld = () => { if (waiting.length >= count) resolve(); };
    onHeld();
  });
  return Object.assign(upstream, { release: () => { for (const answer of waiting.splice(0)) answer(); }, held });
}

const closed = (socket: net.Socket) => new Promise<void>((resolve) => {
  if (socket.destroyed) resolve();
  else socket.once('close', () => resolve());
});

/** A raw HTTP/1.1 connection: write requests, read what comes back, know when the server closes. */
function rawConnection(port: number): Promise<{ socket: net.Socket; received(): string; waitFor(text: string): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    const waiters = new Set<() => void>();
    socket.on('data', (chunk: Buffer) => { data += chunk.toString('latin1'); for (const w of waiters) w(); });
    socket.on('error', () => undefined);
    socket.once('error', reject);
    socket.once('connect', () => resolve({
      socket,
      received: () => data,
      waitFor: (text) => new Promise<void>((done, fail) => {
        const check = () => { if (data.includes(text)) { waiters.delete(check); done(); } };
        waiters.add(check);
        socket.once('close', () => { if (!data.includes(text)) fail(new Error(`closed before "${text}"; got: ${data}`)); });
        check();
      }),
    }));
  });
}

describe('sidecar drain: open connections', () => {
  let upstream: Awaited<ReturnType<typeof holdingUpstream>>;
  let sidecar: StartedSidecar;
  beforeEach(async () => {
    upstream = await holdingUpstream();
    sidecar = await startTestSidecar(sidecarConfig({
      // The HTTP/2 shutdown notice comes first; the final GOAWAY after drain_timeout.
      http_connection_manager: { drain_timeout: '0.2s' },
      clusters: { app: upstream.url }, routes: [{ match: { prefix: '/' }, cluster: 'app' }],
    }));
  });
  afterEach(async () => {
    upstream.release();
    await sidecar.close();
    await upstream.close();
  });

  it('HTTP/1.1 (raw sockets): the idle keep-alive connection is closed, the busy one gets connection: close and closes after its response, new connections are refused', async () => {
    const idle = await rawConnection(sidecar.listen.port);
    idle.socket.write('GET /warm HTTP/1.1\r\nhost: app\r\n\r\n');
    await idle.waitFor('ok /warm');
    expect(idle.received()).toMatch(/connection: keep-alive/i);

    const busy = await rawConnection(sidecar.listen.port);
    busy.socket.write('GET /slow HTTP/1.1\r\nhost: app\r\n\r\n');
    await upstream.held(1);

    const drained = sidecar.drain(5_000);
    await closed(idle.socket);
    const refused = await new Promise<boolean>((resolve) => {
      const socket = net.connect(sidecar.listen.port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(false); });
      socket.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);

    upstream.release();
    await busy.waitFor('ok /slow');
    await closed(busy.socket);
    expect(busy.received()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(busy.received()).toMatch(/\r\nconnection: close\r\n/i);
    expect(await drained).toBe(0);
    expect(sidecar.stats.downstreamCxActive).toBe(0);
  });

  it('HTTP/1.1: a keep-alive response already streaming when the drain starts ends the connection after it', async () => {
    let finish: () => void = () => undefined;
    const streaming = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first;');
      finish = () => res.end('last');
    });
    const local = await startTestSidecar(sidecarConfig({ clusters: { app: streaming.url }, routes: [{ match: { prefix: '/' }, cluster: 'app' }] }));
    try {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
        http.get(`${local.url}/stream`, { agent }, resolve).on('error', reject);
      });
      expect(response.headers.connection).toBe('keep-alive');
      let body = '';
      response.on('data', (c: Buffer) => { body += c.toString(); });
      const socketClosed = closed(response.socket);
      const drained = local.drain(5_000);
      finish();
      await socketClosed;
      expect(body).toBe('first;last');
      expect(await drained).toBe(0);
      agent.destroy();
    } finally {
      await local.close();
      await streaming.close();
    }
  });

  it('HTTP/2 (node client): an idle connection gets GOAWAY and closes; on a busy one GOAWAY comes at once and the in-flight stream completes', async () => {
    const idle = http2.connect(sidecar.url);
    const busy = http2.connect(sidecar.url);
    const get = (session: http2.ClientHttp2Session, path: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
      const stream = session.request({ ':path': path });
      let status = 0;
      let body = '';
      stream.on('response', (h) => { status = Number(h[':status']); });
      stream.on('data', (c: Buffer) => { body += c.toString(); });
      stream.on('end', () => resolve({ status, body }));
      stream.on('error', reject);
    });
    try {
      expect((await get(idle, '/warm')).status).toBe(200);
      const slow = get(busy, '/slow');
      await upstream.held(1);
      const idleGoaway = new Promise<number>((resolve) => idle.once('goaway', (code) => resolve(code)));
      const busyGoaway = new Promise<number>((resolve) => busy.once('goaway', (code) => resolve(code)));
      const idleClosed = new Promise<void>((resolve) => idle.once('close', () => resolve()));
      const drained = sidecar.drain(5_000);
      expect(await idleGoaway).toBe(http2.constants.NGHTTP2_NO_ERROR);
      await idleClosed;
      expect(await busyGoaway).toBe(http2.constants.NGHTTP2_NO_ERROR);
      expect(busy.destroyed).toBe(false);
      upstream.release();
      expect(await slow).toEqual({ status: 200, body: 'ok /slow\n' });
      expect(await drained).toBe(0);
    } finally {
      idle.destroy();
      busy.destroy();
    }
  });

  it('HTTP/2 (raw frames): a shutdown notice (GOAWAY, highest stream id), then after drain_timeout the GOAWAY naming the last stream processed; both streams get their response', async () => {
    const socket = net.connect(sidecar.listen.port, '127.0.0.1');
    let data = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => { data = Buffer.concat([data, chunk]); });
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    // Two requests, streams 1 and 3: the GOAWAY must carry 3, the highest processed.
    const get = (streamId: number, path: string) => frame(FrameType.HEADERS, Flags.END_STREAM | Flags.END_HEADERS, streamId, requestHeaders(path));
    socket.write(Buffer.concat([clientPreface(), frame(FrameType.SETTINGS, Flags.ACK, 0), get(1, '/slow-1'), get(3, '/slow-3')]));
    await upstream.held(2);
    const drained = sidecar.drain(5_000);
    const goaways = async (count: number) => {
      for (let i = 0; i < 300; i++) {
        const found = framesIn(data).filter((f) => f.type === FrameType.GOAWAY);
        if (found.length >= count) return found.map((f) => [f.payload.readUInt32BE(0) & 0x7fffffff, f.payload.readUInt32BE(4)]);
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`fewer than ${count} GOAWAY frames`);
    };
    // [last stream id, error code NO_ERROR]
    expect(await goaways(1)).toEqual([[2 ** 31 - 1, 0]]);
    expect(await goaways(2)).toEqual([[2 ** 31 - 1, 0], [3, 0]]);
    upstream.release();
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const headersFor = framesIn(data).filter((f) => f.type === FrameType.HEADERS).map((f) => f.streamId);
    expect(headersFor).toEqual(expect.arrayContaining([1, 3]));
    expect(await drained).toBe(0);
  });

});
