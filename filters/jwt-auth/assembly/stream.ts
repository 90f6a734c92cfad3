/**
 * Per-request processing (Envoy jwt_authn Filter::decodeHeaders + Authenticator):
 * strip spoofable headers → select the rule → extract the token → verified-token cache →
 * parse (JWS) → claim types → issuer → time → audience → key lookup (may pause the request
 * while a JWKS is fetched) → signature → outputs. Any failure answers 401 (403 for audience)
 * with Envoy's text and `www-authenticate`; nothing here can trap the VM on bad input.
 */
import {
  Context, FilterHeadersStatusValues, stream_context, send_local_response, continue_request,
  HeaderPair, GrpcStatusValues, get_current_time_nanoseconds, log, LogLevelValues,
  FilterTrailersStatusValues, remove_header_map_value, HeaderMapTypeValues,
} from "@solo-io/proxy-runtime/assembly/runtime";
import { FilterConfig, ProviderConfig, RequirementKind, Rule } from "./config";
import { JwtStatus, statusMessage, statusHttpCode } from "./status";
import { extractToken, ExtractedToken, LocationKind } from "./extract";
import { selectRule, selectRuleAscii } from "./rules";
import { Jws, parseJws, jwsStatus } from "./jws";
import { TimeClaims, checkClaimTypes, checkTimes, checkTimeWindow, audienceAllowed } from "./claims";
import { keyAllowsAlg, verifySignature } from "./verify";
import { KeyWaiter, ProviderKeys } from "./keystore";
import { applyOutputs, outputHeaderValues, principalOf } from "./outputs";
import { VerifiedToken } from "./token-cache";
import { JwtRoot } from "./root";
import { spacesToUnderscores } from "./text";
import { removeRequestHeader } from "./host-io";
import { HeaderPlan, RequestView } from "./request-view";
import { isAsciiBytes } from "./bytes";

/** Envoy filter.cc: the realm is the original URI, path truncated to 256 characters. */
const MAXIMUM_URI_LENGTH = 256;

enum KeyOutcome { Verified, Failed, Waiting }

class StreamWaiter extends KeyWaiter {
  constructor(public stream: JwtStream) { super(); }
  waiterContextId(): u32 { return this.stream.context_id; }
  onKeysReady(): void { this.stream.resumeAfterKeys(); }
  isFinished(): bool { return this.stream.finished; }
}

class PendingVerification {
  constructor(
    readonly token: ExtractedToken,
    readonly jws: Jws,
    readonly provider: ProviderConfig,
    readonly times: TimeClaims,
    /** Key set the stream waits on: kept even if a reconfiguration replaces the store meanwhile
     *  (like Envoy, an in-flight request finishes with the configuration it started with). */
    readonly keys: ProviderKeys,
  ) {}
}

export class JwtStream extends Context {
  finished: bool = false;
  /** :path of the request, for the realm of a rejection (built only when rejecting). */
  private path: string = "";
  /** State kept while paused for a JWKS fetch (allocated only then: streams stay small). */
  private pending: PendingVerification | null = null;
  /** The root, typed, kept at creation: no cast or lookup per callback. */
  private readonly jwtRoot: JwtRoot;

  constructor(context_id: u32, root: JwtRoot) {
    super(context_id, root);
    this.jwtRoot = root;
  }

  onRequestHeaders(_headers: u32, _endOfStream: bool): FilterHeadersStatusValues {
    const root = this.jwtRoot;
    const config = root.config;
    const plan = root.headerPlan;
    if (config === null || plan === null) {
      // No valid configuration was ever accepted: fail closed.
      log(LogLevelValues.error, "jwt-auth: no valid configuration; denying request");
      this.deny(JwtStatus.JwtVerificationFail);
      return FilterHeadersStatusValues.StopIteration;
    }
    // One header-map read per request; its buffer is released before returning, whatever the path.
    const view = root.requestView;
    view.read(plan!);
    const status = this.decide(root, config!, plan!, view);
    view.release();
    return status;
  }

