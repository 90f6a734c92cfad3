/**
 * RE2 syntax parser (https://github.com/google/re2/wiki/Syntax), Perl flavour as Envoy's
 * `safe_regex` uses it (RE2 default options). What RE2 refuses is refused here with a message
 * naming the construct: backreferences, lookaround, possessive and repeated repetition
 * operators, repetition counts over 1000. Errors are returned (parseError), never thrown.
 */
import { Assertion, MAX_CODE_POINT, Node, NodeKind, UNBOUNDED, addFolds, negateRanges, normalizeRanges } from "./ast";

/** RE2's kMaxRepeat: larger counts, alone or multiplied through nesting, are refused. */
const MAX_REPEAT: i32 = 1000;

export let parseError: string = "";

class Flags {
  foldCase: bool = false;
  multiLine: bool = false;
  dotNL: bool = false;
  nonGreedy: bool = false;

  copy(): Flags {
    const f = new Flags();
    f.foldCase = this.foldCase;
    f.multiLine = this.multiLine;
    f.dotNL = this.dotNL;
    f.nonGreedy = this.nonGreedy;
    return f;
  }
}

export class ParsedPattern {
  root: Node;
  captureCount: i32;
  constructor(root: Node, captureCount: i32) {
    this.root = root;
    this.captureCount = captureCount;
  }
}

/** Parses `pattern`; null and parseError set on a syntax RE2 refuses. */
export function parse(pattern: string): ParsedPattern | null {
  parseError = "";
  const p = new Parser(pattern);
  const root = p.parseAlternation(new Flags(), 0);
  if (root === null) return null;
  if (p.pos < pattern.length) {
    // Only an unmatched ")" stops the top level early.
    parseError = "unexpected ): " + pattern;
    return null;
  }
  if (!checkRepeatProduct(root, 1)) {
    parseError = "bad repetition operator: nested repetition counts multiply beyond " + MAX_REPEAT.toString();
    return null;
  }
  return new ParsedPattern(root, p.captures);
}

function checkRepeatProduct(node: Node, outer: i32): bool {
  let factor = outer;
  if (node.kind == NodeKind.Repeat) {
    const bound = node.max == UNBOUNDED ? node.min : node.max;
    if (bound > 1) factor = outer * bound;
    if (factor > MAX_REPEAT) return false;
  }
  for (let i = 0; i < node.subs.length; i++) if (!checkRepeatProduct(node.subs[i], factor)) return false;
  return true;
}

function isDigit(c: i32): bool { return c >= 0x30 && c <= 0x39; }
function isWordChar(c: i32): bool {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x5f;
}

function rangesOf2(a: i32, b: i32): Array<i32> { const r = new Array<i32>(); r.push(a); r.push(b); return r; }

/** Perl classes \d \s \w (ASCII only in RE2), by letter; null for other letters. */
function perlClass(letter: i32): Array<i32> | null {
  const r = new Array<i32>();
  switch (letter) {
    case 0x64: r.push(0x30); r.push(0x39); return r; // d
    case 0x73: r.push(0x09); r.push(0x0a); r.push(0x0c); r.push(0x0d); r.push(0x20); r.push(0x20); return r; // s: \t \n \f \r space
    case 0x77: r.push(0x30); r.push(0x39); r.push(0x41); r.push(0x5a); r.push(0x5f); r.push(0x5f); r.push(0x61); r.push(0x7a); return r; // w
  }
  return null;
}

/** POSIX [:name:] classes (ASCII), as RE2 defines them. */
function posixClass(name: string): Array<i32> | null {
  const r = new Array<i32>();
  if (name == "alnum") { r.push(0x30); r.push(0x39); r.push(0x41); r.push(0x5a); r.push(0x61); r.push(0x7a); }
  else if (name == "alpha") { r.push(0x41); r.push(0x5a); r.push(0x61); r.push(0x7a); }
  else if (name == "ascii") { r.push(0); r.push(0x7f); }
  else if (name == "blank") { r.push(0x09); r.push(0x09); r.push(0x20); r.push(0x20); }
  else if (name == "cntrl") { r.push(0); r.push(0x1f); r.push(0x7f); r.push(0x7f); }
  else if (name == "digit") { r.push(0x30); r.push(0x39); }
  else if (name == "graph") { r.push(0x21); r.push(0x7e); }
  else if (name == "lower") { r.push(0x61); r.push(0x7a); }
  else if (name == "print") { r.push(0x20); r.push(0x7e); }
  else if (name == "punct") { r.push(0x21); r.push(0x2f); r.push(0x3a); r.push(0x40); r.push(0x5b); r.push(0x60); r.push(0x7b); r.push(0x7e); }
  else if (name == "space") { r.push(0x09); r.push(0x0d); r.push(0x20); r.push(0x20); }
  else if (name == "upper") { r.push(0x41); r.push(0x5a); }
  else if (name == "word") { r.push(0x30); r.push(0x39); r.push(0x41); r.push(0x5a); r.push(0x5f); r.push(0x5f); r.push(0x61); r.push(0x7a); }
  else if (name == "xdigit") { r.push(0x30); r.push(0x39); r.push(0x41); r.push(0x46); r.push(0x61); r.push(0x66); }
  else return null;
  return r;
}

