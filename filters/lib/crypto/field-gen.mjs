#!/usr/bin/env node
// Generates the straight-line (fully unrolled) field arithmetic used by the EC code:
//   field-p256.ts   Montgomery arithmetic mod p and mod n of NIST P-256
//   field-p384.ts   Montgomery arithmetic mod p and mod n of NIST P-384
//   field-25519.ts  arithmetic mod 2^255-19 in 10 signed limbs of 25.5 bits, and Montgomery mod L
//
// Why generated: wasm has no 64x64->128 multiply, so the limbs are 32-bit with u64 products.
// Unrolling keeps every limb in a local (a register once V8 tiers up) instead of re-loading
// linear memory in nested loops; measured about 2.5x faster than the loop version for P-256.
// Constants are derived here with BigInt from their definitions (SEC 2 section 2.4.2 and 2.5.1,
// RFC 8032 section 5.1) and cross-checked against node:crypto where it can tell.
//
// Run: node filters/lib/crypto/field-gen.mjs   (rewrites the three files next to this script)
import { createECDH } from "node:crypto";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const MASK32 = (1n << 32n) - 1n;

function mod(a, m) {
  const r = a % m;
  return r < 0n ? r + m : r;
}
function powMod(b, e, m) {
  let r = 1n;
  b = mod(b, m);
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return r;
}
function invMod(a, m) {
  // extended Euclid (works for the non-prime modulus 2^32 too)
  let [r0, r1, s0, s1] = [mod(a, m), m, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1n) throw new Error("not invertible");
  return mod(s0, m);
}
function limbs32(x, n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(Number((x >> BigInt(32 * i)) & MASK32));
  return out;
}
function hex32(v) {
  return "0x" + v.toString(16).padStart(8, "0");
}
function staticU32(name, x, n, doc) {
  return `/** ${doc} (little-endian 32-bit limbs) */\nexport const ${name}: StaticArray<u32> = [${limbs32(x, n).map(hex32).join(", ")}];\n`;
}

