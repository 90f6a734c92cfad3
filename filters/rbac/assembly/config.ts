/**
 * The rbac filter's configuration: JSON that mirrors Istio's AuthorizationPolicy
 * (security.istio.io/v1 `metadata` + `spec`), plus the mesh settings Istio keeps in MeshConfig
 * (path normalization, extension providers, trusted hops). Schema: filters/rbac/README.md.
 * This file only reads and checks the document; compiler.ts turns it into matchers.
 * Unknown fields are refused: a typo (`notpaths`) must not silently change what a policy allows.
 */
import { asciiLower } from "../../lib/ascii";
import { JsonValue, describeJson, parseJson, jsonError, unknownFieldError } from "../../lib/json";
import { labelList } from "../../lib/workload";
import { Attribute, AttributeKey, keyError, parseWhenKey } from "./attributes";
import { PathNormalization, parsePathNormalization } from "./path";

export enum Action { Allow = 0, Deny = 1, Audit = 2, Custom = 3 }

export function actionName(action: Action): string {
  switch (action) {
    case Action.Allow: return "ALLOW";
    case Action.Deny: return "DENY";
    case Action.Audit: return "AUDIT";
    default: return "CUSTOM";
  }
}

/** One field of a source/operation or one `when` condition: the attribute and its value lists. */
export class ConditionSpec {
  constructor(
    readonly key: AttributeKey,
    readonly values: Array<string>,
    readonly notValues: Array<string>,
    /** Where it came from, for error messages: `spec.rules[0].from[1].source.ipBlocks`. */
    readonly field: string,
    /** Where notValues came from (the `not*` field of a source/operation). */
    readonly notField: string,
  ) {}
}

export class RuleSpec {
  /** OR of sources, each an AND of conditions; empty: any source. */
  froms: Array<Array<ConditionSpec>> = new Array();
  /** OR of operations; empty: any operation. */
  tos: Array<Array<ConditionSpec>> = new Array();
  /** AND of conditions. */
  when: Array<ConditionSpec> = new Array();
}

export class PolicySpec {
  action: Action = Action.Allow;
  dryRun: bool = false;
  provider: string = "";
  rules: Array<RuleSpec> = new Array();
  /** spec.selector.matchLabels as key, value, key, value… (workload-scoped configurations only). */
  selector: Array<string> = new Array();
  constructor(readonly name: string, readonly namespace: string) {}
  /** `ns/name`, as in error messages and logs. */
  get id(): string { return this.namespace + "/" + this.name; }
}

/** Istio MeshConfig.ExtensionProvider.EnvoyExternalAuthorizationHttpProvider. */
export class ExtAuthzHttpProvider {
  cluster: string = "";
  service: string = "";
  port: i32 = 0;
  timeoutMs: u32 = 600000;
  pathPrefix: string = "";
  includeRequestHeadersInCheck: Array<string> = new Array();
  includeAdditionalHeadersInCheck: Array<string> = new Array(); // name, value, name, value...
  headersToUpstreamOnAllow: Array<string> = new Array();
  headersToDownstreamOnDeny: Array<string> = new Array();
  statusOnError: u32 = 403;
  constructor(readonly name: string) {}
}

export class RbacConfig {
  pathNormalization: i32 = PathNormalization.Base;
  remoteIpTrustedHops: i32 = 0;
  providers: Array<ExtAuthzHttpProvider> = new Array();
  policies: Array<PolicySpec> = new Array();
  /**
   * The mesh root namespace; non-empty makes the configuration workload-scoped: each policy
   * keeps its namespace and selector and applies only where istiod would apply it (./scope.ts).
   */
  rootNamespace: string = "";
  /** After selection (scope.ts): the proxy's namespace and how many policies did not apply to it. */
  workload: string = "";
  scopedOut: i32 = 0;

  findProvider(name: string): ExtAuthzHttpProvider | null {
    for (let i = 0; i < this.providers.length; i++) if (this.providers[i].name == name) return this.providers[i];
    return null;
  }
}

/** Why the last parseRbacConfig returned null: names the policy, the field and what was expected. */
export let configError: string = "";

let context: string = "";

