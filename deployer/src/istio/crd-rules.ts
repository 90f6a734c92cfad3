import { CRD_RULES } from './crd-rules.gen.js';

/**
 * The checks of Istio's CRDs that @kubernetes-models/istio's compiled validators lack, as a table
 * (crd-rules.gen.ts, generated from Istio's CRDs by scripts/istio-crd-rules.ts and cross-checked
 * against them by test/istio/packaged-strict.test.ts): CEL `x-kubernetes-validations`,
 * `x-kubernetes-preserve-unknown-fields` and `x-kubernetes-list-type: map` keys.
 */
export interface CrdRule {
  /** The CEL expression, verbatim from the CRD. */
  readonly rule: string;
  readonly message?: string;
}

export interface CrdRuleSet {
  readonly group: string;
  readonly kind: string;
  readonly versions: readonly string[];
  /** Where in the resource: `spec.rules[].from[].source` (`[]` every item, `{}` every map value). */
  readonly path: string;
  readonly rules?: readonly CrdRule[];
  readonly preserveUnknownFields?: true;
  readonly listMapKeys?: readonly string[];
}

const cache = new Map<string, readonly CrdRuleSet[]>();

/** The rule sets of one kind and version. */
export function crdRulesFor(group: string, version: string, kind: string): readonly CrdRuleSet[] {
  const key = `${group}/${version}/${kind}`;
  let sets = cache.get(key);
  if (!sets) {
    sets = CRD_RULES.filter((s) => s.group === group && s.kind === kind && s.versions.includes(version));
    cache.set(key, sets);
  }
  return sets;
}
