/**
 * Shared key-value store with compare-and-swap, per vm_id, as cpp-host src/shared_data.cc:
 * every VM of every plugin with the same vm_id sees the same keys. cas 0 writes
 * unconditionally; otherwise a write whose cas differs from the current one is CasMismatch.
 * A missing key answers NotFound.
 */
import { WasmResult } from './constants.js';

interface Entry {
  value: Uint8Array;
  cas: number;
}

export class SharedDataStore {
  private readonly byVm = new Map<string, Map<string, Entry>>();
  private nextCas = 1;

  private table(vmId: string): Map<string, Entry> {
    let table = this.byVm.get(vmId);
    if (table === undefined) {
      table = new Map();
      this.byVm.set(vmId, table);
    }
    return table;
  }

  private casValue(): number {
    const cas = this.nextCas;
    // cpp-host nextCas: a u32 that never hands out 0 (0 means "unconditional").
    this.nextCas = this.nextCas === 0xffffffff ? 1 : this.nextCas + 1;
    return cas;
  }

  get(vmId: string, key: string): { value: Uint8Array; cas: number } | undefined {
    return this.byVm.get(vmId)?.get(key);
  }

  set(vmId: string, key: string, value: Uint8Array, cas: number): number {
    const table = this.table(vmId);
    const current = table.get(key);
    if (current !== undefined && cas !== 0 && cas !== current.cas) return WasmResult.CasMismatch;
    table.set(key, { value: value.slice(), cas: this.casValue() });
    return WasmResult.Ok;
  }

  keys(vmId: string): string[] {
    return [...(this.byVm.get(vmId)?.keys() ?? [])];
  }
}