export function parseRbacConfig(text: string): RbacConfig | null {
  context = "";
  if (text.trim().length == 0) return fail("configuration is empty: expected a JSON object with \"policies\" (an empty list allows everything)");
  const root = parseJson(text);
  if (root === null) return fail("configuration is not valid JSON: " + jsonError);
  if (!root.isObject()) return fail("configuration: expected a JSON object");
  if (!onlyKeys(root, ["pathNormalization", "remoteIpTrustedHops", "extensionProviders", "policies", "rootNamespace"], "configuration")) return null;
  const config = new RbacConfig();
  const rootNamespace = root.get("rootNamespace");
  if (rootNamespace !== null) {
    if (!rootNamespace.isString() || rootNamespace.stringValue.length == 0) return fail("rootNamespace: expected the mesh root namespace (e.g. \"istio-system\"), got " + describeJson(rootNamespace));
    config.rootNamespace = rootNamespace.stringValue;
  }
  const normalization = root.get("pathNormalization");
  if (normalization !== null) {
    const mode = normalization.isString() ? parsePathNormalization(normalization.stringValue) : -1;
    if (mode < 0) return fail("pathNormalization: expected one of NONE, BASE, MERGE_SLASHES, DECODE_AND_MERGE_SLASHES, got " + describeJson(normalization));
    config.pathNormalization = mode;
  }
  const hops = root.get("remoteIpTrustedHops");
  if (hops !== null) {
    if (!hops.isNumber() || hops.numberValue != Math.floor(hops.numberValue) || hops.numberValue < 0 || hops.numberValue > 64) {
      return fail("remoteIpTrustedHops: expected an integer from 0 to 64, got " + describeJson(hops));
    }
    config.remoteIpTrustedHops = <i32>hops.numberValue;
  }
  const providers = root.get("extensionProviders");
  if (providers !== null) {
    if (!providers.isArray()) return fail("extensionProviders: expected a list");
    for (let i = 0; i < providers.items.length; i++) {
      const provider = parseProvider(providers.items[i], "extensionProviders[" + i.toString() + "]");
      if (provider === null) return null;
      if (config.findProvider(provider.name) !== null) return fail("extensionProviders[" + i.toString() + "].name: duplicate provider \"" + provider.name + "\"");
      config.providers.push(provider);
    }
  }
  const policies = root.get("policies");
  if (policies === null || !policies.isArray()) return fail("policies: expected a list of AuthorizationPolicy objects ({metadata, spec})");
  for (let i = 0; i < policies.items.length; i++) {
    const policy = parsePolicy(policies.items[i], i, config);
    if (policy === null) return null;
    for (let j = 0; j < config.policies.length; j++) {
      if (config.policies[j].id == policy.id) return fail("policies[" + i.toString() + "]: duplicate policy \"" + policy.id + "\"");
    }
    config.policies.push(policy);
  }
  return config;
}

