/**
 * The parsed header-router configuration (config.ts builds it, compile.ts adds the byte forms
 * the per-request path compares against). Read-only once onConfigure has accepted it.
 */
import { Regex } from "../../lib/regex/index";
import { foldedEqual, spanEquals, spanStartsWith } from "../../lib/bytes";

export enum MatchKind { Exact = 0, Prefix = 1, Regex = 2, Present = 3 }

const NO_BYTES = new ArrayBuffer(0);

/**
 * One compiled regex, shared by every matcher with the same pattern (one lazy-DFA cache), with
 * the answer for the last input it saw: a pattern tested twice on the same header of the same
 * request (several rules reading it) runs once.
 */
export class SharedRegex {
  generation: u32 = 0;
  ptr: usize = 0;
  len: i32 = -1;
  result: bool = false;
  constructor(readonly regex: Regex) {}

  /** Full match of the UTF-8 span; `generation` identifies the request the span belongs to. */
  matchesSpan(ptr: usize, len: i32, generation: u32): bool {
    if (generation == this.generation && ptr == this.ptr && len == this.len) return this.result;
    const result = this.regex.fullMatchUtf8(ptr, len);
    this.generation = generation;
    this.ptr = ptr;
    this.len = len;
    this.result = result;
    return result;
  }
}

/** Istio StringMatch (exact / prefix / regex), or `{}` for presence where Istio allows it. */
export class StringMatcher {
  kind: MatchKind = MatchKind.Present;
  value: string = "";
  /** `value` as UTF-8: exact and prefix matches compare request bytes against it. */
  bytes: ArrayBuffer = NO_BYTES;
  regex: SharedRegex | null = null;

  /** For values the filter holds as strings (JWT claims, the peer principal). */
  matches(text: string): bool {
    switch (this.kind) {
      case MatchKind.Exact: return text == this.value;
      case MatchKind.Prefix: return text.startsWith(this.value);
      case MatchKind.Regex: return (this.regex as SharedRegex).regex.fullMatch(text);
    }
    return true;
  }

  /** For `len` UTF-8 bytes at `ptr` of the current request (`generation`). */
  matchesSpan(ptr: usize, len: i32, generation: u32): bool {
    switch (this.kind) {
      case MatchKind.Exact: return spanEquals(ptr, len, this.bytes);
      case MatchKind.Prefix: return spanStartsWith(ptr, len, this.bytes);
      case MatchKind.Regex: return (this.regex as SharedRegex).matchesSpan(ptr, len, generation);
    }
    return true;
  }

  /** ignoreUriCase (exact/prefix; `bytes` lower-cased at configure time). */
  matchesSpanIgnoringCase(ptr: usize, len: i32): bool {
    const n = this.bytes.byteLength;
    if (this.kind == MatchKind.Exact && len != n) return false;
    if (len < n) return false;
    return foldedEqual(ptr, changetype<usize>(this.bytes), <usize>n);
  }
}

/** A named matcher (header, query parameter, cookie, claim, label). */
export class NamedMatcher {
  /** The name as UTF-8 (compile.ts). */
  nameBytes: ArrayBuffer = NO_BYTES;
  /** Headers: the index of the name in RouterConfig.headerNames (compile.ts); else -1. */
  nameId: i32 = -1;
  constructor(readonly name: string, readonly matcher: StringMatcher) {}
}

export class MatchSpec {
  name: string = "";
  uri: StringMatcher | null = null;
  scheme: StringMatcher | null = null;
  method: StringMatcher | null = null;
  authority: StringMatcher | null = null;
  headers: Array<NamedMatcher> = new Array();
  withoutHeaders: Array<NamedMatcher> = new Array();
  queryParams: Array<NamedMatcher> = new Array();
  ignoreUriCase: bool = false;
  port: i32 = 0;
  sourceLabels: Array<NamedMatcher> = new Array();
  sourceNamespace: string = "";
  cookies: Array<NamedMatcher> = new Array();
  claims: Array<NamedMatcher> = new Array();
  sourcePrincipal: StringMatcher | null = null;
}

export class HeaderOps {
  sets: Array<string> = new Array(); // name, value, ...
  adds: Array<string> = new Array();
  removes: Array<string> = new Array();
  /** The same as UTF-8 (compile.ts), handed to the host as they are. */
  setBytes: Array<ArrayBuffer> = new Array();
  addBytes: Array<ArrayBuffer> = new Array();
  removeBytes: Array<ArrayBuffer> = new Array();
  get isEmpty(): bool { return this.sets.length == 0 && this.adds.length == 0 && this.removes.length == 0; }
}

export class HeaderRules {
  request: HeaderOps = new HeaderOps();
  response: HeaderOps = new HeaderOps();
}

