/**
 * The request attributes a policy can test, one per Istio field / `when` key
 * (istio.io/latest/docs/reference/config/security/conditions/, pilot/pkg/security/authz/model/model.go).
 */
import { asciiLower } from "../../lib/ascii";
export enum Attribute {
  /** `source.principals`, `when: source.principal` — peer certificate URI SAN, without `spiffe://`. */
  SourcePrincipal = 0,
  /** `source.namespaces`, `when: source.namespace` — the `/ns/<ns>/` part of the peer principal. */
  SourceNamespace,
  /** `source.requestPrincipals`, `when: request.auth.principal` — `<iss>/<sub>` of the verified JWT. */
  RequestPrincipal,
  /** `source.ipBlocks`, `when: source.ip` — the direct peer address. */
  SourceIp,
  /** `source.remoteIpBlocks`, `when: remote.ip` — original client from X-Forwarded-For. */
  RemoteIp,
  /** `operation.hosts` — `:authority`, case-insensitive, with or without its port. */
  Host,
  /** `operation.ports`, `when: destination.port`. */
  DestinationPort,
  /** `operation.methods`. */
  Method,
  /** `operation.paths` — the normalized path without query or fragment. */
  Path,
  /** `when: request.headers[<name>]`. */
  Header,
  /** `when: request.auth.audiences` — JWT `aud`. */
  Audience,
  /** `when: request.auth.presenter` — JWT `azp`. */
  Presenter,
  /** `when: request.auth.claims[a][b]` — nested claim; a list claim matches any element. */
  Claim,
  /** `when: destination.ip`. */
  DestinationIp,
  /** `when: connection.sni`. */
  Sni,
}

/** A parsed `request.headers[name]` / `request.auth.claims[a][b]` argument. */
export class AttributeKey {
  constructor(
    readonly attribute: Attribute,
    /** Header name (lower-case) or claim path segments. */
    readonly argument: Array<string>,
  ) {}
}

/** Why the last parseWhenKey returned null. */
export let keyError: string = "";

/** Parses a `when.key`; null with keyError set for unknown keys or bad brackets. */
export function parseWhenKey(key: string): AttributeKey | null {
  const none = new Array<string>();
  if (key == "source.principal") return new AttributeKey(Attribute.SourcePrincipal, none);
  if (key == "source.namespace") return new AttributeKey(Attribute.SourceNamespace, none);
  if (key == "request.auth.principal") return new AttributeKey(Attribute.RequestPrincipal, none);
  if (key == "source.ip") return new AttributeKey(Attribute.SourceIp, none);
  if (key == "remote.ip") return new AttributeKey(Attribute.RemoteIp, none);
  if (key == "destination.port") return new AttributeKey(Attribute.DestinationPort, none);
  if (key == "destination.ip") return new AttributeKey(Attribute.DestinationIp, none);
  if (key == "connection.sni") return new AttributeKey(Attribute.Sni, none);
  if (key == "request.auth.audiences") return new AttributeKey(Attribute.Audience, none);
  if (key == "request.auth.presenter") return new AttributeKey(Attribute.Presenter, none);
  if (key.startsWith("request.headers")) {
    const names = bracketed(key.substring("request.headers".length));
    if (names === null) return null;
    if (names.length != 1) return fail("\"" + key + "\": expected exactly one header name, as request.headers[User-Agent]");
    return new AttributeKey(Attribute.Header, [asciiLower(names[0])]);
  }
  if (key.startsWith("request.auth.claims")) {
    const path = bracketed(key.substring("request.auth.claims".length));
    if (path === null) return null;
    return new AttributeKey(Attribute.Claim, path);
  }
  return fail("unknown attribute \"" + key + "\": expected one of request.headers[<name>], source.ip, remote.ip, " +
    "source.namespace, source.principal, request.auth.principal, request.auth.audiences, request.auth.presenter, " +
    "request.auth.claims[<name>]..., destination.ip, destination.port, connection.sni");
}

/** `[a][b]` → ["a", "b"]; Istio's extractNameInNestedBrackets. */
function bracketed(text: string): Array<string> | null {
  const out = new Array<string>();
  let at = 0;
  if (text.length == 0) return failList("expected [<name>] after the attribute");
  while (at < text.length) {
    if (text.charCodeAt(at) != 0x5b) return failList("expected \"[\" at \"" + text.substring(at) + "\"");
    const close = text.indexOf("]", at);
    if (close < 0) return failList("missing \"]\" in \"" + text + "\"");
    const name = text.substring(at + 1, close);
    if (name.length == 0 || name.indexOf("[") >= 0) return failList("empty or malformed name in \"" + text + "\"");
    out.push(name);
    at = close + 1;
  }
  return out;
}

function fail(message: string): AttributeKey | null {
  keyError = message;
  return null;
}

function failList(message: string): Array<string> | null {
  keyError = message;
  return null;
}