function parsePolicy(value: JsonValue, index: i32, config: RbacConfig): PolicySpec | null {
  context = "policies[" + index.toString() + "]";
  if (!value.isObject()) return failPolicy("expected an object with metadata and spec");
  if (!onlyKeys(value, ["apiVersion", "kind", "metadata", "spec"], "")) return null;
  const kind = value.get("kind");
  if (kind !== null && (!kind.isString() || kind.stringValue != "AuthorizationPolicy")) return failPolicy("kind: expected \"AuthorizationPolicy\", got " + describeJson(kind));
  const apiVersion = value.get("apiVersion");
  if (apiVersion !== null && (!apiVersion.isString() ||
    (apiVersion.stringValue != "security.istio.io/v1" && apiVersion.stringValue != "security.istio.io/v1beta1"))) {
    return failPolicy("apiVersion: expected security.istio.io/v1 or security.istio.io/v1beta1, got " + describeJson(apiVersion));
  }
  const metadata = value.get("metadata");
  if (metadata === null || !metadata.isObject()) return failPolicy("metadata: expected an object with name and namespace");
  if (!onlyKeys(metadata, ["name", "namespace", "annotations", "labels", "uid", "resourceVersion", "generation", "creationTimestamp"], "metadata")) return null;
  const name = metadata.get("name");
  if (name === null || !name.isString() || name.stringValue.length == 0) return failPolicy("metadata.name: expected a non-empty string");
  const namespace = metadata.get("namespace");
  if (namespace !== null && (!namespace.isString() || namespace.stringValue.length == 0)) return failPolicy("metadata.namespace: expected a non-empty string");
  if (namespace === null && config.rootNamespace.length > 0) return failPolicy("metadata.namespace: required in a workload-scoped configuration (rootNamespace is set): it decides which workloads the policy applies to");
  const policy = new PolicySpec(name.stringValue, namespace === null ? "default" : namespace.stringValue);
  context = "policy \"" + policy.id + "\"";
  const annotations = metadata.get("annotations");
  if (annotations !== null) {
    if (!annotations.isObject()) return failPolicy("metadata.annotations: expected an object of strings");
    const dryRun = annotations.get("istio.io/dry-run");
    if (dryRun !== null) {
      // Istio parses the annotation with strconv.ParseBool; anything else is a configuration error.
      if (!dryRun.isString()) return failPolicy("metadata.annotations[istio.io/dry-run]: expected \"true\" or \"false\", got " + describeJson(dryRun));
      const v = asciiLower(dryRun.stringValue);
      if (v == "true" || v == "1" || v == "t") policy.dryRun = true;
      else if (v != "false" && v != "0" && v != "f") return failPolicy("metadata.annotations[istio.io/dry-run]: expected \"true\" or \"false\", got \"" + dryRun.stringValue + "\"");
    }
  }
  const spec = value.get("spec");
  if (spec === null || !spec.isObject()) return failPolicy("spec: expected an object (spec: {} denies everything)");
  for (let i = 0; i < spec.keys.length; i++) {
    const key = spec.keys[i];
    if (key == "targetRef" || key == "targetRefs") {
      return failPolicy("spec." + key + ": binds gateways and waypoints, not sidecars; expected spec.selector (the deployer renders targetRefs policies as objects of their own)");
    }
    if (key == "selector") {
      if (config.rootNamespace.length == 0) {
        return failPolicy("spec.selector: only in a workload-scoped configuration (set rootNamespace); otherwise the configuration holds just the policies for this workload, as `deployer translate -n/-l` selects them");
      }
      const selector = spec.get("selector")!;
      if (!selector.isObject()) return failPolicy("spec.selector: expected {matchLabels: {label: value}}, got " + describeJson(selector));
      if (!onlyKeys(selector, ["matchLabels"], "spec.selector")) return null;
      const labels = selector.get("matchLabels");
      const list = labels === null ? new Array<string>() : labelList(labels);
      if (list === null) return failPolicy("spec.selector.matchLabels: expected an object of label name to string value, got " + describeJson(labels!));
      policy.selector = list;
      continue;
    }
    if (key != "action" && key != "provider" && key != "rules") return failPolicy("spec." + key + ": unknown field, expected action, provider, rules or selector");
  }
  const action = spec.get("action");
  if (action !== null) {
    const a = action.isString() ? action.stringValue : "";
    if (a == "ALLOW") policy.action = Action.Allow;
    else if (a == "DENY") policy.action = Action.Deny;
    else if (a == "AUDIT") policy.action = Action.Audit;
    else if (a == "CUSTOM") policy.action = Action.Custom;
    else return failPolicy("spec.action: expected ALLOW, DENY, AUDIT or CUSTOM, got " + describeJson(action));
  }
  const provider = spec.get("provider");
  if (policy.action == Action.Custom) {
    if (provider === null || !provider.isObject()) return failPolicy("spec.provider: a CUSTOM policy needs provider.name");
    if (!onlyKeys(provider, ["name"], "spec.provider")) return null;
    const providerName = provider.get("name");
    if (providerName === null || !providerName.isString() || providerName.stringValue.length == 0) return failPolicy("spec.provider.name: expected a non-empty string");
    if (config.findProvider(providerName.stringValue) === null) {
      return failPolicy("spec.provider.name: \"" + providerName.stringValue + "\" is not one of extensionProviders");
    }
    policy.provider = providerName.stringValue;
  } else if (provider !== null) {
    return failPolicy("spec.provider: only allowed with action CUSTOM");
  }
  const rules = spec.get("rules");
  if (rules !== null) {
    if (!rules.isArray()) return failPolicy("spec.rules: expected a list");
    for (let i = 0; i < rules.items.length; i++) {
      const rule = parseRule(rules.items[i], "spec.rules[" + i.toString() + "]");
      if (rule === null) return null;
      policy.rules.push(rule);
    }
  }
  return policy;
}

