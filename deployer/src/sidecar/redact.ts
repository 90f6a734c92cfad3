/**
 * Secret material out of `/config_dump`, as Envoy keeps it out of its own: fields annotated
 * `(udpa.annotations.sensitive) = true` are replaced by `"[redacted]"` when they are strings, and
 * cleared otherwise, with everything under a sensitive message treated as sensitive too
 * (envoy source/common/protobuf/utility.cc `MessageUtil::redact`, called by the admin
 * config_dump handler, source/server/admin/config_dump_handler.cc).
 *
 * Filter configurations are free-form JSON, not annotated protos, so "sensitive" is decided by
 * what a field holds:
 * - the secret members of a JWK (an object with `kty`): `k` (an HMAC key) and the private
 *   members `d`, `p`, `q`, `dp`, `dq`, `qi`, `oth` (RFC 7518 §6.2.2, §6.3.2, §6.4);
 * - members whose name says secret: password, secret, token, credential, private key, api key,
 *   authorization, cookie (e.g. a static `authorization` header for an ext_authz call);
 * - any string holding a PEM private key;
 * - a string that is itself JSON (an inline JWKS given as text) is redacted inside and kept as text.
 * Numbers and booleans (`max_token_bytes`, `forward_original_token`) are not secrets and stay
 * (Envoy clears sensitive non-string fields; none of ours holds a secret as a number).
 */

export const REDACTED = '[redacted]';

const JWK_SECRET_MEMBERS = new Set(['k', 'd', 'p', 'q', 'dp', 'dq', 'qi', 'oth']);
const SECRET_NAME = /passw(or)?d|secret|token|credential|private[-_]?key|api[-_]?key|^authorization$|^proxy-authorization$|^cookie$|^set-cookie$/i;
const PEM_PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

/** A deep copy of `value` with secret material replaced by `"[redacted]"`. */
export function redactSecrets(value: unknown): unknown {
  return redact(value, false);
}

function redact(value: unknown, sensitive: boolean): unknown {
  if (typeof value === 'string') return sensitive || PEM_PRIVATE_KEY.test(value) ? REDACTED : redactJsonText(value);
  if (Array.isArray(value)) return value.map((item) => redact(item, sensitive));
  if (value !== null && typeof value === 'object') {
    const isJwk = 'kty' in value;
    const out: Record<string, unknown> = {};
    for (const [name, member] of Object.entries(value)) {
      out[name] = redact(member, sensitive || (isJwk && JWK_SECRET_MEMBERS.has(name)) || SECRET_NAME.test(name));
    }
    return out;
  }
  // Numbers, booleans and null carry no secret (`max_token_bytes`, `forward_original_token`).
  return value;
}

/** Strings that are JSON documents (e.g. `jwks: "{\"keys\":[...]}"`) are redacted inside. */
function redactJsonText(text: string): string {
  const trimmed = text.trimStart();
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  const redacted = redact(parsed, false);
  return JSON.stringify(redacted) === JSON.stringify(parsed) ? text : JSON.stringify(redacted);
}
