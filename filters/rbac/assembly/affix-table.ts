/**
 * Prefix / suffix patterns of one StringIndex, grouped by length and sorted within each group,
 * so a request value is probed once per distinct length by binary search over its own memory:
 * no substring (allocation + hash) per probe, which the per-request profile showed as the main
 * remaining allocation of path and host matching.
 */
import { MatchSet } from "./match-set";

class LengthGroup {
  /** Same-length patterns in memory.compare order, with their predicate ids. */
  texts: Array<string> = new Array();
  ids: Array<Array<i32>> = new Array();
  constructor(readonly length: i32) {}
}

/**
 * Orders the whole of `text` against `length` UTF-16 units of `value` from `start`: a bytewise
 * (memcmp) order, not a lexicographic one, but a total order on equal-length strings — all a
 * sorted table and its binary search need.
 */
// @ts-ignore: decorator
@inline function compareAt(text: string, value: string, start: i32, length: i32): i32 {
  return memory.compare(changetype<usize>(text), changetype<usize>(value) + (<usize>start << 1), <usize>length << 1);
}

/** AssemblyScript's splice only removes: insert by shifting (configure time only). */
function insertAt<T>(items: Array<T>, at: i32, item: T): void {
  items.push(item);
  for (let i = items.length - 1; i > at; i--) items[i] = items[i - 1];
  items[at] = item;
}

export class AffixTable {
  /** Ascending by length. */
  private groups: Array<LengthGroup> = new Array();

  constructor(readonly suffix: bool) {}

  get isEmpty(): bool { return this.groups.length == 0; }

  add(text: string, id: i32): void {
    const length = text.length;
    let at = 0;
    while (at < this.groups.length && this.groups[at].length < length) at++;
    if (at == this.groups.length || this.groups[at].length != length) insertAt<LengthGroup>(this.groups, at, new LengthGroup(length));
    const group = this.groups[at];
    // Sorted insert (configure time only).
    let i = 0;
    let order = -1;
    while (i < group.texts.length) {
      order = compareAt(group.texts[i], text, 0, length);
      if (order >= 0) break;
      i++;
    }
    if (i < group.texts.length && order == 0) {
      group.ids[i].push(id);
      return;
    }
    const ids = new Array<i32>();
    ids.push(id);
    insertAt<string>(group.texts, i, text);
    insertAt<Array<i32>>(group.ids, i, ids);
  }

  /** Marks the ids of every pattern that is a prefix (or suffix) of `value`. */
  match(value: string, out: MatchSet): void {
    const valueLength = value.length;
    const groups = this.groups;
    for (let g = 0, n = groups.length; g < n; g++) {
      const group = unchecked(groups[g]);
      const length = group.length;
      if (length > valueLength) return;
      const start = this.suffix ? valueLength - length : 0;
      const texts = group.texts;
      let low = 0;
      let high = texts.length - 1;
      while (low <= high) {
        const mid = (low + high) >>> 1;
        const order = compareAt(unchecked(texts[mid]), value, start, length);
        if (order == 0) { out.markAll(unchecked(group.ids[mid])); break; }
        if (order < 0) low = mid + 1; else high = mid - 1;
      }
    }
  }
}
