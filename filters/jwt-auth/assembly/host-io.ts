/**
 * Request-header and property access with header names / property paths encoded to UTF-8 once
 * (at configuration time) instead of on every call: the SDK's string helpers
 * (`stream_context.headers.request.get/remove`, `set_property`) run `String.UTF8.encode` on the
 * name for each request, and per-request allocations are most of the cached-token path's cost.
 * Same ABI calls as the SDK helpers (proxy_get/remove/replace_header_map_value, proxy_set_property).
 */
import {
  HeaderMapTypeValues, WasmResultValues, get_header_map_value, remove_header_map_value,
} from "@solo-io/proxy-runtime/assembly/runtime";
import { proxy_replace_header_map_value, proxy_set_property } from "@solo-io/proxy-runtime/assembly/imports";

/** A header name or property path with its UTF-8 bytes, built once. */
export class HostName {
  readonly utf8: ArrayBuffer;
  constructor(public readonly text: string) { this.utf8 = String.UTF8.encode(text); }
}

/** Fallback identity hand-over when the host has no proxy_set_property (outputs.ts). */
export const INTERNAL_PAYLOAD_HEADER = "x-wasmesh-jwt-payload";

export const PATH_HEADER = new HostName(":path");
export const METHOD_HEADER = new HostName(":method");
export const COOKIE_HEADER = new HostName("cookie");

/** Request header value ("" when absent, as the SDK's `get`). */
export function requestHeader(name: HostName): string {
  return String.UTF8.decode(get_header_map_value(HeaderMapTypeValues.RequestHeaders, name.utf8));
}

export function removeRequestHeader(name: HostName): void {
  remove_header_map_value(HeaderMapTypeValues.RequestHeaders, name.utf8);
}

/** Sets a request header (replacing every value) from bytes encoded ahead of time. */
export function replaceRequestHeader(name: ArrayBuffer, value: ArrayBuffer): WasmResultValues {
  return proxy_replace_header_map_value(HeaderMapTypeValues.RequestHeaders, changetype<usize>(name), name.byteLength,
    changetype<usize>(value), value.byteLength);
}

export function setProperty(path: HostName, value: ArrayBuffer): WasmResultValues {
  return proxy_set_property(changetype<usize>(path.utf8), path.utf8.byteLength, changetype<usize>(value), value.byteLength);
}