class Parser {
  src: string;
  pos: i32 = 0;
  captures: i32 = 0;

  constructor(src: string) {
    this.src = src;
  }

  /** A capture group's body and its closing ")", numbered in order of its opening "(" (read already). */
  parseCapture(flags: Flags, depth: i32): Node | null {
    const index = ++this.captures;
    const inner = this.parseAlternation(flags.copy(), depth + 1);
    if (inner === null) return null;
    if (!this.more() || this.peek() != 0x29) return this.fail("missing closing ): " + this.src);
    this.pos++;
    const cap = new Node(NodeKind.Capture);
    cap.cap = index;
    cap.subs.push(inner);
    return cap;
  }

  fail(message: string): Node | null {
    if (parseError.length == 0) parseError = message;
    return null;
  }

  more(): bool { return this.pos < this.src.length; }

  peek(): i32 { return this.src.codePointAt(this.pos); }

  next(): i32 {
    const c = this.src.codePointAt(this.pos);
    this.pos += c > 0xffff ? 2 : 1;
    return c;
  }

  lookingAt(s: string): bool {
    return this.src.startsWith(s, this.pos);
  }

  /** alternation := concat ('|' concat)* ; stops before ')' or at the end. */
  parseAlternation(flags: Flags, depth: i32): Node | null {
    if (depth > 1000) return this.fail("pattern nests too deeply");
    const alts = new Array<Node>();
    let more = true;
    while (more) {
      const concat = this.parseConcat(flags, depth);
      if (concat === null) return null;
      alts.push(concat);
      more = this.more() && this.peek() == 0x7c;
      if (more) this.pos++;
    }
    if (alts.length == 1) return alts[0];
    const n = new Node(NodeKind.Alternate);
    n.subs = alts;
    return n;
  }

  parseConcat(flags: Flags, depth: i32): Node | null {
    const items = new Array<Node>();
    while (this.more()) {
      const c = this.peek();
      if (c == 0x7c || c == 0x29) break; // | )
      if (c == 0x2a || c == 0x2b || c == 0x3f) { // * + ?
        const start = this.pos;
        this.pos++;
        if (!this.applyRepeat(items, c == 0x2b ? 1 : 0, c == 0x3f ? 1 : UNBOUNDED, flags, start)) return null;
        continue;
      }
      if (c == 0x7b) { // {
        const start = this.pos;
        if (this.parseRepeatBounds()) {
          if (!this.applyRepeat(items, this.repMin, this.repMax, flags, start)) return null;
          continue;
        }
        // Not a valid bound: a literal "{", as RE2 reads it.
        this.pos = start + 1;
        items.push(this.literal(0x7b, flags));
        continue;
      }
      if (c == 0x28) { // (
        if (this.lookingAt("(?")) {
          const group = this.parseGroupPrefix(flags, depth);
          if (parseError.length > 0) return null;
          if (group !== null) items.push(group);
          continue;
        }
        this.pos++;
        const cap = this.parseCapture(flags, depth);
        if (cap === null) return null;
        items.push(cap);
        continue;
      }
      const atom = this.parseAtom(flags);
      if (atom === null) return null;
      items.push(atom);
    }
    if (items.length == 0) return new Node(NodeKind.Empty);
    if (items.length == 1) return items[0];
    const n = new Node(NodeKind.Concat);
    n.subs = items;
    return n;
  }

  repMin: i32 = 0;
  repMax: i32 = 0;

  /** `{n}`, `{n,}`, `{n,m}` at pos; on success pos is past the `}`. */
  parseRepeatBounds(): bool {
    const save = this.pos;
    this.pos++;
    const min = this.parseInt();
    if (min < 0) { this.pos = save; return false; }
    let max = min;
    if (this.more() && this.peek() == 0x2c) {
      this.pos++;
      if (this.more() && this.peek() == 0x7d) max = UNBOUNDED;
      else {
        max = this.parseInt();
        if (max < 0) { this.pos = save; return false; }
      }
    }
    if (!this.more() || this.peek() != 0x7d) { this.pos = save; return false; }
    this.pos++;
    this.repMin = min;
    this.repMax = max;
    return true;
  }

