/**
 * CUSTOM action: asks an external authorizer over proxy_dispatch_http_call, as Envoy's HTTP
 * ext_authz client does (envoy source/extensions/filters/common/ext_authz/ext_authz_http_impl.cc,
 * Istio MeshConfig `envoyExtAuthzHttp`): the check request carries the original method,
 * `pathPrefix` + path, the authority, the configured request headers and no body.
 * A 2xx answer allows (copying `headersToUpstreamOnAllow` onto the request); any other status
 * denies with that status, the authorizer's body and `headersToDownstreamOnDeny`. A timeout or
 * an unreachable authorizer denies with `statusOnError` (403 by default): fail closed.
 */
import { asciiLower } from "../../lib/ascii";
import { HeaderPair, Headers } from "@solo-io/proxy-runtime/assembly";
import { ExtAuthzHttpProvider } from "./config";
import { RequestFacts } from "./request";

function utf8(text: string): ArrayBuffer { return String.UTF8.encode(text); }

@external("env", "proxy_http_call")
declare function proxy_http_call(cluster_ptr: usize, cluster_size: usize, headers_ptr: usize, headers_size: usize,
  body_ptr: usize, body_size: usize, trailers_ptr: usize, trailers_size: usize, timeout_ms: u32, token_ptr: usize): u32;

/**
 * proxy-wasm header-map serialization (proxy-wasm spec, "Serialization of header maps"):
 * u32 count, then (u32 key length, u32 value length) per pair, then `key\0value\0` per pair.
 */
function serializeHeaders(headers: Headers): ArrayBuffer {
  let size = 4;
  for (let i = 0; i < headers.length; i++) size += 8 + headers[i].key.byteLength + headers[i].value.byteLength + 2;
  const out = new ArrayBuffer(size);
  const base = changetype<usize>(out);
  store<u32>(base, headers.length);
  let sizes = base + 4;
  let data = base + 4 + 8 * headers.length;
  for (let i = 0; i < headers.length; i++) {
    const key = headers[i].key;
    const value = headers[i].value;
    store<u32>(sizes, key.byteLength);
    store<u32>(sizes + 4, value.byteLength);
    sizes += 8;
    memory.copy(data, changetype<usize>(key), key.byteLength);
    data += key.byteLength;
    store<u8>(data, 0);
    data += 1;
    memory.copy(data, changetype<usize>(value), value.byteLength);
    data += value.byteLength;
    store<u8>(data, 0);
    data += 1;
  }
  return out;
}

const tokenCell = new StaticArray<u32>(1);

/**
 * Dispatches the check request; returns the call token, or -1 when the host refused the call
 * (unknown cluster, bad headers). The runtime's RootContext.httpCall is not used: its callback
 * type does not compile on AssemblyScript 0.28, and the filter needs the token anyway.
 */
export function dispatchCheck(cluster: string, headers: Headers, timeoutMs: u32): i64 {
  const name = String.UTF8.encode(cluster);
  const serialized = serializeHeaders(headers);
  const empty = serializeHeaders(new Array<HeaderPair>());
  const result = proxy_http_call(changetype<usize>(name), name.byteLength, changetype<usize>(serialized), serialized.byteLength,
    0, 0, changetype<usize>(empty), empty.byteLength, timeoutMs, changetype<usize>(tokenCell));
  return result == 0 ? <i64>tokenCell[0] : -1;
}

/** Header patterns as Istio's provider lists them: exact, `prefix*`, `*suffix`, case-insensitive. */
export function headerSelected(patterns: Array<string>, name: string): bool {
  for (let i = 0; i < patterns.length; i++) {
    const p = patterns[i];
    if (p == name) return true;
    if (p == "*") return true;
    if (p.endsWith("*") && name.startsWith(p.substring(0, p.length - 1))) return true;
    if (p.startsWith("*") && name.endsWith(p.substring(1))) return true;
  }
  return false;
}

export function buildCheckHeaders(provider: ExtAuthzHttpProvider, facts: RequestFacts, forwardPath: string): Headers {
  const headers = new Array<HeaderPair>();
  headers.push(new HeaderPair(utf8(":method"), utf8(facts.method)));
  headers.push(new HeaderPair(utf8(":path"), utf8(provider.pathPrefix + forwardPath)));
  headers.push(new HeaderPair(utf8(":authority"), utf8(facts.authority)));
  headers.push(new HeaderPair(utf8("content-length"), utf8("0")));
  for (let i = 0; i < facts.names.length; i++) {
    const name = facts.names[i];
    if (name.startsWith(":") || name == "content-length") continue;
    if (headerSelected(provider.includeRequestHeadersInCheck, name)) {
      headers.push(new HeaderPair(utf8(name), utf8(facts.values[i])));
    }
  }
  const extra = provider.includeAdditionalHeadersInCheck;
  for (let i = 0; i + 1 < extra.length; i += 2) headers.push(new HeaderPair(utf8(extra[i]), utf8(extra[i + 1])));
  return headers;
}

/** `:status` of an http call response, or 0 when absent or malformed. */
export function responseStatus(headers: Headers): u32 {
  for (let i = 0; i < headers.length; i++) {
    if (String.UTF8.decode(headers[i].key) != ":status") continue;
    const text = String.UTF8.decode(headers[i].value);
    if (text.length != 3) return 0;
    let v: u32 = 0;
    for (let j = 0; j < 3; j++) {
      const c = text.charCodeAt(j);
      if (c < 0x30 || c > 0x39) return 0;
      v = v * 10 + <u32>(c - 0x30);
    }
    return v;
  }
  return 0;
}

/** The response headers whose names `patterns` selects (never pseudo-headers). */
export function selectHeaders(headers: Headers, patterns: Array<string>): Headers {
  const out = new Array<HeaderPair>();
  if (patterns.length == 0) return out;
  for (let i = 0; i < headers.length; i++) {
    const name = asciiLower(String.UTF8.decode(headers[i].key));
    if (name.startsWith(":")) continue;
    if (headerSelected(patterns, name)) out.push(headers[i]);
  }
  return out;
}
