/**
 * jwt-auth configuration: parsed and validated once per proxy_on_configure into a read-only
 * compiled view that stream contexts share. Schema: filters/jwt-auth/README.md. Field names follow
 * Envoy's JwtProvider / RequirementRule (snake_case) where a counterpart exists.
 * Every error names the field path and what was expected; a bad config is refused as a whole.
 */
import { JsonValue, parseJson, jsonError } from "../../lib/json";
import { NO_WORKLOAD, appliesHere, labelList, workloadNamespace } from "../../lib/workload";
import { asciiLower, asciiUpper } from "./text";
import { HostName, INTERNAL_PAYLOAD_HEADER } from "./host-io";

export enum CryptoMode { Auto, Host, Wasm }

export const DEFAULT_CLOCK_SKEW_SECONDS: i64 = 60;
export const DEFAULT_CACHE_DURATION_SECONDS: i64 = 600;
export const DEFAULT_MAX_TOKEN_BYTES: i32 = 8192;
export const DEFAULT_TOKEN_CACHE_SIZE: i32 = 1024;
export const DEFAULT_JWKS_TIMEOUT_MS: u32 = 5000;
export const DEFAULT_REFETCH_INTERVAL_SECONDS: i64 = 30;
/** Caps on one JWKS document: far above any real IdP's (a few keys, a few KB), far below harm. */
export const DEFAULT_MAX_JWKS_BYTES: i32 = 262144;
export const DEFAULT_MAX_JWKS_KEYS: i32 = 100;

export class HeaderLocation {
  /** The name with its UTF-8 bytes, encoded once for the per-request header reads. */
  readonly header: HostName;
  constructor(public name: string, public valuePrefix: string) { this.header = new HostName(name); }
}

export class ClaimToHeader {
  constructor(public header: string, public claim: string) {}
}

export class RemoteJwks {
  cluster: string = "";
  uri: string = "";
  /** :authority and :path of the JWKS request, split from `uri`. */
  authority: string = "";
  path: string = "/";
  timeoutMs: u32 = DEFAULT_JWKS_TIMEOUT_MS;
  cacheDurationSeconds: i64 = DEFAULT_CACHE_DURATION_SECONDS;
}

export class ProviderConfig {
  index: i32 = 0;
  name: string = "";
  issuer: string = "";
  audiences: Array<string> = new Array<string>();
  /** Inline JWKS text (null when remote). */
  inlineJwks: string | null = null;
  remote: RemoteJwks | null = null;
  fromHeaders: Array<HeaderLocation> = new Array<HeaderLocation>();
  fromParams: Array<string> = new Array<string>();
  fromCookies: Array<string> = new Array<string>();
  forwardOriginalToken: bool = false;
  outputPayloadToHeader: string = "";
  outputClaimToHeaders: Array<ClaimToHeader> = new Array<ClaimToHeader>();
  clockSkewSeconds: i64 = DEFAULT_CLOCK_SKEW_SECONDS;
}

export enum RequirementKind {
  /** A valid token from one of `providers` is required. */
  RequireAny,
  /** Istio's default: no token passes unauthenticated; a token present must verify with one of `providers`. */
  AllowMissing,
  /** No JWT processing at all (client copies of output headers are still removed). */
  Skip,
}

export class Rule {
  /** Exactly one of path/prefix is non-empty; both empty never happens after validation. */
  path: string = "";
  prefix: string = "";
  /** Upper-case methods; empty = any. */
  methods: Array<string> = new Array<string>();
  kind: RequirementKind = RequirementKind.AllowMissing;
  providers: Array<ProviderConfig> = new Array<ProviderConfig>();
}