// ---------------------------------------------------------------------------------------------
// Montgomery arithmetic, R = 2^(32n), CIOS (Koc, Acar, Kaliski 1996, "Analyzing and comparing
// Montgomery multiplication algorithms", section 5) with the final conditional subtraction,
// so every result is fully reduced (< m). Inputs: a < 2^(32n) and b < m gives t < 2m.
// style: "cios"   unrolled CIOS (any odd modulus)
//        "sparse" unrolled, for primes whose base-2^32 signed digits are tiny (P-256, P-384):
//                 product scanning, then a reduction made of additions only, and a squaring
//        "loop"   thin wrapper over montMulLoop in field.ts (off the hot path; saves code size)
function genMontgomery(prefix, m, n, style, options = {}) {
  const mprime = Number(mod(-invMod(m, 1n << 32n), 1n << 32n));
  const ml = limbs32(m, n);
  const L = [];
  const R = 1n << BigInt(32 * n);
  L.push(`// ---- Montgomery arithmetic modulo ${prefix}: m = 0x${m.toString(16)}`);
  L.push(staticU32(`${prefix.toUpperCase()}_MODULUS`, m, n, "the modulus m"));
  L.push(staticU32(`${prefix.toUpperCase()}_R2`, mod(R * R, m), n, "R^2 mod m, converts into Montgomery form"));
  L.push(staticU32(`${prefix.toUpperCase()}_ONE`, mod(R, m), n, "R mod m, the Montgomery form of 1"));
  L.push(staticU32(`${prefix.toUpperCase()}_R3`, mod(R * R * R, m), n, "R^3 mod m: mont(x^-1, R^3) = x^-1 R^2, i.e. (aR)^-1 back to the Montgomery form of a^-1"));

  if (style === "sparse") {
    L.push(...genSparse(prefix, m, n, options.withSquaring ?? true, options.compact ?? false));
  } else if (style === "loop") {
    L.push(`/** r = a * b / R mod m (loop CIOS, see montMulLoop). r may alias a or b. */`);
    L.push(`export function ${prefix}Mul(r: usize, a: usize, b: usize): void {`);
    L.push(`  montMulLoop(r, a, b, changetype<usize>(${prefix.toUpperCase()}_MODULUS), ${mprime}, ${n});`);
    L.push(`}`);
  } else {
  // multiply
  L.push(`/** r = a * b / R mod m. r may alias a or b. */`);
  L.push(`export function ${prefix}Mul(r: usize, a: usize, b: usize): void {`);
  for (let i = 0; i < n; i++) L.push(`  const a${i} = <u64>load<u32>(a, ${4 * i});`);
  for (let i = 0; i < n; i++) L.push(`  const b${i} = <u64>load<u32>(b, ${4 * i});`);
  L.push(`  let ${Array.from({ length: n + 2 }, (_, i) => `t${i}: u64 = 0`).join(", ")};`);
  L.push(`  let c: u64, q: u64;`);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      L.push(`  c = t${j} + a${j} * b${i}${j ? " + c" : ""}; t${j} = c & 0xffffffff; c >>= 32;`);
    }
    L.push(`  c = t${n} + c; t${n} = c & 0xffffffff; t${n + 1} = c >> 32;`);
    L.push(...reduceStep(ml, mprime, n));
  }
  L.push(...finalSubtract(ml, n, "t"));
  L.push(`}`);
  }

  // add / sub
  L.push(`/** r = a + b mod m (a, b < m). */`);
  L.push(`export function ${prefix}Add(r: usize, a: usize, b: usize): void {`);
  L.push(`  let c: u64 = 0;`);
  for (let i = 0; i < n; i++) {
    L.push(`  c += <u64>load<u32>(a, ${4 * i}) + <u64>load<u32>(b, ${4 * i}); const t${i} = c & 0xffffffff; c >>= 32;`);
  }
  L.push(`  const t${n} = c;`);
  L.push(...finalSubtract(ml, n, "t"));
  L.push(`}`);

  L.push(`/** r = a - b mod m (a, b < m). */`);
  L.push(`export function ${prefix}Sub(r: usize, a: usize, b: usize): void {`);
  L.push(`  let s: i64 = 0;`);
  for (let i = 0; i < n; i++) {
    L.push(`  s += <i64>load<u32>(a, ${4 * i}) - <i64>load<u32>(b, ${4 * i}); const d${i} = s & 0xffffffff; s >>= 32;`);
  }
  L.push(`  // On borrow (s == -1) add m back; the carry out of that addition cancels the borrow.`);
  L.push(`  const k: i64 = s; // 0 or -1: all-ones mask when m must be added`);
  L.push(`  let c: i64 = 0;`);
  for (let i = 0; i < n; i++) {
    L.push(`  c += d${i} + (k & ${hex32(ml[i])}); store<u32>(r, <u32>c, ${4 * i}); c >>= 32;`);
  }
  L.push(`}`);

  // Inversion is not generated: field.ts's invModBinary serves every modulus (public values only).
  return L.join("\n") + "\n";
}

// One CIOS reduction step: q = t0 * m' mod 2^32; t = (t + q*m) / 2^32.
function reduceStep(ml, mprime, n) {
  const L = [];
  if (mprime === 1) L.push(`  q = t0;`);
  else L.push(`  q = (t0 * ${mprime}) & 0xffffffff;`);
  // limb 0 always vanishes; only its carry matters.
  if (mprime === 1 && ml[0] === 0xffffffff) {
    // t0 + q*(2^32-1) with q = t0 is exactly q*2^32: carry q.
    L.push(`  c = q;`);
  } else {
    L.push(`  c = (t0 + q * ${hex32(ml[0])}) >> 32;`);
  }
  for (let j = 1; j < n; j++) {
    let term;
    if (ml[j] === 0) term = "";
    else if (ml[j] === 1) term = " + q";
    else term = ` + q * ${hex32(ml[j])}`;
    L.push(`  c = t${j}${term} + c; t${j - 1} = c & 0xffffffff; c >>= 32;`);
  }
  L.push(`  c = t${n} + c; t${n - 1} = c & 0xffffffff; t${n} = t${n + 1} + (c >> 32);`);
  return L;
}

