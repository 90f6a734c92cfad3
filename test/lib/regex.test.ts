import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Re2Regex, regexSteps, resetRegexSteps } from '../../deployer/src/regex/engine.js';
import { repoRoot } from '../setup/paths.js';

/** filters/lib/regex through build/lib/regex.wasm: the engine the filters embed and the sidecar calls. */

const fixture = <T>(name: string): T => JSON.parse(readFileSync(path.join(repoRoot, 'test/fixtures/regex', name), 'utf8')) as T;
const cases = fixture<{ pattern: string; input: string; full: boolean; partial: boolean }[]>('cases.json');
const refused = fixture<{ pattern: string; error: string }[]>('refused.json');
const replacements = fixture<{ pattern: string; input: string; rewrite: string; output: string }[]>('replace.json');

describe('regex engine (RE2 syntax, Pike VM)', () => {
  it.each(cases)('$pattern against $input: full $full, partial $partial', ({ pattern, input, full, partial }) => {
    const re = Re2Regex.compile(pattern);
    expect(re.fullMatch(input)).toBe(full);
    expect(re.partialMatch(input)).toBe(partial);
  });

  it.each(refused)('refuses $pattern at compile time', ({ pattern, error }) => {
    expect(() => Re2Regex.compile(pattern)).toThrow(error);
  });

  it('names the pattern in every refusal', () => {
    for (const { pattern } of refused) expect(() => Re2Regex.compile(pattern)).toThrow(pattern);
  });

  it.each(replacements)('replaces $pattern in $input with $rewrite (RE2::GlobalReplace)', ({ pattern, input, rewrite, output }) => {
    expect(Re2Regex.compile(pattern).replaceAll(input, rewrite)).toBe(output);
  });

  it('finds the leftmost-first match with its groups', () => {
    expect(Re2Regex.compile('(a|ab)(c|bcd)(d*)').find('xabcd')).toEqual({ index: 1, groups: ['abcd', 'a', 'bcd', ''] });
    expect(Re2Regex.compile('(a)|b').find('b')).toEqual({ index: 0, groups: ['b', undefined] });
    expect(Re2Regex.compile('z').find('abc')).toBeNull();
  });
});

/**
 * Linear time: the classic catastrophic patterns of backtracking engines, against long inputs
 * that do not match. The engine's own step counter (threads run), not wall time, must grow in
 * proportion to the input: doubling the input doubles the steps (±5% for the constant part).
 */
describe('regex engine: linear time on catastrophic patterns', () => {
  type Mode = 'full' | 'partial';
  // Partial matching is checked where the input has no matching substring either.
  const catastrophic: readonly (readonly [string, (n: number) => string, readonly Mode[]])[] = [
    ['(a+)+$', (n) => 'a'.repeat(n) + 'b', ['full', 'partial']],
    ['(a|aa)*c', (n) => 'a'.repeat(n), ['full', 'partial']],
    ['(.*a){20}', (n) => 'a'.repeat(n) + 'b', ['full']],
    ['(.*a){20}', (n) => 'a'.repeat(15) + 'b'.repeat(n), ['full', 'partial']],
    ['(x+x+)+y', (n) => 'x'.repeat(n), ['full', 'partial']],
    ['(\\w+\\s?)*$', (n) => 'word '.repeat(n / 5) + '!', ['full']],
  ];

  /**
   * Steps of a run with the lazy DFA's cache warm (the second run of the same input): what a
   * proxy matching many requests pays. The cold run builds states too, at most one per input
   * character, each bounded by the program size: still linear, checked with a generous bound.
   */
  const steps = (re: Re2Regex, input: string, mode: Mode): number => {
    const run = (): number => {
      resetRegexSteps();
      const matched = mode === 'full' ? re.fullMatch(input) : re.partialMatch(input);
      expect(matched).toBe(false);
      return regexSteps();
    };
    expect(run()).toBeLessThan(400 * (input.length + 1));
    return run();
  };

  it.each(catastrophic)('%s grows linearly with the input (%#)', (pattern, input, modes) => {
    const re = Re2Regex.compile(pattern);
    for (const mode of modes) {
      const counts = [2_000, 4_000, 8_000, 16_000].map((n) => steps(re, input(n), mode));
      for (let i = 1; i < counts.length; i++) {
        const ratio = counts[i] / counts[i - 1];
        expect(ratio, `${mode} match steps ${counts.join(', ')}`).toBeGreaterThan(1.9);
        expect(counts[i]! / input(2_000 * 2 ** i).length, 'steps per input character').toBeLessThan(400);
        expect(ratio, `${mode} match steps ${counts.join(', ')}`).toBeLessThan(2.05);
      }
    }
  });
});
