/**
 * Identity matchers with Istio's exact semantics (pilot/pkg/security/authz/model/generator.go):
 *  - principals: `StringMatcherWithPrefix(v, "spiffe://")` on the peer URI SAN
 *  - namespaces: regex `.*\/ns/<v, * → .*>/.*` on the peer URI SAN
 *  - requestPrincipals: `iss/sub` split at the last `/`, each half matched separately
 */
import { MatchSet } from "./match-set";
import { Pattern, PatternKind, StringIndex, parsePattern } from "./string-index";

export const SPIFFE_PREFIX = "spiffe://";

/** `source.principals` / `when: source.principal`. */
export class PrincipalIndex {
  /** Exact, prefix and `*` patterns, stored with the `spiffe://` prefix Istio adds. */
  private full: StringIndex = new StringIndex();
  /** `*suffix`: Istio's regex `spiffe://.*suffix` — a suffix of what follows `spiffe://`. */
  private afterScheme: StringIndex = new StringIndex();

  add(pattern: Pattern, id: i32): void {
    if (pattern.kind == PatternKind.Suffix) this.afterScheme.add(pattern, id);
    else if (pattern.kind == PatternKind.Presence) this.full.add(pattern, id);
    else this.full.add(new Pattern(pattern.kind, SPIFFE_PREFIX + pattern.text), id);
  }

  get isEmpty(): bool { return this.full.isEmpty && this.afterScheme.isEmpty; }

  match(uriSan: string | null, out: MatchSet): void {
    if (uriSan === null) return; // plaintext: no principal, nothing matches
    this.full.match(uriSan, out);
    if (uriSan.startsWith(SPIFFE_PREFIX)) this.afterScheme.matchRange(uriSan, SPIFFE_PREFIX.length, uriSan.length, out);
  }
}

/** `*` as regex `.*` (any run, including `/`), everything else literal. */
export function globMatches(pattern: string, text: string): bool {
  let p = 0, t = 0, starP = -1, starT = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern.charCodeAt(p) == 0x2a) { starP = p++; starT = t; continue; }
    if (p < pattern.length && pattern.charCodeAt(p) == text.charCodeAt(t)) { p++; t++; continue; }
    if (starP < 0) return false;
    p = starP + 1;
    t = ++starT;
  }
  while (p < pattern.length && pattern.charCodeAt(p) == 0x2a) p++;
  return p == pattern.length;
}

/**
 * `source.namespaces` / `when: source.namespace`: Istio's regex `.*\/ns/<v, * → .*>/.*` on the
 * peer URI, decomposed so the common forms cost a lookup, not a regex:
 *   `ns`      some `/ns/<segment>/` has segment == ns            (exact map over segments)
 *   `ns-*`    some segment starts with ns-                        (prefix table over segments)
 *   `*-ns`    `-ns/` occurs after the first `/ns/` (`.*` may span `/`)
 *   `*`       a `/` follows the first `/ns/`
 *   other     (a `*` inside, or a `/`): the glob, exactly as the regex
 */
export class NamespaceIndex {
  private segments: StringIndex = new StringIndex();
  private suffixes: Array<string> = new Array();
  private suffixIds: Array<i32> = new Array();
  private any: Array<i32> = new Array();
  private globs: Array<string> = new Array();
  private globIds: Array<i32> = new Array();
  private size: i32 = 0;

  get isEmpty(): bool { return this.size == 0; }

  add(value: string, id: i32): void {
    this.size++;
    const star = value.indexOf("*");
    const lastStar = value.lastIndexOf("*");
    if (value.indexOf("/") >= 0 || star != lastStar || (star > 0 && star < value.length - 1)) {
      this.globs.push("*/ns/" + value + "/*");
      this.globIds.push(id);
    } else if (value == "*") {
      this.any.push(id);
    } else if (star == 0) {
      this.suffixes.push(value.substring(1) + "/");
      this.suffixIds.push(id);
    } else {
      this.segments.add(parsePattern(value) as Pattern, id);
    }
  }