// t (n+1 limbs, t < 2m) -> r = t >= m ? t - m : t, branch-free.
function finalSubtract(ml, n, t) {
  const name = (i) => (typeof t === "string" ? `${t}${i}` : t[i]);
  const L = [];
  L.push(`  let s: i64 = 0;`);
  for (let i = 0; i < n; i++) {
    L.push(`  s += <i64>${name(i)} - ${hex32(ml[i])}; const d${i} = s & 0xffffffff; s >>= 32;`);
  }
  L.push(`  s += <i64>${name(n)};`);
  L.push(`  const keep = s < 0; // borrow: t < m`);
  for (let i = 0; i < n; i++) {
    L.push(`  store<u32>(r, <u32>select<i64>(<i64>${name(i)}, d${i}, keep), ${4 * i});`);
  }
  return L;
}

// Signed base-2^32 digits of m: m = sum coef[k] 2^(32k), each digit in [-2^31, 2^31).
function signedDigits(m, n) {
  const coef = [];
  let x = m;
  for (let k = 0; k <= n; k++) {
    let d = x & MASK32;
    x >>= 32n;
    if (d >= 1n << 31n) {
      d -= 1n << 32n;
      x += 1n;
    }
    coef.push(Number(d));
  }
  if (x !== 0n) throw new Error("signedDigits: leftover");
  return coef;
}

