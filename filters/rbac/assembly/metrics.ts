/**
 * Counters, defined once at onConfigure (define_metric is not free; increments are):
 *   wasmesh_rbac.allowed / .denied / .bad_request / .ext_authz_error   every request
 *   wasmesh_rbac.shadow_allowed / .shadow_denied                         only with dry-run policies:
 *       the decision if the dry-run policies were enforced (Envoy RBAC shadow engine)
 *   wasmesh_rbac.policy.<ns>.<name>.<counter>                             per policy:
 *       ALLOW: allowed, shadow_allowed · DENY: denied, shadow_denied · AUDIT: audited ·
 *       CUSTOM: allowed, denied (the authorizer's answer), shadow_denied (dry-run match)
 */
import { MetricTypeValues, WasmResultValues, define_metric, increment_metric } from "@solo-io/proxy-runtime/assembly";
import { CompiledPolicies, CompiledPolicy, NO_METRIC } from "./compiler";
import { Action } from "./config";

export class GlobalMetrics {
  allowed: u32 = define("wasmesh_rbac.allowed");
  denied: u32 = define("wasmesh_rbac.denied");
  badRequest: u32 = define("wasmesh_rbac.bad_request");
  extAuthzError: u32 = define("wasmesh_rbac.ext_authz_error");
  shadowAllowed: u32 = define("wasmesh_rbac.shadow_allowed");
  shadowDenied: u32 = define("wasmesh_rbac.shadow_denied");
}

function define(name: string): u32 {
  const result = define_metric(MetricTypeValues.Counter, name);
  return result.result == WasmResultValues.Ok ? result.metric_id : NO_METRIC;
}

export function increment(metric: u32): void {
  if (metric != NO_METRIC) increment_metric(metric, 1);
}

export function definePolicyMetrics(policies: CompiledPolicies): void {
  definePolicies(policies.allow);
  definePolicies(policies.deny);
  definePolicies(policies.audit);
  definePolicies(policies.custom);
}

function definePolicies(list: Array<CompiledPolicy>): void {
  for (let i = 0; i < list.length; i++) {
    const policy = list[i];
    const prefix = "wasmesh_rbac.policy." + policy.spec.namespace + "." + policy.spec.name + ".";
    switch (policy.spec.action) {
      case Action.Allow:
        if (policy.spec.dryRun) policy.shadowAllowedMetric = define(prefix + "shadow_allowed");
        else policy.allowedMetric = define(prefix + "allowed");
        break;
      case Action.Deny:
        if (policy.spec.dryRun) policy.shadowDeniedMetric = define(prefix + "shadow_denied");
        else policy.deniedMetric = define(prefix + "denied");
        break;
      case Action.Audit:
        policy.auditedMetric = define(prefix + "audited");
        break;
      default:
        if (policy.spec.dryRun) {
          policy.shadowDeniedMetric = define(prefix + "shadow_denied");
        } else {
          policy.allowedMetric = define(prefix + "allowed");
          policy.deniedMetric = define(prefix + "denied");
        }
    }
  }
}