export class FilterConfig {
  providers: Array<ProviderConfig> = new Array<ProviderConfig>();
  rules: Array<Rule> = new Array<Rule>();
  crypto: CryptoMode = CryptoMode.Auto;
  maxTokenBytes: i32 = DEFAULT_MAX_TOKEN_BYTES;
  tokenCacheSize: i32 = DEFAULT_TOKEN_CACHE_SIZE;
  refetchIntervalSeconds: i64 = DEFAULT_REFETCH_INTERVAL_SECONDS;
  maxJwksBytes: i32 = DEFAULT_MAX_JWKS_BYTES;
  maxJwksKeys: i32 = DEFAULT_MAX_JWKS_KEYS;
  /**
   * Removed from request trailers (a trailer reaches the upstream as a header would): the
   * spoofable headers plus every from_headers name of a provider that does not forward its token.
   */
  trailerStripped: Array<HostName> = new Array<HostName>();
  /** Every header the filter writes on success: client copies are removed from every request. */
  outputHeaders: Array<string> = new Array<string>();
  /** `outputHeaders` plus the internal payload header, UTF-8 encoded once (removed from every request). */
  spoofableHeaders: Array<HostName> = new Array<HostName>();
  /** Whether any rule restricts methods: otherwise `:method` is never read. */
  rulesUseMethods: bool = false;
}

/** Message of the last parseFilterConfig failure. */
export let configError: string = "";

function fail(message: string): FilterConfig | null {
  configError = message;
  return null;
}

/**
 * Sets configError to `where` + `message`. One shared concatenation instead of one at each of the
 * ~25 error sites below (cold code, run once per configuration; each inline site cost module bytes).
 */
function failAt(where: string, message: string): void {
  configError = where + message;
}

const KNOWN_TOP = ["providers", "rules", "crypto", "max_token_bytes", "token_cache_size", "unknown_kid_refetch_interval_seconds",
  "max_jwks_bytes", "max_jwks_keys", "root_namespace"];
const KNOWN_PROVIDER = ["issuer", "audiences", "jwks", "jwks_uri", "jwks_cluster", "jwks_timeout_ms", "cache_duration_seconds",
  "from_headers", "from_params", "from_cookies", "forward_original_token", "output_payload_to_header",
  "output_claim_to_headers", "clock_skew_seconds", "namespace", "selector"];
const KNOWN_RULE = ["match", "requires", "allow_missing", "skip"];
const KNOWN_MATCH = ["path", "prefix", "methods"];

function unknownField(obj: JsonValue, known: Array<string>, where: string): string | null {
  for (let i = 0; i < obj.keys.length; i++) {
    if (!known.includes(obj.keys[i])) {
      return where + ": unknown field \"" + obj.keys[i] + "\", expected one of " + known.join(", ");
    }
  }
  return null;
}

/** RFC 7230 token characters, lower-case only (proxy-wasm header maps are lower-case). */
function isHeaderName(s: string): bool {
  if (s.length == 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c == 0x2d || c == 0x5f || c == 0x2e ||
      c == 0x21 || c == 0x23 || c == 0x24 || c == 0x25 || c == 0x26 || c == 0x27 || c == 0x2a || c == 0x2b ||
      c == 0x5e || c == 0x60 || c == 0x7c || c == 0x7e;
    if (!ok) return false;
  }
  return true;
}

class Field {
  ok: bool = true;
  error: string = "";
}
const field = new Field();

/** Marks the field `where.key` bad; shared by the getters below for the same reason as failAt. */
function fieldError(where: string, key: string, message: string): void {
  field.ok = false;
  field.error = where + "." + key + message;
}

function getString(obj: JsonValue, key: string, where: string, required: bool, def: string): string {
  const v = obj.get(key);
  if (v === null) {
    if (required) fieldError(where, key, ": required string is missing");
    return def;
  }
  if (!v.isString()) { fieldError(where, key, ": expected a string, got " + v.toJson()); return def; }
  return v.stringValue;
}

