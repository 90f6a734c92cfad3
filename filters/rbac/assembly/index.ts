/**
 * rbac: Istio AuthorizationPolicy enforcement in a proxy-wasm filter, hardened against the
 * path/host confusion bypasses Istio users were hit by (CVE-2021-31920, CVE-2021-39156,
 * CVE-2021-39155, CVE-2022-21679). Configuration and decisions: filters/rbac/README.md.
 *
 * Per request: read headers and the needed connection facts once, refuse unknown methods and
 * bad paths (400), normalize the path (and forward the normalized one), mark every predicate the
 * request satisfies in one pass over the compiled indexes, then CUSTOM (ext_authz, async) →
 * DENY → ALLOW.
 */
export * from "@solo-io/proxy-runtime/assembly/exports";
// The SDK's allocator plus a scratch area for the values this filter reads in place and drops at
// once (header map, properties): no managed buffer per read (lib/host-memory.ts).
export { free, malloc, proxy_on_memory_allocate } from "../../lib/host-memory";
import { asciiLower } from "../../lib/ascii";
import {
  BufferTypeValues, Context, FilterHeadersStatusValues, GrpcStatusValues, Headers, LogLevelValues, RootContext,
  WasmResultValues, get_buffer_bytes, get_header_map_pairs, HeaderMapTypeValues, log, registerRootContext,
  proxy_set_effective_context, send_local_response, stream_context,
} from "@solo-io/proxy-runtime/assembly";
import { ConnectionCache } from "./connection-facts";
import { CompiledPolicies, CompiledPolicy, compileErrorMessage, compilePolicies } from "./compiler";
import { ExtAuthzHttpProvider, RbacConfig, configError, parseRbacConfig } from "./config";
import { Decision, ShadowOutcome, Verdict, customPolicyToCheck, decideLocally } from "./decision";
import { buildCheckHeaders, dispatchCheck, responseStatus, selectHeaders } from "./ext-authz";
import { MatchSet } from "./match-set";
import { isKnownMethod } from "./methods";
import { GlobalMetrics, definePolicyMetrics, increment } from "./metrics";
import { NormalizedPath, normalizePath, pathError } from "./path";
import { RequestFacts, matchRequest, readRequest } from "./request";
import { scopeError, selectPolicies } from "./scope";

/** Envoy's RBAC filter body and details (source/extensions/filters/http/rbac/rbac_filter.cc). */
const DENIED_BODY = "RBAC: access denied";
/**
 * Local replies the filter sends itself, encoded once: a denial costs no string building or
 * UTF-8 encoding (a flood of denied requests is the case to keep cheap).
 */
const DENIED_BODY_BYTES = String.UTF8.encode(DENIED_BODY);
const NO_BODY = new ArrayBuffer(0);
/** proxy-wasm serialized header pairs with no pair: a u32 count of 0 (what the SDK sends for []). */
const NO_HEADER_PAIRS = new ArrayBuffer(4);
const DETAILS_NO_CONFIG = String.UTF8.encode("rbac_access_denied_matched_policy[none]");
const DETAILS_BAD_METHOD = String.UTF8.encode("rbac_invalid_method");
const DETAILS_BAD_PATH = String.UTF8.encode("path_normalization_failed");
const DETAILS_EXT_AUTHZ_ERROR = String.UTF8.encode("ext_authz_error");

@external("env", "proxy_send_local_response")
declare function proxy_send_local_response(status: u32, details: usize, detailsSize: usize, body: usize, bodySize: usize,
  headers: usize, headersSize: usize, grpcStatus: u32): u32;

/** A local reply with pre-encoded details and body and no extra header. */
function reply(status: u32, details: ArrayBuffer, body: ArrayBuffer): FilterHeadersStatusValues {
  proxy_send_local_response(status, changetype<usize>(details), details.byteLength, changetype<usize>(body), body.byteLength,
    changetype<usize>(NO_HEADER_PAIRS), NO_HEADER_PAIRS.byteLength, GrpcStatusValues.InvalidCode);
  return FilterHeadersStatusValues.StopIteration;
}

@external("env", "proxy_get_log_level")
declare function proxy_get_log_level(level_ptr: usize): u32;

const logLevelCell = new StaticArray<u32>(1);

/** Debug lines are built only when the host would print them. */
function debugEnabled(): bool {
  if (proxy_get_log_level(changetype<usize>(logLevelCell)) != WasmResultValues.Ok) return true;
  return logLevelCell[0] <= <u32>LogLevelValues.debug;
}

