/**
 * header-router configuration: JSON mirroring Istio VirtualService `http[]`
 * (networking.istio.io HTTPRoute), grouped by the VirtualService hosts it applies to, plus
 * wasmesh's extensions (sticky splits, cookie/claim/principal matches). Schema:
 * filters/header-router/README.md. Parsed and checked once in onConfigure; every error names the
 * virtual service, the rule index and the field. Unknown fields are refused.
 */
import { JsonValue, parseJson, jsonError } from "../../lib/json";
import { Regex, regexError } from "../../lib/regex/index";
// Shared with rbac (ASCII only: no Unicode case tables in the module).
import { asciiLower } from "../../lib/ascii";
import {
  Destination, Fault, HeaderOps, HeaderRules, MatchKind, MatchSpec, NamedMatcher, Redirect, Rewrite, RouterConfig, Rule,
  SharedRegex, StickyKind, StickySpec, StringMatcher, VirtualService,
} from "./model";
import { compileRouterConfig } from "./compile";
export { asciiLower };

export let configError: string = "";

let where: string = "";

function fail<T>(message: string): T | null {
  configError = where.length > 0 ? where + ": " + message : message;
  return null;
}

function failed(message: string): bool {
  configError = where.length > 0 ? where + ": " + message : message;
  return false;
}

function describe(v: JsonValue): string {
  const text = v.toJson();
  return text.length > 80 ? text.substring(0, 77) + "..." : text;
}

function onlyKeys(obj: JsonValue, allowed: Array<string>, field: string): bool {
  for (let i = 0; i < obj.keys.length; i++) {
    if (!allowed.includes(obj.keys[i])) {
      return failed((field.length > 0 ? field + "." : "") + obj.keys[i] + ": unknown field, expected one of " + allowed.join(", "));
    }
  }
  return true;
}

function isName(s: string): bool {
  if (s.length == 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c == 0x3a && i > 0) return false;
  }
  return true;
}

/** Regexes of the configuration being parsed, by pattern: one compiled copy per pattern. */
let regexes = new Map<string, SharedRegex>();

function sharedRegex(pattern: string): SharedRegex | null {
  if (regexes.has(pattern)) return regexes.get(pattern);
  const re = Regex.compile(pattern);
  if (re === null) return null;
  const shared = new SharedRegex(re);
  regexes.set(pattern, shared);
  return shared;
}

export function parseStringMatcher(v: JsonValue, field: string, allowPresence: bool): StringMatcher | null {
  if (!v.isObject()) return fail<StringMatcher>(field + ": expected an object with exact, prefix or regex, got " + describe(v));
  const m = new StringMatcher();
  if (v.keys.length == 0) {
    if (!allowPresence) return fail<StringMatcher>(field + ": empty match; expected one of exact, prefix, regex");
    return m;
  }
  if (v.keys.length != 1) return fail<StringMatcher>(field + ": expected exactly one of exact, prefix, regex, got " + v.keys.join(" and "));
  const key = v.keys[0];
  const value = v.values[0];
  if (!value.isString()) return fail<StringMatcher>(field + "." + key + ": expected a string, got " + describe(value));
  m.value = value.stringValue;
  if (key == "exact") m.kind = MatchKind.Exact;
  else if (key == "prefix") m.kind = MatchKind.Prefix;
  else if (key == "regex") {
    m.kind = MatchKind.Regex;
    const re = sharedRegex(m.value);
    if (re === null) return fail<StringMatcher>(field + ".regex: " + regexError);
    m.regex = re;
  } else return fail<StringMatcher>(field + "." + key + ": unknown field, expected one of exact, prefix, regex");
  return m;
}

function parseNamedMatchers(v: JsonValue, field: string, out: Array<NamedMatcher>, lowerNames: bool, allowPresence: bool): bool {
  if (!v.isObject()) return failed(field + ": expected an object of name → match");
  for (let i = 0; i < v.keys.length; i++) {
    const name = lowerNames ? asciiLower(v.keys[i]) : v.keys[i];
    if (name.length == 0) return failed(field + ": empty name");
    const m = parseStringMatcher(v.values[i], field + "." + v.keys[i], allowPresence);
    if (m === null) return false;
    out.push(new NamedMatcher(name, m));
  }
  return true;
}

const MATCH_FIELDS = ["name", "uri", "scheme", "method", "authority", "headers", "withoutHeaders", "queryParams", "ignoreUriCase",
  "port", "sourceLabels", "sourceNamespace", "cookies", "claims", "sourcePrincipal", "gateways", "statPrefix"];