// Montgomery reduction for m = -1 mod 2^32 (so q_i = t_i mod 2^32) with digits in {-2..2}:
// adding q_i * m * 2^(32i) is a few additions of q_i; t_i becomes a pure carry into t_(i+1).
// Limbs are i64 and may run negative or above 2^32 until the final carry chain.
function genSparse(prefix, m, n, withSquaring, compact) {
  const coef = signedDigits(m, n);
  if (coef[0] !== -1 || coef.some((c) => Math.abs(c) > 2)) throw new Error(`${prefix}: not a sparse prime`);
  const ml = limbs32(m, n);
  const L = [];
  const reduce = () => {
    const R = [];
    R.push(`  let q: i64;`);
    for (let i = 0; i < n; i++) {
      R.push(`  q = t${i} & 0xffffffff; t${i + 1} += t${i} >> 32;`);
      for (let k = 1; k <= n; k++) {
        const c = coef[k];
        if (c === 0) continue;
        const term = Math.abs(c) === 1 ? "q" : `(q << 1)`;
        R.push(`  t${i + k} ${c > 0 ? "+=" : "-="} ${term};`);
      }
    }
    // carry chain over the upper half, top carry into t${2 * n}
    R.push(`  let t${2 * n}: i64 = 0;`);
    for (let k = n; k < 2 * n; k++) {
      R.push(`  t${k + 1} += t${k} >> 32; t${k} &= 0xffffffff;`);
    }
    const names = Array.from({ length: n + 1 }, (_, i) => `t${n + i}`);
    R.push(...finalSubtract(ml, n, names));
    return R;
  };
  const loads = (v, ptr) => Array.from({ length: n }, (_, i) => `  const ${v}${i} = <i64>load<u32>(${ptr}, ${4 * i});`);
  if (compact) {
    // Code size over speed: the same algorithm as the unrolled version below, as loops in
    // field.ts driven by the signed digits of m (about 6 KB less for P-384).
    L.push(`/** Signed base-2^32 digits of m (m = sum COEF[k] 2^(32k)), for montMulSparseLoop. */`);
    L.push(`const ${prefix.toUpperCase()}_COEF: StaticArray<i32> = [${coef.join(", ")}];`);
    L.push(`/** r = a * b / R mod m (loop version, see montMulSparseLoop). r may alias a or b. */`);
    L.push(`export function ${prefix}Mul(r: usize, a: usize, b: usize): void {`);
    L.push(`  montMulSparseLoop(r, a, b, changetype<usize>(${prefix.toUpperCase()}_MODULUS), changetype<usize>(${prefix.toUpperCase()}_COEF), ${n});`);
    L.push(`}`);
    L.push(`/** r = a^2 / R mod m. */`);
    L.push(`export function ${prefix}Sqr(r: usize, a: usize): void {`);
    L.push(`  montMulSparseLoop(r, a, a, changetype<usize>(${prefix.toUpperCase()}_MODULUS), changetype<usize>(${prefix.toUpperCase()}_COEF), ${n});`);
    L.push(`}`);
  } else {
  // multiplication: operand scanning, limbs kept normalised (products are u64: logical shifts)
  L.push(`/** r = a * b / R mod m (product scanning + additions-only reduction). r may alias a or b. */`);
  L.push(`export function ${prefix}Mul(r: usize, a: usize, b: usize): void {`);
  L.push(...loads("a", "a"), ...loads("b", "b"));
  L.push(`  let ${Array.from({ length: 2 * n }, (_, i) => `t${i}: i64 = 0`).join(", ")};`);
  L.push(`  let c: i64;`);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const parts = [];
      if (i > 0) parts.push(`t${i + j}`);
      parts.push(`a${j} * b${i}`);
      if (j > 0) parts.push("c");
      L.push(`  c = ${parts.join(" + ")}; t${i + j} = c & 0xffffffff; c >>>= 32;`);
    }
    L.push(`  t${i + n} = c;`);
  }
  L.push(...reduce());
  L.push(`}`);
  if (!withSquaring) {
    // Code size over speed: squaring is the multiplication (3.2 KB less for P-384, ~10% slower).
    L.push(`/** r = a^2 / R mod m (the multiplication; no dedicated squaring for this modulus). */`);
    L.push(`export function ${prefix}Sqr(r: usize, a: usize): void {`);
    L.push(`  ${prefix}Mul(r, a, a);`);
    L.push(`}`);
  } else {
  // squaring: cross products once, doubled, plus the diagonal
  L.push(`/** r = a^2 / R mod m (dedicated squaring: n(n-1)/2 + n products instead of n^2). */`);
  L.push(`export function ${prefix}Sqr(r: usize, a: usize): void {`);
  L.push(...loads("a", "a"));
  L.push(`  let ${Array.from({ length: 2 * n }, (_, i) => `t${i}: i64 = 0`).join(", ")};`);
  L.push(`  let c: i64;`);
  for (let i = 0; i < n - 1; i++) {
    for (let j = i + 1; j < n; j++) {
      const parts = [];
      if (i > 0 && j < n - 1) parts.push(`t${i + j}`);
      else if (i > 0) parts.push(`t${i + j}`);
      parts.push(`a${i} * a${j}`);
      if (j > i + 1) parts.push("c");
      L.push(`  c = ${parts.join(" + ")}; t${i + j} = c & 0xffffffff; c >>>= 32;`);
    }
    L.push(`  t${i + n} = c;`);
  }
  // double: t = 2t (top bit of each limb moves up)
  for (let k = 2 * n - 1; k >= 1; k--) L.push(`  t${k} = ((t${k} << 1) | (t${k - 1} >>> 31)) & 0xffffffff;`);
  L.push(`  t0 = (t0 << 1) & 0xffffffff;`);
  // add the squares a_i^2 at limb 2i
  L.push(`  c = 0;`);
  for (let i = 0; i < n; i++) {
    L.push(`  c = t${2 * i} + a${i} * a${i} + c; t${2 * i} = c & 0xffffffff; c >>>= 32;`);
    L.push(`  c = t${2 * i + 1} + c; t${2 * i + 1} = c & 0xffffffff; c >>>= 32;`);
  }
  L.push(...reduce());
  L.push(`}`);
  }
  }
  // multiplication by a small constant, for the 2x/3x/4x/8x of the point formulas: one pass
  // instead of a chain of modular additions. t = a*k has a top limb h < 16; subtracting h*m
  // (again only additions, by the signed digits of m) leaves a value in [0, 2m).
  L.push(`/** r = k * a mod m for 1 <= k <= 15 (a < m; works in Montgomery form too). */`);
  L.push(`export function ${prefix}MulSmall(r: usize, a: usize, k: u32): void {`);
  L.push(`  const kk = <i64>k;`);
  L.push(`  let c: i64 = 0;`);
  for (let i = 0; i < n; i++) {
    L.push(`  c += <i64>load<u32>(a, ${4 * i}) * kk; let t${i} = c & 0xffffffff; c >>>= 32;`);
  }
  L.push(`  const h = c;`);
  L.push(`  let t${n}: i64 = h;`);
  for (let k = 0; k <= n; k++) {
    const c = coef[k];
    if (c === 0) continue;
    const term = Math.abs(c) === 1 ? "h" : "(h << 1)";
    L.push(`  t${k} ${c > 0 ? "-=" : "+="} ${term};`);
  }
  for (let k = 0; k < n; k++) L.push(`  t${k + 1} += t${k} >> 32; t${k} &= 0xffffffff;`);
  L.push(...finalSubtract(ml, n, "t"));
  L.push(`}`);
  return L;
}

