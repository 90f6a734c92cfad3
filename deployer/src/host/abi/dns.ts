/**
 * Envoy's own import `env.envoy_resolve_dns(address_ptr, address_size, token_ptr)`, registered
 * for every ABI version (source/extensions/common/wasm/wasm.cc `Wasm::registerCallbacks`,
 * `resolve_dns`): the token (1, 2, … as `Wasm::nextDnsToken`) is written at once; the answer
 * arrives later in the module's `envoy_on_resolve_dns(root_context_id, token, size)` on the root
 * context of the caller, with the CallData buffer holding (envoy context.cc `onResolveDns`):
 * u32 N, N × u32 TTL seconds, N NUL-terminated addresses as Envoy prints them (`ip:0`,
 * `[ipv6]:0`, port 0). A failed lookup calls it with size 0.
 */
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import type { PluginVm } from '../plugin-vm.js';
import type { ImportModule } from '../vm.js';
import { WasmResult } from './constants.js';
import { readString } from './memory.js';

export interface DnsAnswer {
  /** An IPv4 or IPv6 address. */
  readonly address: string;
  readonly ttlSeconds: number;
}

/** Resolves a name the way Envoy's DnsLookupFamily::Auto does: IPv6 first, IPv4 when there is none. Rejects on failure. */
export type DnsResolver = (name: string) => Promise<readonly DnsAnswer[]>;

async function family(name: string, v: 4 | 6): Promise<DnsAnswer[]> {
  // getaddrinfo sees /etc/hosts as c-ares does ("files" before "bind"); DNS adds the TTLs.
  const found = await dns.lookup(name, { family: v, all: true }).catch(() => []);
  if (found.length === 0) return [];
  const ttls = await (v === 6 ? dns.resolve6(name, { ttl: true }) : dns.resolve4(name, { ttl: true })).catch(() => []);
  return found.map(({ address }) => ({ address, ttlSeconds: ttls.find((t) => t.address === address)?.ttl ?? 0 }));
}

export const systemDnsResolver: DnsResolver = async (name) => {
  if (isIP(name) !== 0) return [{ address: name, ttlSeconds: 0 }];
  const answers = (await family(name, 6)).length > 0 ? await family(name, 6) : await family(name, 4);
  if (answers.length === 0) throw new Error(`${name}: no addresses`);
  return answers;
};

/** The CallData buffer of envoy_on_resolve_dns. */
export function dnsAnswerBuffer(answers: readonly DnsAnswer[]): Uint8Array {
  const addresses = answers.map((a) => Buffer.from(`${isIP(a.address) === 6 ? `[${a.address}]` : a.address}:0\0`));
  const out = Buffer.alloc(4 + 4 * answers.length + addresses.reduce((n, b) => n + b.length, 0));
  out.writeUInt32LE(answers.length, 0);
  answers.forEach((a, i) => out.writeUInt32LE(Math.max(0, Math.min(a.ttlSeconds, 0xffffffff)) >>> 0, 4 + 4 * i));
  let offset = 4 + 4 * answers.length;
  for (const b of addresses) offset += b.copy(out, offset);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

export function dnsImports(h: PluginVm): ImportModule {
  return {
    envoy_resolve_dns(addressPtr: number, addressSize: number, tokenPtr: number): number {
      const record = h.context();
      const address = readString(h.vm, addressPtr, addressSize);
      if (address === undefined || record === undefined) return WasmResult.InvalidMemoryAccess;
      const token = h.nextDnsToken();
      if (!h.vm.setU32(tokenPtr, token)) return WasmResult.InvalidMemoryAccess;
      const root = h.rootOf(record);
      h.services.resolveDns(address).then(
        (answers) => h.deliverDnsAnswer(root, token, dnsAnswerBuffer(answers)),
        () => h.deliverDnsAnswer(root, token, undefined),
      );
      return WasmResult.Ok;
    },
  };
}
