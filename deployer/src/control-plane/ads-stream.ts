import { nodeIdentity } from './node-identity.js';
import type { SnapshotCache } from './snapshot-cache.js';
import { isKnownTypeUrl, type Log, type NodeIdentity, type Snapshot, type StatusRecorder, type TypeUrl } from './types.js';
import type { NodeMessage } from './node-identity.js';

/** What an ADS stream needs from the server around it. */
export interface StreamContext {
  readonly cache: SnapshotCache;
  readonly status: StatusRecorder;
  readonly log: Log;
}

/** The transport under a stream: write one encoded response, or end it with an error. */
export interface StreamSink {
  write(response: Buffer): void;
  fail(code: 'INVALID_ARGUMENT', message: string): void;
}

/**
 * Shared by the SotW and delta streams: node identity from the first request, the snapshot watch,
 * per-stream nonces (a counter: unique on the stream, which is all the protocol asks), and cleanup.
 */
export abstract class AdsStreamBase {
  protected node: NodeIdentity | undefined;
  protected snapshot: Snapshot | undefined;
  private cancelWatch: (() => void) | undefined;
  private nonceCounter = 0;
  private closed = false;

  constructor(protected readonly context: StreamContext, protected readonly sink: StreamSink) {}

  /** Identify the node on the first request; false if the stream was failed. */
  protected identify(node: NodeMessage | null | undefined): boolean {
    if (this.node) return true;
    try {
      this.node = nodeIdentity(node);
    } catch (error) {
      this.sink.fail('INVALID_ARGUMENT', error instanceof Error ? error.message : String(error));
      this.closed = true;
      return false;
    }
    this.context.status.connected(this.node);
    this.snapshot = this.context.cache.snapshotFor(this.node);
    this.cancelWatch = this.context.cache.watch(this.node, (snapshot) => {
      if (this.closed) return;
      this.snapshot = snapshot;
      this.onSnapshot(snapshot);
    });
    return true;
  }

  /**
   * The type URL of a request on an identified stream, or undefined when the request is to be
   * dropped: the stream is closed or refused, or the type is one this control plane does not serve.
   */
  protected acceptedType(node: NodeMessage | null | undefined, typeUrl: string, flavour: string): TypeUrl | undefined {
    if (this.isClosed || !this.identify(node)) return undefined;
    if (isKnownTypeUrl(typeUrl)) return typeUrl;
    this.context.log(`control-plane: ${this.node!.id} asked for ${typeUrl || '(no type_url)'} (${flavour}), which this control plane does not serve; ignored`);
    return undefined;
  }

  protected nextNonce(): string {
    this.nonceCounter += 1;
    return String(this.nonceCounter);
  }

  protected get isClosed(): boolean {
    return this.closed;
  }

  protected abstract onSnapshot(snapshot: Snapshot): void;

  close(): void {
    if (this.closed && !this.cancelWatch) return;
    this.closed = true;
    this.cancelWatch?.();
    this.cancelWatch = undefined;
    if (this.node) this.context.status.disconnected(this.node);
  }
}
