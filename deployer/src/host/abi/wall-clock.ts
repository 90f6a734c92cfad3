/**
 * proxy_get_current_time_nanoseconds without BigInt arithmetic for the system clock.
 *
 * Why: jwt-auth reads the clock on every request (token expiry), and the BigInt path
 * (BigInt(Date.now()) * 1e6 + hrtime.bigint() % 1e6, then setBigUint64) allocated three
 * BigInts per call. The same u64 is built here from numbers as two little-endian u32 words.
 * Nanoseconds since the epoch (~1.8e18) exceed 2^53, so the product is split: the low 32 bits
 * of the milliseconds times 1e6 stay below 2^52 (exact in a double) and carry into the high
 * word, which adds the high bits of the milliseconds times 1e6.
 */
const TWO_32 = 2 ** 32;

/** The u64 `millis * 1e6 + subMillisNanos` as [low, high] u32 words (millis < 2^53 / 1e6 · 2^32). */
export function nanosWords(millis: number, subMillisNanos: number, out: [number, number]): void {
  const millisLow = millis % TWO_32;
  const millisHigh = (millis - millisLow) / TWO_32;
  const low = millisLow * 1_000_000 + subMillisNanos; // < 2^52: exact
  const lowWord = low % TWO_32;
  out[0] = lowWord;
  out[1] = (millisHigh * 1_000_000 + (low - lowWord) / TWO_32) % TWO_32;
}

const words: [number, number] = [0, 0];

/**
 * The sub-millisecond nanoseconds the system clock adds to the wall-clock millisecond: the
 * monotonic clock's (hrtime()[1] is the nanoseconds within the second, so mod 1e6 equals
 * hrtime.bigint() mod 1e6, as services.ts systemClock.nowNanos() takes them).
 */
export function subMillisNanos(): number {
  return process.hrtime()[1] % 1_000_000;
}

/**
 * The system clock's now, as services.ts systemClock.nowNanos() computes it (wall-clock
 * milliseconds plus the monotonic clock's nanoseconds within a millisecond), in words.
 */
export function systemNowWords(): readonly [number, number] {
  nanosWords(Date.now(), subMillisNanos(), words);
  return words;
}
