/**
 * Request path normalization before matching — Istio's mesh setting
 * `meshConfig.pathNormalization.normalization` (istio.io/latest/docs/reference/config/security/normalization/):
 *   NONE                      match the path as received (query and fragment still stripped)
 *   BASE (default)            Envoy `normalize_path`: RFC 3986 §6.2.2 normalization
 *                             (percent-decoding of unreserved characters, §5.2.4 dot-segment
 *                             removal) and `\` → `/`
 *   MERGE_SLASHES             BASE, then `//` → `/` (Envoy `merge_slashes`)
 *   DECODE_AND_MERGE_SLASHES  `%2F`/`%5C` decoded first (Envoy `path_with_escaped_slashes_action:
 *                             UNESCAPE_AND_FORWARD`), then MERGE_SLASHES
 * The normalized path is also what the filter forwards, as Envoy does, so the upstream never
 * sees a different path from the one that was authorized (the root cause of CVE-2021-31920).
 * Query (RFC 3986 §3.4) and fragment (§3.5, CVE-2021-39156) are cut before matching.
 */

export enum PathNormalization { None = 0, Base = 1, MergeSlashes = 2, DecodeAndMergeSlashes = 3 }

export function parsePathNormalization(text: string): i32 {
  if (text == "NONE") return PathNormalization.None;
  if (text == "BASE" || text == "DEFAULT") return PathNormalization.Base;
  if (text == "MERGE_SLASHES") return PathNormalization.MergeSlashes;
  if (text == "DECODE_AND_MERGE_SLASHES") return PathNormalization.DecodeAndMergeSlashes;
  return -1;
}

/** Filled by normalizePath; one per VM, reused by every request. */
export class NormalizedPath {
  /** Path to match: normalized, without query and fragment. */
  path: string = "";
  /** `:path` to forward: normalized path plus the original query, fragment dropped. */
  forward: string = "";

  set(path: string, query: string): bool {
    this.path = path;
    this.forward = query.length == 0 ? path : path + query;
    return true;
  }
}

/** Why the last normalizePath returned null. */
export let pathError: string = "";

function hexValue(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** RFC 3986 §2.3 unreserved characters: decoding them never changes the meaning of a URI. */
function isUnreserved(c: i32): bool {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) ||
    c == 0x2d || c == 0x2e || c == 0x5f || c == 0x7e;
}

/**
 * True when normalizing `raw` in `mode` would return it unchanged, both to match and to forward:
 * nothing to validate or decode (`%`), no backslash, no query or fragment to cut, no dot segment and
 * (when merging) no `//`. The usual request path takes this single scan and no allocation.
 */
function alreadyNormal(raw: string, mode: i32): bool {
  let previous: u32 = 0;
  // Raw UTF-16 loads: charCodeAt is a bounds-checked call per character, and this scan runs
  // over every request's path.
  const chars = changetype<usize>(raw);
  for (let i = 0, n = raw.length; i < n; i++) {
    const c = <u32>load<u16>(chars + (<usize>i << 1));
    if (c < 0x20 || c == 0x7f || c == 0x25 /* % */ || c == 0x5c /* backslash */ || c == 0x23 /* # */ || c == 0x3f /* ? */) return false;
    if (previous == 0x2f && mode != PathNormalization.None && (c == 0x2e || (c == 0x2f && mode != PathNormalization.Base))) return false;
    previous = c;
  }
  return true;
}

/**
 * Fills `out`; returns false (and sets pathError) for a path Envoy would refuse: not starting
 * with `/` (except `*`), control characters or NUL, `%00`, or a `%` not followed by two hex digits.
 */
export function normalizePath(raw: string, mode: i32, out: NormalizedPath): bool {
  if (raw == "*") return out.set(raw, ""); // OPTIONS * (RFC 9110 §7.1 asterisk-form)
  if (raw.length == 0 || raw.charCodeAt(0) != 0x2f) return fail("path must start with \"/\": \"" + raw + "\"");
  if (alreadyNormal(raw, mode)) return out.set(raw, "");
  // Cut the fragment first: "/a#b?c" has no query, "/a?b#c" has query "b".
  const hash = raw.indexOf("#");
  const withoutFragment = hash < 0 ? raw : raw.substring(0, hash);
  const question = withoutFragment.indexOf("?");
  const pathPart = question < 0 ? withoutFragment : withoutFragment.substring(0, question);
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c < 0x20 || c == 0x7f) return fail("path contains control character 0x" + c.toString(16));
  }
  // The common case after a plain path: a query on an already normal path. Matched without the
  // query, forwarded exactly as received — no query substring, no re-concatenation.
  if (hash < 0 && alreadyNormal(pathPart, mode)) {
    out.path = pathPart;
    out.forward = raw;
    return true;
  }
  // Percent-encoding of the path is validated: "%00" and malformed escapes are refused (the
  // query is the application's business; it never takes part in matching).
  for (let i = 0; i < pathPart.length; i++) {
    if (pathPart.charCodeAt(i) != 0x25) continue;
    if (i + 2 >= pathPart.length) return fail("malformed percent-encoding at offset " + i.toString());
    const hi = hexValue(pathPart.charCodeAt(i + 1));
    const lo = hexValue(pathPart.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) return fail("malformed percent-encoding at offset " + i.toString());
    if (hi == 0 && lo == 0) return fail("path contains %00");
    i += 2;
  }
  const query = question < 0 ? "" : withoutFragment.substring(question);
  if (mode == PathNormalization.None) return out.set(pathPart, query);
  let path = decodeEscapes(pathPart, mode == PathNormalization.DecodeAndMergeSlashes);
  path = backslashesToSlashes(path);
  path = removeDotSegments(path);
  if (mode != PathNormalization.Base) path = mergeSlashes(path);
  return out.set(path, query);
}

