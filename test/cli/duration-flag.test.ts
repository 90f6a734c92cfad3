import { describe, expect, it } from 'vitest';
import { flagDurationMs } from '../../deployer/src/cli/duration-flag.js';

describe('cli: duration flags (--debounce-after, --debounce-max, --xds-initial-fetch-timeout)', () => {
  it.each([
    ['100ms', 100], ['1.5s', 1500], ['10s', 10_000], ['2m', 120_000], ['0', 0], [' 20ms ', 20],
  ])('%s is %d ms', (text, ms) => expect(flagDurationMs('--debounce-after', text)).toBe(ms));

  it.each(['100', '-1s', '1h', 'fast', ''])('refuses %j naming the flag and the form expected', (text) => {
    expect(() => flagDurationMs('--debounce-max', text)).toThrow(`--debounce-max "${text}": not a duration; expected e.g. 100ms, 1.5s, 2m or 0`);
  });
});
