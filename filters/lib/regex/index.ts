/**
 * wasmesh's regex engine: RE2 syntax, linear time (Pike VM), one implementation for the filters
 * (header-router) and the local sidecar (through the standalone module in wasm.ts).
 * See filters/lib/regex/README.md for the syntax covered and why it is hand-written.
 */
import { parse, parseError } from "./parser";
import { Program, compileProgram } from "./program";
import { LazyDfa, PikeVm, dfaCompatible } from "./pike";

export { regexSteps, resetRegexSteps } from "./pike";

/** Why the last `Regex.compile` returned null (names the pattern). */
export let regexError: string = "";

export class Regex {
  readonly pattern: string;
  readonly groupCount: i32;
  private prog: Program;
  private matcher: PikeVm;
  private capturer: PikeVm | null = null;
  /** Full matches without assertions run on a lazy DFA over the matcher's threads. */
  private dfa: LazyDfa | null = null;

  private constructor(pattern: string, prog: Program, groupCount: i32) {
    this.pattern = pattern;
    this.prog = prog;
    this.groupCount = groupCount;
    this.matcher = new PikeVm(prog, false);
    if (dfaCompatible(prog)) this.dfa = new LazyDfa(this.matcher);
  }

  /** Compiles `pattern`; null with regexError set when RE2 would refuse it. */
  static compile(pattern: string): Regex | null {
    regexError = "";
    const parsed = parse(pattern);
    if (parsed === null) {
      regexError = parseError;
      return null;
    }
    const prog = compileProgram(parsed.root, parsed.captureCount);
    if (prog === null) {
      regexError = "pattern too large - compile failed: " + pattern;
      return null;
    }
    return new Regex(pattern, prog, parsed.captureCount);
  }

  /** RE2::FullMatch — Envoy's `safe_regex` semantics. */
  fullMatch(text: string): bool {
    return this.fullMatchUnits(changetype<usize>(text), text.length);
  }

  /** Full match over UTF-16 units at (ptr, len). */
  fullMatchUnits(ptr: usize, len: i32): bool {
    // A match starts with the literal prefix: most non-matching inputs stop here.
    const prefix = this.prog.prefix;
    const plen = prefix.length;
    if (plen > 0) {
      if (len < plen || memory.compare(ptr, changetype<usize>(prefix), <usize>plen << 1) != 0) return false;
    }
    const dfa = this.dfa;
    if (dfa !== null) return dfa.fullMatch(ptr, len);
    return this.matcher.run(ptr, len, 0, true, true);
  }

  /**
   * Full match over `len` UTF-8 bytes at `ptr` (a header value where the host wrote it): decoded
   * into a reused UTF-16 buffer, so matching allocates nothing once the buffer has grown.
   * Malformed sequences read as U+FFFD, as String.UTF8.decode does.
   */
  fullMatchUtf8(ptr: usize, len: i32): bool {
    if (wide.length < len) wide = new StaticArray<u16>(max(len, wide.length << 1));
    const units = utf8ToUnits(ptr, len, changetype<usize>(wide));
    return this.fullMatchUnits(changetype<usize>(wide), units);
  }

  /** RE2::PartialMatch: a match anywhere. */
  partialMatch(text: string): bool {
    return this.matcher.run(changetype<usize>(text), text.length, 0, this.prog.anchoredStart, false);
  }

  private vmWithCaptures(): PikeVm {
    let vm = this.capturer;
    if (vm === null) {
      vm = new PikeVm(this.prog, true);
      this.capturer = vm;
    }
    return vm;
  }

  /**
   * The leftmost-first match at or after `from`: its capture slots (unit offsets, -1 for an
   * unset group; 2 per group, group 0 first), or null when nothing matches.
   */
  find(text: string, from: i32 = 0): StaticArray<i32> | null {
    if (from > 0 && this.prog.anchoredStart) return null;
    const vm = this.vmWithCaptures();
    return vm.run(changetype<usize>(text), text.length, from, this.prog.anchoredStart, false) ? vm.matchCaps : null;
  }

