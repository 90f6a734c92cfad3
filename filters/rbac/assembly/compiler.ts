/**
 * Compiles the configuration once (onConfigure) into a request-cost-independent form:
 * every value of every policy becomes an entry in one index per request attribute
 * (exact maps, sorted prefix/suffix length tables, CIDR tries); each field of a
 * source/operation/`when` becomes a predicate id, and each rule a small list of predicate
 * literals. A request walks each attribute index once, then rules are bit tests.
 * Shape of a rule follows Istio's model.go: (OR of sources) AND (OR of operations) AND every
 * `when`, each source/operation an AND of its fields, each field `values` OR'ed and `notValues`
 * negated.
 */
import { Attribute } from "./attributes";
import { addTrigger, selectivity } from "./candidates";
import { CidrIndex, parseCidr } from "./cidr";
import { Decision } from "./decision";
import { Action, ConditionSpec, PolicySpec, RbacConfig, compileError } from "./config";
import { NamespaceIndex, PrincipalIndex, RequestPrincipalIndex } from "./identity";
import { MatchSet } from "./match-set";
import { PathTemplateIndex, compilePathTemplate, containsPathTemplate, templateError } from "./path-template";
import { Pattern, PatternKind, PatternTable, StringIndex, parsePattern } from "./string-index";

/** Marks a metric that was not defined (ids themselves may be 0). */
export const NO_METRIC: u32 = u32.MAX_VALUE;

/** A literal: predicate id << 1, low bit set when negated (a `not*` field / `notValues`). */
export class CompiledRule {
  when: Array<i32> = new Array();
  froms: Array<Array<i32>> = new Array();
  tos: Array<Array<i32>> = new Array();
  /** This rule's outcome, built on its first match (decision.ts decisionFor): nothing per request. */
  decision: Decision | null = null;
}

export class CompiledPolicy {
  rules: Array<CompiledRule> = new Array();
  /** Metric ids, NO_METRIC when not defined for this action. */
  allowedMetric: u32 = NO_METRIC;
  deniedMetric: u32 = NO_METRIC;
  shadowAllowedMetric: u32 = NO_METRIC;
  shadowDeniedMetric: u32 = NO_METRIC;
  auditedMetric: u32 = NO_METRIC;
  /** Position in the configuration: the policy's slot in MatchSet's candidate stamps. */
  constructor(readonly spec: PolicySpec, readonly serial: i32) {}
}

export class ClaimIndex {
  constructor(readonly path: Array<string>, readonly index: StringIndex) {}
}

export class HeaderIndex {
  constructor(readonly name: string, readonly index: StringIndex) {}
}

export class CompiledPolicies {
  principals: PrincipalIndex = new PrincipalIndex();
  namespaces: NamespaceIndex = new NamespaceIndex();
  requestPrincipals: RequestPrincipalIndex = new RequestPrincipalIndex();
  sourceIps: CidrIndex = new CidrIndex();
  remoteIps: CidrIndex = new CidrIndex();
  destinationIps: CidrIndex = new CidrIndex();
  /** By decimal port: exact patterns of the string index (no extra table kind in the module). */
  ports: StringIndex = new StringIndex();
  // Istio's HostMatcher: case-insensitive; `*` is Envoy present_match.
  hosts: StringIndex = new StringIndex(true, true);
  methods: StringIndex = new StringIndex(false, true);
  paths: StringIndex = new StringIndex();
  pathTemplates: PathTemplateIndex = new PathTemplateIndex();
  headers: Array<HeaderIndex> = new Array();
  claims: Array<ClaimIndex> = new Array();
  sni: StringIndex = new StringIndex();

  /** Every policy by serial (configuration order): how candidates are evaluated. */
  bySerial: Array<CompiledPolicy> = new Array();
  custom: Array<CompiledPolicy> = new Array();
  deny: Array<CompiledPolicy> = new Array();
  allow: Array<CompiledPolicy> = new Array();
  audit: Array<CompiledPolicy> = new Array();
  /** Enforced ALLOW policies exist: a request that matches none of them is denied. */
  enforcedAllowCount: i32 = 0;
  dryRunCount: i32 = 0;
  predicateCount: i32 = 0;
  policyCount: i32 = 0;
  /** By predicate id: serials of the policies a request marking it may match (candidates.ts). */
  triggeredBy: Array<Array<i32>> = new Array();
  /** Serials of policies with a rule no predicate triggers: evaluated for every request. */
  alwaysEvaluated: Array<i32> = new Array();