function parseRule(value: JsonValue, field: string): RuleSpec | null {
  if (!value.isObject()) return failRule(field + ": expected an object");
  if (!onlyKeys(value, ["from", "to", "when"], field)) return null;
  const rule = new RuleSpec();
  const from = value.get("from");
  if (from !== null) {
    if (!from.isArray()) return failRule(field + ".from: expected a list");
    for (let i = 0; i < from.items.length; i++) {
      const where = field + ".from[" + i.toString() + "]";
      const item = from.items[i];
      if (!item.isObject() || !onlyKeys(item, ["source"], where)) return failRule(where + ": expected {source: {...}}");
      const source = item.get("source");
      // Istio validation: "`from.source` must not be empty".
      if (source === null || !source.isObject() || source.keys.length == 0) return failRule(where + ".source: must not be empty");
      const conditions = parseFields(source, where + ".source", SOURCE_FIELDS, SOURCE_ATTRIBUTES);
      if (conditions === null) return null;
      rule.froms.push(conditions);
    }
  }
  const to = value.get("to");
  if (to !== null) {
    if (!to.isArray()) return failRule(field + ".to: expected a list");
    for (let i = 0; i < to.items.length; i++) {
      const where = field + ".to[" + i.toString() + "]";
      const item = to.items[i];
      if (!item.isObject() || !onlyKeys(item, ["operation"], where)) return failRule(where + ": expected {operation: {...}}");
      const operation = item.get("operation");
      if (operation === null || !operation.isObject() || operation.keys.length == 0) return failRule(where + ".operation: must not be empty");
      const conditions = parseFields(operation, where + ".operation", OPERATION_FIELDS, OPERATION_ATTRIBUTES);
      if (conditions === null) return null;
      rule.tos.push(conditions);
    }
  }
  const when = value.get("when");
  if (when !== null) {
    if (!when.isArray()) return failRule(field + ".when: expected a list");
    for (let i = 0; i < when.items.length; i++) {
      const where = field + ".when[" + i.toString() + "]";
      const item = when.items[i];
      if (!item.isObject()) return failRule(where + ": expected {key, values, notValues}");
      if (!onlyKeys(item, ["key", "values", "notValues"], where)) return null;
      const key = item.get("key");
      if (key === null || !key.isString()) return failRule(where + ".key: expected a string");
      const parsed = parseWhenKey(key.stringValue);
      if (parsed === null) return failRule(where + ".key: " + keyError);
      const values = stringList(item.get("values"), where + ".values");
      if (values === null) return null;
      const notValues = stringList(item.get("notValues"), where + ".notValues");
      if (notValues === null) return null;
      if (values.length == 0 && notValues.length == 0) return failRule(where + ": at least one of values or notValues must be set");
      rule.when.push(new ConditionSpec(parsed, values, notValues, where + ".values", where + ".notValues"));
    }
  }
  return rule;
}

// Field pairs (positive, negative) of Source and Operation and the attribute each tests.
const SOURCE_FIELDS: Array<string> = [
  "principals", "notPrincipals", "requestPrincipals", "notRequestPrincipals", "namespaces", "notNamespaces",
  "ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks",
];
const SOURCE_ATTRIBUTES: Array<Attribute> = [
  Attribute.SourcePrincipal, Attribute.RequestPrincipal, Attribute.SourceNamespace, Attribute.SourceIp, Attribute.RemoteIp,
];
const OPERATION_FIELDS: Array<string> = ["hosts", "notHosts", "ports", "notPorts", "methods", "notMethods", "paths", "notPaths"];
const OPERATION_ATTRIBUTES: Array<Attribute> = [Attribute.Host, Attribute.DestinationPort, Attribute.Method, Attribute.Path];

function parseFields(object: JsonValue, where: string, fields: Array<string>, attributes: Array<Attribute>): Array<ConditionSpec> | null {
  for (let i = 0; i < object.keys.length; i++) {
    const key = object.keys[i];
    if (!fields.includes(key)) {
      if (key == "serviceAccounts" || key == "notServiceAccounts" || key == "trustDomains" || key == "notTrustDomains") {
        return failConditions(where + "." + key + ": not supported by the wasmesh rbac filter; use principals/namespaces");
      }
      return failConditions(where + "." + key + ": unknown field, expected one of " + fields.join(", "));
    }
  }
  const out = new Array<ConditionSpec>();
  for (let f = 0; f < fields.length; f += 2) {
    const positive = fields[f];
    const negative = fields[f + 1];
    const values = stringList(object.get(positive), where + "." + positive);
    if (values === null) return null;
    const notValues = stringList(object.get(negative), where + "." + negative);
    if (notValues === null) return null;
    if (values.length == 0 && notValues.length == 0) continue;
    out.push(new ConditionSpec(new AttributeKey(attributes[f >> 1], new Array<string>()), values, notValues,
      where + "." + positive, where + "." + negative));
  }
  return out;
}

