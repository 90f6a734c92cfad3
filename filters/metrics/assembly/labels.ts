/**
 * Istio's standard labels, in the order of Istio 1.17's stats plugin (istio/proxy
 * extensions/stats/plugin.h STD_ISTIO_DIMENSIONS — the order is the order of tags in the stat
 * name), and Envoy's response flag short codes.
 */
import { spanEquals, utf8 } from "../../lib/bytes";

export const LABEL_NAMES: Array<string> = [
  "reporter",
  "source_workload", "source_workload_namespace", "source_principal", "source_app", "source_version",
  "source_canonical_service", "source_canonical_revision", "source_cluster",
  "destination_workload", "destination_workload_namespace", "destination_principal", "destination_app", "destination_version",
  "destination_service", "destination_service_name", "destination_service_namespace",
  "destination_canonical_service", "destination_canonical_revision", "destination_cluster",
  "request_protocol", "response_flags", "connection_security_policy", "response_code", "grpc_response_status",
];
export const LABEL_COUNT: i32 = 25;

export const REPORTER: i32 = 0;
/** First label of the source side; the destination side is the same layout at DESTINATION. */
export const SOURCE: i32 = 1;
export const DESTINATION: i32 = 9;
/** Offsets within a side (source_* / destination_* share them except where noted). */
export const WORKLOAD: i32 = 0;
export const WORKLOAD_NAMESPACE: i32 = 1;
export const PRINCIPAL: i32 = 2;
export const APP: i32 = 3;
export const VERSION: i32 = 4;
export const DESTINATION_SERVICE: i32 = 14;
export const DESTINATION_SERVICE_NAME: i32 = 15;
export const DESTINATION_SERVICE_NAMESPACE: i32 = 16;
export const SOURCE_CANONICAL_SERVICE: i32 = 6;
export const SOURCE_CANONICAL_REVISION: i32 = 7;
export const SOURCE_CLUSTER: i32 = 8;
export const DESTINATION_CANONICAL_SERVICE: i32 = 17;
export const DESTINATION_CANONICAL_REVISION: i32 = 18;
export const DESTINATION_CLUSTER: i32 = 19;
export const REQUEST_PROTOCOL: i32 = 20;
export const RESPONSE_FLAGS: i32 = 21;
export const CONNECTION_SECURITY_POLICY: i32 = 22;
export const RESPONSE_CODE: i32 = 23;
export const GRPC_RESPONSE_STATUS: i32 = 24;

export const UNKNOWN = "unknown";

/**
 * Envoy's response flag short codes by bit (envoy/stream_info/stream_info.h ResponseFlag,
 * source/common/stream_info/utility.cc ResponseFlagUtils::toShortString: joined with "," in bit
 * order; "-" when none).
 */
const FLAG_CODES: Array<string> = [
  "LH", "UH", "UT", "LR", "UR", "UF", "UC", "UO", "NR", "DI", "FI", "RL", "UAEX", "RLSE", "DC", "URX", "SI", "IH", "DPE",
  "UMSDR", "RFCF", "NFCF", "DT", "UPE", "NC", "OM", "DF", "DO",
];

let lastFlags: u64 = 0;
let lastFlagsText: string = "-";

export function responseFlagsText(bits: u64): string {
  if (bits == 0) return "-";
  if (bits == lastFlags) return lastFlagsText;
  let text = "";
  for (let i = 0; i < FLAG_CODES.length; i++) {
    if ((bits & (<u64>1 << <u64>i)) == 0) continue;
    text = text.length == 0 ? FLAG_CODES[i] : text + "," + FLAG_CODES[i];
  }
  lastFlags = bits;
  lastFlagsText = text;
  return text;
}

/** gRPC content types Istio counts as `grpc` (istio/proxy extensions/common/context.cc kGrpcContentTypes). */
const GRPC_CONTENT_TYPES: Array<ArrayBuffer> = [utf8("application/grpc"), utf8("application/grpc+proto"), utf8("application/grpc+json")];

/** Whether the `length` bytes at `ptr` are one of Istio's gRPC content types (exact match, as Istio's set lookup). */
export function isGrpcContentTypeBytes(ptr: usize, length: i32): bool {
  for (let i = 0; i < GRPC_CONTENT_TYPES.length; i++) if (spanEquals(ptr, length, GRPC_CONTENT_TYPES[i])) return true;
  return false;
}

/**
 * destination_service_name from a service host (Istio's extractServiceName): the first label when
 * the second one is the destination namespace, the whole host otherwise; a host without a dot or
 * colon is already a name.
 */
export function serviceName(host: string, namespace: string): string {
  let nameEnd = -1;
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c == 0x2e || c == 0x3a) { nameEnd = i; break; }
  }
  if (nameEnd < 0) return host;
  let nsEnd = host.length;
  for (let i = nameEnd + 1; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c == 0x2e || c == 0x3a) { nsEnd = i; break; }
  }
  return host.substring(nameEnd + 1, nsEnd) == namespace ? host.substring(0, nameEnd) : host;
}

/** The namespace of a SPIFFE id `spiffe://<trust domain>/ns/<namespace>/sa/<account>`; "" otherwise. */
export function spiffeNamespace(principal: string): string {
  if (!principal.startsWith("spiffe://")) return "";
  const at = principal.indexOf("/ns/", 9);
  if (at < 0) return "";
  const end = principal.indexOf("/", at + 4);
  return end < 0 ? principal.substring(at + 4) : principal.substring(at + 4, end);
}