function parseMatch(v: JsonValue, field: string): MatchSpec | null {
  if (!v.isObject()) return fail<MatchSpec>(field + ": expected an object");
  if (!onlyKeys(v, MATCH_FIELDS, field)) return null;
  const m = new MatchSpec();
  let conditions = 0;
  for (let i = 0; i < v.keys.length; i++) {
    const key = v.keys[i];
    const value = v.values[i];
    const f = field + "." + key;
    if (key == "name" || key == "statPrefix") {
      if (!value.isString()) return fail<MatchSpec>(f + ": expected a string");
      if (key == "name") m.name = value.stringValue;
      continue;
    }
    if (key == "gateways") {
      // Gateway binding is resolved by `deployer translate`: a rule reaching the filter applies here.
      continue;
    }
    conditions++;
    if (key == "uri" || key == "scheme" || key == "method" || key == "authority" || key == "sourcePrincipal") {
      const s = parseStringMatcher(value, f, false);
      if (s === null) return null;
      if (key == "uri") m.uri = s;
      else if (key == "scheme") m.scheme = s;
      else if (key == "method") m.method = s;
      else if (key == "authority") m.authority = s;
      else m.sourcePrincipal = s;
    } else if (key == "headers" || key == "withoutHeaders") {
      if (!parseNamedMatchers(value, f, key == "headers" ? m.headers : m.withoutHeaders, true, true)) return null;
    } else if (key == "queryParams") {
      if (!parseNamedMatchers(value, f, m.queryParams, false, true)) return null;
    } else if (key == "cookies") {
      if (!parseNamedMatchers(value, f, m.cookies, false, true)) return null;
    } else if (key == "claims") {
      if (!parseNamedMatchers(value, f, m.claims, false, true)) return null;
    } else if (key == "sourceLabels") {
      if (!value.isObject()) return fail<MatchSpec>(f + ": expected an object of label → value");
      for (let j = 0; j < value.keys.length; j++) {
        if (!value.values[j].isString()) return fail<MatchSpec>(f + "." + value.keys[j] + ": expected a string");
        const s = new StringMatcher();
        s.kind = MatchKind.Exact;
        s.value = value.values[j].stringValue;
        m.sourceLabels.push(new NamedMatcher(value.keys[j], s));
      }
    } else if (key == "sourceNamespace") {
      if (!value.isString() || value.stringValue.length == 0) return fail<MatchSpec>(f + ": expected a non-empty string");
      m.sourceNamespace = value.stringValue;
    } else if (key == "ignoreUriCase") {
      if (!value.isBool()) return fail<MatchSpec>(f + ": expected true or false, got " + describe(value));
      m.ignoreUriCase = value.boolValue;
      conditions--;
    } else if (key == "port") {
      if (!value.isInteger() || value.numberValue < 1 || value.numberValue > 65535) return fail<MatchSpec>(f + ": expected a port from 1 to 65535, got " + describe(value));
      m.port = <i32>value.numberValue;
    }
  }
  if (conditions == 0) return fail<MatchSpec>(field + ": empty match: expected at least one condition (omit match[] to match every request)");
  if (m.ignoreUriCase && m.uri !== null && m.uri!.kind != MatchKind.Regex) m.uri!.value = asciiLower(m.uri!.value);
  return m;
}

function parseHeaderOps(v: JsonValue, field: string, out: HeaderOps): bool {
  if (!v.isObject()) return failed(field + ": expected an object with set, add, remove");
  if (!onlyKeys(v, ["set", "add", "remove"], field)) return false;
  for (let i = 0; i < v.keys.length; i++) {
    const key = v.keys[i];
    const value = v.values[i];
    if (key == "remove") {
      if (!value.isArray()) return failed(field + ".remove: expected a list of header names");
      for (let j = 0; j < value.items.length; j++) {
        const item = value.items[j];
        if (!item.isString() || !isName(item.stringValue)) return failed(field + ".remove[" + j.toString() + "]: expected a header name, got " + describe(item));
        out.removes.push(asciiLower(item.stringValue));
      }
      continue;
    }
    if (!value.isObject()) return failed(field + "." + key + ": expected an object of header → value");
    const list = key == "set" ? out.sets : out.adds;
    for (let j = 0; j < value.keys.length; j++) {
      if (!isName(value.keys[j])) return failed(field + "." + key + ": \"" + value.keys[j] + "\" is not a header name");
      if (!value.values[j].isString()) return failed(field + "." + key + "." + value.keys[j] + ": expected a string, got " + describe(value.values[j]));
      list.push(asciiLower(value.keys[j]));
      list.push(value.values[j].stringValue);
    }
  }
  return true;
}

