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
  registerRootContext, send_local_response, set_tick_period_milliseconds, stream_context,
} from "@solo-io/proxy-runtime/assembly";
import { Destination, HeaderOps, MatchKind, MatchSpec, RouterConfig, Rule, StickyKind, VirtualService, configError, parseRouterConfig } from "./config";
import { NodeFacts, RequestFacts, matchesRequest, readNodeFacts } from "./request";
import { clearClusterHashes, hashHex, hashKey, pickRandom, pickSticky, random01, seedRandom } from "./split";
import { RouterMetrics, defineRouterMetrics, increment } from "./metrics";
import { proxy_call_foreign_function, proxy_remove_header_map_value, proxy_replace_header_map_value } from "@solo-io/proxy-runtime/assembly/imports";

const DECISION_HEADER = "x-wasmesh-route-decision";
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
    clearClusterHashes();
    this.metrics = defineRouterMetrics(config);
    this.config = config;
    let rules = 0;
    for (let i = 0; i < config.virtualServices.length; i++) rules += config.virtualServices[i].rules.length;
    log(LogLevelValues.info, "header-router: " + config.virtualServices.length.toString() + " virtual services, " + rules.toString() + " rules");
    return true;
  }

  createContext(context_id: u32): Context {
    return new RouterStream(context_id, this);
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
    const at = this.delayed.indexOf(stream);
    if (at >= 0) {
      this.delayed.splice(at, 1);
      this.scheduleTick();
    }
  }
}

/** Where a request goes after a fault delay. */
enum Pending { None = 0, Abort = 1, Redirect = 2, Direct = 3 }

