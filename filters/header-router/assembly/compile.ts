/**
 * The byte forms of an accepted configuration, built once in onConfigure so the request path
 * compares the host's header bytes in place and hands the host pre-encoded names and values:
 * header names numbered (RequestFacts caches one lookup per name per request), matcher values,
 * hosts, query/cookie names, header edits, route keys and pin cookies as UTF-8.
 */
import { utf8 } from "../../lib/bytes";
import { HeaderOps, HeaderRules, MatchKind, MatchSpec, NamedMatcher, RouterConfig, Rule, StickyKind, StickySpec, StringMatcher } from "./model";
import { hashString } from "./split";

/** jwt-auth's hand-over header (filters/jwt-auth/assembly/outputs.ts), read for claim matches. */
export const HEADER_JWT_PAYLOAD = "x-wasmesh-jwt-payload";

class HeaderNames {
  ids: Map<string, i32> = new Map();
  constructor(readonly config: RouterConfig) {}

  id(name: string): i32 {
    if (this.ids.has(name)) return this.ids.get(name);
    const id = this.config.headerNames.length;
    this.config.headerNames.push(utf8(name));
    this.ids.set(name, id);
    return id;
  }
}

export function compileRouterConfig(config: RouterConfig): void {
  const names = new HeaderNames(config);
  config.routeHeaderId = names.id(config.routeHeader);
  if (config.debugHeader.length > 0) config.debugHeaderId = names.id(config.debugHeader);
  config.jwtHeaderId = names.id(HEADER_JWT_PAYLOAD);
  for (let v = 0; v < config.virtualServices.length; v++) {
    const vs = config.virtualServices[v];
    for (let i = 0; i < vs.hosts.length; i++) {
      const host = vs.hosts[i];
      if (host == "*") vs.anyHost = true;
      const wildcard = host.startsWith("*");
      vs.hostBytes.push(utf8(wildcard ? host.substring(1) : host));
      vs.hostWildcard.push(wildcard);
    }
    if (vs.hosts.length == 0) vs.anyHost = true;
    for (let r = 0; r < vs.rules.length; r++) compileRule(vs.rules[r], names);
  }
}

function compileRule(rule: Rule, names: HeaderNames): void {
  for (let m = 0; m < rule.match.length; m++) compileMatch(rule.match[m], names);
  compileSticky(rule.sticky, names);
  compileHeaderRules(rule.headers);
  for (let i = 0; i < rule.route.length; i++) {
    const d = rule.route[i];
    d.pinTokenBytes = utf8(d.pinToken);
    d.clusterHash = hashString(d.cluster);
    compileHeaderRules(d.headers);
    const sticky = rule.sticky;
    if (sticky.cookie.length > 0) {
      let cookie = sticky.cookie + "=" + d.pinToken + "; Path=" + sticky.cookiePath + "; HttpOnly";
      if (sticky.cookieMaxAge >= 0) cookie += "; Max-Age=" + sticky.cookieMaxAge.toString();
      rule.pinCookies.push(utf8(cookie));
    }
  }
  const rewrite = rule.rewrite;
  if (rewrite !== null) {
    rewrite.uriBytes = utf8(rewrite.uri);
    rewrite.authorityBytes = utf8(rewrite.authority);
  }
}

function compileMatch(m: MatchSpec, names: HeaderNames): void {
  compileMatcher(m.uri);
  compileMatcher(m.scheme);
  compileMatcher(m.method);
  compileMatcher(m.authority);
  compileNamed(m.headers, names);
  compileNamed(m.withoutHeaders, names);
  compileNamed(m.queryParams, null);
  compileNamed(m.cookies, null);
  compileNamed(m.claims, null);
}

function compileMatcher(m: StringMatcher | null): void {
  if (m !== null && m.kind != MatchKind.Regex) m.bytes = utf8(m.value);
}

function compileNamed(list: Array<NamedMatcher>, headerNames: HeaderNames | null): void {
  for (let i = 0; i < list.length; i++) {
    const named = list[i];
    named.nameBytes = utf8(named.name);
    if (headerNames !== null) named.nameId = headerNames.id(named.name);
    compileMatcher(named.matcher);
  }
}

function compileSticky(sticky: StickySpec, names: HeaderNames): void {
  sticky.nameBytes = utf8(sticky.name);
  if (sticky.kind == StickyKind.Header) sticky.nameId = names.id(sticky.name);
  sticky.cookieBytes = utf8(sticky.cookie);
}

function compileHeaderRules(rules: HeaderRules): void {
  compileOps(rules.request);
  compileOps(rules.response);
}

function compileOps(ops: HeaderOps): void {
  if (ops.removeBytes.length > 0 || ops.setBytes.length > 0 || ops.addBytes.length > 0) return; // shared, already done
  for (let i = 0; i < ops.removes.length; i++) ops.removeBytes.push(utf8(ops.removes[i]));
  for (let i = 0; i < ops.sets.length; i++) ops.setBytes.push(utf8(ops.sets[i]));
  for (let i = 0; i < ops.adds.length; i++) ops.addBytes.push(utf8(ops.adds[i]));
}
