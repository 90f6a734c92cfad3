/**
 * Which policies a request can possibly match, so that deciding does not walk the rules of
 * every policy (100 policies must not cost 100 rule walks).
 *
 * A rule holds only if every `when` literal holds, some `from` alternative holds and some `to`
 * alternative holds (compiler.ts). So any positive `when` literal is necessary, and so is "one
 * positive literal of each from (or to) alternative". Such a set of predicates is the rule's
 * trigger: a request that marks none of them cannot match the rule. Triggers are chosen at
 * compile time; a request then turns its marked predicates into candidate policies, and only
 * those are evaluated — with the full rule test, so the trigger only ever skips work, never
 * changes a decision. Rules without a trigger (`{}`, only negated fields) are always evaluated.
 */
import { Attribute } from "./attributes";
import { CompiledPolicies, CompiledPolicy, CompiledRule } from "./compiler";
import { MatchSet, i32At } from "./match-set";

/**
 * How few requests a predicate is likely to mark: the trigger prefers narrow predicates (a path
 * or a principal) over broad ones (a method, a `*`), so fewer policies become candidates.
 * Only a cost heuristic: any positive literal is a correct trigger.
 */
export function selectivity(attribute: Attribute, values: Array<string>): i32 {
  if (values.includes("*")) return 0;
  switch (attribute) {
    case Attribute.Method: return 1;
    case Attribute.DestinationPort: return 2;
    case Attribute.Host:
    case Attribute.SourceIp:
    case Attribute.RemoteIp:
    case Attribute.DestinationIp: return 3;
    default: return 4;
  }
}

/** The narrowest positive literal's predicate, or -1 when all are negated. */
function narrowestPositive(literals: Array<i32>, ranks: Array<i32>): i32 {
  let best = -1;
  for (let i = 0; i < literals.length; i++) {
    const literal = literals[i];
    if (literal & 1) continue;
    const id = literal >> 1;
    if (best < 0 || ranks[id] > ranks[best]) best = id;
  }
  return best;
}

/** One predicate per alternative, or null when some alternative has no positive literal. */
function perAlternative(alternatives: Array<Array<i32>>, ranks: Array<i32>): Array<i32> | null {
  if (alternatives.length == 0) return null;
  const out = new Array<i32>();
  for (let i = 0; i < alternatives.length; i++) {
    const id = narrowestPositive(alternatives[i], ranks);
    if (id < 0) return null;
    out.push(id);
  }
  return out;
}

/** The weakest predicate of a trigger bounds how many requests it lets through. */
function weakest(ids: Array<i32>, ranks: Array<i32>): i32 {
  let rank = i32.MAX_VALUE;
  for (let i = 0; i < ids.length; i++) rank = min(rank, ranks[ids[i]]);
  return rank;
}

/** The rule's trigger predicates, or null when it has none (evaluate it for every request). */
export function ruleTrigger(rule: CompiledRule, ranks: Array<i32>): Array<i32> | null {
  const when = narrowestPositive(rule.when, ranks);
  if (when >= 0) return [when];
  const froms = perAlternative(rule.froms, ranks);
  const tos = perAlternative(rule.tos, ranks);
  if (froms === null) return tos;
  if (tos === null) return froms;
  const fromRank = weakest(froms, ranks);
  const toRank = weakest(tos, ranks);
  if (fromRank != toRank) return fromRank > toRank ? froms : tos;
  return froms.length <= tos.length ? froms : tos;
}

/** Records at compile time that `policy` must be evaluated when `rule` may match. */
export function addTrigger(policies: CompiledPolicies, policy: CompiledPolicy, rule: CompiledRule, ranks: Array<i32>): void {
  const trigger = ruleTrigger(rule, ranks);
  if (trigger === null) {
    const always = policies.alwaysEvaluated;
    if (always.length == 0 || always[always.length - 1] != policy.serial) always.push(policy.serial);
    return;
  }
  const triggeredBy = policies.triggeredBy;
  for (let i = 0; i < trigger.length; i++) {
    const id = trigger[i];
    while (triggeredBy.length <= id) triggeredBy.push(new Array<i32>());
    const serials = triggeredBy[id];
    if (serials.length == 0 || serials[serials.length - 1] != policy.serial) serials.push(policy.serial);
  }
}

/** After the indexes marked the request's predicates: marks the policies it may match. */
export function markCandidates(policies: CompiledPolicies, set: MatchSet): void {
  const always = policies.alwaysEvaluated;
  for (let i = 0, n = always.length; i < n; i++) set.markCandidate(unchecked(always[i]));
  const triggeredBy = policies.triggeredBy;
  const triggerCount = triggeredBy.length;
  for (let i = 0, n = set.markedCount; i < n; i++) {
    const id = set.markedAt(i);
    if (id >= triggerCount) continue;
    const serials = unchecked(triggeredBy[id]);
    for (let j = 0, m = serials.length; j < m; j++) set.markCandidate(load<i32>(i32At(serials, j)));
  }
  set.sortCandidates();
}
