/**
 * Pike VM (https://swtch.com/~rsc/regexp/regexp2.html): runs every NFA thread in lockstep over
 * the input, one pass, each program counter at most once per position. Work is bounded by
 * input length × program size whatever the pattern — no backtracking, no ReDoS.
 *
 * Input is UTF-16 code units at (ptr, len) — an AssemblyScript string's payload or a buffer the
 * standalone module's caller filled — decoded to code points as it goes.
 *
 * `regexSteps` counts thread visits: tests assert it grows linearly with the input.
 */
import { Assertion } from "./ast";
import { Op, Program } from "./program";

export let regexSteps: u64 = 0;

export function resetRegexSteps(): void { regexSteps = 0; }

/** One thread list: a sparse set of pcs in priority order, with capture slots per entry. */
class ThreadList {
  dense: StaticArray<i32>;
  sparse: StaticArray<i32>;
  size: i32 = 0;
  /** slotCount values per dense index. */
  caps: StaticArray<i32>;

  constructor(n: i32, slots: i32) {
    this.dense = new StaticArray<i32>(n);
    this.sparse = new StaticArray<i32>(n);
    this.caps = new StaticArray<i32>(n * slots);
  }

  @inline has(pc: i32): bool {
    const i = unchecked(this.sparse[pc]);
    return i < this.size && unchecked(this.dense[i]) == pc;
  }

  @inline add(pc: i32): i32 {
    const i = this.size++;
    unchecked(this.dense[i] = pc);
    unchecked(this.sparse[pc] = i);
    return i;
  }
}

@inline function isWord(c: i32): bool {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x5f;
}

/** Reusable VM state for one program (a compiled regex owns one). */
export class PikeVm {
  prog: Program;
  clist: ThreadList;
  nlist: ThreadList;
  slots: i32;
  /** Capture scratch for the thread being expanded. */
  scratch: StaticArray<i32>;
  /** Slots of the best match found (valid when the run returned true). */
  matchCaps: StaticArray<i32>;
  /** Explicit stack for addThread: (pc or -1-slot, restore value) pairs. */
  stack: Array<i32> = new Array<i32>();

  constructor(prog: Program, withCaptures: bool) {
    const n = prog.length;
    const slots = withCaptures ? prog.slotCount : 0;
    this.prog = prog;
    this.slots = slots;
    this.clist = new ThreadList(n, slots);
    this.nlist = new ThreadList(n, slots);
    this.scratch = new StaticArray<i32>(slots);
    this.matchCaps = new StaticArray<i32>(slots);
  }

  /**
   * Runs over units [start, len) of the input. `anchorEnd`: a match must end at `len` (full
   * match); `anchorStart`: it must start at `start`; otherwise leftmost-first search.
   */
  run(ptr: usize, len: i32, start: i32, anchorStart: bool, anchorEnd: bool): bool {
    let clist = this.clist;
    let nlist = this.nlist;
    clist.size = 0;
    const slots = this.slots;
    const prog = this.prog;
    const ops = prog.ops;
    let matched = false;
    let pos = start;
    let prev: i32 = start > 0 ? <i32>load<u16>(ptr + ((<usize>(start - 1)) << 1)) : -1;
    for (;;) {
      // Decode the code point at pos.
      let c: i32 = -1;
      let width = 0;
      if (pos < len) {
        c = <i32>load<u16>(ptr + ((<usize>pos) << 1));
        width = 1;
        if (c >= 0xd800 && c < 0xdc00 && pos + 1 < len) {
          const lo = <i32>load<u16>(ptr + ((<usize>(pos + 1)) << 1));
          if (lo >= 0xdc00 && lo < 0xe000) {
            c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
            width = 2;
          }
        }
      }
      if (!matched && (pos == start || !anchorStart)) {
        for (let s = 0; s < slots; s++) unchecked(this.scratch[s] = -1);
        this.addThread(clist, 0, pos, prev, c);
      }
      if (clist.size == 0) break;
      nlist.size = 0;
      for (let i = 0; i < clist.size; i++) {
        const pc = unchecked(clist.dense[i]);
        regexSteps++;
        const op = unchecked(ops[pc]);
        if (op == Op.Char) {
          if (c >= 0 && unchecked(prog.sets[unchecked(prog.x[pc])]).has(c)) {
            for (let s = 0; s < slots; s++) unchecked(this.scratch[s] = clist.caps[i * slots + s]);
            this.addThread(nlist, pc + 1, pos + width, c, this.peekAfter(ptr, len, pos + width));
          }
        } else if (op == Op.Match) {
          if (anchorEnd && pos != len) continue;
          matched = true;
          for (let s = 0; s < slots; s++) unchecked(this.matchCaps[s] = clist.caps[i * slots + s]);
          // Lower-priority threads lose to this one (leftmost-first).
          break;
        }
      }
      if (pos >= len) break;
      const t = clist;
      clist = nlist;
      nlist = t;
      prev = c > 0xffff ? <i32>load<u16>(ptr + ((<usize>(pos + 1)) << 1)) : c;
      pos += width;
    }
    this.clist = clist;
    this.nlist = nlist;
    return matched;
  }

  @inline peekAfter(ptr: usize, len: i32, at: i32): i32 {
    return at < len ? <i32>load<u16>(ptr + ((<usize>at) << 1)) : -1;
  }

  /** Follows empty transitions from `pc0` at `pos`; `prev`/`next` are the units around it. */
  addThread(list: ThreadList, pc0: i32, pos: i32, prev: i32, next: i32): void {
    const prog = this.prog;
    const stack = this.stack;
    const slots = this.slots;
    stack.length = 0;
    stack.push(pc0);
    stack.push(0);
    while (stack.length > 0) {
      const value = stack.pop();
      const entry = stack.pop();
      if (entry < 0) {
        unchecked(this.scratch[-1 - entry] = value);
        continue;
      }
      const pc = entry;
      if (list.has(pc)) continue;
      const at = list.add(pc);
      regexSteps++;
      const op = unchecked(prog.ops[pc]);
      switch (op) {
        case Op.Jmp:
          stack.push(unchecked(prog.x[pc])); stack.push(0);
          break;
        case Op.Split:
          stack.push(unchecked(prog.y[pc])); stack.push(0);
          stack.push(unchecked(prog.x[pc])); stack.push(0);
          break;
        case Op.Save: {
          const slot = unchecked(prog.x[pc]);
          if (slot < slots) {
            stack.push(-1 - slot); stack.push(unchecked(this.scratch[slot]));
            unchecked(this.scratch[slot] = pos);
          }
          stack.push(pc + 1); stack.push(0);
          break;
        }
        case Op.Assert:
          if (assertionHolds(unchecked(prog.x[pc]), prev, next)) { stack.push(pc + 1); stack.push(0); }
          break;
        default:
          // Char and Match wait in the list with the captures they were reached with.
          for (let s = 0; s < slots; s++) unchecked(list.caps[at * slots + s] = this.scratch[s]);
      }
    }
  }
}

function assertionHolds(kind: i32, prev: i32, next: i32): bool {
  switch (kind) {
    case Assertion.BeginText: return prev < 0;
    case Assertion.EndText: return next < 0;
    case Assertion.BeginLine: return prev < 0 || prev == 0x0a;
    case Assertion.EndLine: return next < 0 || next == 0x0a;
    case Assertion.WordBoundary: return isWord(prev) != isWord(next);
  }
  return isWord(prev) == isWord(next);
}
