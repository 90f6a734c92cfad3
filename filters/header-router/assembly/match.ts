/**
 * Istio HTTPMatchRequest against one request: every field of a match entry must hold. Request
 * values are spans of the host's header bytes (request.ts), compared with the byte forms
 * compile.ts built; only JWT claims and the peer principal are strings.
 */
import { MatchKind, MatchSpec, NamedMatcher, StringMatcher } from "./model";
import { NodeFacts } from "./node";
import { RequestFacts } from "./request";

// @ts-ignore: decorator
@inline function spanMatches(m: StringMatcher, ptr: usize, len: i32, facts: RequestFacts): bool {
  return m.matchesSpan(ptr, len, facts.generation);
}

function uriMatches(m: StringMatcher, facts: RequestFacts, ignoreCase: bool): bool {
  // Istio's ignoreUriCase is Envoy's RouteMatch.case_sensitive=false: no effect on regex.
  if (ignoreCase && m.kind != MatchKind.Regex && m.kind != MatchKind.Present) return m.matchesSpanIgnoringCase(facts.pathPtr, facts.pathOnlyLen);
  return spanMatches(m, facts.pathPtr, facts.pathOnlyLen, facts);
}

function headersMatch(list: Array<NamedMatcher>, facts: RequestFacts): bool {
  for (let i = 0, n = list.length; i < n; i++) {
    const m = unchecked(list[i]);
    if (!facts.header(m.nameId, m.nameBytes) || !spanMatches(m.matcher, facts.foundPtr, facts.foundLen, facts)) return false;
  }
  return true;
}

function queryMatch(list: Array<NamedMatcher>, facts: RequestFacts): bool {
  for (let i = 0, n = list.length; i < n; i++) {
    const m = unchecked(list[i]);
    if (!facts.query(m.nameBytes) || !spanMatches(m.matcher, facts.foundPtr, facts.foundLen, facts)) return false;
  }
  return true;
}

function cookiesMatch(list: Array<NamedMatcher>, facts: RequestFacts): bool {
  for (let i = 0, n = list.length; i < n; i++) {
    const m = unchecked(list[i]);
    if (!facts.cookie(m.nameBytes) || !spanMatches(m.matcher, facts.foundPtr, facts.foundLen, facts)) return false;
  }
  return true;
}

function claimsMatch(list: Array<NamedMatcher>, facts: RequestFacts): bool {
  for (let i = 0, n = list.length; i < n; i++) {
    const m = unchecked(list[i]);
    const value = facts.claim(m.name);
    if (value === null || !m.matcher.matches(value)) return false;
  }
  return true;
}

/** One HTTPMatchRequest: every field must hold. */
export function matchesRequest(m: MatchSpec, facts: RequestFacts, node: NodeFacts): bool {
  const uri = m.uri;
  if (uri !== null && !uriMatches(uri, facts, m.ignoreUriCase)) return false;
  const method = m.method;
  if (method !== null && !spanMatches(method, facts.methodPtr, facts.methodLen, facts)) return false;
  const authority = m.authority;
  if (authority !== null && !spanMatches(authority, facts.authorityPtr, facts.authorityLen, facts)) return false;
  const scheme = m.scheme;
  if (scheme !== null && !spanMatches(scheme, facts.schemePtr, facts.schemeLen, facts)) return false;
  if (m.headers.length > 0 && !headersMatch(m.headers, facts)) return false;
  for (let i = 0, n = m.withoutHeaders.length; i < n; i++) {
    const w = unchecked(m.withoutHeaders[i]);
    if (facts.header(w.nameId, w.nameBytes) && spanMatches(w.matcher, facts.foundPtr, facts.foundLen, facts)) return false;
  }
  if (m.queryParams.length > 0 && !queryMatch(m.queryParams, facts)) return false;
  if (m.cookies.length > 0 && !cookiesMatch(m.cookies, facts)) return false;
  if (m.claims.length > 0 && !claimsMatch(m.claims, facts)) return false;
  if (m.port != 0 && facts.port() != <i64>m.port) return false;
  const principal = m.sourcePrincipal;
  if (principal !== null) {
    const p = facts.principal();
    if (p === null || !principal.matches(p)) return false;
  }
  for (let i = 0; i < m.sourceLabels.length; i++) {
    const value = node.label(m.sourceLabels[i].name);
    if (value === null || value != m.sourceLabels[i].matcher.value) return false;
  }
  if (m.sourceNamespace.length > 0 && node.namespace != m.sourceNamespace) return false;
  return true;
}