function parseProvider(value: JsonValue, where: string): ExtAuthzHttpProvider | null {
  context = "";
  if (!value.isObject()) return failProvider(where + ": expected {name, envoyExtAuthzHttp}");
  const name = value.get("name");
  if (name === null || !name.isString() || name.stringValue.length == 0) return failProvider(where + ".name: expected a non-empty string");
  for (let i = 0; i < value.keys.length; i++) {
    const key = value.keys[i];
    if (key == "name" || key == "envoyExtAuthzHttp") continue;
    if (key == "envoyExtAuthzGrpc") return failProvider(where + ".envoyExtAuthzGrpc: only the HTTP ext_authz provider (envoyExtAuthzHttp) is supported");
    return failProvider(where + "." + key + ": unknown field, expected name or envoyExtAuthzHttp");
  }
  const http = value.get("envoyExtAuthzHttp");
  if (http === null || !http.isObject()) return failProvider(where + ".envoyExtAuthzHttp: expected an object");
  const at = where + ".envoyExtAuthzHttp";
  if (!onlyKeys(http, ["service", "port", "cluster", "timeout", "pathPrefix", "failOpen", "statusOnError",
    "includeRequestHeadersInCheck", "includeAdditionalHeadersInCheck", "headersToUpstreamOnAllow", "headersToDownstreamOnDeny"], at)) return null;
  const provider = new ExtAuthzHttpProvider(name.stringValue);
  const service = http.get("service");
  if (service === null || !service.isString() || service.stringValue.length == 0) return failProvider(at + ".service: expected a host name such as ext-authz.foo.svc.cluster.local");
  provider.service = service.stringValue;
  const port = http.get("port");
  if (port === null || !port.isNumber() || port.numberValue != Math.floor(port.numberValue) || port.numberValue < 1 || port.numberValue > 65535) {
    return failProvider(at + ".port: expected an integer from 1 to 65535");
  }
  provider.port = <i32>port.numberValue;
  const cluster = http.get("cluster");
  if (cluster !== null) {
    if (!cluster.isString() || cluster.stringValue.length == 0) return failProvider(at + ".cluster: expected a non-empty string");
    provider.cluster = cluster.stringValue;
  } else {
    // The Envoy cluster Istio generates for a service port.
    provider.cluster = "outbound|" + provider.port.toString() + "||" + provider.service;
  }
  const timeout = http.get("timeout");
  if (timeout !== null) {
    const ms = timeout.isString() ? parseDurationMs(timeout.stringValue) : -1;
    if (ms <= 0) return failProvider(at + ".timeout: expected a positive duration such as \"0.5s\" or \"200ms\", got " + describeJson(timeout));
    provider.timeoutMs = <u32>ms;
  }
  const prefix = http.get("pathPrefix");
  if (prefix !== null) {
    if (!prefix.isString() || (prefix.stringValue.length > 0 && !prefix.stringValue.startsWith("/"))) return failProvider(at + ".pathPrefix: expected a path starting with \"/\"");
    provider.pathPrefix = prefix.stringValue;
  }
  const failOpen = http.get("failOpen");
  if (failOpen !== null && (!failOpen.isBool() || failOpen.boolValue)) {
    return failProvider(at + ".failOpen: must be false: the wasmesh rbac filter fails closed when the authorizer is unreachable");
  }
  const status = http.get("statusOnError");
  if (status !== null) {
    const code = status.isString() ? parseStatus(status.stringValue) : -1;
    if (code < 0) return failProvider(at + ".statusOnError: expected an HTTP status from 400 to 599 as a string, got " + describeJson(status));
    provider.statusOnError = <u32>code;
  }
  const include = headerPatternList(http.get("includeRequestHeadersInCheck"), at + ".includeRequestHeadersInCheck");
  if (include === null) return null;
  provider.includeRequestHeadersInCheck = include;
  const upstream = headerPatternList(http.get("headersToUpstreamOnAllow"), at + ".headersToUpstreamOnAllow");
  if (upstream === null) return null;
  provider.headersToUpstreamOnAllow = upstream;
  const downstream = headerPatternList(http.get("headersToDownstreamOnDeny"), at + ".headersToDownstreamOnDeny");
  if (downstream === null) return null;
  provider.headersToDownstreamOnDeny = downstream;
  const additional = http.get("includeAdditionalHeadersInCheck");
  if (additional !== null) {
    if (!additional.isObject()) return failProvider(at + ".includeAdditionalHeadersInCheck: expected an object of header name to value");
    for (let i = 0; i < additional.keys.length; i++) {
      const v = additional.values[i];
      if (!v.isString()) return failProvider(at + ".includeAdditionalHeadersInCheck." + additional.keys[i] + ": expected a string");
      provider.includeAdditionalHeadersInCheck.push(asciiLower(additional.keys[i]));
      provider.includeAdditionalHeadersInCheck.push(v.stringValue);
    }
  }
  return provider;
}

