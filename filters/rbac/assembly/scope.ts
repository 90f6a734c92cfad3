/**
 * Workload-scoped configurations (rootNamespace set): keep exactly the policies istiod would
 * apply to this proxy (filters/lib/workload.ts), before they are compiled. One rendered object
 * can then serve workloads whose policies overlap — a mesh-wide DENY next to an app's ALLOW —
 * and each proxy still decides as Istio would: ALLOW policies OR'ed, any DENY denying, with
 * only its own policies in play.
 */
import { NO_WORKLOAD, appliesHere, workloadNamespace } from "../../lib/workload";
import { PolicySpec, RbacConfig } from "./config";

/** Why the last selectPolicies failed. */
export let scopeError: string = "";

/** Narrows config.policies to this workload's; false (scopeError set) without node identity. */
export function selectPolicies(config: RbacConfig): bool {
  if (config.rootNamespace.length == 0) return true;
  const namespace = workloadNamespace();
  if (namespace === null) {
    scopeError = NO_WORKLOAD;
    return false;
  }
  const kept = new Array<PolicySpec>();
  for (let i = 0; i < config.policies.length; i++) {
    const policy = config.policies[i];
    if (appliesHere(policy.namespace, policy.selector, config.rootNamespace, namespace)) kept.push(policy);
  }
  config.workload = namespace;
  config.scopedOut = config.policies.length - kept.length;
  config.policies = kept;
  return true;
}