// ---------------------------------------------------------------------------------------------
// GF(2^255-19) in 10 signed limbs, limb i at bit position ceil(25.5 i) (the radix of the
// ed25519 "ref10" reference code described in Bernstein et al., "High-speed high-security
// signatures", section 5). Products accumulate in i64; 2^255 = 19 folds the upper half.
const P25519 = (1n << 255n) - 19n;
const POS = Array.from({ length: 10 }, (_, i) => Math.ceil(25.5 * i));
const WIDTH = Array.from({ length: 10 }, (_, i) => (i === 9 ? 255 : POS[i + 1]) - POS[i]);

function limbs25519(x) {
  x = mod(x, P25519);
  return POS.map((p, i) => Number((x >> BigInt(p)) & ((1n << BigInt(WIDTH[i])) - 1n)));
}
function staticFe(name, x, doc) {
  return `/** ${doc} */\nexport const ${name}: StaticArray<i32> = [${limbs25519(x).join(", ")}];\n`;
}

// Coefficient of f_i * g_j in output limb k (with the 19 fold when i+j >= 10).
function feTerm(i, j) {
  const k = (i + j) % 10;
  const wrap = i + j >= 10;
  const shift = POS[i] + POS[j] - POS[k] - (wrap ? 255 : 0);
  return { k, factor: (1 << shift) * (wrap ? 19 : 1) };
}

function feCarryLines(h) {
  // Sequential carry with arithmetic shifts, then the 2^255 = 19 fold and one more step.
  const L = [];
  for (let k = 0; k < 10; k++) {
    const next = k === 9 ? `${h}0 += c * 19` : `${h}${k + 1} += c`;
    L.push(`  c = ${h}${k} >> ${WIDTH[k]}; ${h}${k} -= c << ${WIDTH[k]}; ${next};`);
  }
  L.push(`  c = ${h}0 >> ${WIDTH[0]}; ${h}0 -= c << ${WIDTH[0]}; ${h}1 += c;`);
  return L;
}

