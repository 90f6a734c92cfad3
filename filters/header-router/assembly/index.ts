/**
 * header-router: Istio VirtualService HTTP routing decided in a proxy-wasm filter, plus sticky
 * weighted splits. Configuration and behaviour: filters/header-router/README.md.
 *
 * Per request: drop a client-sent routing header, find the first rule (of the virtual service
 * whose hosts match :authority) with a matching match[] entry, then fault (delay on the host
 * timer, abort), and the action: route (set the routing header to the chosen cluster and ask
 * the host to re-select the route), redirect or direct response; header edits and rewrites.
 */
export * from "@solo-io/proxy-runtime/assembly/proxy";
import {
  BufferTypeValues, Context, FilterHeadersStatusValues, GrpcStatusValues, HeaderPair, Headers, LogLevelValues, RootContext,
  continue_request, get_buffer_bytes, get_current_time_nanoseconds, log, proxy_set_effective_context,
  registerRootContext, send_local_response, set_tick_period_milliseconds,
} from "@solo-io/proxy-runtime/assembly";
import { configError, parseRouterConfig } from "./config";
import { Destination, MatchSpec, RouterConfig, Rule, StickyKind, StickySpec } from "./model";
import { RequestFacts } from "./request";
import { matchesRequest } from "./match";
import { NodeFacts, readNodeFacts } from "./node";
import { hashBytes, hashHex, hashString, pickRandomIndex, pickStickyIndex, random01, seedRandom } from "./split";
import { RouterMetrics, defineRouterMetrics, increment } from "./metrics";
import { REQUEST_HEADERS, RESPONSE_HEADERS, addHeader, applyOps, applyRewrite, clearRouteCache, redirectLocation, removeHeader, replaceHeader, replaceHeaderText } from "./actions";
import { spanEquals } from "../../lib/bytes";

const DECISION_HEADER = "x-wasmesh-route-decision";
const MAX_SPARE_STREAMS = 64;
const DECISION_HEADER_BYTES = String.UTF8.encode(DECISION_HEADER);
const SET_COOKIE = String.UTF8.encode("set-cookie");
const EMPTY = new ArrayBuffer(0);
const FAULT_ABORT_BODY = String.UTF8.encode("fault filter abort");

class RouterRoot extends RootContext {
  config: RouterConfig | null = null;
  metrics: RouterMetrics | null = null;
  node: NodeFacts = new NodeFacts();
  facts: RequestFacts = new RequestFacts();
  /** Streams held by fault.delay and when each may go on (ms since epoch). */
  delayed: Array<RouterStream> = new Array();
  tickPeriod: u32 = 0;

  onConfigure(configuration_size: u32): bool {
    const bytes = get_buffer_bytes(BufferTypeValues.PluginConfiguration, 0, configuration_size);
    const config = parseRouterConfig(String.UTF8.decode(bytes));
    if (config === null) {
      // Refused: the host keeps the previous configuration in force.
      log(LogLevelValues.error, "header-router: configuration refused: " + configError);
      return false;
    }
    this.node = readNodeFacts();
    seedRandom(get_current_time_nanoseconds() ^ (<u64>this.context_id << 32));
    this.facts.configure(config.headerNames.length);
    this.metrics = defineRouterMetrics(config);
    this.config = config;
    let rules = 0;
    for (let i = 0; i < config.virtualServices.length; i++) rules += config.virtualServices[i].rules.length;
    log(LogLevelValues.info, "header-router: " + config.virtualServices.length.toString() + " virtual services, " + rules.toString() + " rules");
    return true;
  }

  /** Deleted stream contexts kept for reuse: no allocation (and later collection) per stream. */
  spare: Array<RouterStream> = new Array();

  createContext(context_id: u32): Context {
    const spare = this.spare;
    if (spare.length == 0) return new RouterStream(context_id, this);
    const stream = spare.pop();
    stream.reuse(context_id);
    return stream;
  }

