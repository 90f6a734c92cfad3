import { TYPE_SHORT_NAMES, type AcceptedResources, type AckRecord, type Log, type NackRecord, type NodeIdentity, type NodeStatus, type StatusRecorder, type TypeUrl } from './types.js';

interface MutableStatus {
  node: NodeIdentity;
  streams: number;
  acked: Partial<Record<TypeUrl, AckRecord>>;
  lastNack: Partial<Record<TypeUrl, NackRecord>>;
  pending: Partial<Record<TypeUrl, string>>;
  resources: Partial<Record<TypeUrl, Record<string, string>>>;
  disconnectedAt?: number;
}

/** A node gone this long is forgotten (proxies come and go; their records must not pile up). */
const FORGET_AFTER_MS = 60 * 60 * 1000;

type AckListener = () => void;

/**
 * ACK/NACK per node and type. A NACK is recorded and logged with its error_detail; the node stays
 * on its last ACKed version (nothing is re-sent until the configuration changes — no retry loop).
 */
export class NodeStatusRegistry implements StatusRecorder {
  private readonly nodes = new Map<string, MutableStatus>();
  private readonly listeners = new Set<AckListener>();

  constructor(private readonly log: Log = () => {}) {}

  connected(node: NodeIdentity): void {
    const status = this.entry(node);
    status.node = node;
    status.streams += 1;
    delete status.disconnectedAt;
  }

  disconnected(node: NodeIdentity): void {
    const status = this.nodes.get(node.id);
    if (status) {
      status.streams = Math.max(0, status.streams - 1);
      if (status.streams === 0) status.disconnectedAt = Date.now();
    }
    this.forgetGone();
    this.changed();
  }

  sent(node: NodeIdentity, typeUrl: TypeUrl, version: string): void {
    this.entry(node).pending[typeUrl] = version;
  }

  ack(node: NodeIdentity, typeUrl: TypeUrl, version: string, nonce: string, accepted: AcceptedResources): void {
    const status = this.entry(node);
    status.acked[typeUrl] = { version, nonce, at: new Date().toISOString() };
    const held = accepted.mode === 'replace' ? {} : { ...(status.resources[typeUrl] ?? {}) };
    for (const name of accepted.removed ?? []) delete held[name];
    for (const r of accepted.resources) held[r.name] = r.version;
    status.resources[typeUrl] = held;
    if (status.pending[typeUrl] === version) delete status.pending[typeUrl];
    this.changed();
  }

  nack(node: NodeIdentity, typeUrl: TypeUrl, version: string, nonce: string, error: string, resources: readonly string[]): void {
    const status = this.entry(node);
    status.lastNack[typeUrl] = { version, nonce, error, resources: [...resources], at: new Date().toISOString() };
    delete status.pending[typeUrl];
    this.log(`control-plane: ${node.id} NACKed ${TYPE_SHORT_NAMES[typeUrl]} version ${version || '(none)'} (nonce ${nonce}); it stays on ${status.acked[typeUrl]?.version ?? 'nothing accepted yet'}: ${error}`);
    this.changed();
  }

  list(): NodeStatus[] {
    return [...this.nodes.values()]
      .map((s) => ({ node: s.node, connected: s.streams > 0, streams: s.streams, acked: { ...s.acked }, lastNack: { ...s.lastNack }, pending: { ...s.pending }, resources: { ...s.resources } }))
      .sort((a, b) => a.node.id.localeCompare(b.node.id));
  }

  private forgetGone(now = Date.now()): void {
    for (const [id, status] of this.nodes) {
      if (status.disconnectedAt !== undefined && now - status.disconnectedAt > FORGET_AFTER_MS) this.nodes.delete(id);
    }
  }

  /** Called after every ACK, NACK or disconnect (push waits on it). */
  onChange(listener: AckListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private entry(node: NodeIdentity): MutableStatus {
    let status = this.nodes.get(node.id);
    if (!status) {
      status = { node, streams: 0, acked: {}, lastNack: {}, pending: {}, resources: {} };
      this.nodes.set(node.id, status);
    }
    return status;
  }
}