function parseHeaderRules(v: JsonValue, field: string, out: HeaderRules): bool {
  if (!v.isObject()) return failed(field + ": expected an object with request and response");
  if (!onlyKeys(v, ["request", "response"], field)) return false;
  const request = v.get("request");
  if (request !== null && !parseHeaderOps(request, field + ".request", out.request)) return false;
  const response = v.get("response");
  if (response !== null && !parseHeaderOps(response, field + ".response", out.response)) return false;
  return true;
}

/** A duration in Istio's protobuf form ("1.5s", "250ms" is not protobuf but accepted), in ms. */
export function parseDurationMs(v: JsonValue): i64 {
  if (!v.isString()) return -1;
  const s = v.stringValue;
  let unit: f64 = 1000;
  let digits = s;
  if (s.endsWith("ms")) { unit = 1; digits = s.substring(0, s.length - 2); }
  else if (s.endsWith("s")) digits = s.substring(0, s.length - 1);
  else return -1;
  if (digits.length == 0) return -1;
  let dot = false;
  for (let i = 0; i < digits.length; i++) {
    const c = digits.charCodeAt(i);
    if (c == 0x2e && !dot) { dot = true; continue; }
    if (c < 0x30 || c > 0x39) return -1;
  }
  const value = parseFloat(digits) * unit;
  return value > 9.2e15 ? -1 : <i64>Math.round(value);
}

function parsePercent(v: JsonValue | null, field: string): f64 {
  if (v === null) return 100;
  if (!v.isObject() || !onlyKeys(v, ["value"], field)) { if (!v.isObject()) failed(field + ": expected {value: <0-100>}"); return -1; }
  const value = v.get("value");
  if (value === null || !value.isNumber() || value.numberValue < 0 || value.numberValue > 100) {
    failed(field + ".value: expected a number from 0 to 100");
    return -1;
  }
  return value.numberValue;
}

/** gRPC status names (google.rpc.Code), as Istio's HTTPFaultInjection.Abort.grpcStatus. */
const GRPC_CODES = ["OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
  "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL",
  "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"];

function parseFault(v: JsonValue, field: string): Fault | null {
  if (!v.isObject() || !onlyKeys(v, ["delay", "abort"], field)) return v.isObject() ? null : fail<Fault>(field + ": expected an object with delay and/or abort");
  const fault = new Fault();
  const delay = v.get("delay");
  if (delay !== null) {
    if (!delay.isObject() || !onlyKeys(delay, ["fixedDelay", "percentage", "percent"], field + ".delay")) return delay.isObject() ? null : fail<Fault>(field + ".delay: expected an object");
    const fixed = delay.get("fixedDelay");
    if (fixed === null) return fail<Fault>(field + ".delay.fixedDelay: required (exponentialDelay is not supported by Istio either)");
    fault.delayMs = parseDurationMs(fixed);
    if (fault.delayMs < 0) return fail<Fault>(field + ".delay.fixedDelay: expected a duration such as \"2s\" or \"0.5s\", got " + describe(fixed));
    fault.delayPercent = parsePercent(delay.get("percentage"), field + ".delay.percentage");
    if (fault.delayPercent < 0) return null;
    const percent = delay.get("percent");
    if (percent !== null) {
      if (!percent.isInteger() || percent.numberValue < 0 || percent.numberValue > 100) return fail<Fault>(field + ".delay.percent: expected an integer from 0 to 100");
      fault.delayPercent = percent.numberValue;
    }
  }
  const abort = v.get("abort");
  if (abort !== null) {
    if (!abort.isObject() || !onlyKeys(abort, ["httpStatus", "grpcStatus", "percentage"], field + ".abort")) return abort.isObject() ? null : fail<Fault>(field + ".abort: expected an object");
    const http = abort.get("httpStatus");
    const grpc = abort.get("grpcStatus");
    if ((http === null) == (grpc === null)) return fail<Fault>(field + ".abort: expected exactly one of httpStatus, grpcStatus");
    if (http !== null) {
      if (!http.isInteger() || http.numberValue < 200 || http.numberValue > 599) return fail<Fault>(field + ".abort.httpStatus: expected an HTTP status from 200 to 599, got " + describe(http));
      fault.abortStatus = <u32>http.numberValue;
    } else {
      const name = grpc!.isString() ? grpc!.stringValue : "";
      const code = GRPC_CODES.indexOf(name);
      if (code < 0) return fail<Fault>(field + ".abort.grpcStatus: expected a gRPC status name such as UNAVAILABLE, got " + describe(grpc!));
      fault.abortGrpc = code;
      // Envoy's fault filter answers a gRPC abort with HTTP 200 and grpc-status.
      fault.abortStatus = 200;
    }
    fault.abortPercent = parsePercent(abort.get("percentage"), field + ".abort.percentage");
    if (fault.abortPercent < 0) return null;
  }
  if (delay === null && abort === null) return fail<Fault>(field + ": expected delay and/or abort");
  return fault;
}