  /** Called from the stream's onDelete: the SDK drops its map entry right after. */
  recycle(stream: RouterStream): void {
    if (this.spare.length < MAX_SPARE_STREAMS) this.spare.push(stream);
  }

  nowMs(): i64 {
    return <i64>(get_current_time_nanoseconds() / 1000000);
  }

  hold(stream: RouterStream, delayMs: i64): void {
    stream.wakeAtMs = this.nowMs() + delayMs;
    this.delayed.push(stream);
    this.scheduleTick();
  }

  /** The tick fires at the earliest wake-up (at least 1 ms), and stops when nothing waits. */
  scheduleTick(): void {
    let period: u32 = 0;
    if (this.delayed.length > 0) {
      const now = this.nowMs();
      let earliest = this.delayed[0].wakeAtMs;
      for (let i = 1; i < this.delayed.length; i++) if (this.delayed[i].wakeAtMs < earliest) earliest = this.delayed[i].wakeAtMs;
      const wait = earliest - now;
      period = wait < 1 ? 1 : <u32>min<i64>(wait, 60000);
    }
    if (period != this.tickPeriod) {
      this.tickPeriod = period;
      set_tick_period_milliseconds(period);
    }
  }

  onTick(): void {
    const now = this.nowMs();
    const due = new Array<RouterStream>();
    const waiting = new Array<RouterStream>();
    for (let i = 0; i < this.delayed.length; i++) {
      const s = this.delayed[i];
      if (s.wakeAtMs <= now) due.push(s); else waiting.push(s);
    }
    this.delayed = waiting;
    this.tickPeriod = 0xffffffff; // force a reschedule
    this.scheduleTick();
    for (let i = 0; i < due.length; i++) {
      const s = due[i];
      if (s.finished) continue;
      proxy_set_effective_context(s.context_id);
      s.afterDelay();
    }
  }

  forget(stream: RouterStream): void {
    if (this.delayed.length == 0) return;
    const at = this.delayed.indexOf(stream);
    if (at >= 0) {
      this.delayed.splice(at, 1);
      this.scheduleTick();
    }
  }
}

/** Where a request goes after a fault delay. */
enum Pending { None = 0, Abort = 1, Redirect = 2, Direct = 3 }

/** What the debug header's `sticky=` shows. */
enum StickyShown { None = 0, Cookie = 1, Hash = 2 }

