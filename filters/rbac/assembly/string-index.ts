/**
 * Matches one request attribute against every string pattern of every policy at once.
 *
 * Istio turns each value into an Envoy StringMatcher (pilot/pkg/security/authz/matcher/string.go
 * `StringMatcherWithPrefix`): `*` alone → regex `.+` (any non-empty value; for headers and hosts
 * Envoy's `present_match`), `*suffix` → suffix, `prefix*` → prefix, anything else → exact.
 * Here those become an exact-match map, prefix and suffix maps probed once per distinct pattern
 * length (a sorted table), and a presence list — so a request costs one hash probe per distinct
 * length, not one comparison per policy.
 */
import { asciiLower } from "./ascii";
import { MatchSet, addLength, addToMap } from "./match-set";

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

export class StringIndex {
  private exact: Map<string, Array<i32>> = new Map();
  private prefixes: Map<string, Array<i32>> = new Map();
  private prefixLengths: Array<i32> = new Array();
  private suffixes: Map<string, Array<i32>> = new Map();
  private suffixLengths: Array<i32> = new Array();
  private presence: Array<i32> = new Array();
  private size: i32 = 0;

  /**
   * @param ignoreCase lower-cases patterns here and values in `match` (Istio's hosts).
   * @param presenceMatchesEmpty `*` matches an empty value too (Envoy `present_match` on headers);
   *   otherwise `*` is regex `.+`.
   */
  constructor(readonly ignoreCase: bool = false, readonly presenceMatchesEmpty: bool = false) {}

  get isEmpty(): bool { return this.size == 0; }

  add(pattern: Pattern, id: i32): void {
    const text = this.ignoreCase ? asciiLower(pattern.text) : pattern.text;
    this.size++;
    switch (pattern.kind) {
      case PatternKind.Exact: addToMap(this.exact, text, id); break;
      case PatternKind.Prefix: addToMap(this.prefixes, text, id); addLength(this.prefixLengths, text.length); break;
      case PatternKind.Suffix: addToMap(this.suffixes, text, id); addLength(this.suffixLengths, text.length); break;
      default: this.presence.push(id);
    }
  }

  /** Marks every predicate whose pattern matches `raw`. */
  match(raw: string, out: MatchSet): void {
    if (this.size == 0) return;
    const value = this.ignoreCase ? asciiLower(raw) : raw;
    const length = value.length;
    if (this.exact.has(value)) out.markAll(this.exact.get(value));
    const prefixLengths = this.prefixLengths;
    for (let i = 0, n = prefixLengths.length; i < n; i++) {
      const l = unchecked(prefixLengths[i]);
      if (l > length) break;
      const key = value.substring(0, l);
      if (this.prefixes.has(key)) out.markAll(this.prefixes.get(key));
    }
    const suffixLengths = this.suffixLengths;
    for (let i = 0, n = suffixLengths.length; i < n; i++) {
      const l = unchecked(suffixLengths[i]);
      if (l > length) break;
      const key = value.substring(length - l);
      if (this.suffixes.has(key)) out.markAll(this.suffixes.get(key));
    }
    if (length > 0 || this.presenceMatchesEmpty) out.markAll(this.presence);
  }
}
