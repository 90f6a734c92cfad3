import type { PathNormalizationConfig } from './config.js';

/** What the HCM does with a request after looking at its path (Envoy's NormalizePathAction). */
export type PathVerdict =
  | { readonly action: 'continue'; readonly path: string }
  | { readonly action: 'redirect'; readonly path: string }
  | { readonly action: 'reject' };

/**
 * Envoy's ConnectionManagerUtility::maybeNormalizePath (source/common/http/conn_manager_utility.cc),
 * in its order: a `#fragment` is rejected (runtime http_reject_path_with_fragment, on by default);
 * then escaped slashes (%2F, %5C) per path_with_escaped_slashes_action; then normalize_path
 * (PathUtil::canonicalPath: RFC 3986 dot segments with Chromium's URL canonicalizer); then
 * merge_slashes, last "to catch potential edge cases with percent encoding". Only the part before
 * `?` is touched. Expected outputs per Istio mode: istio/istio tests/integration/security/normalization_test.go.
 */
export function normalizeRequestPath(original: string, config: PathNormalizationConfig): PathVerdict {
  if (original.includes('#')) return { action: 'reject' };
  const queryAt = original.indexOf('?');
  let path = queryAt < 0 ? original : original.slice(0, queryAt);
  const query = queryAt < 0 ? '' : original.slice(queryAt);
  let redirect = false;
  if (config.escapedSlashesAction !== 'KEEP_UNCHANGED' && path.includes('%')) {
    const unescaped = path.replace(/%2f/gi, '/').replace(/%5c/gi, '\\');
    if (unescaped !== path) {
      if (config.escapedSlashesAction === 'REJECT_REQUEST') return { action: 'reject' };
      if (config.escapedSlashesAction === 'UNESCAPE_AND_REDIRECT') redirect = true;
      path = unescaped;
    }
  }
  if (config.normalizePath) {
    const canonical = canonicalPath(path);
    if (canonical === undefined) return { action: 'reject' };
    path = canonical;
  }
  if (config.mergeSlashes) path = path.replace(/\/{2,}/g, '/');
  return { action: redirect ? 'redirect' : 'continue', path: path + query };
}

const HEX = '0123456789ABCDEF';

/**
 * The path canonicalization Envoy delegates to Chromium's url::CanonicalizePath
 * (source/common/http/path_utility.cc canonicalizePath): `\` is a separator; percent-escapes of
 * unreserved characters (ALPHA / DIGIT / - . _ ~) are decoded, others kept as written (case
 * included); `%00` fails; characters of the URL path percent-encode set are escaped; then `.`
 * and `..` segments are removed (RFC 3986 §5.2.4), never above the root.
 */
export function canonicalPath(path: string): string | undefined {
  let out = '';
  let plain = true;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 0x25 /* % */ && i + 2 < path.length && isHex(path.charCodeAt(i + 1)) && isHex(path.charCodeAt(i + 2))) {
      const byte = parseInt(path.slice(i + 1, i + 3), 16);
      if (byte === 0) return undefined;
      if (isUnreserved(byte)) {
        out += String.fromCharCode(byte);
        plain = false;
      } else {
        out += path.slice(i, i + 3);
      }
      i += 2;
    } else if (c === 0x5c /* \ */) {
      out += '/';
      plain = false;
    } else if (c <= 0x20 || c >= 0x7f || c === 0x22 || c === 0x3c || c === 0x3e || c === 0x60 || c === 0x7b || c === 0x7d) {
      if (c === 0) return undefined;
      const char = String.fromCodePoint(path.codePointAt(i)!);
      for (const byte of Buffer.from(char, 'utf8')) out += `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
      i += char.length - 1;
      plain = false;
    } else {
      out += path[i];
    }
  }
  if (plain && !out.includes('/.')) return out;
  return removeDotSegments(out);
}

function removeDotSegments(path: string): string {
  const input = path.split('/');
  const output: string[] = [];
  for (let i = 1; i < input.length; i++) {
    const segment = input[i]!;
    const last = i === input.length - 1;
    if (segment === '.' || segment === '..') {
      if (segment === '..') output.pop();
      if (last) output.push('');
      continue;
    }
    output.push(segment);
  }
  return '/' + output.join('/');
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

function isUnreserved(byte: number): boolean {
  return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) ||
    byte === 0x2d || byte === 0x2e || byte === 0x5f || byte === 0x7e;
}
