import { describe, expect, it } from 'vitest';
import { nanosWords } from '../../deployer/src/host/abi/wall-clock.js';

const viaBigInt = (millis: number, sub: number): bigint => BigInt(millis) * 1_000_000n + BigInt(sub);

describe('host: proxy_get_current_time_nanoseconds words', () => {
  it.each([
    [0, 0], [1, 999_999], [4294, 967_295], [4295, 0], [2 ** 32 - 1, 999_999], [2 ** 32, 1],
    [1_763_795_000_123, 456_789], [1_800_000_000_000, 999_999], [4_102_444_800_000, 0], [2 ** 41 - 1, 123],
  ])('host: proxy_get_current_time_nanoseconds writes %i ms + %i ns as the exact u64', (millis, sub) => {
    const out: [number, number] = [0, 0];
    nanosWords(millis, sub, out);
    const bytes = new DataView(new ArrayBuffer(8));
    bytes.setUint32(0, out[0], true);
    bytes.setUint32(4, out[1], true);
    expect(bytes.getBigUint64(0, true)).toBe(viaBigInt(millis, sub));
  });
});