  /** Decimal digits at pos (at most 8, so no overflow), or -1. */
  parseInt(): i32 {
    const start = this.pos;
    let v = 0;
    while (this.more() && isDigit(this.peek()) && this.pos - start < 8) v = v * 10 + (this.next() - 0x30);
    if (this.pos == start) return -1;
    if (this.more() && isDigit(this.peek())) return -1;
    return v;
  }

  applyRepeat(items: Array<Node>, min: i32, max: i32, flags: Flags, opStart: i32): bool {
    let greedy = !flags.nonGreedy;
    if (this.more() && this.peek() == 0x3f) { this.pos++; greedy = !greedy; }
    const op = this.src.substring(opStart, this.pos);
    if (items.length == 0) { this.fail("missing argument to repetition operator: " + op); return false; }
    if (this.more()) {
      const c = this.peek();
      if (c == 0x2a || c == 0x2b || c == 0x3f || (c == 0x7b && this.wouldBeRepeat())) {
        this.fail("bad repetition operator: " + op + String.fromCodePoint(c) +
          (c == 0x2b ? " (possessive quantifiers are not RE2 syntax)" : ""));
        return false;
      }
    }
    if (min > MAX_REPEAT || max > MAX_REPEAT || (max != UNBOUNDED && max < min)) {
      this.fail("bad repetition operator: " + op);
      return false;
    }
    const last = items.pop();
    items.push(Node.repeat(last, min, max, greedy));
    return true;
  }

  wouldBeRepeat(): bool {
    const save = this.pos;
    const ok = this.parseRepeatBounds();
    this.pos = save;
    return ok;
  }

  /** `(?...`: flags, non-capturing or named group; refuses lookaround. Returns null for a bare flag group. */
  parseGroupPrefix(flags: Flags, depth: i32): Node | null {
    const start = this.pos;
    this.pos += 2;
    if (this.lookingAt("=") || this.lookingAt("!")) {
      return this.fail("lookahead " + this.src.substring(start, this.pos + 1) + " is not supported (RE2 syntax has no lookaround): " + this.src);
    }
    if (this.lookingAt("<=") || this.lookingAt("<!")) {
      return this.fail("lookbehind " + this.src.substring(start, this.pos + 2) + " is not supported (RE2 syntax has no lookaround): " + this.src);
    }
    if (this.lookingAt("P=") || this.lookingAt("P>")) {
      return this.fail("backreference " + this.src.substring(start, this.pos + 2) + " is not supported (RE2 syntax has no backreferences): " + this.src);
    }
    if (this.lookingAt("P<") || this.lookingAt("<")) {
      this.pos += this.lookingAt("P<") ? 2 : 1;
      const close = this.src.indexOf(">", this.pos);
      if (close < 0) return this.fail("invalid named capture group: " + this.src.substring(start));
      const name = this.src.substring(this.pos, close);
      if (name.length == 0) return this.fail("invalid named capture group: " + this.src.substring(start, close + 1));
      for (let i = 0; i < name.length; i++) {
        if (!isWordChar(name.charCodeAt(i))) return this.fail("invalid named capture group: " + this.src.substring(start, close + 1));
      }
      this.pos = close + 1;
      return this.parseCapture(flags, depth);
    }
    // Flags: (?flags) or (?flags:re), flags from i m s U, '-' negates the ones after it.
    const local = flags.copy();
    let negate = false;
    let sawFlag = false;
    while (this.more()) {
      const c = this.next();
      if (c == 0x69) { local.foldCase = !negate; sawFlag = true; }
      else if (c == 0x6d) { local.multiLine = !negate; sawFlag = true; }
      else if (c == 0x73) { local.dotNL = !negate; sawFlag = true; }
      else if (c == 0x55) { local.nonGreedy = !negate; sawFlag = true; }
      else if (c == 0x2d) {
        if (negate) break;
        negate = true;
        sawFlag = false;
      } else if (c == 0x3a || c == 0x29) {
        if (negate && !sawFlag) break;
        if (c == 0x29) {
          if (!sawFlag && !negate) break;
          flags.foldCase = local.foldCase;
          flags.multiLine = local.multiLine;
          flags.dotNL = local.dotNL;
          flags.nonGreedy = local.nonGreedy;
          return null;
        }
        const inner = this.parseAlternation(local, depth + 1);
        if (inner === null) return null;
        if (!this.more() || this.peek() != 0x29) return this.fail("missing closing ): " + this.src);
        this.pos++;
        return inner;
      } else break;
    }
    const end = this.pos < this.src.length ? this.pos : this.src.length;
    return this.fail("invalid or unsupported Perl syntax: " + this.src.substring(start, end));
  }

