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

/**
 * selectRule on the raw `:path` bytes, for an all-ASCII path (the caller checks): UTF-8 decoding
 * of ASCII is the identity, so comparing a rule's UTF-16 code units with the bytes gives exactly
 * selectRule's answer without decoding the path or cutting its query off into new strings.
 */
export function selectRuleAscii(config: FilterConfig, pathPtr: usize, pathLength: i32, method: string): Rule | null {
  let bare = pathLength;
  for (let i = 0; i < pathLength; i++) {
    const c = load<u8>(pathPtr + <usize>i);
    if (c == 0x3f /* ? */ || c == 0x23 /* # */) { bare = i; break; }
  }
  for (let i = 0; i < config.rules.length; i++) {
    const rule = config.rules[i];
    const exact = rule.path.length > 0;
    const pattern = exact ? rule.path : rule.prefix;
    if (exact ? pattern.length != bare : pattern.length > bare) continue;
    if (!asciiBytesStartWith(pathPtr, pattern)) continue;
    if (rule.methods.length > 0 && !rule.methods.includes(method)) continue;
    return rule;
  }
  return null;
}

function asciiBytesStartWith(ptr: usize, pattern: string): bool {
  for (let i = 0; i < pattern.length; i++) {
    if (<i32>load<u8>(ptr + <usize>i) != pattern.charCodeAt(i)) return false;
  }
  return true;
}
