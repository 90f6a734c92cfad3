/**
 * Shared queues per (vm_id, name), as cpp-host src/shared_queue.cc: register returns a token
 * (re-registering keeps pending data and moves delivery to the new registrant), resolve finds
 * a queue of any vm_id, enqueue wakes the registering VM's root context with
 * proxy_on_queue_ready asynchronously (Envoy posts it to the registrant's dispatcher).
 */
import { WasmResult } from './constants.js';

export interface QueueOwner {
  /** Delivers proxy_on_queue_ready(rootContextId, token) on the registering VM. */
  queueReady(rootContextId: number, token: number): void;
}

interface Queue {
  readonly token: number;
  readonly vmId: string;
  readonly name: string;
  owner: QueueOwner;
  rootContextId: number;
  readonly items: Uint8Array[];
}

export class SharedQueueRegistry {
  private readonly byKey = new Map<string, Queue>();
  private readonly byToken = new Map<number, Queue>();
  private nextToken = 1;

  register(vmId: string, name: string, owner: QueueOwner, rootContextId: number): number {
    const key = `${vmId}\0${name}`;
    const existing = this.byKey.get(key);
    if (existing !== undefined) {
      existing.owner = owner;
      existing.rootContextId = rootContextId;
      return existing.token;
    }
    const queue: Queue = { token: this.nextToken++, vmId, name, owner, rootContextId, items: [] };
    this.byKey.set(key, queue);
    this.byToken.set(queue.token, queue);
    return queue.token;
  }

  resolve(vmId: string, name: string): number | undefined {
    return this.byKey.get(`${vmId}\0${name}`)?.token;
  }

  enqueue(token: number, data: Uint8Array): number {
    const queue = this.byToken.get(token);
    if (queue === undefined) return WasmResult.NotFound;
    queue.items.push(data.slice());
    const { owner, rootContextId } = queue;
    setImmediate(() => owner.queueReady(rootContextId, token));
    return WasmResult.Ok;
  }

  dequeue(token: number): { result: number; data?: Uint8Array } {
    const queue = this.byToken.get(token);
    if (queue === undefined) return { result: WasmResult.NotFound };
    const data = queue.items.shift();
    return data === undefined ? { result: WasmResult.Empty } : { result: WasmResult.Ok, data };
  }

  /** Pending items of a queue (emulator getQueueData). */
  peek(vmId: string, name: string): readonly Uint8Array[] {
    return this.byKey.get(`${vmId}\0${name}`)?.items ?? [];
  }
}
