/**
 * Matches one request attribute against every string pattern of every policy at once.
 *
 * Istio turns each value into an Envoy StringMatcher (pilot/pkg/security/authz/matcher/string.go
 * `StringMatcherWithPrefix`): `*` alone → regex `.+` (any non-empty value; for headers and hosts
 * Envoy's `present_match`), `*suffix` → suffix, `prefix*` → prefix, anything else → exact.
 *
 * Here exact, prefix and suffix patterns each live in a hash table keyed by a hash computed over
 * the pattern (backwards for suffixes). A request value is hashed in one pass per table; at every
 * length some pattern has, the running hash is probed and a hit verified in place. So a request costs one pass over the value plus one probe per distinct
 * pattern length — never one comparison per policy, and never a substring allocation (values may
 * be a range of a larger string: a host without its port, a namespace segment of a URI SAN).
 */
import { asciiLower } from "../../lib/ascii";
import { MatchSet, addLength } from "./match-set";

export enum PatternKind { Exact = 0, Prefix = 1, Suffix = 2, Presence = 3 }

export class Pattern {
  constructor(readonly kind: PatternKind, readonly text: string) {}
}

/** Istio's wildcard forms; null when `*` appears anywhere else (refused at configure time). */
export function parsePattern(value: string): Pattern | null {
  if (value == "*") return new Pattern(PatternKind.Presence, "");
  const star = value.indexOf("*");
  if (star < 0) return new Pattern(PatternKind.Exact, value);
  if (star == 0 && value.indexOf("*", 1) < 0) return new Pattern(PatternKind.Suffix, value.substring(1));
  if (star == value.length - 1) return new Pattern(PatternKind.Prefix, value.substring(0, value.length - 1));
  return null;
}

const FNV_OFFSET: u32 = 2166136261;
const FNV_PRIME: u32 = 16777619;

// @ts-ignore: decorator
@inline function lowerAscii(c: u32): u32 {
  return c - 0x41 < 26 ? c | 0x20 : c;
}

/**
 * FNV-1a step over one UTF-16 unit. The table only needs a hash that can be extended one
 * character at a time (so every prefix/suffix length comes out of one pass); collisions cost a
 * comparison, never a wrong answer, and the keys are the configuration's, not the client's.
 */
// @ts-ignore: decorator
@inline function step(hash: u32, c: u32): u32 {
  return (hash ^ c) * FNV_PRIME;
}

/** Patterns of one kind: text → predicate ids, in an open-addressing table of entry numbers. */
export class PatternTable {
  texts: Array<string> = new Array();
  ids: Array<Array<i32>> = new Array();
  /** Each entry's hash (as i32: one Array instantiation less in the module). */
  hashes: Array<i32> = new Array();
  /** Distinct pattern lengths, ascending. */
  lengths: Array<i32> = new Array();
  /** Entry number + 1 per slot (0: empty); power-of-two size, at most half full. */
  private slots: Uint32Array = new Uint32Array(8);

  /** Exact, Prefix or Suffix; suffixes are hashed from their last character backwards. */
  constructor(readonly kind: PatternKind) {}

  get isEmpty(): bool { return this.texts.length == 0; }

  add(text: string, id: i32): void {
    const length = text.length;
    const chars = changetype<usize>(text);
    const hash = this.hashOf(chars, length, false);
    const found = this.find(hash, chars, length, false);
    if (found >= 0) { this.ids[found].push(id); return; }
    this.texts.push(text);
    const ids = new Array<i32>();
    ids.push(id);
    this.ids.push(ids);
    this.hashes.push(<i32>hash);
    addLength(this.lengths, length);
    const entries = this.texts.length;
    if (entries * 2 > this.slots.length) this.slots = new Uint32Array(this.slots.length * 2);
    else { this.place(entries - 1); return; }
    for (let i = 0; i < entries; i++) this.place(i);
  }

  /** The first id stored under `text`, or -1 (configure-time lookups). */
  idOf(text: string): i32 {
    const chars = changetype<usize>(text);
    const entry = this.find(this.hashOf(chars, text.length, false), chars, text.length, false);
    return entry < 0 ? -1 : this.ids[entry][0];
  }

  private hashOf(chars: usize, length: i32, ignoreCase: bool): u32 {
    let hash = FNV_OFFSET;
    for (let i = 0; i < length; i++) hash = step(hash, this.unitAt(chars, length, i, ignoreCase));
    return hash;
  }

  /** The i-th unit in hashing order (backwards for suffixes), ASCII-lowered when asked. */
  // @ts-ignore: decorator
  @inline private unitAt(chars: usize, length: i32, i: i32, ignoreCase: bool): u32 {
    const at = this.kind == PatternKind.Suffix ? length - 1 - i : i;
    const c = <u32>load<u16>(chars + (<usize>at << 1));
    return ignoreCase ? lowerAscii(c) : c;
  }

  private place(entry: i32): void {
    const mask = <u32>this.slots.length - 1;
    let slot = <u32>this.hashes[entry] & mask;
    while (this.slots[slot] != 0) slot = (slot + 1) & mask;
    this.slots[slot] = entry + 1;
  }