class RbacRoot extends RootContext {
  config: RbacConfig | null = null;
  policies: CompiledPolicies | null = null;
  provider: ExtAuthzHttpProvider | null = null;
  matchSet: MatchSet = new MatchSet(1, 1);
  shadow: ShadowOutcome = new ShadowOutcome();
  /** Reused by every request of this VM (streams run one callback at a time). */
  facts: RequestFacts = new RequestFacts();
  /** Peer identity and addresses of recently seen connections (read once per connection). */
  connections: ConnectionCache = new ConnectionCache();
  normalized: NormalizedPath = new NormalizedPath();
  metrics: GlobalMetrics | null = null;
  /** Streams waiting for the authorizer and their http call tokens (few at a time: a list). */
  waitingTokens: Array<u32> = new Array();
  waitingStreams: Array<RbacStream> = new Array();

  onHttpCallResponse(token: u32, headers: u32, body_size: u32, trailers: u32): void {
    const at = this.waitingTokens.indexOf(token);
    if (at < 0) {
      log(LogLevelValues.warn, "rbac: ext_authz response for unknown call " + token.toString());
      return;
    }
    const stream = this.waitingStreams[at];
    this.waitingTokens.splice(at, 1);
    this.waitingStreams.splice(at, 1);
    proxy_set_effective_context(stream.context_id);
    stream.onAuthorizer(headers, body_size);
  }

  onConfigure(configuration_size: u32): bool {
    const bytes = get_buffer_bytes(BufferTypeValues.PluginConfiguration, 0, configuration_size);
    const config = parseRbacConfig(String.UTF8.decode(bytes));
    if (config === null) return this.refuse(configError);
    if (!selectPolicies(config)) return this.refuse(scopeError);
    const policies = compilePolicies(config);
    if (policies === null) return this.refuse(compileErrorMessage);
    if (this.metrics === null) this.metrics = new GlobalMetrics();
    definePolicyMetrics(policies);
    // Swap only once everything compiled: a refused config leaves the previous one enforcing.
    this.config = config;
    this.policies = policies;
    this.provider = policies.custom.length > 0 ? config.findProvider(policies.custom[0].spec.provider) : null;
    this.matchSet = policies.newMatchSet();
    log(LogLevelValues.info, "rbac: enforcing " + config.policies.length.toString() + " policies (" +
      policies.predicateCount.toString() + " predicates)" + (config.rootNamespace.length == 0 ? "" :
      "; workload-scoped: " + config.scopedOut.toString() + " other policies do not apply to this workload in namespace " + config.workload));
    return true;
  }

  private refuse(message: string): bool {
    // Returning false makes the host refuse this configuration and keep the last good one.
    log(LogLevelValues.error, "rbac: configuration refused: " + message);
    return false;
  }

  createContext(context_id: u32): Context {
    return new RbacStream(context_id, this);
  }
}

