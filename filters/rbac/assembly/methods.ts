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