  literal(c: i32, flags: Flags): Node {
    const r = rangesOf2(c, c);
    return Node.cls(flags.foldCase ? addFolds(r) : r);
  }

  parseAtom(flags: Flags): Node | null {
    const c = this.next();
    switch (c) {
      case 0x2e: { // .
        const r = new Array<i32>();
        if (flags.dotNL) { r.push(0); r.push(MAX_CODE_POINT); }
        else { r.push(0); r.push(0x09); r.push(0x0b); r.push(MAX_CODE_POINT); }
        return Node.cls(r);
      }
      case 0x5e: return Node.assert(flags.multiLine ? Assertion.BeginLine : Assertion.BeginText); // ^
      case 0x24: return Node.assert(flags.multiLine ? Assertion.EndLine : Assertion.EndText); // $
      case 0x5b: return this.parseClass(flags); // [
      case 0x5c: return this.parseEscape(flags); // backslash
    }
    return this.literal(c, flags);
  }

  parseEscape(flags: Flags): Node | null {
    if (!this.more()) return this.fail("trailing \\ at end of pattern: " + this.src);
    const escStart = this.pos - 1;
    const c = this.peek();
    if (c == 0x41) { this.pos++; return Node.assert(Assertion.BeginText); } // \A
    if (c == 0x7a) { this.pos++; return Node.assert(Assertion.EndText); } // \z
    if (c == 0x62) { this.pos++; return Node.assert(Assertion.WordBoundary); } // \b
    if (c == 0x42) { this.pos++; return Node.assert(Assertion.NotWordBoundary); } // \B
    if (c == 0x51) { // \Q...\E
      this.pos++;
      const end = this.src.indexOf("\\E", this.pos);
      const text = end < 0 ? this.src.substring(this.pos) : this.src.substring(this.pos, end);
      this.pos = end < 0 ? this.src.length : end + 2;
      const items = new Array<Node>();
      for (let i = 0; i < text.length;) {
        const cp = text.codePointAt(i);
        i += cp > 0xffff ? 2 : 1;
        items.push(this.literal(cp, flags));
      }
      if (items.length == 0) return new Node(NodeKind.Empty);
      if (items.length == 1) return items[0];
      const n = new Node(NodeKind.Concat);
      n.subs = items;
      return n;
    }
    const ranges = this.parseClassEscape(flags, escStart);
    if (ranges === null) return null;
    return Node.cls(flags.foldCase ? addFolds(ranges) : ranges);
  }

  /**
   * An escape that denotes a set of code points (a single character or a Perl class), at pos
   * just after the backslash. Shared by atoms and bracket classes.
   */
  parseClassEscape(flags: Flags, escStart: i32): Array<i32> | null {
    const c = this.next();
    const octalNext = this.more() && this.peek() >= 0x30 && this.peek() <= 0x37;
    if (c >= 0x31 && c <= 0x39 && !(c <= 0x37 && octalNext)) {
      this.fail("backreference \\" + String.fromCharCode(c) + " is not supported (RE2 syntax has no backreferences): " + this.src);
      return null;
    }
    if (c >= 0x30 && c <= 0x37) { // octal: \0 or \1-\7 followed by an octal digit; up to two more digits
      let v = c - 0x30;
      for (let i = 0; i < 2 && this.more() && this.peek() >= 0x30 && this.peek() <= 0x37; i++) v = v * 8 + (this.next() - 0x30);
      return rangesOf2(v, v);
    }
    const perl = perlClass(c | 0x20);
    if (perl !== null) return (c & 0x20) != 0 ? perl : negateRanges(normalizeRanges(perl));
    switch (c) {
      case 0x61: return rangesOf2(7, 7); // \a
      case 0x66: return rangesOf2(12, 12); // \f
      case 0x74: return rangesOf2(9, 9); // \t
      case 0x6e: return rangesOf2(10, 10); // \n
      case 0x72: return rangesOf2(13, 13); // \r
      case 0x76: return rangesOf2(11, 11); // \v
      case 0x78: return this.parseHexEscape(escStart); // \x
      case 0x70: case 0x50:
        this.fail("Unicode class escape " + this.src.substring(escStart, this.pos + (this.lookingAt("{") ? this.src.indexOf("}", this.pos) + 1 - this.pos : 1)) +
          " is not supported by wasmesh's RE2 engine (use an explicit range): " + this.src);
        return null;
      case 0x43:
        this.fail("\\C (any byte) is not supported: " + this.src);
        return null;
    }
    // Any escaped ASCII punctuation is itself (RE2: "\\" followed by a non-word character).
    if (c < 0x80 && !isWordChar(c)) return rangesOf2(c, c);
    this.fail("invalid escape sequence: " + this.src.substring(escStart, this.pos));
    return null;
  }