function getInt(obj: JsonValue, key: string, where: string, def: i64, min: i64, max: i64): i64 {
  const v = obj.get(key);
  if (v === null) return def;
  if (!v.isInteger() || v.numberValue < <f64>min || v.numberValue > <f64>max) {
    fieldError(where, key, ": expected an integer in [" + min.toString() + ", " + max.toString() + "], got " + v.toJson());
    return def;
  }
  return <i64>v.numberValue;
}

function getBool(obj: JsonValue, key: string, where: string, def: bool): bool {
  const v = obj.get(key);
  if (v === null) return def;
  if (!v.isBool()) { fieldError(where, key, ": expected true or false, got " + v.toJson()); return def; }
  return v.boolValue;
}

function getStringArray(obj: JsonValue, key: string, where: string): Array<string> {
  const out = new Array<string>();
  const v = obj.get(key);
  if (v === null) return out;
  if (!v.isArray()) { fieldError(where, key, ": expected an array of strings, got " + v.toJson()); return out; }
  for (let i = 0; i < v.items.length; i++) {
    const item = v.items[i];
    if (!item.isString() || item.stringValue.length == 0) {
      fieldError(where, key, "[" + i.toString() + "]: expected a non-empty string, got " + item.toJson());
      return out;
    }
    out.push(item.stringValue);
  }
  return out;
}

/** Splits `https://host[:port]/path?q` into authority and path (RFC 3986 §3). Null on a bad URI. */
function splitUri(uri: string, remote: RemoteJwks): bool {
  let rest: string;
  if (uri.startsWith("https://")) rest = uri.substring(8);
  else if (uri.startsWith("http://")) rest = uri.substring(7);
  else return false;
  const slash = rest.indexOf("/");
  remote.authority = slash < 0 ? rest : rest.substring(0, slash);
  remote.path = slash < 0 ? "/" : rest.substring(slash);
  if (remote.authority.length == 0 || remote.authority.includes("@") || remote.authority.includes(" ")) return false;
  const hash = remote.path.indexOf("#");
  if (hash >= 0) remote.path = remote.path.substring(0, hash);
  return true;
}