export function parseSticky(v: JsonValue, field: string, out: StickySpec): bool {
  if (!v.isObject() || !onlyKeys(v, ["key", "cookie"], field)) return v.isObject() ? false : failed(field + ": expected {key, cookie}");
  const key = v.get("key");
  if (key !== null) {
    const text = key.isString() ? key.stringValue : "";
    const colon = text.indexOf(":");
    const kind = colon < 0 ? text : text.substring(0, colon);
    const name = colon < 0 ? "" : text.substring(colon + 1);
    if (kind == "source-ip" && colon < 0) out.kind = StickyKind.SourceIp;
    else if (name.length == 0) return failed(field + ".key: expected header:<name>, cookie:<name>, query:<name>, claim:<name> or source-ip, got " + describe(key));
    else if (kind == "header") { out.kind = StickyKind.Header; out.name = asciiLower(name); }
    else if (kind == "cookie") { out.kind = StickyKind.Cookie; out.name = name; }
    else if (kind == "query") { out.kind = StickyKind.Query; out.name = name; }
    else if (kind == "claim") { out.kind = StickyKind.Claim; out.name = name; }
    else return failed(field + ".key: expected header:<name>, cookie:<name>, query:<name>, claim:<name> or source-ip, got " + describe(key));
  }
  const cookie = v.get("cookie");
  if (cookie !== null) {
    if (!cookie.isObject() || !onlyKeys(cookie, ["name", "ttl", "path"], field + ".cookie")) return cookie.isObject() ? false : failed(field + ".cookie: expected {name, ttl, path}");
    const name = cookie.get("name");
    if (name === null || !name.isString() || !isName(name.stringValue) || name.stringValue.includes("=") || name.stringValue.includes(";")) {
      return failed(field + ".cookie.name: expected a cookie name");
    }
    out.cookie = name.stringValue;
    const ttl = cookie.get("ttl");
    if (ttl !== null) {
      const ms = parseDurationMs(ttl);
      if (ms < 0) return failed(field + ".cookie.ttl: expected a duration such as \"3600s\", got " + describe(ttl));
      out.cookieMaxAge = ms / 1000;
    }
    const path = cookie.get("path");
    if (path !== null) {
      if (!path.isString() || !path.stringValue.startsWith("/") || path.stringValue.includes(";")) return failed(field + ".cookie.path: expected a path starting with /");
      out.cookiePath = path.stringValue;
    }
  }
  return true;
}

const RULE_FIELDS = ["name", "match", "route", "redirect", "directResponse", "delegate", "rewrite", "timeout", "retries", "fault",
  "mirror", "mirrors", "mirrorPercentage", "mirrorPercent", "corsPolicy", "headers", "sticky"];

/** Route-level settings the Envoy route carries, not the filter (deployer translate puts them there). */
const ROUTE_LEVEL = ["timeout", "retries", "mirror", "mirrors", "mirrorPercentage", "mirrorPercent", "corsPolicy"];

