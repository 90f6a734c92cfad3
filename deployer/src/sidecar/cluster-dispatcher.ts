import type { ClusterDispatcher, HeaderList, HttpCallResponse } from '../host/api.js';
import type { ClusterPool } from './upstream.js';

/**
 * proxy_dispatch_http_call over the sidecar's own clusters, so a filter reaches the same named
 * clusters the route table does (Envoy: the cluster manager's async client). The whole response
 * is buffered, as Envoy's AsyncClient does for wasm http calls.
 */
/** Envoy's default per-connection buffer limit (1 MiB) is per chunk; 16 MiB bounds a whole reply. */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export class SidecarClusterDispatcher implements ClusterDispatcher {
  constructor(private readonly pools: ReadonlyMap<string, ClusterPool>, private readonly maxResponseBytes = MAX_RESPONSE_BYTES) {}

  hasCluster(name: string): boolean {
    return this.pools.has(name);
  }

  async dispatch(cluster: string, headers: HeaderList, body: Uint8Array, trailers: HeaderList, timeoutMs: number): Promise<HttpCallResponse> {
    const pool = this.pools.get(cluster);
    if (!pool) throw new Error(`unknown cluster "${cluster}"`);
    const request = pool.request(headers, body.byteLength > 0 || trailers.length > 0);
    let timedOut = false;
    const timer = timeoutMs > 0 ? setTimeout(() => { timedOut = true; request.destroy(); }, timeoutMs) : undefined;
    try {
      request.end(body.byteLength > 0 ? Buffer.from(body.buffer, body.byteOffset, body.byteLength) : undefined, trailers);
      const res = await request.response;
      const chunks: Uint8Array[] = [];
      let size = 0;
      await res.readBody(async (chunk) => {
        size += chunk.byteLength;
        if (size > this.maxResponseBytes) {
          request.destroy();
          throw new Error(`http call to ${cluster}: response body exceeds ${this.maxResponseBytes} bytes`);
        }
        chunks.push(chunk);
        return true;
      });
      return { headers: res.headers, body: Buffer.concat(chunks), trailers: res.trailers() };
    } catch (error) {
      if (timedOut) throw new Error(`http call to ${cluster} timed out after ${timeoutMs} ms`, { cause: error });
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}