/** `\` → `/` (Envoy normalize_path treats both as separators). */
function backslashesToSlashes(path: string): string {
  if (path.indexOf("\\") < 0) return path;
  const length = path.length;
  const buffer = scratch(length);
  const chars = changetype<usize>(path);
  for (let i = 0; i < length; i++) {
    const c = unitAt(chars, i);
    store<u16>(buffer + (<usize>i << 1), c == 0x5c ? 0x2f : c);
  }
  return String.UTF16.decodeUnsafe(buffer, <usize>length << 1);
}

function fail(message: string): bool {
  pathError = message;
  return false;
}

/**
 * Decodes %XX of unreserved characters (and of `/` and `\` when asked); other escapes stay.
 * Every `%` here is followed by two hex digits (normalizePath validated the path first).
 */
function decodeEscapes(path: string, slashes: bool): string {
  if (path.indexOf("%") < 0) return path;
  const length = path.length;
  const buffer = scratch(length);
  const chars = changetype<usize>(path);
  let written = 0;
  let decodedAny = false;
  for (let i = 0; i < length; i++) {
    let c = unitAt(chars, i);
    if (c == 0x25) {
      const decoded = (hexValue(unitAt(chars, i + 1)) << 4) | hexValue(unitAt(chars, i + 2));
      if (isUnreserved(decoded) || (slashes && (decoded == 0x2f || decoded == 0x5c))) {
        c = <u16>decoded;
        decodedAny = true;
        i += 2;
      }
    }
    store<u16>(buffer + (<usize>(written++) << 1), c);
  }
  return decodedAny ? String.UTF16.decodeUnsafe(buffer, <usize>written << 1) : path;
}

// @ts-ignore: decorator
@inline function unitAt(chars: usize, i: i32): u16 {
  return load<u16>(chars + (<usize>i << 1));
}

/**
 * Where the rewriting steps build their result (one reused buffer, grown for a longer path):
 * each step's output string is the only allocation it makes. A step never outputs more units
 * than it reads, and each step's string is made before the next step writes here.
 */
let pathScratch = new StaticArray<u16>(256);

function scratch(length: i32): usize {
  if (pathScratch.length < length) pathScratch = new StaticArray<u16>(length);
  return changetype<usize>(pathScratch);
}

/**
 * RFC 3986 §5.2.4 on an absolute path; ".." above the root stays at the root. The segments are
 * written into the scratch buffer as they are kept (a ".." truncates back to the previous "/"),
 * so the result is the only allocation — not one string per segment plus a list and a join.
 * The output is never longer than the input: each kept segment comes with its own "/", and a
 * final "." or ".." leaves at most that "/".
 */
export function removeDotSegments(path: string): string {
  if (path.indexOf("/.") < 0) return path;
  const length = path.length;
  const buffer = scratch(length);
  const chars = changetype<usize>(path);
  // The output is "/" + the kept segments joined by "/": `kept` of them (a segment may be empty).
  store<u16>(buffer, 0x2f);
  let written = 1;
  let kept = 0;
  let start = 1;
  while (start <= length) {
    let end = start;
    while (end < length && load<u16>(chars + (<usize>end << 1)) != 0x2f) end++;
    const last = end == length;
    const segmentLength = end - start;
    const first = segmentLength > 0 ? load<u16>(chars + (<usize>start << 1)) : 0;
    const dot = segmentLength == 1 && first == 0x2e;
    const dotDot = segmentLength == 2 && first == 0x2e && load<u16>(chars + (<usize>(start + 1) << 1)) == 0x2e;
    if (dotDot && kept > 0) {
      // Drop the last kept segment: back to the "/" before it (the root "/" for the first one).
      kept--;
      if (kept == 0) written = 1;
      else while (load<u16>(buffer + (<usize>(--written) << 1)) != 0x2f) {}
    }
    if (dot || dotDot) {
      // A trailing "." or ".." leaves the path ending in "/" (an empty last segment).
      if (last) written = appendSegment(buffer, written, kept++, chars, start, 0);
    } else {
      written = appendSegment(buffer, written, kept++, chars, start, segmentLength);
    }
    start = end + 1;
  }
  return String.UTF16.decodeUnsafe(buffer, <usize>written << 1);
}

/** Appends "/" (unless it is the first segment) and the segment; returns the new length. */
function appendSegment(buffer: usize, written: i32, kept: i32, chars: usize, start: i32, length: i32): i32 {
  if (kept > 0) store<u16>(buffer + (<usize>(written++) << 1), 0x2f);
  memory.copy(buffer + (<usize>written << 1), chars + (<usize>start << 1), <usize>length << 1);
  return written + length;
}

/** `//` → `/` (Envoy merge_slashes). */
function mergeSlashes(path: string): string {
  if (path.indexOf("//") < 0) return path;
  const length = path.length;
  const buffer = scratch(length);
  const chars = changetype<usize>(path);
  let written = 0;
  let previousSlash = false;
  for (let i = 0; i < length; i++) {
    const c = unitAt(chars, i);
    const slash = c == 0x2f;
    if (!(slash && previousSlash)) store<u16>(buffer + (<usize>(written++) << 1), c);
    previousSlash = slash;
  }
  return String.UTF16.decodeUnsafe(buffer, <usize>written << 1);
}