class RbacStream extends Context {
  /** Local (DENY/ALLOW) decision taken before asking the ext_authz provider. */
  pending: Decision | null = null;
  pendingShadow: Decision | null = null;
  customPolicy: CompiledPolicy | null = null;

  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const root = this.root_context as RbacRoot;
    const policies = root.policies;
    const config = root.config;
    const metrics = root.metrics;
    if (policies === null || config === null || metrics === null) {
      // No accepted configuration: fail closed.
      log(LogLevelValues.error, "rbac: no valid configuration, denying");
      return reply(403, DETAILS_NO_CONFIG, DENIED_BODY_BYTES);
    }
    const facts = readRequest(policies, config.remoteIpTrustedHops, root.connections, root.facts);
    if (!isKnownMethod(facts.method)) {
      increment(metrics.badRequest);
      if (debugEnabled()) log(LogLevelValues.debug, "rbac: method \"" + facts.method + "\" refused (methods are case-sensitive tokens)");
      return reply(400, DETAILS_BAD_METHOD, NO_BODY);
    }
    // CONNECT carries no :path (RFC 9113 §8.5): nothing to normalize, and path rules never match it.
    const normalized = root.normalized;
    const valid = facts.method == "CONNECT" && facts.rawPath.length == 0
      ? normalized.set("", "")
      : normalizePath(facts.rawPath, config.pathNormalization, normalized);
    if (!valid) {
      increment(metrics.badRequest);
      if (debugEnabled()) log(LogLevelValues.debug, "rbac: path refused: " + pathError);
      return reply(400, DETAILS_BAD_PATH, NO_BODY);
    }
    if (normalized.forward != facts.rawPath) stream_context.headers.request.replace(":path", normalized.forward);
    facts.path = normalized.path;
    matchRequest(policies, facts, root.matchSet);
    const custom = customPolicyToCheck(policies, root.matchSet);
    const local = decideLocally(policies, root.matchSet, root.shadow);
    const shadow = policies.dryRunCount > 0 ? root.shadow.decision : null;
    const provider = root.provider;
    if (custom !== null && provider !== null) {
      this.pending = local;
      this.pendingShadow = shadow;
      this.customPolicy = custom.policy;
      return this.askAuthorizer(root, provider, facts, normalized.forward);
    }
    return this.enforce(local, shadow);
  }

  private askAuthorizer(root: RbacRoot, provider: ExtAuthzHttpProvider, facts: RequestFacts, forwardPath: string): FilterHeadersStatusValues {
    const headers = buildCheckHeaders(provider, facts, forwardPath);
    const token = dispatchCheck(provider.cluster, headers, provider.timeoutMs);
    if (token < 0) {
      log(LogLevelValues.warn, "rbac: cannot call ext_authz cluster \"" + provider.cluster + "\": denying");
      return this.authorizerFailed(provider);
    }
    root.waitingTokens.push(<u32>token);
    root.waitingStreams.push(this);
    return FilterHeadersStatusValues.StopIteration;
  }

  authorizerFailed(provider: ExtAuthzHttpProvider): FilterHeadersStatusValues {
    const root = this.root_context as RbacRoot;
    const metrics = root.metrics;
    if (metrics !== null) increment(metrics.extAuthzError);
    const policy = this.customPolicy;
    if (policy !== null) increment(policy.deniedMetric);
    if (metrics !== null) increment(metrics.denied);
    return reply(provider.statusOnError, DETAILS_EXT_AUTHZ_ERROR, DENIED_BODY_BYTES);
  }

  /** The authorizer answered (or failed: no headers). */
  onAuthorizer(headerCount: u32, bodySize: usize): void {
    const root = this.root_context as RbacRoot;
    const provider = root.provider;
    if (provider === null) return;
    if (headerCount == 0) {
      log(LogLevelValues.warn, "rbac: ext_authz call to \"" + provider.cluster + "\" failed or timed out: denying");
      this.authorizerFailed(provider);
      return;
    }
    const headers = get_header_map_pairs(HeaderMapTypeValues.HttpCallResponseHeaders);
    const status = responseStatus(headers);
    const policy = this.customPolicy;
    if (status >= 200 && status < 300) {
      if (policy !== null) increment(policy.allowedMetric);
      const upstream = selectHeaders(headers, provider.headersToUpstreamOnAllow);
      for (let i = 0; i < upstream.length; i++) {
        stream_context.headers.request.replace(asciiLower(String.UTF8.decode(upstream[i].key)), String.UTF8.decode(upstream[i].value));
      }
      const local = this.pending;
      if (local === null) return;
      if (this.enforce(local, this.pendingShadow) == FilterHeadersStatusValues.Continue) this.continueRequest();
      return;
    }
    if (policy !== null) increment(policy.deniedMetric);
    const metrics = root.metrics;
    if (metrics !== null) increment(metrics.denied);
    if (debugEnabled()) log(LogLevelValues.debug, "rbac: denied by ext_authz provider \"" + provider.name + "\" (status " + status.toString() + ")");
    const body = bodySize > 0 ? String.UTF8.decode(get_buffer_bytes(BufferTypeValues.HttpCallResponseBody, 0, <u32>bodySize)) : "";
    // A malformed status is still a denial, with Envoy's default 403.
    const code = status >= 100 && status <= 599 ? status : 403;
    this.deny(code, "ext_authz_denied", body, selectHeaders(headers, provider.headersToDownstreamOnDeny));
  }

  private enforce(decision: Decision, shadow: Decision | null): FilterHeadersStatusValues {
    const root = this.root_context as RbacRoot;
    const metrics = root.metrics as GlobalMetrics;
    if (shadow !== null) increment(shadow.verdict == Verdict.Allow ? metrics.shadowAllowed : metrics.shadowDenied);
    const policy = decision.policy;
    if (decision.verdict == Verdict.Allow) {
      increment(metrics.allowed);
      if (policy !== null) increment(policy.allowedMetric);
      if (debugEnabled()) log(LogLevelValues.debug, "rbac: allowed by " + (policy === null ? "default (no ALLOW policy)" : decision.describe()));
      return FilterHeadersStatusValues.Continue;
    }
    increment(metrics.denied);
    if (policy !== null) increment(policy.deniedMetric);
    if (debugEnabled()) log(LogLevelValues.debug, "rbac: denied by " + (policy === null ? "no matching ALLOW policy" : decision.describe()));
    return reply(403, decision.deniedDetails, DENIED_BODY_BYTES);
  }

  /** The authorizer's denial: its status, body and selected headers, relayed as they came. */
  private deny(status: u32, details: string, body: string, headers: Headers): FilterHeadersStatusValues {
    send_local_response(status, details, String.UTF8.encode(body), headers, GrpcStatusValues.InvalidCode);
    return FilterHeadersStatusValues.StopIteration;
  }
}

registerRootContext((context_id: u32) => new RbacRoot(context_id), "rbac");
