/**
 * Counters, defined once per configuration in onConfigure (define_metric is not free; increments are):
 *   wasmesh_header_router.no_match                       requests no rule matched
 *   wasmesh_header_router.rule.<virtual service>.<rule>  requests each rule decided
 *   wasmesh_header_router.destination.<cluster>          requests routed to each destination
 *   wasmesh_header_router.fault.delayed / .aborted       fault injection applied
 */
import { MetricTypeValues, WasmResultValues, define_metric, increment_metric } from "@solo-io/proxy-runtime/assembly";
import { RouterConfig } from "./model";

export const NO_METRIC: u32 = 0xffffffff;

function define(name: string): u32 {
  const result = define_metric(MetricTypeValues.Counter, name);
  return result.result == WasmResultValues.Ok ? result.metric_id : NO_METRIC;
}

export function increment(metric: u32): void {
  if (metric != NO_METRIC) increment_metric(metric, 1);
}

export class RouterMetrics {
  noMatch: u32 = define("wasmesh_header_router.no_match");
  faultDelayed: u32 = define("wasmesh_header_router.fault.delayed");
  faultAborted: u32 = define("wasmesh_header_router.fault.aborted");
}

/** Defines every counter and hands each rule and destination its id (no lookup per request). */
export function defineRouterMetrics(config: RouterConfig): RouterMetrics {
  const metrics = new RouterMetrics();
  const clusterMetrics = new Map<string, u32>();
  for (let i = 0; i < config.clusters.length; i++) {
    clusterMetrics.set(config.clusters[i], define("wasmesh_header_router.destination." + config.clusters[i]));
  }
  for (let i = 0; i < config.virtualServices.length; i++) {
    const vs = config.virtualServices[i];
    for (let r = 0; r < vs.rules.length; r++) {
      const rule = vs.rules[r];
      rule.metric = define("wasmesh_header_router.rule." + vs.name + "." + rule.name);
      for (let d = 0; d < rule.route.length; d++) rule.route[d].metric = clusterMetrics.get(rule.route[d].cluster);
    }
  }
  return metrics;
}