class RouterStream extends Context {
  rule: Rule | null = null;
  destination: Destination | null = null;
  stickyHash: string = "none";
  setCookie: string = "";
  debug: bool = false;
  wakeAtMs: i64 = 0;
  pending: Pending = Pending.None;
  location: string = "";
  finished: bool = false;

  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const root = this.root_context as RouterRoot;
    const config = root.config;
    if (config === null) return FilterHeadersStatusValues.Continue;
    const metrics = root.metrics as RouterMetrics;
    const facts = root.facts;
    facts.read();
    let headersChanged = false;
    // Never trust the downstream with the routing decision.
    if (facts.header(config.routeHeader) !== null) {
      proxy_remove_header_map_value(0 /* RequestHeaders */, changetype<usize>(config.routeHeaderUtf8), config.routeHeaderUtf8.byteLength);
      headersChanged = true;
    }
    this.debug = config.debugHeader.length > 0 && facts.header(config.debugHeader) !== null;
    let matched: MatchSpec | null = null;
    let rule: Rule | null = null;
    for (let v = 0; v < config.virtualServices.length && rule === null; v++) {
      const vs = config.virtualServices[v];
      if (!hostMatches(vs, facts.host)) continue;
      for (let r = 0; r < vs.rules.length; r++) {
        const candidate = vs.rules[r];
        if (candidate.match.length == 0) { rule = candidate; break; }
        for (let m = 0; m < candidate.match.length; m++) {
          if (matchesRequest(candidate.match[m], facts, root.node)) { matched = candidate.match[m]; break; }
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
      increment(metrics.destinationMetric(d.cluster));
      applyOps(d.headers.request, false);
      applyOps(rule.headers.request, false);
      const rewrite = rule.rewrite;
      if (rewrite !== null) applyRewrite(rule, matched, facts);
      proxy_replace_header_map_value(0 /* RequestHeaders */, changetype<usize>(config.routeHeaderUtf8), config.routeHeaderUtf8.byteLength,
        changetype<usize>(d.routeKeyUtf8), d.routeKeyUtf8.byteLength);
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
    return "rule=" + (rule === null ? "none" : rule.name) + ";destination=" + (d === null ? "none" : d.cluster) + ";sticky=" + this.stickyHash;
  }

  /** Pin cookie, then the sticky key (HRW), else a weighted draw. */
  private choose(rule: Rule, facts: RequestFacts): Destination {
    const route = rule.route;
    if (route.length == 1) return route[0];
    const sticky = rule.sticky;
    if (sticky.cookie.length > 0) {
      const pinned = facts.cookie(sticky.cookie);
      if (pinned !== null) {
        for (let i = 0; i < route.length; i++) {
          if (route[i].pinToken == pinned && route[i].weight > 0) {
            this.stickyHash = "cookie";
            return route[i];
          }
        }
      }
    }
    let chosen: Destination | null = null;
    if (sticky.kind != StickyKind.None) {
      const key = stickyKey(sticky.kind, sticky.name, facts);
      if (key !== null) {
        const h = hashKey(key);
        this.stickyHash = hashHex(h);
        chosen = pickSticky(route, h);
      }
    }
    if (chosen === null) chosen = pickRandom(route, rule.totalWeight);
    if (sticky.cookie.length > 0) {
      let cookie = sticky.cookie + "=" + chosen.pinToken + "; Path=" + sticky.cookiePath + "; HttpOnly";
      if (sticky.cookieMaxAge >= 0) cookie += "; Max-Age=" + sticky.cookieMaxAge.toString();
      this.setCookie = cookie;
    }
    return chosen;
  }

  onResponseHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const rule = this.rule;
    if (rule === null || this.pending != Pending.None) return FilterHeadersStatusValues.Continue;
    const d = this.destination;
    if (d !== null) applyOps(d.headers.response, true);
    applyOps(rule.headers.response, true);
    if (this.setCookie.length > 0) stream_context.headers.response.add("set-cookie", this.setCookie);
    if (this.debug) stream_context.headers.response.replace(DECISION_HEADER, this.decision());
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
    (this.root_context as RouterRoot).forget(this);
  }
}

function chance(percent: f64): bool {
  return percent >= 100 || (percent > 0 && random01() * 100 < percent);
}

/** VirtualService hosts: exact names (port stripped), `*.suffix` wildcards, `*`; no hosts: any. */
function hostMatches(vs: VirtualService, host: string): bool {
  const hosts = vs.hosts;
  if (hosts.length == 0) return true;
  for (let i = 0; i < hosts.length; i++) {
    const h = hosts[i];
    if (h == "*" || h == host) return true;
    if (h.startsWith("*") && host.length > h.length - 1 && host.endsWith(h.substring(1))) return true;
  }
  return false;
}

function stickyKey(kind: StickyKind, name: string, facts: RequestFacts): string | null {
  switch (kind) {
    case StickyKind.Header: return facts.header(name);
    case StickyKind.Cookie: return facts.cookie(name);
    case StickyKind.Query: return facts.query(name);
    case StickyKind.Claim: return facts.claim(name);
    case StickyKind.SourceIp: return facts.sourceIp();
  }
  return null;
}

/** Envoy's order (HeaderParser): removals first, then set (overwrite), then add (append). */
function applyOps(ops: HeaderOps, response: bool): void {
  if (ops.isEmpty) return;
  const h = response ? stream_context.headers.response : stream_context.headers.request;
  for (let i = 0; i < ops.removes.length; i++) h.remove(ops.removes[i]);
  for (let i = 0; i < ops.sets.length; i += 2) h.replace(ops.sets[i], ops.sets[i + 1]);
  for (let i = 0; i < ops.adds.length; i += 2) h.add(ops.adds[i], ops.adds[i + 1]);
}

/** Istio HTTPRewrite: a prefix-matched uri has its prefix replaced, otherwise the whole path; the query stays. */
function applyRewrite(rule: Rule, matched: MatchSpec | null, facts: RequestFacts): void {
  const rw = rule.rewrite!;
  const query = facts.path.substring(facts.pathOnly.length);
  if (rw.uri.length > 0) {
    const uri = matched !== null ? matched.uri : null;
    let path = rw.uri;
    if (uri !== null && uri.kind == MatchKind.Prefix) path = rw.uri + facts.pathOnly.substring(uri.value.length);
    stream_context.headers.request.replace(":path", path + query);
  } else if (rw.regex !== null) {
    stream_context.headers.request.replace(":path", rw.regex!.replaceAll(facts.pathOnly, rw.regexRewrite) + query);
  }
  if (rw.authority.length > 0) stream_context.headers.request.replace(":authority", rw.authority);
}

/** Istio HTTPRedirect → Location: each of scheme, authority, port, path replaced when given. */
function redirectLocation(rule: Rule, facts: RequestFacts): string {
  const r = rule.redirect!;
  const scheme = r.scheme.length > 0 ? r.scheme : (facts.scheme.length > 0 ? facts.scheme : "http");
  let authority = r.authority.length > 0 ? r.authority : facts.authority;
  if (r.port != 0) {
    const host = authority.startsWith("[") ? authority.substring(0, authority.indexOf("]") + 1) : (authority.includes(":") ? authority.substring(0, authority.lastIndexOf(":")) : authority);
    const defaultPort = (scheme == "http" && r.port == 80) || (scheme == "https" && r.port == 443);
    authority = defaultPort ? host : host + ":" + r.port.toString();
  }
  let path = facts.path;
  if (r.uri.length > 0) path = r.uri.includes("?") ? r.uri : r.uri + facts.path.substring(facts.pathOnly.length);
  return scheme + "://" + authority + path;
}

/**
 * Envoy re-selects the route when a filter changes request headers on ABI ≤ 0.2.1; newer Envoys
 * need the clear_route_cache foreign function (envoy source/extensions/common/wasm/foreign.cc).
 * A host without it answers NotFound, which is fine.
 */
const CLEAR_ROUTE_CACHE = String.UTF8.encode("clear_route_cache");
const foreignResult = new StaticArray<u32>(2);

function clearRouteCache(): void {
  const cells = changetype<usize>(foreignResult);
  store<u32>(cells, 0);
  if (proxy_call_foreign_function(changetype<usize>(CLEAR_ROUTE_CACHE), CLEAR_ROUTE_CACHE.byteLength, 0, 0, cells, cells + 4) == 0) {
    // An answer (Envoy's is empty) would be a buffer the host allocated and pinned for us.
    const result = <usize>load<u32>(cells);
    if (result != 0) __unpin(result);
  }
}

registerRootContext((context_id: u32) => new RouterRoot(context_id), "header-router");
