/** BigInt reference arithmetic the RSA tests check the wasm kernels against (plain definitions, no tricks). */

/** Big-endian bytes → integer (empty → 0). */
export const toBigInt = (bytes: Uint8Array): bigint => (bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString("hex")}`));

/** Integer → big-endian bytes of exactly `length` bytes; throws when it does not fit. */
export function toBytes(value: bigint, length: number): Buffer {
  const hex = value.toString(16).padStart(length * 2, "0");
  if (hex.length > length * 2) throw new Error(`${value} does not fit in ${length} bytes`);
  return Buffer.from(hex, "hex");
}

/** base^exponent mod modulus by square-and-multiply. */
export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
  }
  return result;
}
