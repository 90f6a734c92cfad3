/**
 * Choosing a destination of a weighted split.
 *
 * Sticky: weighted rendezvous hashing (HRW; Schindelhauer & Schomaker's logarithmic method):
 * each destination scores `weight / -ln(u)` with `u` a uniform hash of (key, destination), the
 * highest wins. A key lands on destination d with probability weight_d / total, the same key
 * always gets the same destination, and raising one weight only raises that destination's
 * scores: keys move *to* it and never away from it (10 → 20 of 100 moves ~10% of keys).
 *
 * Not sticky: a uniform draw from splitmix64, seeded per VM.
 */
import { Destination } from "./model";
import { FNV_OFFSET, fnv1a64 } from "../../lib/bytes";

let state: u64 = 0x9e3779b97f4a7c15;

export function seedRandom(seed: u64): void {
  state = seed ^ 0x9e3779b97f4a7c15;
}

/** splitmix64 (Steele, Lea, Flood 2014). */
function next64(): u64 {
  state += 0x9e3779b97f4a7c15;
  return mix64(state);
}

@inline export function mix64(x: u64): u64 {
  let z = x;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

/** Uniform in [0, 1). */
export function random01(): f64 {
  return <f64>(next64() >> 11) / 9007199254740992.0;
}

/**
 * A sticky key's hash: FNV-1a 64 over its UTF-8 bytes, then mixed (for ASCII keys the same value
 * as over UTF-16 units, which earlier versions hashed: ASCII keys keep their destinations).
 */
export function hashBytes(ptr: usize, length: i32): u64 {
  return mix64(fnv1a64(ptr, <usize>length, FNV_OFFSET));
}

export function hashString(key: string): u64 {
  const bytes = String.UTF8.encode(key);
  return hashBytes(changetype<usize>(bytes), bytes.byteLength);
}

/** HRW: the index of the destination with the highest weight / -ln(u(key, destination)). */
export function pickStickyIndex(route: Array<Destination>, keyHash: u64): i32 {
  let best = 0;
  let bestScore: f64 = -1;
  for (let i = 0, n = route.length; i < n; i++) {
    const d = unchecked(route[i]);
    if (d.weight <= 0) continue;
    const h = mix64(keyHash ^ d.clusterHash);
    // u in (0, 1): never 0, so -ln(u) > 0.
    const u = (<f64>(h >> 11) + 0.5) / 9007199254740992.0;
    const score = <f64>d.weight / -Math.log(u);
    if (score > bestScore) { bestScore = score; best = i; }
  }
  return best;
}

/** The index of a weighted random destination (weights add up to `total`). */
export function pickRandomIndex(route: Array<Destination>, total: i32): i32 {
  if (route.length == 1) return 0;
  let draw = <i32>(random01() * <f64>total);
  for (let i = 0, n = route.length; i < n; i++) {
    draw -= unchecked(route[i]).weight;
    if (draw < 0) return i;
  }
  return route.length - 1;
}

/** 16 hex digits of a key hash (the debug header's `sticky=`). */
export function hashHex(h: u64): string {
  let s = h.toString(16);
  while (s.length < 16) s = "0" + s;
  return s;
}
