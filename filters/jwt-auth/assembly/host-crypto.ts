/**
 * Client of the host's `verify_signature` foreign function (Envoy ≥ 1.31,
 * source/extensions/common/wasm/foreign.cc). Envoy runs EVP_DigestVerifyInit with the named
 * digest over a DER/PEM public key, so it can verify RSASSA-PKCS1-v1_5 (RS*) and ECDSA with a
 * DER signature (ES*) — not PSS (no padding option is set), not Ed25519 (BoringSSL requires a
 * NULL digest for it) and not HMAC (symmetric). Those always use the wasm path.
 */
import * as imports from "@solo-io/proxy-runtime/assembly/imports";
import { free } from "@solo-io/proxy-runtime/assembly/malloc";
import { encodeVerifySignatureArguments, decodeVerifySignatureResult } from "./protobuf";

export enum HostVerdict {
  Valid,
  Invalid,
  /** The host has no verify_signature (NotFound / Unimplemented): use the wasm path. */
  Unavailable,
}

// proxy-wasm WasmResult codes (spec abi-versions/v0.2.1).
const RESULT_OK: u32 = 0;
const RESULT_NOT_FOUND: u32 = 1;
const RESULT_UNIMPLEMENTED: u32 = 12;

/** Where the host writes the result pointer and size (two u32 slots). */
const resultSlots = new StaticArray<u32>(2);
const FUNCTION_NAME = String.UTF8.encode("verify_signature");

export let hostCryptoError: string = "";

export function hostVerify(hashFunction: string, spki: Uint8Array, signature: Uint8Array, text: Uint8Array): HostVerdict {
  const args = encodeVerifySignatureArguments(hashFunction, spki, signature, text);
  const slots = changetype<usize>(resultSlots);
  store<u32>(slots, 0);
  store<u32>(slots, 0, 4);
  const code = <u32>imports.proxy_call_foreign_function(changetype<usize>(FUNCTION_NAME), FUNCTION_NAME.byteLength,
    changetype<usize>(args), args.byteLength, slots, slots + 4);
  const ptr = <usize>load<u32>(slots);
  const size = load<u32>(slots, 4);
  let result = new ArrayBuffer(0);
  if (ptr != 0) {
    // The host allocated the result with malloc (pinned ArrayBuffer): copy it and unpin it.
    result = changetype<ArrayBuffer>(ptr).slice(0, <i32>size);
    free(ptr);
  }
  if (code == RESULT_NOT_FOUND || code == RESULT_UNIMPLEMENTED) {
    hostCryptoError = "host has no verify_signature foreign function (result " + code.toString() + ")";
    return HostVerdict.Unavailable;
  }
  if (code != RESULT_OK) {
    // BadArgument: the host could not import the key or parse the arguments. Fail closed.
    hostCryptoError = "verify_signature answered result " + code.toString();
    return HostVerdict.Invalid;
  }
  const decoded = decodeVerifySignatureResult(result);
  if (!decoded.decoded) { hostCryptoError = "verify_signature result is not a VerifySignatureResult"; return HostVerdict.Invalid; }
  hostCryptoError = decoded.error;
  return decoded.result ? HostVerdict.Valid : HostVerdict.Invalid;
}
