/**
 * The request headers jwt-auth looks at, read with ONE host call per request
 * (proxy_get_header_map_pairs) instead of one proxy_get_header_map_value per header plus one
 * proxy_remove_header_map_value per spoofable header: each host call costs far more than the wasm
 * work, and the values are used straight from the host's serialized buffer, so a request whose
 * token is in the cache decodes no string at all.
 *
 * Serialization (proxy-wasm ABI v0.2.1, "Header map"): u32 pair count, then u32 key length and
 * u32 value length per pair, then `key\0value\0` per pair. Envoy's header map keys are lower-case
 * (Http::LowerCaseString; envoy source/extensions/common/wasm/context.cc getHeaderMapPairs), and
 * proxy_get_header_map_value answers the FIRST value of a repeated header — the view keeps the
 * first occurrence too. Every name jwt-auth looks for is lower-case (config.ts lower-cases them).
 */
import { FilterConfig } from "./config";
import { bytesEqual } from "./bytes";
import { HostName, METHOD_HEADER, PATH_HEADER, COOKIE_HEADER, removeRequestHeader } from "./host-io";
import { armScratch, disarmScratch, releaseScratch } from "../../lib/host-memory";

@external("env", "proxy_get_header_map_pairs")
declare function proxy_get_header_map_pairs(map_type: u32, return_ptr: usize, return_size: usize): u32;
import { fetchHeader, fetchedBytes, fetchedLength, releaseFetched } from "../../lib/host-values";

/**
 * Up to this many header reads per request, each header is read on its own
 * (proxy_get_header_map_value) when first needed instead of the whole map at once: the host
 * then serializes nothing it does not need (the whole map, a bearer token and all, costs it
 * several times one value). A configuration with more names to look at reads the map.
 */
const BY_VALUE_MAX_READS = 4;

const REQUEST_HEADERS: u32 = 0;

/**
 * The header names one configuration needs, each with a slot number, built once per accepted
 * configuration: `:path`, `:method`, `cookie`, every from_headers name, and every header that is
 * removed from each request (output headers and the internal payload header).
 */
export class HeaderPlan {
  readonly names: Array<HostName> = new Array<HostName>();
  /** Whether the slot's header is removed from every request (client copies of outputs). */
  readonly stripped: Array<bool> = new Array<bool>();
  readonly pathSlot: i32;
  readonly methodSlot: i32;
  readonly cookieSlot: i32;
  /** Per provider (ProviderConfig.index): the slot of each from_headers location, in order. */
  readonly locationSlots: Array<StaticArray<i32>> = new Array<StaticArray<i32>>();
  /** Few enough names to read one by one, when needed (BY_VALUE_MAX_READS); else the whole map. */
  readonly byValue: bool;

  constructor(config: FilterConfig) {
    for (let i = 0; i < config.spoofableHeaders.length; i++) {
      this.stripped[this.slotOf(config.spoofableHeaders[i])] = true;
    }
    this.pathSlot = this.slotOf(PATH_HEADER);
    this.methodSlot = this.slotOf(METHOD_HEADER);
    this.cookieSlot = this.slotOf(COOKIE_HEADER);
    for (let p = 0; p < config.providers.length; p++) {
      const provider = config.providers[p];
      const slots = new StaticArray<i32>(provider.fromHeaders.length);
      for (let i = 0; i < provider.fromHeaders.length; i++) slots[i] = this.slotOf(provider.fromHeaders[i].header);
      // Indexed by ProviderConfig.index, which is the provider's position in config.providers.
      this.locationSlots[provider.index] = slots;
    }
    // Every stripped name is looked up on every request; then :path, :method when rules match
    // methods, cookie when a provider reads cookies, and the token headers.
    let reads = 1 + (config.rulesUseMethods ? 1 : 0);
    let cookies = false;
    for (let s = 0; s < this.names.length; s++) {
      if (this.stripped[s]) reads++;
    }
    for (let p = 0; p < config.providers.length; p++) {
      reads += config.providers[p].fromHeaders.length;
      if (config.providers[p].fromCookies.length > 0) cookies = true;
    }
    this.byValue = reads + (cookies ? 1 : 0) <= BY_VALUE_MAX_READS;
  }

  get size(): i32 { return this.names.length; }

  private slotOf(name: HostName): i32 {
    for (let i = 0; i < this.names.length; i++) if (this.names[i].text == name.text) return i;
    this.names.push(name);
    this.stripped.push(false);
    return this.names.length - 1;
  }
}

/**
 * One request's headers, as (pointer, length) into the host's buffer. Reused for every request
 * (the VM runs one callback at a time): `read` at the start of proxy_on_request_headers,
 * `release` before returning from it. The buffer is the scratch area of lib/host-memory.ts (or a
 * pinned buffer when the map is larger): the pointers stay valid whatever else allocates, as
 * long as no other read arms the scratch area before `release` — nothing in jwt-auth does; and
 * nothing may keep a pointer past `release`.
 */
export class RequestView {
  private base: usize = 0;
  private plan: HeaderPlan | null = null;
  /** Per slot: value pointer, value length; a length of -1 marks an absent header. */
  private valuePtrs: StaticArray<usize> = new StaticArray<usize>(0);
  private valueLengths: StaticArray<i32> = new StaticArray<i32>(0);
  private readonly cells: StaticArray<u32> = new StaticArray<u32>(2);
  /** By-value plans: per slot, whether this request's value was fetched yet, and its storage (reused). */
  private byValue: bool = false;
  private fetched: StaticArray<bool> = new StaticArray<bool>(0);
  private storage: Array<ArrayBuffer> = new Array<ArrayBuffer>();