  get needsPrincipal(): bool { return !this.principals.isEmpty || !this.namespaces.isEmpty; }
  get needsJwt(): bool { return !this.requestPrincipals.isEmpty || this.claims.length > 0; }

  newMatchSet(): MatchSet { return new MatchSet(this.predicateCount, this.policyCount); }
}

/** Why the last compilePolicies returned null. */
export let compileErrorMessage: string = "";

let compiled: CompiledPolicies = new CompiledPolicies();
let failed: bool = false;
/** By predicate id: how narrow it is (candidates.ts selectivity), to choose rule triggers. */
let ranks: Array<i32> = new Array();
/** Value lists already compiled, by attribute and values: their predicate id. */
let predicateKeys: PatternTable = new PatternTable(PatternKind.Exact);

export function compilePolicies(config: RbacConfig): CompiledPolicies | null {
  compiled = new CompiledPolicies();
  compiled.policyCount = config.policies.length;
  failed = false;
  ranks = new Array();
  predicateKeys = new PatternTable(PatternKind.Exact);
  for (let p = 0; p < config.policies.length; p++) {
    const spec = config.policies[p];
    const policy = new CompiledPolicy(spec, p);
    compiled.bySerial.push(policy);
    for (let r = 0; r < spec.rules.length; r++) {
      const ruleSpec = spec.rules[r];
      const rule = new CompiledRule();
      for (let i = 0; i < ruleSpec.when.length; i++) addCondition(spec, ruleSpec.when[i], rule.when);
      for (let i = 0; i < ruleSpec.froms.length; i++) rule.froms.push(addConditions(spec, ruleSpec.froms[i]));
      for (let i = 0; i < ruleSpec.tos.length; i++) rule.tos.push(addConditions(spec, ruleSpec.tos[i]));
      if (failed) return null;
      policy.rules.push(rule);
      addTrigger(compiled, policy, rule, ranks);
    }
    if (spec.dryRun) compiled.dryRunCount++;
    switch (spec.action) {
      case Action.Allow:
        compiled.allow.push(policy);
        if (!spec.dryRun) compiled.enforcedAllowCount++;
        break;
      case Action.Deny: compiled.deny.push(policy); break;
      case Action.Audit: compiled.audit.push(policy); break;
      default: compiled.custom.push(policy);
    }
  }
  // Istio supports one ext_authz provider per workload (a second CUSTOM provider is an error).
  for (let i = 1; i < compiled.custom.length; i++) {
    if (compiled.custom[i].spec.provider != compiled.custom[0].spec.provider) {
      compileErrorMessage = compileError(compiled.custom[i].spec, "spec.provider.name: \"" + compiled.custom[i].spec.provider +
        "\" differs from \"" + compiled.custom[0].spec.provider + "\" used by policy \"" + compiled.custom[0].spec.id +
        "\": only one CUSTOM provider per workload is supported, as in Istio");
      return null;
    }
  }
  return compiled;
}

function addConditions(spec: PolicySpec, conditions: Array<ConditionSpec>): Array<i32> {
  const literals = new Array<i32>();
  for (let i = 0; i < conditions.length; i++) addCondition(spec, conditions[i], literals);
  return literals;
}

function addCondition(spec: PolicySpec, condition: ConditionSpec, literals: Array<i32>): void {
  if (failed) return;
  if (condition.values.length > 0) literals.push(predicate(spec, condition, condition.values, condition.field) << 1);
  if (condition.notValues.length > 0) literals.push((predicate(spec, condition, condition.notValues, condition.notField) << 1) | 1);
}

/**
 * The predicate "the attribute matches one of `values`". Interned: the same list on the same
 * attribute (`methods: [GET]` in fifty policies, `values` of one rule and `notValues` of
 * another) is one predicate, marked once per request instead of once per policy.
 */
function predicate(spec: PolicySpec, condition: ConditionSpec, values: Array<string>, field: string): i32 {
  const key = condition.key;
  const text = key.attribute.toString() + lengthPrefixed(key.argument) + "|" + lengthPrefixed(values);
  const known = predicateKeys.idOf(text);
  if (known >= 0) return known;
  const id = compiled.predicateCount++;
  predicateKeys.add(text, id);
  ranks.push(selectivity(key.attribute, values));
  for (let i = 0; i < values.length && !failed; i++) addValue(spec, condition, values[i], field + "[" + i.toString() + "]", id);
  return id;
}

