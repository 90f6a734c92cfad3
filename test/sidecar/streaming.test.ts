import http from 'node:http';
import http2 from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeChain, sidecarConfig, startTestSidecar, startUpstream, type StartedSidecar, type TestUpstream } from './helpers.js';

/** `promise`, or a rejection naming `what` after 3 s: a buffering proxy never gets there. */
function within<T>(promise: Promise<T>, what: string): Promise<T> {
  const timeout = new Promise<T>((_, reject) => {
    setTimeout(() => reject(new Error(`${what} (did the proxy buffer the whole body?)`)), 3000);
  });
  return Promise.race([promise, timeout]);
}

function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}

describe('sidecar streaming bodies (no full buffering)', () => {
  let upstream: TestUpstream;
  let sidecar: StartedSidecar;
  let firstRequestChunk = deferred<string>();
  let clientGotFirstResponseChunk = deferred();
  const chain = fakeChain();

  beforeAll(async () => {
    upstream = await startUpstream((req, res) => {
      if (req.url === '/upload') {
        let received = '';
        req.on('data', (chunk: Buffer) => {
          if (received === '') firstRequestChunk.resolve(chunk.toString());
          received += chunk.toString();
        });
        req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end(`received ${received}`));
        return;
      }
      // /download: first chunk, wait until the client has it, then the rest.
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('part-1;');
      void clientGotFirstResponseChunk.promise.then(() => res.end('part-2'));
    });
    sidecar = await startTestSidecar(sidecarConfig({ clusters: { app: upstream.url }, routes: [{ match: { prefix: '/' }, cluster: 'app' }] }), { chain });
  });
  afterAll(async () => {
    await sidecar?.close();
    await upstream?.close();
  });

  it('HTTP/1.1: the upstream gets the first request chunk before the client ends the body', async () => {
    firstRequestChunk = deferred<string>();
    const response = new Promise<string>((resolve, reject) => {
      const req = http.request(`${sidecar.url}/upload`, { method: 'POST', agent: false, headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => { body += c.toString(); });
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.write('chunk-A;');
      void within(firstRequestChunk.promise, 'upstream never saw chunk A before the request ended').then((first) => {
        expect(first).toBe('chunk-A;');
        req.end('chunk-B');
      }, reject);
    });
    expect(await response).toBe('received chunk-A;chunk-B');
    // The chain saw the body chunk by chunk, then the end of stream.
    expect(chain.calls).toContain('requestBody 8 eos=false');
  });

  it('HTTP/1.1: the client gets the first response chunk before the upstream ends the body', async () => {
    clientGotFirstResponseChunk = deferred();
    const body = await new Promise<string>((resolve, reject) => {
      http.get(`${sidecar.url}/download`, { agent: false }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          text += c.toString();
          if (text === 'part-1;') clientGotFirstResponseChunk.resolve();
        });
        res.on('end', () => resolve(text));
      }).on('error', reject);
    });
    expect(body).toBe('part-1;part-2');
  });

  it('h2c: the client gets the first response chunk before the upstream ends the body', async () => {
    clientGotFirstResponseChunk = deferred();
    const session = http2.connect(sidecar.url);
    try {
      const body = await within(new Promise<string>((resolve, reject) => {
        const stream = session.request({ ':path': '/download' });
        let text = '';
        stream.on('data', (c: Buffer) => {
          text += c.toString();
          if (text === 'part-1;') clientGotFirstResponseChunk.resolve();
        });
        stream.on('end', () => resolve(text));
        stream.on('error', reject);
      }), 'h2c response did not complete');
      expect(body).toBe('part-1;part-2');
    } finally {
      session.close();
    }
  });
});
