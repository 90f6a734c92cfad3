/**
 * Matches one request attribute against every string pattern of every policy at once.
 *
 * Istio turns each value into an Envoy StringMatcher (pilot/pkg/security/authz/matcher/string.go
 * `StringMatcherWithPrefix`): `*` alone → regex `.+` (any non-empty value; for headers and hosts
 * Envoy's `present_match`), `*suffix` → suffix, `prefix*` → prefix, anything else → exact.
 *
 * Here exact and prefix patterns share one hash table keyed by a hash computed forwards over the
 * pattern, suffix patterns one keyed by a hash computed backwards. A request value is hashed in
 * one pass from each end; at every length some pattern has, the running hash is probed and a hit
 * verified in place. So a request costs one pass over the value plus one probe per distinct
 * pattern length — never one comparison per policy, and never a substring allocation (values may
 * be a range of a larger string: a host without its port, a namespace segment of a URI SAN).
 */
import { asciiLower } from "./ascii";
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
class PatternTable {
  texts: Array<string> = new Array();
  ids: Array<Array<i32>> = new Array();
  hashes: Array<u32> = new Array();
  /** Distinct pattern lengths, ascending. */
  lengths: Array<i32> = new Array();
  /** Entry number + 1 per slot (0: empty); power-of-two size, at most half full. */
  private slots: Int32Array = new Int32Array(8);

  constructor(readonly backwards: bool) {}

  get isEmpty(): bool { return this.texts.length == 0; }

  hashOf(text: string): u32 {
    let hash = FNV_OFFSET;
    const n = text.length;
    for (let i = 0; i < n; i++) hash = step(hash, <u32>text.charCodeAt(this.backwards ? n - 1 - i : i));
    return hash;
  }

  add(text: string, id: i32): void {
    const hash = this.hashOf(text);
    const length = text.length;
    const found = this.find(hash, changetype<usize>(text), length, false);
    if (found >= 0) { this.ids[found].push(id); return; }
    this.texts.push(text);
    const ids = new Array<i32>();
    ids.push(id);
    this.ids.push(ids);
    this.hashes.push(hash);
    addLength(this.lengths, length);
    if (this.texts.length * 2 > this.slots.length) this.slots = new Int32Array(this.slots.length * 2);
    else { this.place(this.texts.length - 1); return; }
    for (let i = 0; i < this.texts.length; i++) this.place(i);
  }

  private place(entry: i32): void {
    const mask = <u32>this.slots.length - 1;
    let slot = this.hashes[entry] & mask;
    while (this.slots[slot] != 0) slot = (slot + 1) & mask;
    this.slots[slot] = entry + 1;
  }

  /**
   * The entry whose text is the `length` UTF-16 units at `chars` (lower-cased first when
   * `ignoreCase`: the table holds lower-case patterns then), or -1.
   */
  find(hash: u32, chars: usize, length: i32, ignoreCase: bool): i32 {
    const slots = this.slots;
    const mask = <u32>slots.length - 1;
    let slot = hash & mask;
    // At most half the slots are used: the probe always reaches an empty one.
    for (let entry = unchecked(slots[slot]) - 1; entry >= 0; entry = unchecked(slots[slot]) - 1) {
      if (unchecked(this.hashes[entry]) == hash) {
        const text = unchecked(this.texts[entry]);
        if (text.length == length && sameChars(changetype<usize>(text), chars, length, ignoreCase)) return entry;
      }
      slot = (slot + 1) & mask;
    }
    return -1;
  }
}

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
  private exact: PatternTable = new PatternTable(false);
  private prefixes: PatternTable = new PatternTable(false);
  /** Suffixes, hashed from the last character backwards. */
  private suffixes: PatternTable = new PatternTable(true);
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
    // Forwards: every prefix length some pattern has, then the whole value for exact patterns.
    const prefixes = this.prefixes;
    const exact = this.exact;
    if (!prefixes.isEmpty || !exact.isEmpty) {
      const lengths = prefixes.lengths;
      const lengthCount = lengths.length;
      let next = 0;
      let hash = FNV_OFFSET;
      for (let i = 0; ; i++) {
        while (next < lengthCount && unchecked(lengths[next]) == i) {
          const entry = prefixes.find(hash, chars, i, ignoreCase);
          if (entry >= 0) out.markAll(unchecked(prefixes.ids[entry]));
          next++;
        }
        if (i == length) break;
        // Past the longest prefix with no exact table to feed: the rest of the value is not needed.
        if (next == lengthCount && exact.isEmpty) break;
        let c = <u32>load<u16>(chars + (<usize>i << 1));
        if (ignoreCase) c = lowerAscii(c);
        hash = step(hash, c);
      }
      if (!exact.isEmpty && exact.lengths.includes(length)) {
        const entry = exact.find(hash, chars, length, ignoreCase);
        if (entry >= 0) out.markAll(unchecked(exact.ids[entry]));
      }
    }
    // Backwards for suffixes: the pattern `*.css` is hashed from `s` to `.`, as the value is.
    const suffixes = this.suffixes;
    if (!suffixes.isEmpty) {
      const lengths = suffixes.lengths;
      const lengthCount = lengths.length;
      let next = 0;
      let hash = FNV_OFFSET;
      for (let i = 0; next < lengthCount; i++) {
        while (next < lengthCount && unchecked(lengths[next]) == i) {
          const entry = suffixes.find(hash, chars + (<usize>(length - i) << 1), i, ignoreCase);
          if (entry >= 0) out.markAll(unchecked(suffixes.ids[entry]));
          next++;
        }
        if (i == length) break;
        let c = <u32>load<u16>(chars + (<usize>(length - 1 - i) << 1));
        if (ignoreCase) c = lowerAscii(c);
        hash = step(hash, c);
      }
    }
    if (length > 0 || this.presenceMatchesEmpty) out.markAll(this.presence);
  }
}
