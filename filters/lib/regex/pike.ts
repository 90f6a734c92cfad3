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
  /**
   * Explicit stack for addThread: (pc or -1-slot, restore value) pairs. Each pc enters the list
   * once per step and pushes at most three pairs (SPLIT two, SAVE a restore and its next), so
   * 3 pairs per instruction (+1 for the start) bound it.
   */
  stack: StaticArray<i32>;

  constructor(prog: Program, withCaptures: bool) {
    const n = prog.length;
    const slots = withCaptures ? prog.slotCount : 0;
    this.prog = prog;
    this.slots = slots;
    this.clist = new ThreadList(n, slots);
    this.nlist = new ThreadList(n, slots);
    this.scratch = new StaticArray<i32>(slots);
    this.matchCaps = new StaticArray<i32>(slots);
    this.stack = new StaticArray<i32>(6 * n + 8);
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
    const ops = prog.fops;
    const xs = prog.fx;
    const sets = prog.fsets;
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
          if (c >= 0 && unchecked(sets[unchecked(xs[pc])]).has(c)) {
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
    const ops = prog.fops;
    const xs = prog.fx;
    const ys = prog.fy;
    const stack = this.stack;
    const slots = this.slots;
    let top = 0;
    unchecked(stack[top++] = pc0);
    unchecked(stack[top++] = 0);
    while (top > 0) {
      const value = unchecked(stack[--top]);
      const entry = unchecked(stack[--top]);
      if (entry < 0) {
        unchecked(this.scratch[-1 - entry] = value);
        continue;
      }
      const pc = entry;
      if (list.has(pc)) continue;
      const at = list.add(pc);
      regexSteps++;
      const op = unchecked(ops[pc]);
      switch (op) {
        case Op.Jmp:
          unchecked(stack[top++] = xs[pc]); unchecked(stack[top++] = 0);
          break;
        case Op.Split:
          unchecked(stack[top++] = ys[pc]); unchecked(stack[top++] = 0);
          unchecked(stack[top++] = xs[pc]); unchecked(stack[top++] = 0);
          break;
        case Op.Save: {
          const slot = unchecked(xs[pc]);
          if (slot < slots) {
            unchecked(stack[top++] = -1 - slot); unchecked(stack[top++] = this.scratch[slot]);
            unchecked(this.scratch[slot] = pos);
          }
          unchecked(stack[top++] = pc + 1); unchecked(stack[top++] = 0);
          break;
        }
        case Op.Assert:
          if (assertionHolds(unchecked(xs[pc]), prev, next)) { unchecked(stack[top++] = pc + 1); unchecked(stack[top++] = 0); }
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

/** DFA states kept before the cache is flushed (RE2's lazy DFA does the same when its budget runs out). */
const MAX_DFA_STATES: i32 = 512;
const UNKNOWN: i32 = -1;

/**
 * Lazy DFA for full matches of programs without assertions (the usual route and header
 * regexes): a state is the set of NFA threads the Pike VM would hold, built on first use and
 * cached with its ASCII transitions, so a repeated match costs one table lookup per character.
 * Each character still builds at most one state (O(program)), so the run stays linear even when
 * the cache is flushed; non-ASCII characters are stepped without caching.
 */
export class LazyDfa {
  vm: PikeVm;
  states: Array<StaticArray<i32>> = new Array();
  accepting: Array<bool> = new Array();
  trans: Array<StaticArray<i32>> = new Array();
  ids: Map<string, i32> = new Map();
  start: i32 = UNKNOWN;
  /** Bumped by every flush: state numbers from before it are void. */
  generation: i32 = 0;

  constructor(vm: PikeVm) {
    this.vm = vm;
  }

  /** The state for the threads in `list` (created if new). */
  private intern(list: ThreadList): i32 {
    let key = "";
    for (let i = 0; i < list.size; i++) key += String.fromCharCode(unchecked(list.dense[i]) & 0xffff) + String.fromCharCode(unchecked(list.dense[i]) >>> 16);
    if (this.ids.has(key)) return this.ids.get(key);
    if (this.states.length >= MAX_DFA_STATES) this.flush();
    const pcs = new StaticArray<i32>(list.size);
    let accepting = false;
    const ops = this.vm.prog.fops;
    for (let i = 0; i < list.size; i++) {
      const pc = unchecked(list.dense[i]);
      pcs[i] = pc;
      if (unchecked(ops[pc]) == Op.Match) accepting = true;
    }
    const id = this.states.length;
    this.states.push(pcs);
    this.accepting.push(accepting);
    const row = new StaticArray<i32>(128);
    for (let c = 0; c < 128; c++) unchecked(row[c] = UNKNOWN);
    this.trans.push(row);
    this.ids.set(key, id);
    return id;
  }

  private flush(): void {
    this.states.length = 0;
    this.accepting.length = 0;
    this.trans.length = 0;
    this.ids.clear();
    this.start = UNKNOWN;
    this.generation++;
  }

  private step(state: i32, c: i32): i32 {
    const vm = this.vm;
    const list = vm.nlist;
    list.size = 0;
    const pcs = this.states[state];
    const prog = vm.prog;
    for (let i = 0; i < pcs.length; i++) {
      const pc = unchecked(pcs[i]);
      regexSteps++;
      if (unchecked(prog.fops[pc]) == Op.Char && unchecked(prog.fsets[unchecked(prog.fx[pc])]).has(c)) vm.addThread(list, pc + 1, 0, -1, -1);
    }
    return this.intern(list);
  }

  fullMatch(ptr: usize, len: i32): bool {
    if (this.start == UNKNOWN) {
      const list = this.vm.nlist;
      list.size = 0;
      this.vm.addThread(list, 0, 0, -1, -1);
      this.start = this.intern(list);
    }
    let state = this.start;
    let pos = 0;
    while (pos < len) {
      if (unchecked(this.states[state]).length == 0) return false;
      let c = <i32>load<u16>(ptr + ((<usize>pos) << 1));
      pos++;
      if (c >= 0xd800 && c < 0xdc00 && pos < len) {
        const lo = <i32>load<u16>(ptr + ((<usize>pos) << 1));
        if (lo >= 0xdc00 && lo < 0xe000) { c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00); pos++; }
      }
      regexSteps++;
      if (c < 128) {
        const row = unchecked(this.trans[state]);
        let next = unchecked(row[c]);
        if (next == UNKNOWN) {
          const generation = this.generation;
          next = this.step(state, c);
          // After a flush `row` belongs to no state any more: nothing to record.
          if (this.generation == generation) unchecked(row[c] = next);
        }
        state = next;
      } else {
        state = this.step(state, c);
      }
    }
    return unchecked(this.accepting[state]);
  }
}

/** True when the program has no zero-width assertions: its threads do not depend on neighbouring characters. */
export function dfaCompatible(prog: Program): bool {
  const ops = prog.fops;
  for (let i = 0; i < ops.length; i++) if (unchecked(ops[i]) == Op.Assert) return false;
  return true;
}