  /**
   * The entry whose text is the `length` UTF-16 units at `chars` (lower-cased first when
   * `ignoreCase`: the table holds lower-case patterns then), or -1.
   */
  private find(hash: u32, chars: usize, length: i32, ignoreCase: bool): i32 {
    // Raw loads over the backing stores: the typed accessors are not inlined by the optimizer
    // (they showed as separate calls in `node --cpu-prof`) and this runs once per probe.
    const slots = this.slots.dataStart;
    const hashes = this.hashes.dataStart;
    const mask = <u32>this.slots.length - 1;
    let slot = hash & mask;
    // At most half the slots are used: the probe always reaches an empty one.
    for (let entry = <i32>load<u32>(slots + (<usize>slot << 2)) - 1; entry >= 0; entry = <i32>load<u32>(slots + (<usize>slot << 2)) - 1) {
      if (load<u32>(hashes + (<usize>entry << 2)) == hash) {
        const text = unchecked(this.texts[entry]);
        if (text.length == length && sameChars(changetype<usize>(text), chars, length, ignoreCase)) return entry;
      }
      slot = (slot + 1) & mask;
    }
    return -1;
  }

  /**
   * Appends to `hits` (cleared first) the entry of every pattern here that the `length` units at
   * `chars` match, in one pass: the running hash is probed at each length some pattern has
   * (only the value's own length for exact patterns), suffixes against the value's end.
   */
  entriesMatching(chars: usize, length: i32, ignoreCase: bool, hits: Array<i32>): Array<i32> {
    hits.length = 0;
    const lengths = this.lengths;
    const count = lengths.length;
    const exact = this.kind == PatternKind.Exact;
    let next = exact ? lengths.indexOf(length) : 0;
    if (next < 0 || next >= count) return hits;
    const suffix = this.kind == PatternKind.Suffix;
    // The next pattern length to probe, kept in a local (raw load: this is the per-character
    // loop, and the array accessor is a call). Patterns longer than the value cannot match, so
    // the walk stops at the value's end or past the longest pattern, whichever comes first.
    const lengthsAt = lengths.dataStart;
    let wanted = load<i32>(lengthsAt + (<usize>next << 2));
    // Hashing order: forwards from the first unit, or backwards from the last for suffixes.
    let unit = suffix ? chars + (<usize>length << 1) - 2 : chars;
    const stride = suffix ? <usize>-2 : <usize>2;
    let hash = FNV_OFFSET;
    for (let i = 0; wanted <= length; i++) {
      // Lengths are distinct and ascending: at most one probe per position.
      if (i == wanted) {
        const entry = this.find(hash, suffix ? chars + (<usize>(length - i) << 1) : chars, i, ignoreCase);
        if (entry >= 0) hits.push(entry);
        if (exact || ++next == count) break;
        wanted = load<i32>(lengthsAt + (<usize>next << 2));
      }
      // Here i < wanted <= length: `unit` is inside the value.
      const c = <u32>load<u16>(unit);
      hash = step(hash, ignoreCase ? lowerAscii(c) : c);
      unit += stride;
    }
    return hits;
  }

  /** Marks the ids of every pattern here that the `length` units at `chars` match. */
  matchInto(chars: usize, length: i32, ignoreCase: bool, out: MatchSet): void {
    if (this.texts.length == 0) return;
    const hits = this.entriesMatching(chars, length, ignoreCase, scratchHits);
    for (let i = 0, n = hits.length; i < n; i++) out.markAll(unchecked(this.ids[unchecked(hits[i])]));
  }
}

/** Reused by every lookup (one request at a time per VM, and lookups do not nest). */
const scratchHits = new Array<i32>();

function sameChars(pattern: usize, chars: usize, length: i32, ignoreCase: bool): bool {
  if (!ignoreCase) return memory.compare(pattern, chars, <usize>length << 1) == 0;
  for (let i = 0; i < length; i++) {
    const offset = <usize>i << 1;
    if (<u32>load<u16>(pattern + offset) != lowerAscii(<u32>load<u16>(chars + offset))) return false;
  }
  return true;
}

export class StringIndex {
  /** Exact patterns (whole value) and prefixes (value start), hashed forwards. */
  private exact: PatternTable = new PatternTable(PatternKind.Exact);
  private prefixes: PatternTable = new PatternTable(PatternKind.Prefix);
  private suffixes: PatternTable = new PatternTable(PatternKind.Suffix);
  private presence: Array<i32> = new Array();
  private size: i32 = 0;

  /**
   * @param ignoreCase lower-cases patterns here and values in `match` (Istio's hosts; ASCII only,
   *   see ascii.ts).
   * @param presenceMatchesEmpty `*` matches an empty value too (Envoy `present_match` on headers);
   *   otherwise `*` is regex `.+`.
   */
  constructor(readonly ignoreCase: bool = false, readonly presenceMatchesEmpty: bool = false) {}

  get isEmpty(): bool { return this.size == 0; }

  add(pattern: Pattern, id: i32): void {
    const text = this.ignoreCase ? asciiLower(pattern.text) : pattern.text;
    this.size++;
    switch (pattern.kind) {
      case PatternKind.Exact: this.exact.add(text, id); break;
      case PatternKind.Prefix: this.prefixes.add(text, id); break;
      case PatternKind.Suffix: this.suffixes.add(text, id); break;
      default: this.presence.push(id);
    }
  }

  /** Marks every predicate whose pattern matches `value`. */
  match(value: string, out: MatchSet): void {
    this.matchRange(value, 0, value.length, out);
  }

  /** Marks every predicate whose pattern matches `value[start, end)` (no substring needed). */
  matchRange(value: string, start: i32, end: i32, out: MatchSet): void {
    if (this.size == 0) return;
    const ignoreCase = this.ignoreCase;
    const chars = changetype<usize>(value) + (<usize>start << 1);
    const length = end - start;
    this.exact.matchInto(chars, length, ignoreCase, out);
    this.prefixes.matchInto(chars, length, ignoreCase, out);
    this.suffixes.matchInto(chars, length, ignoreCase, out);
    if (length > 0 || this.presenceMatchesEmpty) out.markAll(this.presence);
  }
}
