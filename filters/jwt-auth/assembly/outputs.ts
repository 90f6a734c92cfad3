/**
 * What a verified token produces for the upstream and for later filters:
 * - output_payload_to_header: the payload segment as sent (base64url), like Envoy's
 *   JwtProvider.forward_payload_header;
 * - output_claim_to_headers: claim (nested `a.b`) → header, strings as-is, numbers/booleans as
 *   JSON (Envoy JwtClaimToHeader; objects and arrays are not copied);
 * - identity hand-over to rbac: `wasmesh.jwt.principal` = "<iss>/<sub>", `wasmesh.jwt.issuer` =
 *   "<iss>" and `wasmesh.jwt.payload` = payload JSON via proxy_set_property (Envoy stores them as filter state `wasm.<name>`); on a
 *   host without set_property, the internal header `x-wasmesh-jwt-payload` (base64url payload).
 * Client-sent copies of every one of these headers are removed before any decision
 * (RequestView.stripSpoofable). Values are serialized once per verified token (the cache entry
 * keeps them), so a cached request only hands bytes to the host.
 */
import { WasmResultValues } from "@solo-io/proxy-runtime/assembly/runtime";
import { JsonValue, formatNumber } from "../../lib/json";
import { ProviderConfig } from "./config";
import { HostName, INTERNAL_PAYLOAD_HEADER, replaceRequestHeader, setProperty } from "./host-io";
import { VerifiedToken } from "./token-cache";

export { INTERNAL_PAYLOAD_HEADER };
export const PRINCIPAL_PROPERTY = new HostName("wasmesh.jwt.principal");
export const PAYLOAD_PROPERTY = new HostName("wasmesh.jwt.payload");
/** The token's `iss` beside the principal: rbac splits `<iss>/<sub>` with it instead of parsing the payload. */
export const ISSUER_PROPERTY = new HostName("wasmesh.jwt.issuer");

const INTERNAL_PAYLOAD_HEADER_UTF8 = String.UTF8.encode(INTERNAL_PAYLOAD_HEADER);

/**
 * The headers a verified token sets, as UTF-8 (header, value, header, value...), in the order they
 * are written: output_payload_to_header first, then output_claim_to_headers.
 */
export function outputHeaderValues(provider: ProviderConfig, payloadSegmentUtf8: ArrayBuffer, payload: JsonValue): Array<ArrayBuffer> {
  const out = new Array<ArrayBuffer>();
  if (provider.outputPayloadToHeader.length > 0) {
    out.push(String.UTF8.encode(provider.outputPayloadToHeader));
    out.push(payloadSegmentUtf8);
  }
  for (let i = 0; i < provider.outputClaimToHeaders.length; i++) {
    const mapping = provider.outputClaimToHeaders[i];
    const value = payload.getPath(mapping.claim);
    if (value === null) continue;
    let text: string | null = null;
    if (value.isString()) text = value.stringValue;
    else if (value.isNumber()) text = formatNumber(value.numberValue);
    else if (value.isBool()) text = value.boolValue ? "true" : "false";
    if (text === null || !isHeaderValueSafe(text!)) continue;
    out.push(String.UTF8.encode(mapping.header));
    out.push(String.UTF8.encode(text!));
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

/** Writes the verified token's outputs (headers and the identity properties for rbac). */
export function applyOutputs(verified: VerifiedToken): void {
  const headers = verified.outputHeaders;
  for (let i = 0; i + 1 < headers.length; i += 2) replaceRequestHeader(unchecked(headers[i]), unchecked(headers[i + 1]));
  const principalResult = setProperty(PRINCIPAL_PROPERTY, verified.principalUtf8);
  const issuerResult = setProperty(ISSUER_PROPERTY, verified.issuerUtf8);
  const payloadResult = setProperty(PAYLOAD_PROPERTY, verified.payloadUtf8);
  if (principalResult != WasmResultValues.Ok || issuerResult != WasmResultValues.Ok || payloadResult != WasmResultValues.Ok) {
    // The payload segment is the canonical base64url of the payload bytes (checked when parsed).
    replaceRequestHeader(INTERNAL_PAYLOAD_HEADER_UTF8, verified.payloadSegmentUtf8);
  }
}