  /**
   * RE2::GlobalReplace: every leftmost-first, non-overlapping match replaced by `rewrite`, in
   * which \0..\9 are the groups and \\ a backslash (Envoy's regex_rewrite).
   */
  replaceAll(text: string, rewrite: string): string {
    const units = this.replaceUnits(changetype<usize>(text), text.length, rewrite);
    return String.UTF16.decodeUnsafe(changetype<usize>(replaced), <usize>units << 1);
  }

  /**
   * replaceAll over `len` UTF-8 bytes at `ptr`, answered as UTF-8 in a buffer reused by every
   * call (valid until the next one): (replacedUtf8Ptr(), the returned length). Nothing is
   * allocated once the buffers have grown.
   */
  replaceAllUtf8(ptr: usize, len: i32, rewrite: string): i32 {
    if (wide.length < len) wide = new StaticArray<u16>(max(len, wide.length << 1));
    const inputUnits = utf8ToUnits(ptr, len, changetype<usize>(wide));
    const units = this.replaceUnits(changetype<usize>(wide), inputUnits, rewrite);
    // UTF-8 needs at most 3 bytes per UTF-16 unit.
    if (<i32>replacedUtf8.byteLength < units * 3) replacedUtf8 = new ArrayBuffer(max(units * 3, replacedUtf8.byteLength << 1));
    return <i32>String.UTF8.encodeUnsafe(changetype<usize>(replaced), units, changetype<usize>(replacedUtf8));
  }

  /** The global replace of the units at (ptr, len) into `replaced`; returns its unit count. */
  private replaceUnits(ptr: usize, len: i32, rewrite: string): i32 {
    const vm = this.vmWithCaptures();
    replacedLength = 0;
    let pos = 0;
    let copied = 0;
    const anchored = this.prog.anchoredStart;
    while (pos <= len) {
      // A `^`-anchored pattern matches at 0 or nowhere: no second search.
      if ((anchored && pos > 0) || !vm.run(ptr, len, pos, anchored, false)) break;
      const caps = vm.matchCaps;
      const from = caps[0];
      const to = caps[1];
      copyUnits(ptr, copied, from);
      this.expand(ptr, rewrite, caps);
      copied = to;
      if (to == from) {
        // An empty match: copy one character and move on (RE2 does the same).
        if (to >= len) break;
        const c = <i32>load<u16>(ptr + (<usize>to << 1));
        const step = c >= 0xd800 && c < 0xdc00 && to + 1 < len ? 2 : 1;
        copyUnits(ptr, to, to + step);
        copied = to + step;
        pos = to + step;
      } else {
        pos = to;
      }
    }
    copyUnits(ptr, copied, len);
    return replacedLength;
  }

  private expand(ptr: usize, rewrite: string, caps: StaticArray<i32>): void {
    for (let i = 0; i < rewrite.length; i++) {
      const c = rewrite.charCodeAt(i);
      if (c == 0x5c && i + 1 < rewrite.length) {
        const d = rewrite.charCodeAt(i + 1) - 0x30;
        if (d >= 0 && d <= 9 && d <= this.groupCount) {
          if (caps[2 * d] >= 0) copyUnits(ptr, caps[2 * d], caps[2 * d + 1]);
          i++;
          continue;
        }
        if (d == 0x5c - 0x30) { pushUnit(0x5c); i++; continue; }
      }
      pushUnit(c);
    }
  }

  /** Checks a rewrite string for RE2::CheckRewriteString: every \N names an existing group. */
  checkRewrite(rewrite: string): string | null {
    for (let i = 0; i < rewrite.length; i++) {
      if (rewrite.charCodeAt(i) != 0x5c) continue;
      if (i + 1 >= rewrite.length) return "rewrite \"" + rewrite + "\" ends with a lone \\";
      const c = rewrite.charCodeAt(i + 1);
      if (c == 0x5c) { i++; continue; }
      const d = c - 0x30;
      if (d < 0 || d > 9) return "rewrite \"" + rewrite + "\": invalid \\" + String.fromCharCode(c) + " (expected \\0-\\9 or \\\\)";
      if (d > this.groupCount) {
        return "rewrite \"" + rewrite + "\" uses \\" + d.toString() + " but \"" + this.pattern + "\" has " + this.groupCount.toString() + " groups";
      }
      i++;
    }
    return null;
  }
}

