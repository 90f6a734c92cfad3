/**
 * Istio path templates (istio/api security/v1beta1/authorization.proto `Operation.paths`),
 * interpreted as Envoy URI templates (envoy extensions/path/match/uri_template):
 *   `{*}`  one whole path segment, one or more pchars (RFC 3986 §3.3) without `/`
 *   `{**}` zero or more pchars including `/`; must be the last operator
 * A template segment is either literal text (no `*`, `{`, `}`) or exactly one operator.
 * Matching is a single left-to-right pass: `{*}` is a whole segment and only literals follow
 * `{**}`, so no backtracking is needed.
 */

import { MatchSet } from "./match-set";
import { PatternKind, PatternTable } from "./string-index";

enum TokenKind { Literal = 0, Segment = 1, Rest = 2 }

class Token {
  constructor(readonly kind: TokenKind, readonly text: string) {}
}

export function containsPathTemplate(value: string): bool {
  return value.indexOf("{*}") >= 0 || value.indexOf("{**}") >= 0;
}

/** Why the last compilePathTemplate returned null. */
export let templateError: string = "";

export class PathTemplate {
  constructor(private tokens: Array<Token>) {}

  /** The literal text before the first operator (always starts with "/"). */
  get head(): string { return this.tokens[0].text; }

  matches(path: string): bool {
    let at = 0;
    const tokens = this.tokens;
    for (let t = 0; t < tokens.length; t++) {
      const token = tokens[t];
      if (token.kind == TokenKind.Literal) {
        if (!path.startsWith(token.text, at)) return false;
        at += token.text.length;
      } else if (token.kind == TokenKind.Segment) {
        const start = at;
        while (at < path.length && isPchar(path.charCodeAt(at))) at++;
        if (at == start) return false;
        if (at < path.length && path.charCodeAt(at) != 0x2f) return false;
      } else {
        // Rest: everything up to the literal tail that follows.
        let tail = "";
        for (let r = t + 1; r < tokens.length; r++) tail += tokens[r].text;
        if (path.length - at < tail.length || !path.endsWith(tail)) return false;
        const end = path.length - tail.length;
        for (let i = at; i < end; i++) {
          const c = path.charCodeAt(i);
          if (c != 0x2f && !isPchar(c)) return false;
        }
        return true;
      }
    }
    return at == path.length;
  }
}

/** RFC 3986 pchar minus `/`, as Envoy's URI template matcher: unreserved, `%`, sub-delims (but `*`), `:`, `@`. */
function isPchar(c: i32): bool {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) ||
    c == 0x2d || c == 0x2e || c == 0x5f || c == 0x7e || c == 0x25 || c == 0x21 || c == 0x24 ||
    c == 0x26 || c == 0x27 || c == 0x28 || c == 0x29 || c == 0x2b || c == 0x2c || c == 0x3b ||
    c == 0x3a || c == 0x40 || c == 0x3d;
}

export function compilePathTemplate(value: string): PathTemplate | null {
  if (!value.startsWith("/")) return fail("a path template must start with \"/\"");
  const tokens = new Array<Token>();
  const segments = value.substring(1).split("/");
  let literal = "/";
  let sawRest = false;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (i > 0) literal += "/";
    if (segment == "{*}" || segment == "{**}") {
      if (sawRest) return fail("{**} must be the last operator");
      tokens.push(new Token(TokenKind.Literal, literal));
      literal = "";
      if (segment == "{**}") {
        sawRest = true;
        tokens.push(new Token(TokenKind.Rest, ""));
      } else {
        tokens.push(new Token(TokenKind.Segment, ""));
      }
      continue;
    }
    if (segment.indexOf("*") >= 0 || segment.indexOf("{") >= 0 || segment.indexOf("}") >= 0) {
      return fail("segment \"" + segment + "\": *, { and } are only allowed as a whole {*} or {**} segment");
    }
    literal += segment;
  }
  tokens.push(new Token(TokenKind.Literal, literal));
  return new PathTemplate(tokens);
}

function fail(message: string): PathTemplate | null {
  templateError = message;
  return null;
}

/**
 * All templates of all policies, bucketed by their literal head (`/v1/` of `/v1/{*}/x`) in a
 * prefix table: a request probes one hash per distinct head length (no substring) and runs only
 * the templates whose head it starts with.
 */
export class PathTemplateIndex {
  /** Head → indexes into templates/templateIds. */
  private heads: PatternTable = new PatternTable(PatternKind.Prefix);
  private templates: Array<PathTemplate> = new Array();
  private templateIds: Array<i32> = new Array();
  private hits: Array<i32> = new Array();

  get isEmpty(): bool { return this.templates.length == 0; }

  add(template: PathTemplate, id: i32): void {
    this.heads.add(template.head, this.templates.length);
    this.templates.push(template);
    this.templateIds.push(id);
  }

  match(path: string, out: MatchSet): void {
    if (this.templates.length == 0) return;
    const hits = this.heads.entriesMatching(changetype<usize>(path), path.length, false, this.hits);
    for (let h = 0, n = hits.length; h < n; h++) {
      const bucket = unchecked(this.heads.ids[unchecked(hits[h])]);
      for (let t = 0, m = bucket.length; t < m; t++) {
        const index = unchecked(bucket[t]);
        if (unchecked(this.templates[index]).matches(path)) out.mark(unchecked(this.templateIds[index]));
      }
    }
  }
}