function genFe() {
  const L = [];
  L.push(`// ---- GF(2^255-19), limbs at bits [${POS.join(", ")}]`);
  L.push(`/** r = a * b. Inputs: limbs of magnitude < 2^27 (the result of feMul/feSqr, or one feAdd/feSub of them). */`);
  L.push(`export function feMul(r: usize, a: usize, b: usize): void {`);
  for (let i = 0; i < 10; i++) L.push(`  const f${i} = <i64>load<i32>(a, ${4 * i});`);
  for (let i = 0; i < 10; i++) L.push(`  const g${i} = <i64>load<i32>(b, ${4 * i});`);
  // premultiplied g by factors
  const needed = new Set();
  const acc = Array.from({ length: 10 }, () => []);
  for (let i = 0; i < 10; i++)
    for (let j = 0; j < 10; j++) {
      const { k, factor } = feTerm(i, j);
      if (factor !== 1) needed.add(`${j}_${factor}`);
      acc[k].push(factor === 1 ? `f${i} * g${j}` : `f${i} * g${j}_${factor}`);
    }
  for (const key of [...needed].sort()) {
    const [j, f] = key.split("_");
    L.push(`  const g${j}_${f} = g${j} * ${f};`);
  }
  for (let k = 0; k < 10; k++) L.push(`  let h${k} = ${acc[k].join(" + ")};`);
  L.push(`  let c: i64;`);
  L.push(...feCarryLines("h"));
  for (let k = 0; k < 10; k++) L.push(`  store<i32>(r, <i32>h${k}, ${4 * k});`);
  L.push(`}`);

  L.push(`/** r = a^2 (same input bounds as feMul). */`);
  L.push(`export function feSqr(r: usize, a: usize): void {`);
  for (let i = 0; i < 10; i++) L.push(`  const f${i} = <i64>load<i32>(a, ${4 * i});`);
  const sq = Array.from({ length: 10 }, () => new Map());
  for (let i = 0; i < 10; i++)
    for (let j = i; j < 10; j++) {
      const { k, factor } = feTerm(i, j);
      const f = i === j ? factor : 2 * factor;
      const key = `${i},${j}`;
      sq[k].set(key, f);
    }
  const pre = new Set();
  const sqTerms = sq.map((m) =>
    [...m.entries()].map(([key, f]) => {
      const [i, j] = key.split(",");
      if (f === 1) return `f${i} * f${j}`;
      pre.add(`${j}_${f}`);
      return `f${i} * f${j}_${f}`;
    }),
  );
  for (const key of [...pre].sort()) {
    const [j, f] = key.split("_");
    L.push(`  const f${j}_${f} = f${j} * ${f};`);
  }
  for (let k = 0; k < 10; k++) L.push(`  let h${k} = ${sqTerms[k].join(" + ")};`);
  L.push(`  let c: i64;`);
  L.push(...feCarryLines("h"));
  for (let k = 0; k < 10; k++) L.push(`  store<i32>(r, <i32>h${k}, ${4 * k});`);
  L.push(`}`);

  L.push(`/** r = a + b, limb-wise without carry. */`);
  L.push(`export function feAdd(r: usize, a: usize, b: usize): void {`);
  for (let k = 0; k < 10; k++) L.push(`  store<i32>(r, load<i32>(a, ${4 * k}) + load<i32>(b, ${4 * k}), ${4 * k});`);
  L.push(`}`);
  L.push(`/** r = a - b, limb-wise without carry (limbs may go negative; feMul accepts that). */`);
  L.push(`export function feSub(r: usize, a: usize, b: usize): void {`);
  for (let k = 0; k < 10; k++) L.push(`  store<i32>(r, load<i32>(a, ${4 * k}) - load<i32>(b, ${4 * k}), ${4 * k});`);
  L.push(`}`);
  L.push(`/** Brings every limb back into its width (used before encoding and after chains of feAdd). */`);
  L.push(`export function feCarry(r: usize, a: usize): void {`);
  for (let k = 0; k < 10; k++) L.push(`  let h${k} = <i64>load<i32>(a, ${4 * k});`);
  L.push(`  let c: i64;`);
  L.push(...feCarryLines("h"));
  for (let k = 0; k < 10; k++) L.push(`  store<i32>(r, <i32>h${k}, ${4 * k});`);
  L.push(`}`);
  L.push(`export const FE_LIMB_WIDTH: StaticArray<u8> = [${WIDTH.join(", ")}];`);
  L.push(`export const FE_LIMB_POS: StaticArray<u16> = [${POS.join(", ")}];`);
  L.push(staticU32(`FE_P_U32`, P25519, 8, "p = 2^255 - 19"));

  // curve constants, RFC 8032 section 5.1
  const d = mod(-121665n * invMod(121666n, P25519), P25519);
  const sqrtM1 = powMod(2n, (P25519 - 1n) / 4n, P25519);
  const By = mod(4n * invMod(5n, P25519), P25519);
  // x from y: x^2 = (y^2 - 1) / (d y^2 + 1); pick the even root (RFC 8032 5.1: B has x "positive")
  const u = mod(By * By - 1n, P25519);
  const v = mod(d * By * By + 1n, P25519);
  const x2 = mod(u * invMod(v, P25519), P25519);
  let Bx = powMod(x2, (P25519 + 3n) / 8n, P25519);
  if (mod(Bx * Bx - x2, P25519) !== 0n) Bx = mod(Bx * sqrtM1, P25519);
  if (mod(Bx * Bx - x2, P25519) !== 0n) throw new Error("no square root for B.x");
  if (Bx & 1n) Bx = P25519 - Bx;
  L.push(staticFe("FE_D", d, "d = -121665/121666 (RFC 8032 section 5.1)"));
  L.push(staticFe("FE_D2", mod(2n * d, P25519), "2d"));
  L.push(staticFe("FE_SQRT_M1", sqrtM1, "sqrt(-1) = 2^((p-1)/4)"));
  L.push(staticFe("FE_BX", Bx, "base point B, x (even)"));
  L.push(staticFe("FE_BY", By, "base point B, y = 4/5"));
  L.push(staticFe("FE_ONE", 1n, "1"));
  // the order of B
  const Lord = (1n << 252n) + 27742317777372353535851937790883648493n;
  L.push(genMontgomery("scl", Lord, 8, "loop"));
  return L.join("\n") + "\n";
}