function parseRule(v: JsonValue, index: i32, vsSticky: StickySpec, config: RouterConfig, known: Array<string>): Rule | null {
  if (!v.isObject()) return fail<Rule>("expected an object");
  if (!onlyKeys(v, RULE_FIELDS, "")) return null;
  const rule = new Rule();
  rule.index = index;
  rule.name = "rule" + index.toString();
  rule.sticky = vsSticky;
  for (let i = 0; i < ROUTE_LEVEL.length; i++) {
    if (v.has(ROUTE_LEVEL[i])) {
      return fail<Rule>(ROUTE_LEVEL[i] + ": applied by the Envoy route, not by the filter: `deployer translate` renders it into the route configuration; the filter configuration must not carry it");
    }
  }
  if (v.has("delegate")) return fail<Rule>("delegate: delegate VirtualServices are resolved by `deployer translate`, not by the filter");
  const name = v.get("name");
  if (name !== null) {
    if (!name.isString() || name.stringValue.length == 0) return fail<Rule>("name: expected a non-empty string");
    rule.name = name.stringValue;
  }
  const match = v.get("match");
  if (match !== null) {
    if (!match.isArray()) return fail<Rule>("match: expected a list");
    if (match.items.length == 0) return fail<Rule>("match: empty list; omit match to match every request");
    for (let i = 0; i < match.items.length; i++) {
      const m = parseMatch(match.items[i], "match[" + i.toString() + "]");
      if (m === null) return null;
      rule.match.push(m);
    }
  }
  const route = v.get("route");
  const redirect = v.get("redirect");
  const direct = v.get("directResponse");
  let actions = 0;
  if (route !== null) actions++;
  if (redirect !== null) actions++;
  if (direct !== null) actions++;
  if (actions > 1) return fail<Rule>("route, redirect and directResponse are exclusive: expected one of them");
  if (route !== null) {
    if (!route.isArray() || route.items.length == 0) return fail<Rule>("route: expected a non-empty list of destinations");
    for (let i = 0; i < route.items.length; i++) {
      const f = "route[" + i.toString() + "]";
      const item = route.items[i];
      if (!item.isObject() || !onlyKeys(item, ["destination", "weight", "headers", "routeKey"], f)) return item.isObject() ? null : fail<Rule>(f + ": expected {destination, weight}");
      const d = new Destination();
      const dest = item.get("destination");
      if (dest === null || !dest.isString() || dest.stringValue.length == 0) {
        return fail<Rule>(f + ".destination: expected the cluster name (e.g. outbound|9080|v1|reviews.default.svc.cluster.local)");
      }
      d.cluster = dest.stringValue;
      if (known.length > 0 && !known.includes(d.cluster)) {
        return fail<Rule>(f + ".destination: unknown destination \"" + d.cluster + "\": expected one of clusters (" + known.join(", ") + ")");
      }
      d.pinToken = fnvHex(d.cluster);
      d.routeKey = d.cluster;
      const routeKey = item.get("routeKey");
      if (routeKey !== null) {
        if (!routeKey.isString() || routeKey.stringValue.length == 0) return fail<Rule>(f + ".routeKey: expected a non-empty string");
        d.routeKey = routeKey.stringValue;
      }
      d.routeKeyUtf8 = String.UTF8.encode(d.routeKey);
      const weight = item.get("weight");
      if (weight !== null) {
        if (!weight.isInteger() || weight.numberValue < 0 || weight.numberValue > 100) return fail<Rule>(f + ".weight: expected an integer from 0 to 100, got " + describe(weight));
        d.weight = <i32>weight.numberValue;
      } else if (route.items.length > 1) {
        d.weight = 0;
      }
      const headers = item.get("headers");
      if (headers !== null && !parseHeaderRules(headers, f + ".headers", d.headers)) return null;
      for (let j = 0; j < rule.route.length; j++) {
        if (rule.route[j].cluster == d.cluster) return fail<Rule>(f + ".destination: \"" + d.cluster + "\" appears twice in this route");
      }
      rule.route.push(d);
      rule.totalWeight += d.weight;
      if (!config.clusters.includes(d.cluster)) config.clusters.push(d.cluster);
    }
    // Istio: one destination takes all traffic; several must have weights adding up to 100.
    if (rule.route.length > 1 && rule.totalWeight != 100) {
      return fail<Rule>("route: weights add up to " + rule.totalWeight.toString() + ", expected 100");
    }
    if (rule.route.length == 1) rule.totalWeight = rule.route[0].weight = 100;
  }
  if (redirect !== null) {
    const f = "redirect";
    if (!redirect.isObject() || !onlyKeys(redirect, ["uri", "authority", "scheme", "port", "redirectCode", "derivePort"], f)) return redirect.isObject() ? null : fail<Rule>(f + ": expected an object");
    const r = new Redirect();
    for (let i = 0; i < redirect.keys.length; i++) {
      const key = redirect.keys[i];
      const value = redirect.values[i];
      if (key == "port" || key == "redirectCode") {
        if (!value.isInteger()) return fail<Rule>(f + "." + key + ": expected an integer, got " + describe(value));
        const n = <i32>value.numberValue;
        if (key == "port") {
          if (n < 1 || n > 65535) return fail<Rule>(f + ".port: expected 1-65535");
          r.port = n;
        } else {
          if (n != 301 && n != 302 && n != 303 && n != 307 && n != 308) return fail<Rule>(f + ".redirectCode: expected 301, 302, 303, 307 or 308, got " + n.toString());
          r.code = <u32>n;
        }
      } else if (key == "derivePort") {
        return fail<Rule>(f + ".derivePort: not supported by the filter (the listener port is not known to it); set port");
      } else {
        if (!value.isString()) return fail<Rule>(f + "." + key + ": expected a string");
        if (key == "uri") r.uri = value.stringValue;
        else if (key == "authority") r.authority = value.stringValue;
        else r.scheme = value.stringValue;
      }
    }
    if (r.uri.length > 0 && !r.uri.startsWith("/")) return fail<Rule>(f + ".uri: expected a path starting with /");
    rule.redirect = r;
  }
  if (direct !== null) {
    const f = "directResponse";
    if (!direct.isObject() || !onlyKeys(direct, ["status", "body"], f)) return direct.isObject() ? null : fail<Rule>(f + ": expected {status, body}");
    const status = direct.get("status");
    if (status === null || !status.isInteger() || status.numberValue < 200 || status.numberValue > 599) return fail<Rule>(f + ".status: expected an HTTP status from 200 to 599");
    rule.directStatus = <u32>status.numberValue;
    const body = direct.get("body");
    if (body !== null) {
      if (!body.isObject() || !onlyKeys(body, ["string", "bytes"], f + ".body")) return body.isObject() ? null : fail<Rule>(f + ".body: expected {string} or {bytes}");
      const s = body.get("string");
      if (s === null || !s.isString()) return fail<Rule>(f + ".body: expected {string: ...} (deployer translate decodes bytes)");
      rule.directBody = s.stringValue;
    }
  }
  const rewrite = v.get("rewrite");
  if (rewrite !== null) {
    const f = "rewrite";
    if (redirect !== null || direct !== null) return fail<Rule>(f + ": only allowed with route (Istio)");
    if (!rewrite.isObject() || !onlyKeys(rewrite, ["uri", "authority", "uriRegexRewrite"], f)) return rewrite.isObject() ? null : fail<Rule>(f + ": expected an object");
    const rw = new Rewrite();
    const uri = rewrite.get("uri");
    if (uri !== null) {
      if (!uri.isString()) return fail<Rule>(f + ".uri: expected a string");
      rw.uri = uri.stringValue;
    }
    const authority = rewrite.get("authority");
    if (authority !== null) {
      if (!authority.isString() || authority.stringValue.length == 0) return fail<Rule>(f + ".authority: expected a non-empty string");
      rw.authority = authority.stringValue;
    }
    const rr = rewrite.get("uriRegexRewrite");
    if (rr !== null) {
      if (uri !== null) return fail<Rule>(f + ": uri and uriRegexRewrite are exclusive");
      if (!rr.isObject() || !onlyKeys(rr, ["match", "rewrite"], f + ".uriRegexRewrite")) return rr.isObject() ? null : fail<Rule>(f + ".uriRegexRewrite: expected {match, rewrite}");
      const m = rr.get("match");
      const w = rr.get("rewrite");
      if (m === null || !m.isString() || w === null || !w.isString()) return fail<Rule>(f + ".uriRegexRewrite: expected string match and rewrite");
      const re = Regex.compile(m.stringValue);
      if (re === null) return fail<Rule>(f + ".uriRegexRewrite.match: " + regexError);
      const bad = re.checkRewrite(w.stringValue);
      if (bad !== null) return fail<Rule>(f + ".uriRegexRewrite.rewrite: " + bad);
      rw.regex = re;
      rw.regexRewrite = w.stringValue;
    }
    rule.rewrite = rw;
  }
  const fault = v.get("fault");
  if (fault !== null) {
    const parsed = parseFault(fault, "fault");
    if (parsed === null) return null;
    rule.fault = parsed;
  }
  const headers = v.get("headers");
  if (headers !== null && !parseHeaderRules(headers, "headers", rule.headers)) return null;
  const sticky = v.get("sticky");
  if (sticky !== null) {
    rule.sticky = new StickySpec();
    if (!parseSticky(sticky, "sticky", rule.sticky)) return null;
  }
  if (actions == 0 && rule.fault === null) return fail<Rule>("expected route, redirect, directResponse or fault");
  return rule;
}

