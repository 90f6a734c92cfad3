import { PushDebouncer } from './push-debounce.js';
import { createSnapshot } from './snapshot.js';
import type { Log, NodeIdentity, Snapshot, SnapshotSource } from './types.js';

export interface SnapshotCacheOptions {
  /**
   * Istio's PILOT_DEBOUNCE_AFTER (100 ms) and PILOT_DEBOUNCE_MAX (10 s), with a leading edge: a
   * change after a quiet period is pushed at once, a burst after it becomes one push
   * (push-debounce.ts).
   */
  readonly debounceAfterMs?: number;
  readonly debounceMaxMs?: number;
  readonly log?: Log;
}

type Listener = (snapshot: Snapshot) => void;

/**
 * Snapshots per node group (go-control-plane's SnapshotCache keyed by NodeHash). A new source is
 * applied after the debounce; each group's snapshot is rebuilt, and listeners are told only if
 * its content versions changed. A group whose new snapshot fails (inconsistent, or a builder
 * error) keeps serving its last good snapshot, and the error is logged.
 */
export class SnapshotCache {
  private source: SnapshotSource;
  private readonly groups = new Map<string, Snapshot>();
  private readonly listeners = new Map<Listener, NodeIdentity>();
  /** What each listener was last given: the fallback when its (possibly re-keyed) group fails to build. */
  private readonly lastGiven = new Map<Listener, Snapshot>();
  private readonly debouncer: PushDebouncer;
  private readonly log: Log;
  private readonly waiters: (() => void)[] = [];

  constructor(source: SnapshotSource, options: SnapshotCacheOptions = {}) {
    this.source = source;
    this.debouncer = new PushDebouncer({ afterMs: options.debounceAfterMs ?? 100, maxMs: options.debounceMaxMs ?? 10_000 }, () => this.push());
    this.log = options.log ?? (() => {});
  }

  /** The snapshot served to `node` now (built on first use of its group). */
  snapshotFor(node: NodeIdentity): Snapshot {
    const group = this.source.groupOf(node);
    let snapshot = this.groups.get(group);
    if (!snapshot) {
      snapshot = this.build(node, group) ?? createSnapshot(group, []);
      this.groups.set(group, snapshot);
    }
    return snapshot;
  }

  /** Call `listener` with each new snapshot of `node`'s group; returns the cancel function. */
  watch(node: NodeIdentity, listener: Listener): () => void {
    this.lastGiven.set(listener, this.snapshotFor(node));
    this.listeners.set(listener, node);
    return () => { this.listeners.delete(listener); this.lastGiven.delete(listener); };
  }

  /** A new configuration: applied to every group at once after a quiet period, else after the debounce. */
  setSource(source: SnapshotSource): void {
    this.source = source;
    this.debouncer.request();
  }

  /** Resolves once the pending push (if any) has been applied. */
  settled(): Promise<void> {
    if (!this.debouncer.pending) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Apply a pending change now (tests, shutdown). */
  flush(): void {
    this.debouncer.flush();
  }

  groupCount(): number {
    return this.groups.size;
  }

  /** All snapshots currently served (the module server keeps what they reference). */
  servedSnapshots(): Snapshot[] {
    return [...this.groups.values()];
  }

  close(): void {
    this.debouncer.close();
    for (const resolve of this.waiters.splice(0)) resolve();
  }

  private push(): void {
    // Groups are re-keyed by the new source: a change of selectors may move nodes between groups.
    // A group that fails to build keeps its last good snapshot.
    const previous = new Map(this.groups);
    this.groups.clear();
    const notify: [Listener, Snapshot][] = [];
    for (const [listener, node] of this.listeners) {
      const group = this.source.groupOf(node);
      let snapshot = this.groups.get(group);
      if (!snapshot) {
        const built = this.build(node, group);
        const before = previous.get(group);
        // An unchanged group keeps its snapshot object: nothing to send, nothing to re-encode.
        snapshot = built && before && sameVersions(built, before) ? before : built ?? before ?? this.lastGiven.get(listener) ?? createSnapshot(group, []);
        this.groups.set(group, snapshot);
      }
      const given = this.lastGiven.get(listener);
      if (!given || !sameVersions(given, snapshot)) notify.push([listener, snapshot]);
    }
    for (const [listener, snapshot] of notify) {
      this.lastGiven.set(listener, snapshot);
      listener(snapshot);
    }
    for (const resolve of this.waiters.splice(0)) resolve();
  }

  private build(node: NodeIdentity, group: string): Snapshot | undefined {
    try {
      return this.source.snapshotFor(node);
    } catch (error) {
      this.log(`control-plane: snapshot for ${group} not updated, last good one keeps serving: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  }
}

function sameVersions(a: Snapshot, b: Snapshot): boolean {
  if (a === b) return true;
  return a.group === b.group && Object.entries(a.versions).every(([type, version]) => b.versions[type as keyof Snapshot['versions']] === version);
}