class RouterStream extends Context {
  rule: Rule | null = null;
  destination: Destination | null = null;
  sticky: StickyShown = StickyShown.None;
  stickyHash: u64 = 0;
  /** The pin cookie to set on the response (Rule.pinCookies), if any. */
  setCookie: ArrayBuffer | null = null;
  debug: bool = false;
  wakeAtMs: i64 = 0;
  pending: Pending = Pending.None;
  location: string = "";
  finished: bool = false;

  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const root = this.root_context as RouterRoot;
    const config = root.config;
    if (config === null) return FilterHeadersStatusValues.Continue;
    const facts = root.facts;
    facts.read(config.jwtHeaderId);
    const status = this.decide(root, config, facts);
    facts.release();
    return status;
  }

  private decide(root: RouterRoot, config: RouterConfig, facts: RequestFacts): FilterHeadersStatusValues {
    const metrics = root.metrics as RouterMetrics;
    let headersChanged = false;
    // Never trust the downstream with the routing decision.
    if (facts.header(config.routeHeaderId, config.routeHeaderUtf8)) {
      removeHeader(REQUEST_HEADERS, config.routeHeaderUtf8);
      headersChanged = true;
    }
    this.debug = config.debugHeaderId >= 0 && facts.header(config.debugHeaderId, config.headerNames[config.debugHeaderId]);
    let matched: MatchSpec | null = null;
    let rule: Rule | null = null;
    const services = config.virtualServices;
    for (let v = 0, nv = services.length; v < nv && rule === null; v++) {
      const vs = unchecked(services[v]);
      if (!vs.matchesHost(facts.authorityPtr, facts.hostLen)) continue;
      const rules = vs.rules;
      for (let r = 0, nr = rules.length; r < nr; r++) {
        const candidate = unchecked(rules[r]);
        const match = candidate.match;
        if (match.length == 0) { rule = candidate; break; }
        for (let m = 0, nm = match.length; m < nm; m++) {
          if (matchesRequest(unchecked(match[m]), facts, root.node)) { matched = unchecked(match[m]); break; }
        }
        if (matched !== null) { rule = candidate; break; }
      }
    }
    if (rule === null) {
      increment(metrics.noMatch);
      if (headersChanged) clearRouteCache();
      return FilterHeadersStatusValues.Continue;
    }
    this.rule = rule;
    increment(rule.metric);

    if (rule.redirect !== null) {
      this.pending = Pending.Redirect;
      this.location = redirectLocation(rule, facts);
    } else if (rule.directStatus != 0) {
      this.pending = Pending.Direct;
    } else if (rule.route.length > 0) {
      const d = this.choose(rule, facts);
      this.destination = d;
      increment(d.metric);
      applyOps(d.headers.request, REQUEST_HEADERS);
      applyOps(rule.headers.request, REQUEST_HEADERS);
      if (rule.rewrite !== null) applyRewrite(rule, matched, facts);
      replaceHeader(REQUEST_HEADERS, config.routeHeaderUtf8, changetype<usize>(d.routeKeyUtf8), d.routeKeyUtf8.byteLength);
      headersChanged = true;
    }
    if (headersChanged || rule.rewrite !== null) clearRouteCache();

    const fault = rule.fault;
    if (fault !== null) {
      if (fault.abortStatus != 0 && chance(fault.abortPercent)) this.pending = Pending.Abort;
      if (fault.delayMs >= 0 && chance(fault.delayPercent)) {
        increment(metrics.faultDelayed);
        root.hold(this, fault.delayMs);
        return FilterHeadersStatusValues.StopIteration;
      }
    }
    return this.finishDecision();
  }

  /** After the (optional) delay: answer locally, or let the request go on. */
  finishDecision(): FilterHeadersStatusValues {
    const rule = this.rule as Rule;
    const metrics = (this.root_context as RouterRoot).metrics as RouterMetrics;
    switch (this.pending) {
      case Pending.Abort: {
        increment(metrics.faultAborted);
        const fault = rule.fault!;
        const extra: Headers = [];
        if (fault.abortGrpc >= 0) {
          extra.push(new HeaderPair(String.UTF8.encode("content-type"), String.UTF8.encode("application/grpc")));
          extra.push(new HeaderPair(String.UTF8.encode("grpc-status"), String.UTF8.encode(fault.abortGrpc.toString())));
        }
        send_local_response(fault.abortStatus, "fault_filter_abort", fault.abortGrpc >= 0 ? EMPTY : FAULT_ABORT_BODY, extra, GrpcStatusValues.InvalidCode);
        return FilterHeadersStatusValues.StopIteration;
      }
      case Pending.Redirect: {
        const extra: Headers = [new HeaderPair(String.UTF8.encode("location"), String.UTF8.encode(this.location))];
        this.addDebug(extra);
        send_local_response(rule.redirect!.code, "redirect", EMPTY, extra, GrpcStatusValues.InvalidCode);
        return FilterHeadersStatusValues.StopIteration;
      }
      case Pending.Direct: {
        const extra: Headers = [];
        this.addDebug(extra);
        send_local_response(rule.directStatus, "direct_response", String.UTF8.encode(rule.directBody), extra, GrpcStatusValues.InvalidCode);
        return FilterHeadersStatusValues.StopIteration;
      }
    }
    return FilterHeadersStatusValues.Continue;
  }

  afterDelay(): void {
    if (this.finishDecision() == FilterHeadersStatusValues.Continue) continue_request();
  }

  private addDebug(extra: Headers): void {
    if (!this.debug) return;
    extra.push(new HeaderPair(String.UTF8.encode(DECISION_HEADER), String.UTF8.encode(this.decision())));
  }

  decision(): string {
    const rule = this.rule;
    const d = this.destination;
    const sticky = this.sticky == StickyShown.Hash ? hashHex(this.stickyHash) : (this.sticky == StickyShown.Cookie ? "cookie" : "none");
    return "rule=" + (rule === null ? "none" : rule.name) + ";destination=" + (d === null ? "none" : d.cluster) + ";sticky=" + sticky;
  }

  /** Pin cookie, then the sticky key (HRW), else a weighted draw. */
  private choose(rule: Rule, facts: RequestFacts): Destination {
    const route = rule.route;
    if (route.length == 1) return route[0];
    const sticky = rule.sticky;
    if (sticky.cookie.length > 0 && facts.cookie(sticky.cookieBytes)) {
      for (let i = 0; i < route.length; i++) {
        if (route[i].weight > 0 && spanEquals(facts.foundPtr, facts.foundLen, route[i].pinTokenBytes)) {
          this.sticky = StickyShown.Cookie;
          return route[i];
        }
      }
    }
    let chosen = -1;
    if (sticky.kind != StickyKind.None && stickyKeyHash(sticky, facts, this)) chosen = pickStickyIndex(route, this.stickyHash);
    if (chosen < 0) chosen = pickRandomIndex(route, rule.totalWeight);
    if (sticky.cookie.length > 0) this.setCookie = rule.pinCookies[chosen];
    return route[chosen];
  }

  onResponseHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const rule = this.rule;
    if (rule === null || this.pending != Pending.None) return FilterHeadersStatusValues.Continue;
    const d = this.destination;
    if (d !== null) applyOps(d.headers.response, RESPONSE_HEADERS);
    applyOps(rule.headers.response, RESPONSE_HEADERS);
    const cookie = this.setCookie;
    if (cookie !== null) addHeader(RESPONSE_HEADERS, SET_COOKIE, cookie);
    if (this.debug) replaceHeaderText(RESPONSE_HEADERS, DECISION_HEADER_BYTES, this.decision());
    return FilterHeadersStatusValues.Continue;
  }

  /** The stream ended (e.g. the client went away during a fault delay): stop holding it. */
  onDone(): bool {
    this.finished = true;
    (this.root_context as RouterRoot).forget(this);
    return true;
  }

  onDelete(): void {
    this.finished = true;
    const root = this.root_context as RouterRoot;
    root.forget(this);
    root.recycle(this);
  }

  reuse(context_id: u32): void {
    this.context_id = context_id;
    this.rule = null;
    this.destination = null;
    this.sticky = StickyShown.None;
    this.stickyHash = 0;
    this.setCookie = null;
    this.debug = false;
    this.wakeAtMs = 0;
    this.pending = Pending.None;
    this.location = "";
    this.finished = false;
  }
}

function chance(percent: f64): bool {
  return percent >= 100 || (percent > 0 && random01() * 100 < percent);
}

/** Hashes the rule's sticky key into stream.stickyHash; false when the request has no such key. */
function stickyKeyHash(sticky: StickySpec, facts: RequestFacts, stream: RouterStream): bool {
  let found = false;
  let text: string | null = null;
  switch (sticky.kind) {
    case StickyKind.Header: found = facts.header(sticky.nameId, sticky.nameBytes); break;
    case StickyKind.Cookie: found = facts.cookie(sticky.nameBytes); break;
    case StickyKind.Query: found = facts.query(sticky.nameBytes); break;
    case StickyKind.Claim: text = facts.claim(sticky.name); break;
    case StickyKind.SourceIp: text = facts.sourceIp(); break;
  }
  if (text !== null) stream.stickyHash = hashString(text);
  else if (found) stream.stickyHash = hashBytes(facts.foundPtr, facts.foundLen);
  else return false;
  stream.sticky = StickyShown.Hash;
  return true;
}

registerRootContext((context_id: u32) => new RouterRoot(context_id), "header-router");
