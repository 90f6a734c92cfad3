import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Headers the demo upstream sets itself; anything else on a response was added on the way back. */
export const UPSTREAM_RESPONSE_HEADERS = new Set(['content-type', 'content-length', 'date', 'connection', 'keep-alive', 'x-demo-upstream']);

export interface DemoUpstream {
  readonly url: string;
  /** Requests that reached it, by x-request-id. */
  readonly seen: Map<string, Record<string, string | string[] | undefined>>;
  close(): Promise<void>;
}

/** The demo's application: answers every request with a JSON echo of the headers it received. */
export async function startDemoUpstream(): Promise<DemoUpstream> {
  const seen = new Map<string, Record<string, string | string[] | undefined>>();
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = String(req.headers['x-request-id'] ?? '');
      seen.set(id, req.headers);
      const body = JSON.stringify({ app: 'demo-upstream', method: req.method, path: req.url, headers: req.headers }, null, 2);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-demo-upstream': 'yes' }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}