function parseProvider(name: string, obj: JsonValue, index: i32): ProviderConfig | null {
  const where = "providers." + name;
  const p = new ProviderConfig();
  p.index = index;
  p.name = name;
  if (!obj.isObject()) { failAt(where, ": expected an object"); return null; }
  const unknown = unknownField(obj, KNOWN_PROVIDER, where);
  if (unknown !== null) { configError = unknown; return null; }
  field.ok = true;
  p.issuer = getString(obj, "issuer", where, true, "");
  if (field.ok && p.issuer.length == 0) fieldError(where, "issuer", ": must not be empty");
  p.audiences = getStringArray(obj, "audiences", where);
  p.fromParams = getStringArray(obj, "from_params", where);
  p.fromCookies = getStringArray(obj, "from_cookies", where);
  p.forwardOriginalToken = getBool(obj, "forward_original_token", where, false);
  p.outputPayloadToHeader = getString(obj, "output_payload_to_header", where, false, "");
  p.clockSkewSeconds = getInt(obj, "clock_skew_seconds", where, DEFAULT_CLOCK_SKEW_SECONDS, 0, 86400);
  if (!field.ok) { configError = field.error; return null; }
  if (p.outputPayloadToHeader.length > 0 && !isHeaderName(p.outputPayloadToHeader)) {
    failAt(where, ".output_payload_to_header: \"" + p.outputPayloadToHeader + "\" is not a lower-case header name");
    return null;
  }

  const jwks = obj.get("jwks");
  const jwksUri = obj.get("jwks_uri");
  if ((jwks === null) == (jwksUri === null)) {
    failAt(where, ": exactly one of jwks (inline JWKS) and jwks_uri (remote JWKS) is required");
    return null;
  }
  if (jwks !== null) {
    if (jwks.isString()) p.inlineJwks = jwks.stringValue;
    else if (jwks.isObject()) p.inlineJwks = jwks.toJson();
    else { failAt(where, ".jwks: expected a JWKS object or its JSON text, got " + jwks.toJson()); return null; }
  } else {
    const remote = new RemoteJwks();
    remote.uri = getString(obj, "jwks_uri", where, true, "");
    remote.cluster = getString(obj, "jwks_cluster", where, true, "");
    remote.timeoutMs = <u32>getInt(obj, "jwks_timeout_ms", where, DEFAULT_JWKS_TIMEOUT_MS, 1, 60000);
    remote.cacheDurationSeconds = getInt(obj, "cache_duration_seconds", where, DEFAULT_CACHE_DURATION_SECONDS, 1, 31536000);
    if (!field.ok) { configError = field.error; return null; }
    if (!splitUri(remote.uri, remote)) {
      failAt(where, ".jwks_uri: \"" + remote.uri + "\" is not an http:// or https:// URL with a host");
      return null;
    }
    if (remote.cluster.length == 0) { failAt(where, ".jwks_cluster: must not be empty"); return null; }
    p.remote = remote;
  }

  const headers = obj.get("from_headers");
  if (headers !== null) {
    if (!headers.isArray()) { failAt(where, ".from_headers: expected an array of {name, value_prefix}"); return null; }
    for (let i = 0; i < headers.items.length; i++) {
      const h = headers.items[i];
      const hw = where + ".from_headers[" + i.toString() + "]";
      if (!h.isObject()) { failAt(hw, ": expected an object {name, value_prefix}"); return null; }
      const u = unknownField(h, ["name", "value_prefix"], hw);
      if (u !== null) { configError = u; return null; }
      const hname = asciiLower(getString(h, "name", hw, true, ""));
      const prefix = getString(h, "value_prefix", hw, false, "");
      if (!field.ok) { configError = field.error; return null; }
      if (!isHeaderName(hname)) { failAt(hw, ".name: \"" + hname + "\" is not a header name"); return null; }
      p.fromHeaders.push(new HeaderLocation(hname, prefix));
    }
  }
  // Default token location (Envoy JwtProvider docs): `Authorization: Bearer <token>`.
  if (p.fromHeaders.length == 0 && p.fromParams.length == 0 && p.fromCookies.length == 0) {
    p.fromHeaders.push(new HeaderLocation("authorization", "Bearer "));
  }

  const claims = obj.get("output_claim_to_headers");
  if (claims !== null) {
    if (!claims.isArray()) { failAt(where, ".output_claim_to_headers: expected an array of {header, claim}"); return null; }
    for (let i = 0; i < claims.items.length; i++) {
      const c = claims.items[i];
      const cw = where + ".output_claim_to_headers[" + i.toString() + "]";
      if (!c.isObject()) { failAt(cw, ": expected an object {header, claim}"); return null; }
      const u = unknownField(c, ["header", "claim"], cw);
      if (u !== null) { configError = u; return null; }
      const header = asciiLower(getString(c, "header", cw, true, ""));
      const claim = getString(c, "claim", cw, true, "");
      if (!field.ok) { configError = field.error; return null; }
      if (!isHeaderName(header)) { failAt(cw, ".header: \"" + header + "\" is not a header name"); return null; }
      if (claim.length == 0) { failAt(cw, ".claim: must not be empty"); return null; }
      p.outputClaimToHeaders.push(new ClaimToHeader(header, claim));
    }
  }
  return p;
}

function findProvider(config: FilterConfig, name: string): ProviderConfig | null {
  for (let i = 0; i < config.providers.length; i++) if (config.providers[i].name == name) return config.providers[i];
  return null;
}