export class Destination {
  cluster: string = "";
  /** Value of the routing header: the cluster, or the route key of a rule with route-level settings. */
  routeKey: string = "";
  weight: i32 = 100;
  headers: HeaderRules = new HeaderRules();
  /** Stable per-cluster token in pin cookies (FNV-1a of the name, hex). */
  pinToken: string = "";
  pinTokenBytes: ArrayBuffer = NO_BYTES;
  /** routeKey as UTF-8, encoded once: written on every routed request. */
  routeKeyUtf8: ArrayBuffer = NO_BYTES;
  /** The destination counter (metrics.ts). */
  metric: u32 = 0xffffffff;
  /** Hash of the cluster name for rendezvous hashing (split.ts). */
  clusterHash: u64 = 0;
}

export enum StickyKind { None = 0, Header = 1, Cookie = 2, Query = 3, Claim = 4, SourceIp = 5 }

export class StickySpec {
  kind: StickyKind = StickyKind.None;
  name: string = "";
  nameBytes: ArrayBuffer = NO_BYTES;
  /** Header keys: index in RouterConfig.headerNames. */
  nameId: i32 = -1;
  /** Pin cookie name; empty: no Set-Cookie. */
  cookie: string = "";
  cookieBytes: ArrayBuffer = NO_BYTES;
  cookieMaxAge: i64 = -1;
  cookiePath: string = "/";
}

export class Redirect {
  uri: string = "";
  authority: string = "";
  scheme: string = "";
  port: i32 = 0;
  code: u32 = 301;
}

export class Rewrite {
  uri: string = "";
  uriBytes: ArrayBuffer = NO_BYTES;
  regex: Regex | null = null;
  regexRewrite: string = "";
  authority: string = "";
  authorityBytes: ArrayBuffer = NO_BYTES;
}

export class Fault {
  delayMs: i64 = -1;
  delayPercent: f64 = 100;
  abortStatus: u32 = 0;
  /** gRPC status code for the abort, or -1. */
  abortGrpc: i32 = -1;
  abortPercent: f64 = 100;
}

export class Rule {
  index: i32 = 0;
  name: string = "";
  match: Array<MatchSpec> = new Array();
  route: Array<Destination> = new Array();
  totalWeight: i32 = 0;
  sticky: StickySpec = new StickySpec();
  /** Set-Cookie values pinning each destination of `route` (same order), when sticky.cookie is set. */
  pinCookies: Array<ArrayBuffer> = new Array();
  redirect: Redirect | null = null;
  directStatus: u32 = 0;
  directBody: string = "";
  rewrite: Rewrite | null = null;
  fault: Fault | null = null;
  headers: HeaderRules = new HeaderRules();
  /** Counter ids (defined in onConfigure). */
  metric: u32 = 0xffffffff;
}

export class VirtualService {
  name: string = "";
  /** Exact hosts (lower case, no port) and `*.suffix` wildcards; empty or "*": any authority. */
  hosts: Array<string> = new Array();
  /** The same as UTF-8 (compile.ts); a wildcard's entry holds its suffix (".suffix"). */
  hostBytes: Array<ArrayBuffer> = new Array();
  hostWildcard: Array<bool> = new Array();
  anyHost: bool = false;
  rules: Array<Rule> = new Array();

  /** Does `host` (lower-cased or not, without port) select this virtual service? */
  matchesHost(ptr: usize, len: i32): bool {
    if (this.anyHost) return true;
    const hosts = this.hostBytes;
    for (let i = 0, n = hosts.length; i < n; i++) {
      const h = unchecked(hosts[i]);
      const hl = h.byteLength;
      if (unchecked(this.hostWildcard[i])) {
        if (len > hl && foldedEqual(ptr + <usize>(len - hl), changetype<usize>(h), <usize>hl)) return true;
      } else if (len == hl && foldedEqual(ptr, changetype<usize>(h), <usize>hl)) {
        return true;
      }
    }
    return false;
  }
}

export class RouterConfig {
  routeHeader: string = "x-wasmesh-route";
  routeHeaderUtf8: ArrayBuffer = String.UTF8.encode("x-wasmesh-route");
  debugHeader: string = "";
  virtualServices: Array<VirtualService> = new Array();
  /** Every cluster some rule routes to (for counters and the unknown-destination check). */
  clusters: Array<string> = new Array();
  /** Every header name the request path looks up, as UTF-8; lookups go by index (compile.ts). */
  headerNames: Array<ArrayBuffer> = new Array();
  routeHeaderId: i32 = -1;
  debugHeaderId: i32 = -1;
  jwtHeaderId: i32 = -1;
}