  parseHexEscape(escStart: i32): Array<i32> | null {
    if (this.more() && this.peek() == 0x7b) {
      this.pos++;
      let v = 0;
      let digits = 0;
      while (this.more() && this.peek() != 0x7d) {
        const d = hexValue(this.next());
        if (d < 0 || v > MAX_CODE_POINT) { digits = -1; break; }
        v = v * 16 + d;
        digits++;
      }
      if (digits <= 0 || !this.more() || v > MAX_CODE_POINT) {
        this.fail("invalid escape sequence: " + this.src.substring(escStart, this.pos < this.src.length ? this.pos + 1 : this.pos));
        return null;
      }
      this.pos++;
      return rangesOf2(v, v);
    }
    let v = 0;
    for (let i = 0; i < 2; i++) {
      const d = this.more() ? hexValue(this.next()) : -1;
      if (d < 0) {
        this.fail("invalid escape sequence: " + this.src.substring(escStart, this.pos));
        return null;
      }
      v = v * 16 + d;
    }
    return rangesOf2(v, v);
  }

  /** `[...]` with pos just past the `[`. */
  parseClass(flags: Flags): Node | null {
    const start = this.pos - 1;
    let negated = false;
    if (this.more() && this.peek() == 0x5e) { this.pos++; negated = true; }
    const ranges = new Array<i32>();
    let first = true;
    for (;;) {
      if (!this.more()) return this.fail("missing closing ]: " + this.src.substring(start));
      const c = this.peek();
      if (c == 0x5d && !first) { this.pos++; break; }
      first = false;
      if (c == 0x5b && this.lookingAt("[:")) {
        const close = this.src.indexOf(":]", this.pos + 2);
        if (close >= 0) {
          let name = this.src.substring(this.pos + 2, close);
          const negatePosix = name.startsWith("^");
          if (negatePosix) name = name.substring(1);
          const posix = posixClass(name);
          if (posix === null) return this.fail("invalid character class range: " + this.src.substring(this.pos, close + 2));
          const set = negatePosix ? negateRanges(normalizeRanges(posix)) : posix;
          for (let i = 0; i < set.length; i++) ranges.push(set[i]);
          this.pos = close + 2;
          continue;
        }
      }
      const lo = this.classChar(flags, ranges);
      if (lo == -2) return null;
      if (lo == -1) continue; // a Perl class escape, already added
      if (this.more() && this.peek() == 0x2d && this.pos + 1 < this.src.length && this.src.charCodeAt(this.pos + 1) != 0x5d) {
        const rangeStart = this.pos;
        this.pos++;
        const hi = this.classChar(flags, ranges);
        if (hi == -2) return null;
        if (hi < 0 || hi < lo) {
          return this.fail("invalid character class range: " + this.src.substring(rangeStart - 1, this.pos));
        }
        ranges.push(lo);
        ranges.push(hi);
      } else {
        ranges.push(lo);
        ranges.push(lo);
      }
    }
    let set = normalizeRanges(ranges);
    if (flags.foldCase) set = addFolds(set);
    if (negated) set = negateRanges(set);
    return Node.cls(set);
  }

  /** One class member: a code point (≥0); -1 when a Perl class was appended to `ranges`; -2 on error. */
  classChar(flags: Flags, ranges: Array<i32>): i32 {
    const c = this.next();
    if (c != 0x5c) return c;
    if (!this.more()) { this.fail("trailing \\ at end of pattern: " + this.src); return -2; }
    const escStart = this.pos - 1;
    const letter = this.peek();
    const set = this.parseClassEscape(flags, escStart);
    if (set === null) return -2;
    if (perlClass(letter | 0x20) !== null) {
      for (let i = 0; i < set.length; i++) ranges.push(set[i]);
      return -1;
    }
    return set[0];
  }
}

function hexValue(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}
