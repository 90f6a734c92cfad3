/**
 * What a verified token produces for the upstream and for later filters:
 * - output_payload_to_header: the payload segment as sent (base64url), like Envoy's
 *   JwtProvider.forward_payload_header;
 * - output_claim_to_headers: claim (nested `a.b`) → header, strings as-is, numbers/booleans as
 *   JSON (Envoy JwtClaimToHeader; objects and arrays are not copied);
 * - identity hand-over to rbac: `wasmesh.jwt.principal` = "<iss>/<sub>" and `wasmesh.jwt.payload`
 *   = payload JSON via proxy_set_property (Envoy stores them as filter state `wasm.<name>`); on a
 *   host without set_property, the internal header `x-wasmesh-jwt-payload` (base64url payload).
 * Client-sent copies of every one of these headers are removed before any decision.
 */
import { stream_context, WasmResultValues } from "@solo-io/proxy-runtime/assembly/runtime";
import { JsonValue, formatNumber } from "../../lib/json";
import { FilterConfig, ProviderConfig } from "./config";
import { HostName, INTERNAL_PAYLOAD_HEADER, removeRequestHeader, setProperty } from "./host-io";

export { INTERNAL_PAYLOAD_HEADER };
export const PRINCIPAL_PROPERTY = new HostName("wasmesh.jwt.principal");
export const PAYLOAD_PROPERTY = new HostName("wasmesh.jwt.payload");

/** Removes the internal payload header and every configured output header (names pre-encoded). */
export function stripSpoofableHeaders(config: FilterConfig): void {
  const names = config.spoofableHeaders;
  for (let i = 0; i < names.length; i++) removeRequestHeader(names[i]);
}

/** Header values for the provider's output_claim_to_headers: header, value, header, value... */
export function claimHeaderValues(provider: ProviderConfig, payload: JsonValue): Array<string> {
  const out = new Array<string>();
  for (let i = 0; i < provider.outputClaimToHeaders.length; i++) {
    const mapping = provider.outputClaimToHeaders[i];
    const value = payload.getPath(mapping.claim);
    if (value === null) continue;
    let text: string | null = null;
    if (value.isString()) text = value.stringValue;
    else if (value.isNumber()) text = formatNumber(value.numberValue);
    else if (value.isBool()) text = value.boolValue ? "true" : "false";
    if (text === null || !isHeaderValueSafe(text!)) continue;
    out.push(mapping.header);
    out.push(text!);
  }
  return out;
}

/** No CR, LF or NUL (RFC 9110 §5.5): a claim must not be able to inject headers. */
function isHeaderValueSafe(s: string): bool {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x0d || c == 0x0a || c == 0) return false;
  }
  return true;
}

export function principalOf(payload: JsonValue): string {
  const iss = payload.get("iss");
  const sub = payload.get("sub");
  return (iss !== null && iss.isString() ? iss.stringValue : "") + "/" + (sub !== null && sub.isString() ? sub.stringValue : "");
}

export function applyOutputs(provider: ProviderConfig, payloadSegment: string, payloadUtf8: ArrayBuffer, principalUtf8: ArrayBuffer, claimHeaders: Array<string>): void {
  const request = stream_context.headers.request;
  if (provider.outputPayloadToHeader.length > 0) request.replace(provider.outputPayloadToHeader, payloadSegment);
  for (let i = 0; i + 1 < claimHeaders.length; i += 2) request.replace(claimHeaders[i], claimHeaders[i + 1]);
  const principalResult = setProperty(PRINCIPAL_PROPERTY, principalUtf8);
  const payloadResult = setProperty(PAYLOAD_PROPERTY, payloadUtf8);
  if (principalResult != WasmResultValues.Ok || payloadResult != WasmResultValues.Ok) {
    // The payload segment is the canonical base64url of the payload bytes (checked when parsed).
    request.replace(INTERNAL_PAYLOAD_HEADER, payloadSegment);
  }
}