/** replaceUnits' output (UTF-16 units) and replaceAllUtf8's, reused by every call. */
let replaced = new StaticArray<u16>(256);
let replacedUtf8 = new ArrayBuffer(768);

/** Where replaceAllUtf8 left its answer. */
export function replacedUtf8Ptr(): usize {
  return changetype<usize>(replacedUtf8);
}

let replacedLength = 0;

function reserveUnits(extra: i32): void {
  const need = replacedLength + extra;
  if (need <= replaced.length) return;
  const grown = new StaticArray<u16>(max(need, replaced.length << 1));
  memory.copy(changetype<usize>(grown), changetype<usize>(replaced), <usize>replacedLength << 1);
  replaced = grown;
}

function pushUnit(c: i32): void {
  reserveUnits(1);
  unchecked(replaced[replacedLength++] = <u16>c);
}

/** Appends units [from, to) of the input at `ptr` to `replaced`. */
function copyUnits(ptr: usize, from: i32, to: i32): void {
  const n = to - from;
  if (n <= 0) return;
  reserveUnits(n);
  memory.copy(changetype<usize>(replaced) + (<usize>replacedLength << 1), ptr + (<usize>from << 1), <usize>n << 1);
  replacedLength += n;
}

/** fullMatchUtf8's decoding buffer (UTF-16 never needs more units than UTF-8 has bytes). */
let wide = new StaticArray<u16>(256);

/** Decodes `len` UTF-8 bytes at `src` into UTF-16 units at `dst`; returns the unit count. */
function utf8ToUnits(src: usize, len: i32, dst: usize): i32 {
  let out: usize = dst;
  let i = 0;
  while (i < len) {
    const b0 = <u32>load<u8>(src + <usize>i);
    if (b0 < 0x80) { store<u16>(out, <u16>b0); out += 2; i++; continue; }
    let cp: u32 = 0xfffd;
    let width = 1;
    if (b0 >= 0xc2 && b0 <= 0xdf && i + 1 < len) {
      const b1 = <u32>load<u8>(src + <usize>(i + 1));
      if ((b1 & 0xc0) == 0x80) { cp = ((b0 & 0x1f) << 6) | (b1 & 0x3f); width = 2; }
    } else if (b0 >= 0xe0 && b0 <= 0xef && i + 2 < len) {
      const b1 = <u32>load<u8>(src + <usize>(i + 1));
      const b2 = <u32>load<u8>(src + <usize>(i + 2));
      const c = ((b0 & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f);
      if ((b1 & 0xc0) == 0x80 && (b2 & 0xc0) == 0x80 && c >= 0x800 && (c < 0xd800 || c > 0xdfff)) { cp = c; width = 3; }
    } else if (b0 >= 0xf0 && b0 <= 0xf4 && i + 3 < len) {
      const b1 = <u32>load<u8>(src + <usize>(i + 1));
      const b2 = <u32>load<u8>(src + <usize>(i + 2));
      const b3 = <u32>load<u8>(src + <usize>(i + 3));
      const c = ((b0 & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f);
      if ((b1 & 0xc0) == 0x80 && (b2 & 0xc0) == 0x80 && (b3 & 0xc0) == 0x80 && c >= 0x10000 && c <= 0x10ffff) { cp = c; width = 4; }
    }
    if (cp >= 0x10000) {
      const v = cp - 0x10000;
      store<u16>(out, <u16>(0xd800 + (v >> 10)));
      store<u16>(out + 2, <u16>(0xdc00 + (v & 0x3ff)));
      out += 4;
    } else {
      store<u16>(out, <u16>cp);
      out += 2;
    }
    i += width;
  }
  return <i32>((out - dst) >> 1);
}
