/**
 * Istio's evaluation order (istio.io/latest/docs/concepts/security/#implicit-enablement and
 * reference/config/security/authorization-policy): CUSTOM first, then DENY, then ALLOW;
 * no ALLOW policy → allow; ALLOW policies and none matches → deny. A policy with no rules
 * matches nothing (so an ALLOW `spec: {}` denies everything) and a rule `{}` matches everything.
 * AUDIT policies and dry-run policies never change the decision; they are counted.
 */
import { CompiledPolicies, CompiledPolicy, CompiledRule } from "./compiler";
import { Action } from "./config";
import { increment } from "./metrics";
import { MatchSet, i32At } from "./match-set";

export enum Verdict { Allow = 0, Deny = 1 }

/**
 * An outcome. Built once per (policy, rule) when the configuration compiles (decisionFor) and
 * shared by every request it decides, so deciding allocates nothing; the denial details are
 * encoded on first use and kept.
 */
export class Decision {
  private detailsBytes: ArrayBuffer | null = null;

  constructor(
    readonly verdict: Verdict,
    /** The policy that decided, or null (no ALLOW matched / no policy at all). */
    readonly policy: CompiledPolicy | null,
    readonly rule: i32,
  ) {}

  /** Istio's Envoy policy id `ns[<ns>]-policy[<name>]-rule[<i>]`, or `none`. */
  describe(): string {
    const policy = this.policy;
    if (policy === null) return "none";
    return "ns[" + policy.spec.namespace + "]-policy[" + policy.spec.name + "]-rule[" + this.rule.toString() + "]";
  }

  /** Envoy RBAC's response code details for this denial, UTF-8 (rbac_filter.cc). */
  get deniedDetails(): ArrayBuffer {
    let bytes = this.detailsBytes;
    if (bytes === null) {
      bytes = String.UTF8.encode("rbac_access_denied_matched_policy[" + this.describe() + "]");
      this.detailsBytes = bytes;
    }
    return bytes;
  }
}

/** No ALLOW policy, or none matched (with enforced ALLOW policies present). */
const DEFAULT_ALLOW = new Decision(Verdict.Allow, null, -1);
const DEFAULT_DENY = new Decision(Verdict.Deny, null, -1);

/** The Decision of `policy`'s `rule`: Allow for ALLOW policies, Deny for DENY and CUSTOM. */
function decisionFor(policy: CompiledPolicy, rule: i32): Decision {
  const compiled = unchecked(policy.rules[rule]);
  let decision = compiled.decision;
  if (decision === null) {
    // First match of this rule under this configuration: built once, kept with the rule.
    decision = new Decision(policy.spec.action == Action.Allow ? Verdict.Allow : Verdict.Deny, policy, rule);
    compiled.decision = decision;
  }
  return decision;
}

function literalsHold(literals: Array<i32>, set: MatchSet): bool {
  for (let i = 0, n = literals.length; i < n; i++) {
    const literal = load<i32>(i32At(literals, i));
    if (set.has(literal >> 1) == ((literal & 1) != 0)) return false;
  }
  return true;
}

function anyHolds(alternatives: Array<Array<i32>>, set: MatchSet): bool {
  if (alternatives.length == 0) return true;
  for (let i = 0, n = alternatives.length; i < n; i++) if (literalsHold(unchecked(alternatives[i]), set)) return true;
  return false;
}

function ruleMatches(rule: CompiledRule, set: MatchSet): bool {
  return literalsHold(rule.when, set) && anyHolds(rule.froms, set) && anyHolds(rule.tos, set);
}

/**
 * Index of the first rule of `policy` the request matches, or -1. Callers skip policies that are
 * not candidates (candidates.ts): none of their rules can match.
 */
export function matchingRule(policy: CompiledPolicy, set: MatchSet): i32 {
  const rules = policy.rules;
  for (let i = 0, n = rules.length; i < n; i++) if (ruleMatches(unchecked(rules[i]), set)) return i;
  return -1;
}

function count(metric: u32): void {
  increment(metric);
}

/** The first enforced CUSTOM policy matched (ext_authz must be asked); counts dry-run ones. */
export function customPolicyToCheck(policies: CompiledPolicies, set: MatchSet): Decision | null {
  let found: Decision | null = null;
  if (policies.custom.length == 0) return found;
  for (let i = 0, n = set.candidateCount; i < n; i++) {
    const policy = unchecked(policies.bySerial[set.candidateAt(i)]);
    if (policy.spec.action != Action.Custom) continue;
    const rule = matchingRule(policy, set);
    if (rule < 0) continue;
    if (policy.spec.dryRun) { count(policy.shadowDeniedMetric); continue; }
    if (found === null) found = decisionFor(policy, rule);
  }
  return found;
}

/**
 * DENY then ALLOW, counting AUDIT and dry-run matches on the way. Only candidate policies are
 * evaluated, in configuration order (so "first" is the same as walking each action's list).
 */
export function decideLocally(policies: CompiledPolicies, set: MatchSet, shadow: ShadowOutcome): Decision {
  let deny: Decision | null = null;
  let anyDeny: Decision | null = null;
  let enforcedAllow: Decision | null = null;
  let anyAllow: Decision | null = null;
  for (let i = 0, n = set.candidateCount; i < n; i++) {
    const policy = unchecked(policies.bySerial[set.candidateAt(i)]);
    const action = policy.spec.action;
    if (action == Action.Custom) continue; // customPolicyToCheck's
    const rule = matchingRule(policy, set);
    if (rule < 0) continue;
    const dryRun = policy.spec.dryRun;
    if (action == Action.Audit) {
      count(policy.auditedMetric);
    } else if (action == Action.Deny) {
      if (dryRun) count(policy.shadowDeniedMetric);
      else if (deny === null) deny = decisionFor(policy, rule);
      if (anyDeny === null) anyDeny = decisionFor(policy, rule);
    } else {
      if (dryRun) count(policy.shadowAllowedMetric);
      else if (enforcedAllow === null) enforcedAllow = decisionFor(policy, rule);
      if (anyAllow === null) anyAllow = decisionFor(policy, rule);
    }
  }
  // What would happen if the dry-run policies were enforced too.
  shadow.decision = anyDeny !== null ? anyDeny : anyAllow !== null ? anyAllow : policies.allow.length > 0 ? DEFAULT_DENY : DEFAULT_ALLOW;
  if (deny !== null) return deny;
  if (enforcedAllow !== null) return enforcedAllow;
  return policies.enforcedAllowCount > 0 ? DEFAULT_DENY : DEFAULT_ALLOW;
}

export class ShadowOutcome {
  decision: Decision | null = null;
}