  private decide(root: JwtRoot, config: FilterConfig, plan: HeaderPlan, view: RequestView): FilterHeadersStatusValues {
    view.stripSpoofable();
    const rule = this.selectRule(config, plan, view);
    if (rule === null || rule.kind == RequirementKind.Skip) return FilterHeadersStatusValues.Continue;

    const scan = root.tokenScan;
    scan.begin(view, plan);
    const found = extractToken(rule.providers, view, plan, scan);
    if (found === null) {
      if (rule.kind == RequirementKind.AllowMissing) return FilterHeadersStatusValues.Continue;
      this.path = view.text(plan.pathSlot);
      return this.deny(JwtStatus.JwtMissed);
    }
    if (found.textLength > config.maxTokenBytes) {
      this.path = view.text(plan.pathSlot);
      return this.deny(JwtStatus.JwtTooLarge);
    }

    // The clock is read once per request: the cached entry's exp/nbf and a fresh token's alike.
    const nowSeconds = <i64>(get_current_time_nanoseconds() / 1000000000);
    const cached = root.cache.lookup(found.bytesPtr, found.bytesLength, root.cacheGeneration());
    if (cached !== null) {
      const provider = providerByIndex(found.providers, cached.providerIndex);
      if (provider !== null && checkTimeWindow(cached.nbf, cached.exp, nowSeconds, provider.clockSkewSeconds) == JwtStatus.Ok) {
        root.metrics!.cacheHit.inc();
        this.allow(found, provider, cached);
        return FilterHeadersStatusValues.Continue;
      }
    }
    root.metrics!.cacheMiss.inc();

    // Verification path: everything kept from here may outlive the header buffer.
    this.path = view.text(plan.pathSlot);
    const extracted = found.detach();
    const jws = parseJws(extracted.token);
    if (jws === null) return this.deny(jwsStatus);
    const times = new TimeClaims();
    const typeStatus = checkClaimTypes(jws.payload, times);
    if (typeStatus != JwtStatus.Ok) return this.deny(typeStatus);
    const provider = providerForIssuer(extracted.providers, jws);
    if (provider === null) return this.deny(JwtStatus.JwtUnknownIssuer);
    const timeStatus = checkTimes(times, nowSeconds, provider.clockSkewSeconds);
    if (timeStatus != JwtStatus.Ok) return this.deny(timeStatus);
    if (!audienceAllowed(jws.payload, provider.audiences)) return this.deny(JwtStatus.JwtAudienceNotAllowed);

    const outcome = this.verifyWithKeys(extracted, jws, provider, root.keys!.forProvider(provider), times, true);
    if (outcome == KeyOutcome.Waiting) return FilterHeadersStatusValues.StopIteration;
    return outcome == KeyOutcome.Verified ? FilterHeadersStatusValues.Continue : FilterHeadersStatusValues.StopIteration;
  }

  /** The first matching rule; on the raw bytes when the path is ASCII (always, for valid URIs). */
  private selectRule(config: FilterConfig, plan: HeaderPlan, view: RequestView): Rule | null {
    // :method is read only when some rule restricts methods.
    const method = config.rulesUseMethods ? view.text(plan.methodSlot) : "";
    const pathPtr = view.valuePtr(plan.pathSlot);
    const pathLength = view.valueLength(plan.pathSlot);
    if (isAsciiBytes(pathPtr, <usize>pathLength)) return selectRuleAscii(config, pathPtr, pathLength, method);
    return selectRule(config, view.text(plan.pathSlot), method);
  }

  /** Finds keys for the token and verifies; may register the stream as a JWKS waiter. */
  private verifyWithKeys(extracted: ExtractedToken, jws: Jws, provider: ProviderConfig, keys: ProviderKeys, times: TimeClaims, mayWait: bool): KeyOutcome {
    const root = this.jwtRoot;
    const jwks = keys.jwks;
    if (jwks === null) {
      if (mayWait && this.pause(keys, extracted, jws, provider, times, false)) return KeyOutcome.Waiting;
      this.deny(keys.isRemote ? JwtStatus.JwksFetchFail : JwtStatus.JwksNoValidKeys);
      return KeyOutcome.Failed;
    }
    let candidates = 0;
    for (let i = 0; i < jwks.keys.length; i++) {
      const key = jwks.keys[i];
      // As Envoy's jwt_verify_lib: a key is skipped when both carry a kid and they differ;
      // keys without kid (and tokens without kid) try every compatible key.
      if (jws.kid !== null && key.kid !== null && key.kid != jws.kid) continue;
      if (!keyAllowsAlg(key, jws.alg)) continue;
      candidates++;
      if (verifySignature(root.crypto, jws.alg, key, jws.signingInput, jws.signature)) {
        const entry = new VerifiedToken();
        entry.providerIndex = provider.index;
        entry.exp = times.exp;
        entry.nbf = times.nbf;
        entry.payloadSegmentUtf8 = String.UTF8.encode(jws.payloadSegment);
        entry.payloadUtf8 = jws.payloadUtf8;
        entry.principalUtf8 = String.UTF8.encode(principalOf(jws.payload));
        // providerForIssuer chose the provider by iss: its issuer is the token's.
        entry.issuerUtf8 = String.UTF8.encode(provider.issuer);
        entry.outputHeaders = outputHeaderValues(provider, entry.payloadSegmentUtf8, jws.payload);
        if (keys.store === root.keys) root.cache.insert(extracted.ownedBytes(), entry, root.cacheGeneration());
        this.allow(extracted, provider, entry);
        return KeyOutcome.Verified;
      }
    }
    if (candidates == 0) {
      if (mayWait && jws.kid !== null && this.pause(keys, extracted, jws, provider, times, true)) return KeyOutcome.Waiting;
      this.deny(JwtStatus.JwksKidAlgMismatch);
      return KeyOutcome.Failed;
    }
    this.deny(JwtStatus.JwtVerificationFail);
    return KeyOutcome.Failed;
  }

