/**
 * proxy_call_foreign_function with Envoy's registry (envoy:foreign.cc): verify_signature,
 * compress/uncompress, set_envoy_filter_state, clear_route_cache, declare_property.
 * An unknown name answers NotFound (cpp-host src/exports.cc call_foreign_function).
 * Results are written with copyToPointerSize.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';
import type { PluginVm } from '../plugin-vm.js';
import type { ForeignCallContext, ForeignFunction } from '../services.js';
import type { ImportModule } from '../vm.js';
import { WasmResult } from './constants.js';
import { readString } from './memory.js';
import { decode, encode, DeclarePropertyArgumentsType, SetEnvoyFilterStateArgumentsType, VerifySignatureArgumentsType, VerifySignatureResultType } from './proto.js';
import { FILTER_STATE_PREFIX } from './properties.js';

const EMPTY = new Uint8Array(0);

/** Hash names Envoy's Common::Crypto::Utility::getHashFunction accepts. */
const HASHES = new Set(['sha1', 'sha224', 'sha256', 'sha384', 'sha512']);

function asBytes(value: unknown): Uint8Array {
  return value instanceof Uint8Array ? value : EMPTY;
}

function verifyResult(result: boolean, error: string): readonly [number, Uint8Array] {
  return [WasmResult.Ok, encode(VerifySignatureResultType, { result, error })];
}

/**
 * verify_signature (envoy:foreign.cc, Envoy ≥ 1.31): VerifySignatureArguments{hash_function,
 * public_key (DER SubjectPublicKeyInfo) | public_key_pem, signature, text} → Ok with a serialized
 * VerifySignatureResult{result, error}. Unparseable arguments, or both / neither key given →
 * BadArgument. RSA (PKCS#1 v1.5), ECDSA (DER signature) and Ed25519 keys are supported.
 */
export const verifySignature: ForeignFunction = (args) => {
  const parsed = decode(VerifySignatureArgumentsType, args);
  if (parsed === undefined) return [WasmResult.BadArgument, EMPTY];
  const der = asBytes(parsed['public_key']);
  const pem = String(parsed['public_key_pem'] ?? '');
  if ((der.length > 0) === (pem.length > 0)) return [WasmResult.BadArgument, EMPTY];
  let key: KeyObject;
  try {
    key = der.length > 0 ? createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' }) : createPublicKey(pem);
  } catch {
    return [WasmResult.BadArgument, EMPTY];
  }
  const hash = String(parsed['hash_function'] ?? '');
  if (!HASHES.has(hash)) return verifyResult(false, `${hash} is not supported.`);
  const text = asBytes(parsed['text']);
  const signature = asBytes(parsed['signature']);
  let ok = false;
  try {
    // Ed25519/Ed448 sign the message itself (no pre-hash), as OpenSSL EVP_DigestVerify with a null md.
    const oneShot = key.asymmetricKeyType === 'ed25519' || key.asymmetricKeyType === 'ed448';
    ok = verify(oneShot ? null : hash, text, key, signature);
  } catch {
    ok = false;
  }
  return ok ? verifyResult(true, '') : verifyResult(false, 'Failed to verify digest. Error code: 0');
};

/** Filter-state keys with an object factory in Envoy (string accessors); others → NotFound as Envoy. */
export const ENVOY_FILTER_STATE_FACTORIES: ReadonlySet<string> = new Set([
  'envoy.tcp_proxy.cluster',
  'envoy.network.upstream_server_name',
  'envoy.network.application_protocols',
  'envoy.network.upstream_subject_alt_names',
  'envoy.upstream.dynamic_host',
  'envoy.upstream.dynamic_port',
  'envoy.network.transport_socket.original_dst_address',
  'envoy.filters.listener.original_dst.local_ip',
  'envoy.filters.listener.original_dst.remote_ip',
  'envoy.string',
]);

export function envoyForeignFunctions(): Map<string, ForeignFunction> {
  return new Map<string, ForeignFunction>([
    ['verify_signature', verifySignature],
    ['compress', (args) => [WasmResult.Ok, new Uint8Array(deflateSync(args))]],
    ['uncompress', (args) => {
      try {
        return [WasmResult.Ok, new Uint8Array(inflateSync(args))];
      } catch {
        return [WasmResult.SerializationFailure, EMPTY];
      }
    }],
    ['clear_route_cache', (_args, ctx) => {
      ctx.clearRouteCache?.();
      return [WasmResult.Ok, EMPTY];
    }],
    ['set_envoy_filter_state', (args, ctx) => {
      const parsed = decode(SetEnvoyFilterStateArgumentsType, args);
      if (parsed === undefined) return [WasmResult.BadArgument, EMPTY];
      const path = String(parsed['path'] ?? '');
      if (!ENVOY_FILTER_STATE_FACTORIES.has(path)) return [WasmResult.NotFound, EMPTY];
      if (ctx.setFilterState === undefined) return [WasmResult.NotFound, EMPTY];
      return [ctx.setFilterState(path, new TextEncoder().encode(String(parsed['value'] ?? '')), false), EMPTY];
    }],
    ['declare_property', (args, ctx) => {
      const parsed = decode(DeclarePropertyArgumentsType, args);
      if (parsed === undefined) return [WasmResult.BadArgument, EMPTY];
      return [ctx.declareProperty(String(parsed['name'] ?? ''), parsed['readonly'] === true), EMPTY];
    }],
  ]);
}

export function foreignImports(h: PluginVm): ImportModule {
  return {
    proxy_call_foreign_function(namePtr: number, nameSize: number, argsPtr: number, argsSize: number, resultsPtr: number, resultsSizePtr: number): number {
      const name = readString(h.vm, namePtr, nameSize);
      const args = h.vm.copyBytes(argsPtr, argsSize);
      if (name === undefined || args === undefined) return WasmResult.InvalidMemoryAccess;
      const fn = h.services.foreignFunctions.get(name);
      if (fn === undefined) return WasmResult.NotFound;
      const stream = h.context()?.stream;
      const ctx: ForeignCallContext = {
        ...(stream === undefined ? {} : {
          clearRouteCache: () => stream.clearRouteCache(),
          setFilterState: (key: string, value: Uint8Array, readOnly: boolean) => {
            stream.filterState.set(key, { value, readOnly });
            return WasmResult.Ok;
          },
        }),
        declareProperty: (property: string, readOnly: boolean) => {
          if (h.declaredProperties.has(property)) return WasmResult.BadArgument;
          h.declaredProperties.add(property);
          if (readOnly) h.declaredReadOnly.add(property);
          return WasmResult.Ok;
        },
      };
      const [result, output] = fn(args, ctx);
      if (resultsPtr !== 0 && resultsSizePtr !== 0 && !h.vm.copyToPointerSize(output, resultsPtr, resultsSizePtr)) return WasmResult.InvalidMemoryAccess;
      return result;
    },
  };
}

