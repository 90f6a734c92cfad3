/**
 * A ClusterDispatcher for tests: records every proxy_http_call and lets the test answer it
 * (respond / fail) synchronously through the emulator. Calls never settle on their own.
 */
import type { ClusterDispatcher, HeaderList, HttpCallInfo, HttpCallResponse } from '../api.js';

export interface RecordedHttpCall {
  readonly token: number;
  readonly plugin: string;
  readonly cluster: string;
  readonly headers: HeaderList;
  readonly body: Uint8Array;
  readonly trailers: HeaderList;
  readonly timeoutMs: number;
}

export class ScriptedClusters implements ClusterDispatcher {
  readonly calls: RecordedHttpCall[] = [];

  /** `known` undefined: every cluster name exists; otherwise only these (others → BadArgument). */
  constructor(private readonly known?: ReadonlySet<string>) {}

  hasCluster(name: string): boolean {
    return this.known === undefined || this.known.has(name);
  }

  dispatch(cluster: string, headers: HeaderList, body: Uint8Array, trailers: HeaderList, timeoutMs: number, call?: HttpCallInfo): Promise<HttpCallResponse> {
    this.calls.push({ token: call?.token ?? 0, plugin: call?.plugin ?? '', cluster, headers, body, trailers, timeoutMs });
    return new Promise<HttpCallResponse>(() => undefined);
  }
}
