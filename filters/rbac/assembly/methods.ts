/**
 * Request methods Envoy's HTTP/1 codec accepts (the http-parser / balsa method table: RFC 9110
 * §9, WebDAV RFC 4918/3253/3648/5323/3744, CalDAV, UPnP, PATCH RFC 5789, PURGE, LINK/UNLINK,
 * SOURCE). Methods are case-sensitive tokens (RFC 9110 §9.1): `get` is not GET, and Istio's
 * `methods` match exactly — so a lower-case or unknown method would slip past a `methods: [GET]`
 * DENY rule. They are refused with 400 as Envoy does.
 */
const KNOWN_METHODS: Array<string> = [
  "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
  "COPY", "LOCK", "MKCOL", "MOVE", "PROPFIND", "PROPPATCH", "SEARCH", "UNLOCK",
  "BIND", "REBIND", "UNBIND", "ACL", "REPORT", "MKACTIVITY", "CHECKOUT", "MERGE",
  "M-SEARCH", "NOTIFY", "SUBSCRIBE", "UNSUBSCRIBE", "PURGE", "MKCALENDAR", "LINK", "UNLINK", "SOURCE",
];

export function isKnownMethod(method: string): bool {
  // GET and POST first: the common case costs one comparison.
  if (method == "GET" || method == "POST") return true;
  return KNOWN_METHODS.includes(method);
}

/**
 * The method as one of the constant strings above when its bytes (from the header map) spell a
 * known method — the common case, with no string decoded per request; otherwise decoded (and
 * then refused by isKnownMethod).
 */
export function internMethod(bytes: usize, length: usize): string {
  for (let i = 0, n = KNOWN_METHODS.length; i < n; i++) {
    const known = unchecked(KNOWN_METHODS[i]);
    if (<usize>known.length != length) continue;
    let same = true;
    for (let j: usize = 0; j < length && same; j++) same = <u32>load<u8>(bytes + j) == <u32>load<u16>(changetype<usize>(known) + (j << 1));
    if (same) return known;
  }
  return String.UTF8.decodeUnsafe(bytes, length);
}
