/**
 * Envoy's HeaderUtility::authorityIsValid (source/common/http/header_utility.cc,
 * check_authority_h1_h2): the characters HTTP/2 allows in `:authority` (as oghttp2/nghttp2 check
 * them) plus `@` for HTTP/1's user-info. Anything else (`/`, `\`, space, `"`, `<`, `>`, `?`, `#`,
 * `^`, `` ` ``, `{`, `|`, `}`, controls, non-ASCII) fails and the request gets a 400.
 */
const VALID = new Uint8Array(128);
for (const c of "!$%&'()*+,-.:;=@[]_~") VALID[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) VALID[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) VALID[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) VALID[c] = 1;

export function authorityIsValid(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 128 || VALID[c] === 0) return false;
  }
  return true;
}

/**
 * HeaderUtility::stripTrailingHostDot, applied when strip_trailing_host_dot is set:
 * `example.com.` and `example.com.:80` lose the dot before matching and forwarding.
 */
export function stripTrailingHostDot(host: string): string {
  const dot = host.lastIndexOf('.');
  if (dot < 0) return host;
  if (dot === host.length - 1) return host.slice(0, -1);
  return host[dot + 1] === ':' ? host.slice(0, dot) + host.slice(dot + 1) : host;
}