  private pause(keys: ProviderKeys, extracted: ExtractedToken, jws: Jws, provider: ProviderConfig, times: TimeClaims, unknownKid: bool): bool {
    this.pending = new PendingVerification(extracted, jws, provider, times, keys);
    if (keys.store.waitForKeys(keys, new StreamWaiter(this), unknownKid)) return true;
    this.pending = null;
    return false;
  }

  /** The JWKS fetch this stream waited for finished (this stream is the effective context). */
  resumeAfterKeys(): void {
    const pending = this.pending;
    this.pending = null;
    if (pending === null) return;
    const outcome = this.verifyWithKeys(pending.token, pending.jws, pending.provider, pending.keys, pending.times, false);
    if (outcome == KeyOutcome.Verified) continue_request();
  }

  private allow(extracted: ExtractedToken, provider: ProviderConfig, verified: VerifiedToken): void {
    const header = extracted.header;
    if (!provider.forwardOriginalToken && extracted.kind == LocationKind.Header && header !== null) {
      removeRequestHeader(header);
    }
    applyOutputs(verified);
    this.jwtRoot.metrics!.allowed.inc();
  }

  private deny(status: JwtStatus): FilterHeadersStatusValues {
    const root = this.jwtRoot;
    if (root.metrics !== null) root.metrics!.denied.inc();
    const message = statusMessage(status);
    // Envoy filter.cc onComplete: `Bearer realm="<uri>"`, plus `, error="invalid_token"` unless the token is missing.
    const request = stream_context.headers.request;
    const path = this.path;
    const realm = request.get(":scheme") + "://" + request.get(":authority") +
      (path.length > MAXIMUM_URI_LENGTH ? path.substring(0, MAXIMUM_URI_LENGTH) : path);
    let challenge = "Bearer realm=\"" + realm + "\"";
    if (status != JwtStatus.JwtMissed) challenge += ", error=\"invalid_token\"";
    const headers = new Array<HeaderPair>();
    headers.push(new HeaderPair(String.UTF8.encode("www-authenticate"), String.UTF8.encode(challenge)));
    send_local_response(statusHttpCode(status), "jwt_authn_access_denied{" + spacesToUnderscores(message) + "}",
      String.UTF8.encode(message), headers, GrpcStatusValues.InvalidCode);
    return FilterHeadersStatusValues.StopIteration;
  }

  /**
   * Request trailers reach the upstream like headers (HTTP/1.1 chunked trailer section, HTTP/2
   * trailing HEADERS): a client must not smuggle `x-jwt-sub`, the payload header or (when not
   * forwarded) the token through them, so the same names are removed there.
   */
  onRequestTrailers(_trailers: u32): FilterTrailersStatusValues {
    const config = this.jwtRoot.config;
    if (config !== null) {
      const names = config.trailerStripped;
      for (let i = 0; i < names.length; i++) remove_header_map_value(HeaderMapTypeValues.RequestTrailers, unchecked(names[i]).utf8);
    }
    return FilterTrailersStatusValues.Continue;
  }

  onDone(): bool {
    this.finished = true;
    return true;
  }

  onDelete(): void {
    this.finished = true;
  }
}

function providerByIndex(providers: Array<ProviderConfig>, index: i32): ProviderConfig | null {
  for (let i = 0; i < providers.length; i++) if (providers[i].index == index) return providers[i];
  return null;
}

/** The provider whose issuer equals the token's `iss` (Envoy: issuer must match when configured). */
function providerForIssuer(providers: Array<ProviderConfig>, jws: Jws): ProviderConfig | null {
  const iss = jws.payload.get("iss");
  if (iss === null || !iss.isString()) return null;
  for (let i = 0; i < providers.length; i++) if (providers[i].issuer == iss.stringValue) return providers[i];
  return null;
}