function refuse(spec: PolicySpec, field: string, value: string, expected: string): void {
  compileErrorMessage = compileError(spec, field + ": \"" + value + "\" " + expected);
  failed = true;
}

function addValue(spec: PolicySpec, condition: ConditionSpec, value: string, field: string, id: i32): void {
  const attribute = condition.key.attribute;
  switch (attribute) {
    case Attribute.SourceIp:
    case Attribute.RemoteIp:
    case Attribute.DestinationIp: {
      const range = parseCidr(value);
      if (range === null) { refuse(spec, field, value, "is not an IP address or CIDR range (expected 10.0.0.0/8, 1.2.3.4 or 2001:db8::/32)"); return; }
      const index = attribute == Attribute.SourceIp ? compiled.sourceIps : attribute == Attribute.RemoteIp ? compiled.remoteIps : compiled.destinationIps;
      index.add(range, id);
      return;
    }
    case Attribute.DestinationPort: {
      const port = parsePort(value);
      if (port < 0) { refuse(spec, field, value, "is not a port (expected an integer from 0 to 65535)"); return; }
      compiled.ports.add(new Pattern(PatternKind.Exact, port.toString()), id);
      return;
    }
    case Attribute.SourceNamespace:
      compiled.namespaces.add(value, id);
      return;
    case Attribute.RequestPrincipal:
      compiled.requestPrincipals.add(value, id);
      return;
    case Attribute.Path:
      if (containsPathTemplate(value)) {
        const template = compilePathTemplate(value);
        if (template === null) { refuse(spec, field, value, "is not a valid path template: " + templateError); return; }
        compiled.pathTemplates.add(template, id);
        return;
      }
      break;
    default:
      break;
  }
  const pattern = parsePattern(value);
  if (pattern === null) { refuse(spec, field, value, "has \"*\" in the middle: Istio allows it only alone, as a prefix (*suffix) or as a suffix (prefix*)"); return; }
  switch (attribute) {
    case Attribute.SourcePrincipal: compiled.principals.add(pattern, id); break;
    case Attribute.Host: compiled.hosts.add(pattern, id); break;
    case Attribute.Method: compiled.methods.add(pattern, id); break;
    case Attribute.Path: compiled.paths.add(pattern, id); break;
    case Attribute.Sni: compiled.sni.add(pattern, id); break;
    case Attribute.Header: headerIndex(condition.key.argument[0]).add(pattern, id); break;
    case Attribute.Audience: claimIndex(["aud"]).add(pattern, id); break;
    case Attribute.Presenter: claimIndex(["azp"]).add(pattern, id); break;
    case Attribute.Claim: claimIndex(condition.key.argument).add(pattern, id); break;
    default: refuse(spec, field, value, "cannot be matched (internal: unhandled attribute)");
  }
}

function headerIndex(name: string): StringIndex {
  for (let i = 0; i < compiled.headers.length; i++) if (compiled.headers[i].name == name) return compiled.headers[i].index;
  // Envoy HeaderMatcher: `*` is present_match (an empty value is present).
  const index = new StringIndex(false, true);
  compiled.headers.push(new HeaderIndex(name, index));
  return index;
}

function claimIndex(path: Array<string>): StringIndex {
  const key = path.join("\0");
  for (let i = 0; i < compiled.claims.length; i++) if (compiled.claims[i].path.join("\0") == key) return compiled.claims[i].index;
  const index = new StringIndex();
  compiled.claims.push(new ClaimIndex(path, index));
  return index;
}

/** `3:abc1:d`: an unambiguous key for a list whatever characters its strings hold. */
function lengthPrefixed(list: Array<string>): string {
  let out = "";
  for (let i = 0; i < list.length; i++) out += list[i].length.toString() + ":" + list[i];
  return out;
}

/** Istio convertToPort: a decimal integer in [0, 65535]. */
function parsePort(text: string): i32 {
  if (text.length == 0 || text.length > 5) return -1;
  let v = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    v = v * 10 + (c - 0x30);
  }
  return v <= 65535 ? v : -1;
}