function parseRule(config: FilterConfig, obj: JsonValue, i: i32): Rule | null {
  const where = "rules[" + i.toString() + "]";
  if (!obj.isObject()) { failAt(where, ": expected an object"); return null; }
  const u = unknownField(obj, KNOWN_RULE, where);
  if (u !== null) { configError = u; return null; }
  const rule = new Rule();
  const match = obj.get("match");
  if (match !== null) {
    if (!match.isObject()) { failAt(where, ".match: expected an object {path | prefix, methods}"); return null; }
    const mu = unknownField(match, KNOWN_MATCH, where + ".match");
    if (mu !== null) { configError = mu; return null; }
    field.ok = true;
    rule.path = getString(match, "path", where + ".match", false, "");
    rule.prefix = getString(match, "prefix", where + ".match", false, "");
    const methods = getStringArray(match, "methods", where + ".match");
    if (!field.ok) { configError = field.error; return null; }
    if (rule.path.length > 0 && rule.prefix.length > 0) { failAt(where, ".match: give path or prefix, not both"); return null; }
    if (rule.path.length > 0 && !rule.path.startsWith("/")) { failAt(where, ".match.path: \"" + rule.path + "\" must start with /"); return null; }
    if (rule.prefix.length > 0 && !rule.prefix.startsWith("/")) { failAt(where, ".match.prefix: \"" + rule.prefix + "\" must start with /"); return null; }
    for (let m = 0; m < methods.length; m++) rule.methods.push(asciiUpper(methods[m]));
  }
  if (rule.path.length == 0 && rule.prefix.length == 0) rule.prefix = "/";
  field.ok = true;
  const skip = getBool(obj, "skip", where, false);
  const allowMissing = getBool(obj, "allow_missing", where, false);
  const requires = getStringArray(obj, "requires", where);
  if (!field.ok) { configError = field.error; return null; }
  if (skip) {
    if (requires.length > 0 || allowMissing) { failAt(where, ": skip cannot be combined with requires/allow_missing"); return null; }
    rule.kind = RequirementKind.Skip;
    return rule;
  }
  if (requires.length == 0) { failAt(where, ".requires: expected at least one provider name (or skip: true)"); return null; }
  for (let r = 0; r < requires.length; r++) {
    const p = findProvider(config, requires[r]);
    if (p === null) {
      const names = new Array<string>();
      for (let k = 0; k < config.providers.length; k++) names.push(config.providers[k].name);
      failAt(where, ".requires[" + r.toString() + "]: unknown provider \"" + requires[r] + "\", expected one of " + names.join(", "));
      return null;
    }
    rule.providers.push(p);
  }
  rule.kind = allowMissing ? RequirementKind.AllowMissing : RequirementKind.RequireAny;
  return rule;
}