export function fnvHex(s: string): string {
  let h: u32 = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= <u32>s.charCodeAt(i);
    h *= 0x01000193;
  }
  return h.toString(16);
}

function parseHosts(v: JsonValue, out: Array<string>): bool {
  if (!v.isArray()) return failed("hosts: expected a list of host names");
  for (let i = 0; i < v.items.length; i++) {
    const item = v.items[i];
    if (!item.isString() || item.stringValue.length == 0) return failed("hosts[" + i.toString() + "]: expected a host name");
    const host = asciiLower(item.stringValue);
    if (host.lastIndexOf("*") > 0) return failed("hosts[" + i.toString() + "]: \"" + host + "\": a wildcard is only allowed as the leftmost label (*.example.com)");
    out.push(host);
  }
  return true;
}

export function parseRouterConfig(text: string): RouterConfig | null {
  where = "";
  configError = "";
  regexes = new Map<string, SharedRegex>();
  if (text.trim().length == 0) return fail<RouterConfig>("configuration is empty: expected a JSON object with virtualServices");
  const root = parseJson(text);
  if (root === null) return fail<RouterConfig>("configuration is not valid JSON: " + jsonError);
  if (!root.isObject()) return fail<RouterConfig>("configuration: expected a JSON object");
  if (!onlyKeys(root, ["routeHeader", "debugHeader", "clusters", "virtualServices"], "")) return null;
  const config = new RouterConfig();
  const routeHeader = root.get("routeHeader");
  if (routeHeader !== null) {
    if (!routeHeader.isString() || !isName(routeHeader.stringValue) || routeHeader.stringValue.startsWith(":")) return fail<RouterConfig>("routeHeader: expected a header name");
    config.routeHeader = asciiLower(routeHeader.stringValue);
    config.routeHeaderUtf8 = String.UTF8.encode(config.routeHeader);
  }
  const debugHeader = root.get("debugHeader");
  if (debugHeader !== null) {
    if (!debugHeader.isString() || !isName(debugHeader.stringValue)) return fail<RouterConfig>("debugHeader: expected a header name");
    config.debugHeader = asciiLower(debugHeader.stringValue);
  }
  const known = new Array<string>();
  const clusters = root.get("clusters");
  if (clusters !== null) {
    if (!clusters.isArray()) return fail<RouterConfig>("clusters: expected a list of cluster names");
    for (let i = 0; i < clusters.items.length; i++) {
      if (!clusters.items[i].isString()) return fail<RouterConfig>("clusters[" + i.toString() + "]: expected a string");
      known.push(clusters.items[i].stringValue);
    }
  }
  const list = root.get("virtualServices");
  if (list === null || !list.isArray()) return fail<RouterConfig>("virtualServices: expected a list");
  for (let i = 0; i < list.items.length; i++) {
    const item = list.items[i];
    where = "virtualServices[" + i.toString() + "]";
    if (!item.isObject()) return fail<RouterConfig>("expected an object with name, hosts, http");
    if (!onlyKeys(item, ["name", "hosts", "http", "sticky"], "")) return null;
    const vs = new VirtualService();
    const name = item.get("name");
    vs.name = name !== null && name.isString() ? name.stringValue : "vs" + i.toString();
    where = "virtual service \"" + vs.name + "\"";
    const hosts = item.get("hosts");
    if (hosts !== null && !parseHosts(hosts, vs.hosts)) return null;
    const sticky = new StickySpec();
    const vsSticky = item.get("sticky");
    if (vsSticky !== null && !parseSticky(vsSticky, "sticky", sticky)) return null;
    const http = item.get("http");
    if (http === null || !http.isArray()) return fail<RouterConfig>("http: expected a list of rules");
    for (let r = 0; r < http.items.length; r++) {
      where = "virtual service \"" + vs.name + "\" http[" + r.toString() + "]";
      const rule = parseRule(http.items[r], r, sticky, config, known);
      if (rule === null) return null;
      vs.rules.push(rule);
    }
    config.virtualServices.push(vs);
  }
  where = "";
  regexes = new Map<string, SharedRegex>();
  compileRouterConfig(config);
  return config;
}
