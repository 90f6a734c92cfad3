/**
 * Istio's evaluation order (istio.io/latest/docs/concepts/security/#implicit-enablement and
 * reference/config/security/authorization-policy): CUSTOM first, then DENY, then ALLOW;
 * no ALLOW policy → allow; ALLOW policies and none matches → deny. A policy with no rules
 * matches nothing (so an ALLOW `spec: {}` denies everything) and a rule `{}` matches everything.
 * AUDIT policies and dry-run policies never change the decision; they are counted.
 */
import { CompiledPolicies, CompiledPolicy, CompiledRule } from "./compiler";
import { increment } from "./metrics";
import { MatchSet } from "./match-set";

export enum Verdict { Allow = 0, Deny = 1 }

export class Decision {
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
}

function literalsHold(literals: Array<i32>, set: MatchSet): bool {
  for (let i = 0, n = literals.length; i < n; i++) {
    const literal = unchecked(literals[i]);
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

/** Index of the first rule of `policy` the request matches, or -1. */
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
  for (let i = 0; i < policies.custom.length; i++) {
    const policy = policies.custom[i];
    const rule = matchingRule(policy, set);
    if (rule < 0) continue;
    if (policy.spec.dryRun) { count(policy.shadowDeniedMetric); continue; }
    if (found === null) found = new Decision(Verdict.Deny, policy, rule);
  }
  return found;
}

/** DENY then ALLOW, counting AUDIT and dry-run matches on the way. */
export function decideLocally(policies: CompiledPolicies, set: MatchSet, shadow: ShadowOutcome): Decision {
  for (let i = 0; i < policies.audit.length; i++) {
    const policy = policies.audit[i];
    if (matchingRule(policy, set) >= 0) count(policy.auditedMetric);
  }
  let decision: Decision | null = null;
  shadow.reset();
  for (let i = 0; i < policies.deny.length; i++) {
    const policy = policies.deny[i];
    const rule = matchingRule(policy, set);
    if (rule < 0) continue;
    if (policy.spec.dryRun) {
      count(policy.shadowDeniedMetric);
      if (shadow.decision === null) shadow.decision = new Decision(Verdict.Deny, policy, rule);
    } else if (decision === null) {
      decision = new Decision(Verdict.Deny, policy, rule);
      if (shadow.decision === null) shadow.decision = decision;
    }
  }
  let enforcedAllow: Decision | null = null;
  let anyAllow: Decision | null = null;
  for (let i = 0; i < policies.allow.length; i++) {
    const policy = policies.allow[i];
    const rule = matchingRule(policy, set);
    if (rule < 0) continue;
    if (policy.spec.dryRun) {
      count(policy.shadowAllowedMetric);
      if (anyAllow === null) anyAllow = new Decision(Verdict.Allow, policy, rule);
    } else {
      if (enforcedAllow === null) enforcedAllow = new Decision(Verdict.Allow, policy, rule);
      if (anyAllow === null) anyAllow = enforcedAllow;
    }
  }
  // What would happen if the dry-run policies were enforced too.
  if (shadow.decision === null) {
    if (anyAllow !== null) shadow.decision = anyAllow;
    else shadow.decision = new Decision(policies.allow.length > 0 ? Verdict.Deny : Verdict.Allow, null, -1);
  }
  if (decision !== null) return decision;
  if (enforcedAllow !== null) return enforcedAllow;
  return new Decision(policies.enforcedAllowCount > 0 ? Verdict.Deny : Verdict.Allow, null, -1);
}

export class ShadowOutcome {
  decision: Decision | null = null;
  reset(): void { this.decision = null; }
}