/** "1.5s", "200ms", "2m" (protobuf Duration JSON uses seconds with a fraction: "0.200s"). */
export function parseDurationMs(text: string): i64 {
  let unitStart = text.length;
  while (unitStart > 0) {
    const c = text.charCodeAt(unitStart - 1);
    if ((c >= 0x30 && c <= 0x39) || c == 0x2e) break;
    unitStart--;
  }
  const number = text.substring(0, unitStart);
  const unit = text.substring(unitStart);
  if (number.length == 0) return -1;
  let whole: i64 = 0;
  let fraction: f64 = 0;
  let scale: f64 = 0.1;
  let seenDot = false;
  for (let i = 0; i < number.length; i++) {
    const c = number.charCodeAt(i);
    if (c == 0x2e) { if (seenDot) return -1; seenDot = true; continue; }
    if (seenDot) { fraction += <f64>(c - 0x30) * scale; scale /= 10; } else { whole = whole * 10 + (c - 0x30); if (whole > 1000000000) return -1; }
  }
  const value = <f64>whole + fraction;
  if (unit == "ms") return <i64>Math.round(value);
  if (unit == "s") return <i64>Math.round(value * 1000);
  if (unit == "m") return <i64>Math.round(value * 60000);
  return -1;
}

function parseStatus(text: string): i32 {
  if (text.length != 3) return -1;
  let v = 0;
  for (let i = 0; i < 3; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    v = v * 10 + (c - 0x30);
  }
  return v >= 400 && v <= 599 ? v : -1;
}

function headerPatternList(value: JsonValue | null, where: string): Array<string> | null {
  const list = stringList(value, where);
  if (list === null) return null;
  for (let i = 0; i < list.length; i++) list[i] = asciiLower(list[i]);
  return list;
}

/** A list of non-empty strings (Istio validation refuses empty values); absent → empty list. */
function stringList(value: JsonValue | null, where: string): Array<string> | null {
  const out = new Array<string>();
  if (value === null) return out;
  if (!value.isArray()) return failStrings(where + ": expected a list of strings");
  for (let i = 0; i < value.items.length; i++) {
    const item = value.items[i];
    if (!item.isString() || item.stringValue.length == 0) return failStrings(where + "[" + i.toString() + "]: expected a non-empty string, got " + describeJson(item));
    out.push(item.stringValue);
  }
  return out;
}

function onlyKeys(object: JsonValue, allowed: Array<string>, where: string): bool {
  const error = unknownFieldError(object, allowed, where);
  if (error.length > 0) setError(error);
  return error.length == 0;
}

function setError(message: string): void {
  configError = context.length > 0 ? context + ": " + message : message;
}

function fail(message: string): RbacConfig | null { setError(message); return null; }
function failPolicy(message: string): PolicySpec | null { setError(message); return null; }
function failRule(message: string): RuleSpec | null { setError(message); return null; }
function failConditions(message: string): Array<ConditionSpec> | null { setError(message); return null; }
function failStrings(message: string): Array<string> | null { setError(message); return null; }
function failProvider(message: string): ExtAuthzHttpProvider | null { setError(message); return null; }

/** Used by the compiler for errors in values: prefixes the policy. */
export function compileError(policy: PolicySpec, message: string): string {
  return "policy \"" + policy.id + "\": " + message;
}

