/**
 * jwt-auth: Envoy jwt_authn / Istio RequestAuthentication semantics as a proxy-wasm filter.
 * Root context: configuration (parsed once, refused with a log line naming the field; the last
 * good configuration stays active), key sets, the verified-token cache, metrics, the JWKS tick.
 * Stream context: rule selection, token extraction, verification, outputs or a 401/403 reply.
 */
export * from "@solo-io/proxy-runtime/assembly/exports";
// The SDK's allocator plus a scratch area: the request's header map is read in place (request-view.ts).
export { free, malloc, proxy_on_memory_allocate } from "../../lib/host-memory";
import { registerRootContext } from "@solo-io/proxy-runtime/assembly/runtime";
import { JwtRoot } from "./root";

// Envoy hands the plugin's root_id to proxy_on_context_create; accept the filter name and the
// empty root id (a PluginConfig without root_id).
registerRootContext((context_id: u32) => new JwtRoot(context_id), "jwt-auth");
registerRootContext((context_id: u32) => new JwtRoot(context_id), "");
