/**
 * Compiles a syntax tree into a Thompson-NFA program for the Pike VM (pike.ts): the classic
 * construction (https://swtch.com/~rsc/regexp/regexp2.html), with SPLIT's first branch being
 * the preferred one so leftmost-first (Perl/RE2) priorities hold for captures.
 */
import { Assertion, Node, NodeKind, UNBOUNDED } from "./ast";

export enum Op { Char = 0, Match = 1, Split = 2, Jmp = 3, Save = 4, Assert = 5 }

/** RE2 refuses programs past its memory budget; so do we, well before memory matters. */
export const MAX_INSTRUCTIONS: i32 = 60000;

export class CharSet {
  /** Sorted lo/hi pairs. */
  ranges: StaticArray<i32>;
  /** Membership of code points 0..127, one bit each. */
  ascii: StaticArray<u32> = new StaticArray<u32>(4);

  constructor(ranges: Array<i32>) {
    const r = new StaticArray<i32>(ranges.length);
    for (let i = 0; i < ranges.length; i++) r[i] = ranges[i];
    this.ranges = r;
    for (let i = 0; i < ranges.length; i += 2) {
      const hi = ranges[i + 1] < 127 ? ranges[i + 1] : 127;
      for (let c = ranges[i]; c <= hi; c++) this.ascii[c >> 5] |= 1 << (c & 31);
    }
  }

  @inline has(c: i32): bool {
    if (c < 128) return (unchecked(this.ascii[c >> 5]) & (1 << (c & 31))) != 0;
    return this.hasWide(c);
  }

  hasWide(c: i32): bool {
    const r = this.ranges;
    // Binary search over the pairs.
    let lo = 0;
    let hi = (r.length >> 1) - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (c < unchecked(r[2 * mid])) hi = mid - 1;
      else if (c > unchecked(r[2 * mid + 1])) lo = mid + 1;
      else return true;
    }
    return false;
  }
}

export class Program {
  ops: Array<Op> = new Array<Op>();
  /** Jmp/Split target, Save slot, Assert kind, Char set index. */
  x: Array<i32> = new Array<i32>();
  /** Split's second branch. */
  y: Array<i32> = new Array<i32>();
  sets: Array<CharSet> = new Array<CharSet>();
  /** Capture slots: 2 per group, group 0 being the whole match. */
  slotCount: i32 = 2;
  tooLarge: bool = false;
  /** The same program in fixed arrays for the VM's inner loop (finish()). */
  fops: StaticArray<i32> = new StaticArray<i32>(0);
  fx: StaticArray<i32> = new StaticArray<i32>(0);
  fy: StaticArray<i32> = new StaticArray<i32>(0);
  fsets: StaticArray<CharSet> = new StaticArray<CharSet>(0);
  /** Literal text every match starts with (a cheap reject before the VM runs); "" when none. */
  prefix: string = "";
  /** Every match starts at the beginning of the text (the pattern opens with `^` or `\A`): searches try position 0 only. */
  anchoredStart: bool = false;

  finish(): void {
    const n = this.ops.length;
    this.fops = new StaticArray<i32>(n);
    this.fx = new StaticArray<i32>(n);
    this.fy = new StaticArray<i32>(n);
    for (let i = 0; i < n; i++) {
      unchecked(this.fops[i] = <i32>this.ops[i]);
      unchecked(this.fx[i] = this.x[i]);
      unchecked(this.fy[i] = this.y[i]);
    }
    const sets = new StaticArray<CharSet>(this.sets.length);
    for (let i = 0; i < this.sets.length; i++) sets[i] = this.sets[i];
    this.fsets = sets;
  }

  get length(): i32 { return this.ops.length; }

  emit(op: Op, x: i32, y: i32): i32 {
    const pc = this.ops.length;
    if (pc >= MAX_INSTRUCTIONS) this.tooLarge = true;
    this.ops.push(op);
    this.x.push(x);
    this.y.push(y);
    return pc;
  }
}

/** The program of `root` wrapped in SAVE 0 … SAVE 1, MATCH; null when it would be too large. */
export function compileProgram(root: Node, captureCount: i32): Program | null {
  const prog = new Program();
  prog.slotCount = 2 * (captureCount + 1);
  prog.emit(Op.Save, 0, 0);
  emitNode(prog, root);
  prog.emit(Op.Save, 1, 0);
  prog.emit(Op.Match, 0, 0);
  if (prog.tooLarge) return null;
  prog.finish();
  prog.prefix = literalPrefix(root);
  prog.anchoredStart = startsAtBeginText(root);
  return prog;
}

