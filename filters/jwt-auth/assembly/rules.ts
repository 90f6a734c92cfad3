/**
 * Requirement selection (Envoy RequirementRule: first matching rule wins; path match is exact or
 * prefix on the path without the query, optionally restricted to methods). No matching rule: no
 * JWT requirement (the request passes, as in Envoy).
 */
import { FilterConfig, Rule } from "./config";

export function pathWithoutQuery(path: string): string {
  const q = path.indexOf("?");
  const h = path.indexOf("#");
  let end = path.length;
  if (q >= 0) end = q;
  if (h >= 0 && h < end) end = h;
  return path.substring(0, end);
}

export function selectRule(config: FilterConfig, path: string, method: string): Rule | null {
  const bare = pathWithoutQuery(path);
  for (let i = 0; i < config.rules.length; i++) {
    const rule = config.rules[i];
    if (rule.path.length > 0 ? bare != rule.path : !bare.startsWith(rule.prefix)) continue;
    if (rule.methods.length > 0 && !rule.methods.includes(method)) continue;
    return rule;
  }
  return null;
}