  match(uriSan: string | null, out: MatchSet): void {
    if (uriSan === null || this.size == 0) return;
    const first = uriSan.indexOf("/ns/");
    if (first < 0) return;
    if (!this.segments.isEmpty) {
      let at = first;
      while (at >= 0) {
        const start = at + 4;
        const end = uriSan.indexOf("/", start);
        if (end < 0) break;
        this.segments.matchRange(uriSan, start, end, out);
        at = uriSan.indexOf("/ns/", at + 1);
      }
    }
    for (let i = 0, n = this.suffixes.length; i < n; i++) {
      if (uriSan.indexOf(unchecked(this.suffixes[i]), first + 4) >= 0) out.mark(unchecked(this.suffixIds[i]));
    }
    if (this.any.length > 0 && uriSan.indexOf("/", first + 4) >= 0) out.markAll(this.any);
    for (let i = 0; i < this.globs.length; i++) {
      if (globMatches(this.globs[i], uriSan)) out.mark(this.globIds[i]);
    }
  }
}

enum Part { Any = 0, Exact = 1, Prefix = 2, Suffix = 3 }

class PrincipalPair {
  constructor(readonly issKind: Part, readonly iss: string, readonly subKind: Part, readonly sub: string, readonly id: i32) {}
}

function partMatches(kind: Part, pattern: string, value: string): bool {
  switch (kind) {
    case Part.Any: return value.length > 0; // regex ".+"
    case Part.Exact: return value == pattern;
    case Part.Prefix: return value.startsWith(pattern);
    default: return value.endsWith(pattern);
  }
}

/** `source.requestPrincipals` / `when: request.auth.principal`: (iss, sub) pairs as Istio builds them. */
export class RequestPrincipalIndex {
  /** `iss` + "\n" + `sub` of the exact values. */
  private exact: StringIndex = new StringIndex();
  private pairs: Array<PrincipalPair> = new Array();

  get isEmpty(): bool { return this.exact.isEmpty && this.pairs.length == 0; }

  add(value: string, id: i32): void {
    // The issuer may be a URL: split at the last "/" (requestPrincipalGenerator.extendedPrincipal).
    const slash = value.lastIndexOf("/");
    const found = slash >= 0;
    const iss = found ? value.substring(0, slash) : value;
    const sub = found ? value.substring(slash + 1) : "";
    if (value == "*") {
      this.pairs.push(new PrincipalPair(Part.Any, "", Part.Any, "", id));
    } else if (value.startsWith("*")) {
      if (found) {
        this.pairs.push(iss == "*"
          ? new PrincipalPair(Part.Any, "", Part.Exact, sub, id)
          : new PrincipalPair(Part.Suffix, iss.substring(1), Part.Exact, sub, id));
      } else {
        this.pairs.push(new PrincipalPair(Part.Any, "", Part.Suffix, value.substring(1), id));
      }
    } else if (value.endsWith("*")) {
      if (found) {
        this.pairs.push(sub == "*"
          ? new PrincipalPair(Part.Exact, iss, Part.Any, "", id)
          : new PrincipalPair(Part.Exact, iss, Part.Prefix, sub.substring(0, sub.length - 1), id));
      } else {
        this.pairs.push(new PrincipalPair(Part.Prefix, value.substring(0, value.length - 1), Part.Any, "", id));
      }
    } else {
      this.exact.add(new Pattern(PatternKind.Exact, iss + "\n" + sub), id);
    }
  }

  match(iss: string | null, sub: string | null, out: MatchSet): void {
    if (iss === null || sub === null) return; // no verified JWT
    if (!this.exact.isEmpty) this.exact.match(iss + "\n" + sub, out);
    for (let i = 0; i < this.pairs.length; i++) {
      const pair = this.pairs[i];
      if (partMatches(pair.issKind, pair.iss, iss) && partMatches(pair.subKind, pair.sub, sub)) out.mark(pair.id);
    }
  }
}