// ---------------------------------------------------------------------------------------------
function nistCurve(name, opensslName, n32, p, n, gxHex, gyHex) {
  const bytes = n32 * 4;
  // Cross-check G and n against OpenSSL: private key 1 gives G and n-1 gives -G.
  const ecdh = createECDH(opensslName);
  ecdh.setPrivateKey(Buffer.from((1n).toString(16).padStart(bytes * 2, "0"), "hex"));
  const g = ecdh.getPublicKey();
  const gx = BigInt("0x" + g.subarray(1, 1 + bytes).toString("hex"));
  const gy = BigInt("0x" + g.subarray(1 + bytes).toString("hex"));
  if (gx !== BigInt(gxHex) || gy !== BigInt(gyHex)) throw new Error(`${name}: G mismatch with OpenSSL`);
  ecdh.setPrivateKey(Buffer.from((n - 1n).toString(16).padStart(bytes * 2, "0"), "hex"));
  const mg = ecdh.getPublicKey();
  if (BigInt("0x" + mg.subarray(1 + bytes).toString("hex")) !== p - gy) throw new Error(`${name}: n mismatch`);
  // b from the curve equation y^2 = x^3 - 3x + b at G.
  const b = mod(gy * gy - gx * gx * gx + 3n * gx, p);
  const R = 1n << BigInt(32 * n32);
  const L = [];
  L.push(`// ${name}: y^2 = x^3 - 3x + b over GF(p), order n (SEC 2 v2 section 2.4.2 / 2.5.1)`);
  // ES256 is the latency target: unrolled, with a dedicated squaring. ES384 is only reported and
  // OpenSSL's P-384 is slow, so it trades speed for about 6 KB of module size (loop version).
  L.push(genMontgomery(`${name}p`, p, n32, "sparse", { withSquaring: name === "p256", compact: name === "p384" }));
  // mod n: three products per verify (s^-1 comes from the binary inversion in field.ts), so the
  // compact loop version is enough (about 10 KB less code than unrolled).
  L.push(genMontgomery(`${name}n`, n, n32, "loop"));
  L.push(staticU32(`${name.toUpperCase()}_B_MONT`, mod(b * R, p), n32, "b in Montgomery form"));
  L.push(staticU32(`${name.toUpperCase()}_GX_MONT`, mod(gx * R, p), n32, "G.x in Montgomery form"));
  L.push(staticU32(`${name.toUpperCase()}_GY_MONT`, mod(gy * R, p), n32, "G.y in Montgomery form"));
  L.push(staticU32(`${name.toUpperCase()}_P_MINUS_N`, p - n, n32, "p - n (x(R) mod n == r also holds when x = r + n < p)"));
  return L.join("\n");
}

const header = (what) =>
  `// GENERATED by field-gen.mjs (node filters/lib/crypto/field-gen.mjs) - do not edit by hand.\n// ${what}\n// Field elements are little-endian limbs in linear memory; functions take raw pointers so the\n// callers can keep all temporaries in preallocated scratch (no allocation per operation).\nimport { montMulLoop, montMulSparseLoop } from "./field";\n\n`;

const p256 = (1n << 256n) - (1n << 224n) + (1n << 192n) + (1n << 96n) - 1n;
const n256 = BigInt("0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
const p384 = (1n << 384n) - (1n << 128n) - (1n << 96n) + (1n << 32n) - 1n;
const n384 = BigInt(
  "0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973",
);
writeFileSync(
  join(here, "field-p256.ts"),
  header("NIST P-256 field and scalar arithmetic (Montgomery, 8 x 32-bit limbs).") +
    nistCurve(
      "p256",
      "prime256v1",
      8,
      p256,
      n256,
      "0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296",
      "0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5",
    ),
);
writeFileSync(
  join(here, "field-p384.ts"),
  header("NIST P-384 field and scalar arithmetic (Montgomery, 12 x 32-bit limbs).") +
    nistCurve(
      "p384",
      "secp384r1",
      12,
      p384,
      n384,
      "0xaa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7",
      "0x3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f",
    ),
);
writeFileSync(
  join(here, "field-25519.ts"),
  header("GF(2^255-19) for Ed25519, and Montgomery arithmetic modulo the group order L.") + genFe(),
);
