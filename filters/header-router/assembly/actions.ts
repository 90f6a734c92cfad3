/**
 * What a decision does to the request and response headers: header edits, uri/authority
 * rewrites, the redirect Location and the route-cache clear, with names and values encoded once
 * per configuration (compile.ts) and handed to the host as bytes.
 */
import { proxy_add_header_map_value, proxy_call_foreign_function, proxy_remove_header_map_value, proxy_replace_header_map_value } from "@solo-io/proxy-runtime/assembly/imports";
import { HeaderOps, MatchKind, MatchSpec, Rule } from "./model";
import { RequestFacts } from "./request";
import { replacedUtf8Ptr } from "../../lib/regex/index";

export const REQUEST_HEADERS: u32 = 0;
export const RESPONSE_HEADERS: u32 = 2;

const NAME_PATH = String.UTF8.encode(":path");
const NAME_AUTHORITY = String.UTF8.encode(":authority");

/** Replaces header `name` of `map` with `len` bytes at `ptr`. */
export function replaceHeader(map: u32, name: ArrayBuffer, ptr: usize, len: i32): void {
  proxy_replace_header_map_value(map, changetype<usize>(name), name.byteLength, ptr, <usize>len);
}

export function replaceHeaderText(map: u32, name: ArrayBuffer, value: string): void {
  const bytes = String.UTF8.encode(value);
  replaceHeader(map, name, changetype<usize>(bytes), bytes.byteLength);
}

export function addHeader(map: u32, name: ArrayBuffer, value: ArrayBuffer): void {
  proxy_add_header_map_value(map, changetype<usize>(name), name.byteLength, changetype<usize>(value), value.byteLength);
}

export function removeHeader(map: u32, name: ArrayBuffer): void {
  proxy_remove_header_map_value(map, changetype<usize>(name), name.byteLength);
}

/** Envoy's order (HeaderParser): removals first, then set (overwrite), then add (append). */
export function applyOps(ops: HeaderOps, map: u32): void {
  if (ops.isEmpty) return;
  const removes = ops.removeBytes;
  for (let i = 0; i < removes.length; i++) removeHeader(map, removes[i]);
  const sets = ops.setBytes;
  for (let i = 0; i < sets.length; i += 2) replaceHeader(map, sets[i], changetype<usize>(sets[i + 1]), sets[i + 1].byteLength);
  const adds = ops.addBytes;
  for (let i = 0; i < adds.length; i += 2) addHeader(map, adds[i], adds[i + 1]);
}

/** A reused buffer for building a rewritten :path. */
let pathBuffer = new ArrayBuffer(256);

/** Sets :path to the `headLength` bytes at `head` followed by the `tailLength` bytes at `tail`. */
function writePath(head: usize, headLength: i32, tail: usize, tailLength: i32): void {
  if (pathBuffer.byteLength < headLength + tailLength) pathBuffer = new ArrayBuffer(max(headLength + tailLength, pathBuffer.byteLength << 1));
  const out = changetype<usize>(pathBuffer);
  memory.copy(out, head, <usize>headLength);
  memory.copy(out + <usize>headLength, tail, <usize>tailLength);
  replaceHeader(REQUEST_HEADERS, NAME_PATH, out, headLength + tailLength);
}

/** Istio HTTPRewrite: a prefix-matched uri has its prefix replaced, otherwise the whole path; the query stays. */
export function applyRewrite(rule: Rule, matched: MatchSpec | null, facts: RequestFacts): void {
  const rw = rule.rewrite!;
  if (rw.uri.length > 0) {
    const uri = matched !== null ? matched.uri : null;
    // The part of :path kept after the new uri: the rest of a matched prefix, else the query.
    const keepFrom = uri !== null && uri.kind == MatchKind.Prefix ? uri.bytes.byteLength : facts.pathOnlyLen;
    writePath(changetype<usize>(rw.uriBytes), rw.uriBytes.byteLength, facts.pathPtr + <usize>keepFrom, facts.pathLen - keepFrom);
  } else if (rw.regex !== null) {
    // Envoy's regex_rewrite replaces in the path without the query, which stays.
    const length = rw.regex!.replaceAllUtf8(facts.pathPtr, facts.pathOnlyLen, rw.regexRewrite);
    writePath(replacedUtf8Ptr(), length, facts.pathPtr + <usize>facts.pathOnlyLen, facts.pathLen - facts.pathOnlyLen);
  }
  if (rw.authority.length > 0) replaceHeader(REQUEST_HEADERS, NAME_AUTHORITY, changetype<usize>(rw.authorityBytes), rw.authorityBytes.byteLength);
}

/** Istio HTTPRedirect → Location: each of scheme, authority, port, path replaced when given. */
export function redirectLocation(rule: Rule, facts: RequestFacts): string {
  const r = rule.redirect!;
  const requestScheme = facts.schemeString();
  const scheme = r.scheme.length > 0 ? r.scheme : (requestScheme.length > 0 ? requestScheme : "http");
  let authority = r.authority.length > 0 ? r.authority : facts.authorityString();
  if (r.port != 0) {
    const host = authority.startsWith("[") ? authority.substring(0, authority.indexOf("]") + 1) : (authority.includes(":") ? authority.substring(0, authority.lastIndexOf(":")) : authority);
    const defaultPort = (scheme == "http" && r.port == 80) || (scheme == "https" && r.port == 443);
    authority = defaultPort ? host : host + ":" + r.port.toString();
  }
  const fullPath = facts.pathString();
  let path = fullPath;
  if (r.uri.length > 0) path = r.uri.includes("?") ? r.uri : r.uri + fullPath.substring(facts.pathOnlyString().length);
  return scheme + "://" + authority + path;
}

/**
 * Envoy re-selects the route when a filter changes request headers on ABI ≤ 0.2.1; newer Envoys
 * need the clear_route_cache foreign function (envoy source/extensions/common/wasm/foreign.cc).
 * A host without it answers NotFound, which is fine.
 */
const CLEAR_ROUTE_CACHE = String.UTF8.encode("clear_route_cache");
const foreignResult = new StaticArray<u32>(2);

export function clearRouteCache(): void {
  const cells = changetype<usize>(foreignResult);
  store<u32>(cells, 0);
  if (proxy_call_foreign_function(changetype<usize>(CLEAR_ROUTE_CACHE), CLEAR_ROUTE_CACHE.byteLength, 0, 0, cells, cells + 4) == 0) {
    // An answer (Envoy's is empty) would be a buffer the host allocated and pinned for us.
    const result = <usize>load<u32>(cells);
    if (result != 0) __unpin(result);
  }
}
