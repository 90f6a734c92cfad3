/**
 * Bounded least-recently-used map with u64 keys (callers key by a hash). O(1) get/set/evict:
 * a Map for lookup plus an intrusive doubly-linked list for recency. Capacity 0 disables it.
 */
class LruNode<V> {
  prev: LruNode<V> | null = null;
  next: LruNode<V> | null = null;
  constructor(public key: u64, public value: V) {}
}

export class LruCache<V> {
  private map: Map<u64, LruNode<V>> = new Map<u64, LruNode<V>>();
  private head: LruNode<V> | null = null; // most recent
  private tail: LruNode<V> | null = null; // least recent

  constructor(public capacity: i32) {}

  get size(): i32 { return this.map.size; }

  /** The value for `key` (marked most recently used), or null. */
  get(key: u64): V | null {
    if (!this.map.has(key)) return null;
    const node = this.map.get(key);
    this.unlink(node);
    this.pushFront(node);
    return node.value;
  }

  set(key: u64, value: V): void {
    if (this.capacity <= 0) return;
    if (this.map.has(key)) {
      const node = this.map.get(key);
      node.value = value;
      this.unlink(node);
      this.pushFront(node);
      return;
    }
    const node = new LruNode<V>(key, value);
    this.map.set(key, node);
    this.pushFront(node);
    while (this.map.size > this.capacity) {
      const last = this.tail;
      if (last === null) break;
      this.unlink(last);
      this.map.delete(last.key);
    }
  }

  delete(key: u64): void {
    if (!this.map.has(key)) return;
    const node = this.map.get(key);
    this.unlink(node);
    this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
    this.head = null;
    this.tail = null;
  }

  private unlink(node: LruNode<V>): void {
    const prev = node.prev;
    const next = node.next;
    if (prev !== null) prev.next = next; else this.head = next;
    if (next !== null) next.prev = prev; else this.tail = prev;
    node.prev = null;
    node.next = null;
  }

  private pushFront(node: LruNode<V>): void {
    node.next = this.head;
    node.prev = null;
    if (this.head !== null) this.head!.prev = node;
    this.head = node;
    if (this.tail === null) this.tail = node;
  }
}
