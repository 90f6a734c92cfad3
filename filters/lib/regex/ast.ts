/**
 * Syntax tree of an RE2 pattern (https://github.com/google/re2/wiki/Syntax), as built by
 * parser.ts and turned into a program by compiler.ts.
 */

export enum NodeKind {
  Empty = 0,
  /** Code point ranges (lo, hi pairs, sorted, merged). Literals are one-range classes. */
  Class = 1,
  Concat = 2,
  Alternate = 3,
  Repeat = 4,
  Capture = 5,
  /** Zero-width assertion; `assertion` says which. */
  Assert = 6,
}

export enum Assertion {
  BeginLine = 1,
  EndLine = 2,
  BeginText = 3,
  EndText = 4,
  WordBoundary = 5,
  NotWordBoundary = 6,
}

/** Repeat.max for "no upper bound". */
export const UNBOUNDED: i32 = -1;

export class Node {
  kind: NodeKind;
  /** Class: lo/hi code point pairs. */
  ranges: Array<i32> = new Array<i32>();
  subs: Array<Node> = new Array<Node>();
  min: i32 = 0;
  max: i32 = 0;
  greedy: bool = true;
  /** Capture: group index (1-based). */
  cap: i32 = 0;
  assertion: Assertion = Assertion.BeginText;

  constructor(kind: NodeKind) {
    this.kind = kind;
  }

  static cls(ranges: Array<i32>): Node {
    const n = new Node(NodeKind.Class);
    n.ranges = ranges;
    return n;
  }

  static assert(which: Assertion): Node {
    const n = new Node(NodeKind.Assert);
    n.assertion = which;
    return n;
  }

  static repeat(sub: Node, min: i32, max: i32, greedy: bool): Node {
    const n = new Node(NodeKind.Repeat);
    n.subs.push(sub);
    n.min = min;
    n.max = max;
    n.greedy = greedy;
    return n;
  }
}

/** Sorts and merges lo/hi pairs in place (adjacent ranges fuse). */
export function normalizeRanges(ranges: Array<i32>): Array<i32> {
  const count = ranges.length >> 1;
  // Insertion sort by lo: classes are small.
  for (let i = 1; i < count; i++) {
    const lo = ranges[2 * i];
    const hi = ranges[2 * i + 1];
    let j = i - 1;
    while (j >= 0 && ranges[2 * j] > lo) {
      ranges[2 * j + 2] = ranges[2 * j];
      ranges[2 * j + 3] = ranges[2 * j + 1];
      j--;
    }
    ranges[2 * j + 2] = lo;
    ranges[2 * j + 3] = hi;
  }
  const out = new Array<i32>();
  for (let i = 0; i < count; i++) {
    const lo = ranges[2 * i];
    const hi = ranges[2 * i + 1];
    const n = out.length;
    if (n > 0 && lo <= out[n - 1] + 1) {
      if (hi > out[n - 1]) out[n - 1] = hi;
    } else {
      out.push(lo);
      out.push(hi);
    }
  }
  return out;
}

export const MAX_CODE_POINT: i32 = 0x10ffff;

/** The complement of normalized ranges over [0, 0x10FFFF]. */
export function negateRanges(ranges: Array<i32>): Array<i32> {
  const out = new Array<i32>();
  let next = 0;
  for (let i = 0; i < ranges.length; i += 2) {
    if (ranges[i] > next) {
      out.push(next);
      out.push(ranges[i] - 1);
    }
    next = ranges[i + 1] + 1;
  }
  if (next <= MAX_CODE_POINT) {
    out.push(next);
    out.push(MAX_CODE_POINT);
  }
  return out;
}

/**
 * Adds the simple case folds of every range: ASCII and Latin-1 letters, plus the two non-Latin-1
 * members of ASCII orbits that RE2 folds (U+017F ſ with s, U+212A Kelvin sign with k). Other
 * scripts are matched case-sensitively under (?i) — documented in filters/lib/regex/README.md.
 */
export function addFolds(ranges: Array<i32>): Array<i32> {
  const extra = new Array<i32>();
  for (let i = 0; i < ranges.length; i += 2) {
    const lo = ranges[i];
    const hi = ranges[i + 1];
    foldSpan(lo, hi, 0x41, 0x5a, 32, extra);
    foldSpan(lo, hi, 0x61, 0x7a, -32, extra);
    foldSpan(lo, hi, 0xc0, 0xd6, 32, extra);
    foldSpan(lo, hi, 0xd8, 0xde, 32, extra);
    foldSpan(lo, hi, 0xe0, 0xf6, -32, extra);
    foldSpan(lo, hi, 0xf8, 0xfe, -32, extra);
    if (within(0x73, lo, hi) || within(0x53, lo, hi)) { extra.push(0x17f); extra.push(0x17f); }
    if (within(0x17f, lo, hi)) { extra.push(0x53); extra.push(0x53); extra.push(0x73); extra.push(0x73); }
    if (within(0x6b, lo, hi) || within(0x4b, lo, hi)) { extra.push(0x212a); extra.push(0x212a); }
    if (within(0x212a, lo, hi)) { extra.push(0x4b); extra.push(0x4b); extra.push(0x6b); extra.push(0x6b); }
    if (within(0xb5, lo, hi)) { extra.push(0x39c); extra.push(0x39c); extra.push(0x3bc); extra.push(0x3bc); }
    if (within(0xff, lo, hi)) { extra.push(0x178); extra.push(0x178); }
  }
  for (let i = 0; i < extra.length; i++) ranges.push(extra[i]);
  return normalizeRanges(ranges);
}

function within(c: i32, lo: i32, hi: i32): bool {
  return c >= lo && c <= hi;
}

/** The part of [lo, hi] inside [from, to], shifted by `delta`. */
function foldSpan(lo: i32, hi: i32, from: i32, to: i32, delta: i32, out: Array<i32>): void {
  const a = lo > from ? lo : from;
  const b = hi < to ? hi : to;
  if (a > b) return;
  out.push(a + delta);
  out.push(b + delta);
}