function isBeginText(node: Node): bool {
  return node.kind == NodeKind.Assert && node.assertion == Assertion.BeginText;
}

function startsAtBeginText(root: Node): bool {
  return isBeginText(root) || (root.kind == NodeKind.Concat && root.subs.length > 0 && isBeginText(root.subs[0]));
}

/**
 * The single code points a pattern must start with: leading one-character classes of its top
 * concatenation (after a leading `^`/`\A`, which holds at the start of every match it opens).
 */
function literalPrefix(root: Node): string {
  let out = "";
  const items = root.kind == NodeKind.Concat ? root.subs : [root];
  for (let i = 0; i < items.length; i++) {
    const n = items[i];
    if (i == 0 && isBeginText(n)) continue;
    if (n.kind != NodeKind.Class || n.ranges.length != 2 || n.ranges[0] != n.ranges[1]) break;
    out += String.fromCodePoint(n.ranges[0]);
  }
  return out;
}

function emitNode(prog: Program, node: Node): void {
  if (prog.tooLarge) return;
  switch (node.kind) {
    case NodeKind.Empty: return;
    case NodeKind.Class: {
      prog.sets.push(new CharSet(node.ranges));
      prog.emit(Op.Char, prog.sets.length - 1, 0);
      return;
    }
    case NodeKind.Assert: {
      prog.emit(Op.Assert, <i32>node.assertion, 0);
      return;
    }
    case NodeKind.Concat: {
      for (let i = 0; i < node.subs.length; i++) emitNode(prog, node.subs[i]);
      return;
    }
    case NodeKind.Capture: {
      prog.emit(Op.Save, 2 * node.cap, 0);
      emitNode(prog, node.subs[0]);
      prog.emit(Op.Save, 2 * node.cap + 1, 0);
      return;
    }
    case NodeKind.Alternate: {
      const jumps = new Array<i32>();
      const n = node.subs.length;
      for (let i = 0; i < n - 1; i++) {
        const split = prog.emit(Op.Split, 0, 0);
        prog.x[split] = split + 1;
        emitNode(prog, node.subs[i]);
        jumps.push(prog.emit(Op.Jmp, 0, 0));
        prog.y[split] = prog.length;
      }
      emitNode(prog, node.subs[n - 1]);
      const end = prog.length;
      for (let i = 0; i < jumps.length; i++) prog.x[jumps[i]] = end;
      return;
    }
    case NodeKind.Repeat: {
      emitRepeat(prog, node);
      return;
    }
  }
}

/** SPLIT with the preferred branch first: `take` when greedy, `skip` when not. */
function setSplit(prog: Program, split: i32, take: i32, skip: i32, greedy: bool): void {
  prog.x[split] = greedy ? take : skip;
  prog.y[split] = greedy ? skip : take;
}

function emitRepeat(prog: Program, node: Node): void {
  const sub = node.subs[0];
  const min = node.min;
  const max = node.max;
  if (max == UNBOUNDED) {
    if (min == 0) {
      // L: split body, out; body; jmp L
      const split = prog.emit(Op.Split, 0, 0);
      emitNode(prog, sub);
      prog.emit(Op.Jmp, split, 0);
      setSplit(prog, split, split + 1, prog.length, node.greedy);
      return;
    }
    for (let i = 0; i < min - 1; i++) emitNode(prog, sub);
    // L: body; split L, out
    const loop = prog.length;
    emitNode(prog, sub);
    const split = prog.emit(Op.Split, 0, 0);
    setSplit(prog, split, loop, split + 1, node.greedy);
    return;
  }
  for (let i = 0; i < min; i++) emitNode(prog, sub);
  // (max - min) optional copies, nested: x{0,2} = (x(x)?)?
  const splits = new Array<i32>();
  for (let i = min; i < max; i++) {
    splits.push(prog.emit(Op.Split, 0, 0));
    emitNode(prog, sub);
  }
  const out = prog.length;
  for (let i = 0; i < splits.length; i++) setSplit(prog, splits[i], splits[i] + 1, out, node.greedy);
}
