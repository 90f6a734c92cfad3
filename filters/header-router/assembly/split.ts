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
import { Destination } from "./config";

let state: u64 = 0x9e3779b97f4a7c15;

export function seedRandom(seed: u64): void {
  state = seed ^ 0x9e3779b97f4a7c15;
}

/** splitmix64 (Steele, Lea, Flood 2014). */
function next64(): u64 {
  state += 0x9e3779b97f4a7c15;
  return mix64(state);
}

@inline function mix64(x: u64): u64 {
  let z = x;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

/** Uniform in [0, 1). */
export function random01(): f64 {
  return <f64>(next64() >> 11) / 9007199254740992.0;
}

/** FNV-1a 64 over UTF-16 code units, then mixed: the key's hash. */
export function hashKey(key: string): u64 {
  let h: u64 = 0xcbf29ce484222325;
  for (let i = 0; i < key.length; i++) {
    h ^= <u64>key.charCodeAt(i);
    h *= 0x100000001b3;
  }
  return mix64(h);
}

/** Cluster-name hashes, cached per destination object. */
const clusterHashes = new Map<Destination, u64>();

function clusterHash(d: Destination): u64 {
  if (clusterHashes.has(d)) return clusterHashes.get(d);
  const h = hashKey(d.cluster);
  clusterHashes.set(d, h);
  return h;
}

export function clearClusterHashes(): void {
  clusterHashes.clear();
}

/** HRW: the destination with the highest weight / -ln(u(key, destination)). */
export function pickSticky(route: Array<Destination>, keyHash: u64): Destination {
  let best = route[0];
  let bestScore: f64 = -1;
  for (let i = 0; i < route.length; i++) {
    const d = route[i];
    if (d.weight <= 0) continue;
    const h = mix64(keyHash ^ clusterHash(d));
    // u in (0, 1): never 0, so -ln(u) > 0.
    const u = (<f64>(h >> 11) + 0.5) / 9007199254740992.0;
    const score = <f64>d.weight / -Math.log(u);
    if (score > bestScore) { bestScore = score; best = d; }
  }
  return best;
}

/** A weighted random destination (weights add up to `total`). */
export function pickRandom(route: Array<Destination>, total: i32): Destination {
  if (route.length == 1) return route[0];
  let draw = <i32>(random01() * <f64>total);
  for (let i = 0; i < route.length; i++) {
    draw -= route[i].weight;
    if (draw < 0) return route[i];
  }
  return route[route.length - 1];
}

/** 16 hex digits of a key hash (the debug header's `sticky=`). */
export function hashHex(h: u64): string {
  let s = h.toString(16);
  while (s.length < 16) s = "0" + s;
  return s;
}