  /** Reads the request header map once and finds every header of `plan` in it. */
  read(plan: HeaderPlan): void {
    const slots = plan.size;
    if (this.valueLengths.length != slots) {
      this.valuePtrs = new StaticArray<usize>(slots);
      this.valueLengths = new StaticArray<i32>(slots);
    }
    this.plan = plan;
    const lengths = this.valueLengths;
    for (let s = 0; s < slots; s++) unchecked(lengths[s] = -1);
    this.byValue = plan.byValue;
    if (plan.byValue) {
      if (this.fetched.length != slots) this.fetched = new StaticArray<bool>(slots);
      const fetched = this.fetched;
      for (let s = 0; s < slots; s++) unchecked(fetched[s] = false);
      while (this.storage.length < slots) this.storage.push(new ArrayBuffer(0));
      return;
    }
    const cells = changetype<usize>(this.cells);
    armScratch();
    const status = proxy_get_header_map_pairs(REQUEST_HEADERS, cells, cells + 4);
    disarmScratch();
    if (status != 0) return;
    const base = <usize>load<u32>(cells);
    const size = <usize>load<u32>(cells + 4);
    if (base == 0) return;
    // The host allocated the buffer through proxy_on_memory_allocate: given back in release().
    this.base = base;
    if (size < 4) return;
    const end = base + size;
    const count = <usize>load<u32>(base);
    if (count > (size - 4) / 8) return; // a count the buffer cannot hold: malformed, read nothing
    let sizes = base + 4;
    let data = sizes + count * 8;
    const names = plan.names;
    for (let i: usize = 0; i < count; i++) {
      const keyLength = <usize>load<u32>(sizes);
      const valueLength = <usize>load<u32>(sizes + 4);
      sizes += 8;
      if (keyLength > end - data || valueLength > end - data - keyLength || end - data - keyLength - valueLength < 2) break;
      const valueAt = data + keyLength + 1;
      for (let s = 0; s < slots; s++) {
        const name = unchecked(names[s]).utf8;
        if (<usize>name.byteLength != keyLength || unchecked(lengths[s]) >= 0) continue;
        if (!bytesEqual(data, changetype<usize>(name), keyLength)) continue;
        unchecked(this.valuePtrs[s] = valueAt);
        unchecked(lengths[s] = <i32>valueLength);
        break;
      }
      data = valueAt + valueLength + 1;
    }
  }

  /**
   * By-value plans: the slot's header read from the host the first time it is looked at (its
   * first value, as in the map view), copied into the slot's storage, which stays valid until
   * the same slot is read on the next request.
   */
  private fetch(slot: i32): void {
    if (!this.byValue || unchecked(this.fetched[slot])) return;
    unchecked(this.fetched[slot] = true);
    if (!fetchHeader(REQUEST_HEADERS, unchecked(this.plan!.names[slot]).utf8)) return;
    const ptr = fetchedBytes();
    const length = fetchedLength();
    if (length == 0) {
      releaseFetched();
      unchecked(this.valueLengths[slot] = 0);
      return;
    }
    let buffer = unchecked(this.storage[slot]);
    if (buffer.byteLength < length) {
      buffer = new ArrayBuffer(max(length, 64));
      unchecked(this.storage[slot] = buffer);
    }
    memory.copy(changetype<usize>(buffer), ptr, <usize>length);
    releaseFetched();
    unchecked(this.valuePtrs[slot] = changetype<usize>(buffer));
    unchecked(this.valueLengths[slot] = length);
  }

  /** Gives the host's buffer back: every pointer into it is dead from here on. */
  release(): void {
    if (this.base != 0) releaseScratch(this.base);
    this.base = 0;
    this.plan = null;
  }

  /**
   * Removes the client's copies of the headers the filter writes — only those present: a remove
   * of an absent header is a host call for nothing. They then read as absent, as they would after
   * the removal (the original filter removed them before reading anything).
   */
  stripSpoofable(): void {
    const plan = this.plan;
    if (plan === null) return;
    for (let s = 0; s < plan.size; s++) {
      if (!plan.stripped[s]) continue;
      this.fetch(s);
      if (unchecked(this.valueLengths[s]) < 0) continue;
      removeRequestHeader(plan.names[s]);
      unchecked(this.valueLengths[s] = -1);
    }
  }

  has(slot: i32): bool { this.fetch(slot); return unchecked(this.valueLengths[slot]) >= 0; }
  /** Value bytes of a present header (see `has`). */
  valuePtr(slot: i32): usize { this.fetch(slot); return unchecked(this.valuePtrs[slot]); }
  valueLength(slot: i32): i32 { this.fetch(slot); return max(unchecked(this.valueLengths[slot]), 0); }

  /** The value as text; "" when absent (as the SDK's header `get`). */
  text(slot: i32): string {
    this.fetch(slot);
    const length = unchecked(this.valueLengths[slot]);
    return length <= 0 ? "" : String.UTF8.decodeUnsafe(unchecked(this.valuePtrs[slot]), <usize>length);
  }
}
