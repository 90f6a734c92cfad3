import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ModuleStore } from './module-store.js';

/**
 * GET/HEAD /modules/sha256/<hex>: content-addressed, so responses are immutable and cacheable
 * forever; single byte ranges (RFC 9110 §14) let a proxy resume a large download. Only modules the
 * store holds are served. No token: Envoy's remote data source sends no credentials, and a module
 * is only reachable by knowing its digest.
 */
export function serveModule(request: IncomingMessage, response: ServerResponse, modules: ModuleStore, sha256: string): void {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end(`${request.method} not allowed on modules: expected GET or HEAD\n`);
    return;
  }
  const bytes = modules.get(sha256);
  if (!bytes) {
    response.writeHead(404, { 'content-type': 'text/plain' }).end(`no module with sha256 ${sha256}\n`);
    return;
  }
  const headers: Record<string, string | number> = {
    'content-type': 'application/wasm', etag: `"sha256:${sha256}"`, 'accept-ranges': 'bytes', 'cache-control': 'public, max-age=31536000, immutable',
  };
  const range = request.headers.range;
  if (range !== undefined && (request.headers['if-range'] === undefined || request.headers['if-range'] === headers.etag)) {
    const parsed = parseRange(range, bytes.length);
    if (parsed === 'unsatisfiable') {
      response.writeHead(416, { ...headers, 'content-range': `bytes */${bytes.length}` }).end();
      return;
    }
    if (parsed) {
      const [start, end] = parsed;
      response.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${bytes.length}`, 'content-length': end - start + 1 });
      response.end(request.method === 'HEAD' ? undefined : bytes.subarray(start, end + 1));
      return;
    }
  }
  response.writeHead(200, { ...headers, 'content-length': bytes.length });
  response.end(request.method === 'HEAD' ? undefined : bytes);
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n`; multiple ranges or other units are ignored (full body), as servers may. */
function parseRange(header: string, size: number): [number, number] | 'unsatisfiable' | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) return 'unsatisfiable';
    return [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return [start, end];
}
