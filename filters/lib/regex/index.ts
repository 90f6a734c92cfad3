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

  /** RE2::PartialMatch: a match anywhere. */
  partialMatch(text: string): bool {
    return this.matcher.run(changetype<usize>(text), text.length, 0, false, false);
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
    const vm = this.vmWithCaptures();
    return vm.run(changetype<usize>(text), text.length, from, false, false) ? vm.matchCaps : null;
  }

  /**
   * RE2::GlobalReplace: every leftmost-first, non-overlapping match replaced by `rewrite`, in
   * which \0..\9 are the groups and \\ a backslash (Envoy's regex_rewrite).
   */
  replaceAll(text: string, rewrite: string): string {
    const vm = this.vmWithCaptures();
    const ptr = changetype<usize>(text);
    const len = text.length;
    let out = "";
    let pos = 0;
    let copied = 0;
    while (pos <= len) {
      if (!vm.run(ptr, len, pos, false, false)) break;
      const caps = vm.matchCaps;
      const from = caps[0];
      const to = caps[1];
      out += text.substring(copied, from) + this.expand(text, rewrite, caps);
      copied = to;
      if (to == from) {
        // An empty match: copy one character and move on (RE2 does the same).
        if (to >= len) break;
        const step = isHighSurrogateAt(text, to) ? 2 : 1;
        out += text.substring(to, to + step);
        copied = to + step;
        pos = to + step;
      } else {
        pos = to;
      }
    }
    return out + text.substring(copied);
  }

  private expand(text: string, rewrite: string, caps: StaticArray<i32>): string {
    let out = "";
    for (let i = 0; i < rewrite.length; i++) {
      const c = rewrite.charCodeAt(i);
      if (c == 0x5c && i + 1 < rewrite.length) {
        const d = rewrite.charCodeAt(i + 1) - 0x30;
        if (d >= 0 && d <= 9 && d <= this.groupCount) {
          if (caps[2 * d] >= 0) out += text.substring(caps[2 * d], caps[2 * d + 1]);
          i++;
          continue;
        }
        if (d == 0x5c - 0x30) { out += "\\"; i++; continue; }
      }
      out += String.fromCharCode(c);
    }
    return out;
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

function isHighSurrogateAt(text: string, at: i32): bool {
  const c = text.charCodeAt(at);
  return c >= 0xd800 && c < 0xdc00 && at + 1 < text.length;
}
