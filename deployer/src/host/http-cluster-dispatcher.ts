/**
 * Default ClusterDispatcher: real HTTP/1.1 to a map of cluster name → base URL (node:http,
 * node:https), with a per-call timeout. The filter's :path is appended to the cluster URL's
 * origin; :authority becomes the Host header. A timeout or connection error rejects, which the
 * host delivers as a failed call (0 headers), as Envoy's AsyncClient onFailure.
 */
import http from 'node:http';
import https from 'node:https';
import type { ClusterDispatcher, HeaderList, HttpCallResponse } from './api.js';

export interface HttpClusterOptions {
  /** Cluster name → base URL, e.g. `{ jwks: "http://127.0.0.1:8081" }`. */
  readonly clusters: Readonly<Record<string, string>>;
  /** Used when the filter passes timeout 0 (Envoy: no timeout); default 0 = none. */
  readonly defaultTimeoutMs?: number;
  /** Largest response body accepted (Envoy's buffer limit); default 16 MiB. */
  readonly maxResponseBytes?: number;
}

export class HttpClusterDispatcher implements ClusterDispatcher {
  private readonly urls = new Map<string, URL>();

  constructor(private readonly options: HttpClusterOptions) {
    for (const [name, url] of Object.entries(options.clusters)) {
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw new Error(`cluster "${name}": ${JSON.stringify(url)} is not a URL; expected http://host:port or https://host:port`);
      }
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
        throw new Error(`cluster "${name}": scheme ${parsed.protocol} is not supported; expected http: or https:`);
      }
      this.urls.set(name, parsed);
    }
  }

  hasCluster(name: string): boolean {
    return this.urls.has(name);
  }

  dispatch(cluster: string, headers: HeaderList, body: Uint8Array, _trailers: HeaderList, timeoutMs: number): Promise<HttpCallResponse> {
    const base = this.urls.get(cluster);
    if (base === undefined) return Promise.reject(new Error(`unknown cluster "${cluster}"`));
    let method = 'GET';
    let path = '/';
    const outgoing: Record<string, string | string[]> = {};
    for (const [name, value] of headers) {
      if (name === ':method') method = value;
      else if (name === ':path') path = value;
      else if (name === ':authority') outgoing['host'] = value;
      else if (!name.startsWith(':')) {
        const prev = outgoing[name];
        outgoing[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
      }
    }
    const timeout = timeoutMs > 0 ? timeoutMs : (this.options.defaultTimeoutMs ?? 0);
    const limit = this.options.maxResponseBytes ?? 16 * 1024 * 1024;
    const client = base.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const request = client.request({
        protocol: base.protocol, hostname: base.hostname, port: base.port, method, path, headers: outgoing,
      }, (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > limit) request.destroy(new Error(`response body of cluster "${cluster}" exceeds ${limit} bytes`));
          else chunks.push(chunk);
        });
        response.on('end', () => {
          clearTimeout(timer);
          const list: [string, string][] = [[':status', String(response.statusCode ?? 0)]];
          for (let i = 0; i < response.rawHeaders.length; i += 2) list.push([response.rawHeaders[i]!.toLowerCase(), response.rawHeaders[i + 1]!]);
          const trailers: [string, string][] = [];
          for (let i = 0; i < response.rawTrailers.length; i += 2) trailers.push([response.rawTrailers[i]!.toLowerCase(), response.rawTrailers[i + 1]!]);
          resolve({ headers: list, body: new Uint8Array(Buffer.concat(chunks)), trailers });
        });
        response.on('error', reject);
      });
      const timer = timeout > 0 ? setTimeout(() => request.destroy(new Error(`http call to cluster "${cluster}" timed out after ${timeout} ms`)), timeout) : undefined;
      request.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      request.end(body.length > 0 ? Buffer.from(body) : undefined);
    });
  }
}