/** Parses the plugin configuration JSON. Null on error (configError names the field). */
export function parseFilterConfig(text: string): FilterConfig | null {
  const root = parseJson(text);
  if (root === null) return fail("configuration is not valid JSON: " + jsonError);
  if (!root.isObject()) return fail("configuration: expected a JSON object");
  const unknown = unknownField(root, KNOWN_TOP, "configuration");
  if (unknown !== null) return fail(unknown);
  const config = new FilterConfig();

  field.ok = true;
  const crypto = getString(root, "crypto", "configuration", false, "auto");
  config.maxTokenBytes = <i32>getInt(root, "max_token_bytes", "configuration", DEFAULT_MAX_TOKEN_BYTES, 64, 1048576);
  config.tokenCacheSize = <i32>getInt(root, "token_cache_size", "configuration", DEFAULT_TOKEN_CACHE_SIZE, 0, 1000000);
  config.refetchIntervalSeconds = getInt(root, "unknown_kid_refetch_interval_seconds", "configuration", DEFAULT_REFETCH_INTERVAL_SECONDS, 1, 86400);
  config.maxJwksBytes = <i32>getInt(root, "max_jwks_bytes", "configuration", DEFAULT_MAX_JWKS_BYTES, 64, 16777216);
  config.maxJwksKeys = <i32>getInt(root, "max_jwks_keys", "configuration", DEFAULT_MAX_JWKS_KEYS, 1, 10000);
  // Workload-scoped (root_namespace set): each provider carries its RequestAuthentication's
  // namespace and selector, and only those istiod would apply here are kept (lib/workload.ts).
  const rootNamespace = getString(root, "root_namespace", "configuration", false, "");
  if (!field.ok) return fail(field.error);
  let workload: string | null = "";
  if (rootNamespace.length > 0) {
    if (root.get("rules") !== null) return fail("configuration.rules: not allowed with root_namespace: the rule is Istio's (any applying provider, token optional)");
    workload = workloadNamespace();
    if (workload === null) return fail("configuration.root_namespace: " + NO_WORKLOAD);
  }
  if (crypto == "auto") config.crypto = CryptoMode.Auto;
  else if (crypto == "host") config.crypto = CryptoMode.Host;
  else if (crypto == "wasm") config.crypto = CryptoMode.Wasm;
  else return fail("configuration.crypto: \"" + crypto + "\" is not one of auto, host, wasm");

  const providers = root.get("providers");
  if (providers === null || !providers.isObject() || providers.keys.length == 0) {
    return fail("configuration.providers: expected an object with at least one provider (name → provider)");
  }
  for (let i = 0; i < providers.keys.length; i++) {
    const value = providers.values[i];
    const p = parseProvider(providers.keys[i], value, config.providers.length);
    if (p === null) return null;
    const where = "providers." + p.name;
    const selector = value.get("selector");
    if (rootNamespace.length == 0) {
      if (selector !== null || value.get("namespace") !== null) return fail(where + ": namespace and selector need root_namespace (a workload-scoped configuration)");
    } else {
      const namespace = getString(value, "namespace", where, true, "");
      const labels = selector === null ? new Array<string>() : labelList(selector);
      if (!field.ok) return fail(field.error);
      if (labels === null) return fail(where + ".selector: expected an object of label name to string value");
      if (!appliesHere(namespace, labels, rootNamespace, workload!)) continue;
    }
    config.providers.push(p);
  }

  const rules = root.get("rules");
  if (rules === null && config.providers.length > 0) {
    // Istio RequestAuthentication semantics by default: any configured issuer, token optional.
    // (Scoped, with no provider for this workload: no rule, as istiod then adds no JWT filter.)
    const rule = new Rule();
    rule.prefix = "/";
    rule.kind = RequirementKind.AllowMissing;
    for (let i = 0; i < config.providers.length; i++) rule.providers.push(config.providers[i]);
    config.rules.push(rule);
  } else if (rules !== null) {
    if (!rules.isArray()) return fail("configuration.rules: expected an array of rules");
    for (let i = 0; i < rules.items.length; i++) {
      const rule = parseRule(config, rules.items[i], i);
      if (rule === null) return null;
      config.rules.push(rule);
    }
  }

  for (let i = 0; i < config.providers.length; i++) {
    const p = config.providers[i];
    if (p.outputPayloadToHeader.length > 0 && !config.outputHeaders.includes(p.outputPayloadToHeader)) config.outputHeaders.push(p.outputPayloadToHeader);
    for (let k = 0; k < p.outputClaimToHeaders.length; k++) {
      const h = p.outputClaimToHeaders[k].header;
      if (!config.outputHeaders.includes(h)) config.outputHeaders.push(h);
    }
  }
  config.spoofableHeaders.push(new HostName(INTERNAL_PAYLOAD_HEADER));
  for (let i = 0; i < config.outputHeaders.length; i++) config.spoofableHeaders.push(new HostName(config.outputHeaders[i]));
  const stripped = config.spoofableHeaders.slice(0);
  config.trailerStripped = stripped;
  for (let i = 0; i < config.providers.length; i++) {
    const p = config.providers[i];
    if (!p.forwardOriginalToken) for (let k = 0; k < p.fromHeaders.length; k++) stripped.push(p.fromHeaders[k].header);
  }
  for (let i = 0; i < config.rules.length; i++) if (config.rules[i].methods.length > 0) config.rulesUseMethods = true;
  configError = "";
  return config;
}
