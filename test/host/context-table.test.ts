import { describe, expect, it } from 'vitest';
import { ContextTable } from '../../deployer/src/host/context-table.js';

interface Rec { readonly id: number; readonly tag: string }

/**
 * Each case: a sequence of operations (set id / delete id) and the ids expected live after it.
 * Ids collide on purpose: 1, 65, 129 share slot 1 of the 64 initial slots (the overflow Map
 * holds the later ones), and 200 live ids force the slots to grow.
 */
type Op = readonly ['set' | 'delete', number];
const many = (from: number, n: number, op: 'set' | 'delete'): Op[] => Array.from({ length: n }, (_, i): Op => [op, from + i]);
const cases: readonly { readonly name: string; readonly ops: readonly Op[]; readonly live: readonly number[] }[] = [
  { name: 'a root and a stream', ops: [['set', 1], ['set', 2]], live: [1, 2] },
  { name: 'a stream deleted', ops: [['set', 1], ['set', 2], ['delete', 2]], live: [1] },
  { name: 'ids colliding with the live root', ops: [['set', 1], ['set', 65], ['set', 129], ['delete', 65]], live: [1, 129] },
  { name: 'the slot owner deleted before its colliding ids', ops: [['set', 1], ['set', 65], ['delete', 1], ['set', 129]], live: [65, 129] },
  { name: 'ever-growing ids, one live at a time', ops: Array.from({ length: 1000 }, (_, i): Op[] => [['set', i + 2], ['delete', i + 2]]).flat().concat([['set', 1]]), live: [1] },
  { name: '200 live streams (slots grow)', ops: [['set', 1], ...many(2, 200, 'set'), ...many(2, 150, 'delete')], live: [1, ...Array.from({ length: 50 }, (_, i) => 152 + i)] },
];

describe('ContextTable', () => {
  it.each(cases)('keeps exactly the live ids: $name', ({ ops, live }) => {
    const table = new ContextTable<Rec>();
    for (const [op, id] of ops) {
      if (op === 'set') table.set({ id, tag: `t${id}` });
      else expect(table.delete(id)).toBe(true);
    }
    expect(table.size).toBe(live.length);
    expect(table.values().map((r) => r.id).sort((a, b) => a - b)).toEqual([...live].sort((a, b) => a - b));
    for (const id of live) expect(table.get(id)).toEqual({ id, tag: `t${id}` });
    for (const [, id] of ops) if (!live.includes(id)) { expect(table.get(id)).toBeUndefined(); expect(table.has(id)).toBe(false); }
  });

  it('replaces the record of an id that is set again (slot and overflow)', () => {
    const table = new ContextTable<Rec>();
    table.set({ id: 1, tag: 'a' });
    table.set({ id: 65, tag: 'b' });
    table.set({ id: 1, tag: 'c' });
    table.set({ id: 65, tag: 'd' });
    expect(table.size).toBe(2);
    expect(table.get(1)?.tag).toBe('c');
    expect(table.get(65)?.tag).toBe('d');
  });

  it('answers false when deleting an unknown id', () => {
    const table = new ContextTable<Rec>();
    table.set({ id: 3, tag: 'x' });
    expect(table.delete(67)).toBe(false);
    expect(table.delete(4)).toBe(false);
    expect(table.size).toBe(1);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses context id %s', (id) => {
    expect(() => new ContextTable<Rec>().set({ id, tag: 'x' })).toThrow(/context id must be a positive integer/);
  });
});
