import type { JsonObject, JsonValue } from '../render/types.js';
import type { IstioResource, ScopedTranslateFn, TranslateFn } from './index.js';

/**
 * RequestAuthentication (security.istio.io/v1 and v1beta1, validated against the CRD by the
 * registry) → the jwt-auth filter's configuration (schema: filters/jwt-auth/README.md).
 *
 * Istio semantics (istio.io/latest/docs/reference/config/security/request_authentication/ and
 * pilot/pkg/security/authn/policy_applier.go):
 *  - Every RequestAuthentication that applies to the workload contributes its jwtRules; they
 *    merge into one provider list, and the single rule is "one of these providers, token
 *    optional": a request without a token passes unauthenticated (AuthorizationPolicy decides),
 *    a request with an invalid token is rejected with 401.
 *  - Workload selection (`selector`, namespace, root namespace) is the caller's job, as for
 *    AuthorizationPolicy: every resource given here applies. `targetRef(s)` (gateways/waypoints)
 *    never reach a sidecar and are refused. Except in a workload-scoped config (one object for
 *    overlapping scopes, translateRequestAuthenticationScoped): each provider then keeps its
 *    resource's namespace and selector, and the filter keeps per proxy the providers of every
 *    RequestAuthentication istiod applies there (authentication.go getConfigsForWorkload: all
 *    matching ones, merged — policy_applier.go newPolicyApplier), with Istio's rule.
 *  - `jwksUri` becomes a remote JWKS fetched through the cluster Istio would use,
 *    `outbound|<port>||<host>`; `requiredJwksClusters` lists them for the sidecar.
 *    A rule with neither `jwks` nor `jwksUri` needs OpenID discovery (istiod does it): refused.
 *  - `spaceDelimitedClaims` only matters for AuthorizationPolicy claim matching, which this
 *    filter does not do: refused rather than silently dropped.
 */

export interface JwksCluster {
  /** Cluster name the filter dispatches the JWKS fetch to. */
  readonly name: string;
  /** The jwksUri it serves. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
}

function resourceId(resource: IstioResource): string {
  return `RequestAuthentication ${resource.metadata.namespace ?? 'default'}/${resource.metadata.name}`;
}

/** Istio-style outbound cluster name for a JWKS URL. */
export function jwksClusterFor(url: string, where: string): JwksCluster {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`${where}.jwksUri: "${url}" is not a URL: expected http(s)://host[:port]/path`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new Error(`${where}.jwksUri: "${url}" uses ${parsed.protocol}: expected http:// or https://`);
  }
  const tls = parsed.protocol === 'https:';
  const port = parsed.port === '' ? (tls ? 443 : 80) : Number(parsed.port);
  return { name: `outbound|${port}||${parsed.hostname}`, url, host: parsed.hostname, port, tls };
}

/** Go duration (`5s`, `1.5s`, `300ms`, `1m`) → milliseconds, as Istio's `timeout` field. */
export function durationMs(text: string, where: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
  if (!match) throw new Error(`${where}.timeout: "${text}" is not a duration: expected e.g. 5s or 500ms`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  const ms = Math.round(Number(match[1]) * unit);
  if (ms < 1 || ms > 60_000) throw new Error(`${where}.timeout: "${text}" is out of range: expected between 1ms and 60s`);
  return ms;
}

function stringList(value: JsonValue | undefined): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function asObject(value: JsonValue | undefined): JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : {};
}

function translateRule(rule: JsonObject, where: string): JsonObject {
  if (rule['spaceDelimitedClaims'] !== undefined) {
    throw new Error(`${where}.spaceDelimitedClaims: not supported by jwt-auth (it only affects AuthorizationPolicy claim matching): remove it`);
  }
  const issuer = typeof rule['issuer'] === 'string' ? rule['issuer'] : '';
  // Istio's validation webhook requires it (the CRD schema does not).
  if (issuer === '') throw new Error(`${where}.issuer: required: expected the token issuer (the "iss" claim)`);
  const provider: Record<string, JsonValue> = { issuer };
  const audiences = stringList(rule['audiences']);
  if (audiences.length > 0) provider['audiences'] = audiences;
  const jwksUri = (rule['jwksUri'] ?? rule['jwks_uri']) as string | undefined;
  const inline = rule['jwks'] as string | undefined;
  if (inline !== undefined && inline !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(inline);
    } catch (error) {
      throw new Error(`${where}.jwks: not valid JSON (${(error as Error).message}): expected a JWKS document`);
    }
    if (parsed === null || typeof parsed !== 'object' || !Array.isArray((parsed as { keys?: unknown }).keys)) {
      throw new Error(`${where}.jwks: expected a JWKS object with a "keys" array`);
    }
    provider['jwks'] = inline;
  } else if (jwksUri !== undefined && jwksUri !== '') {
    const cluster = jwksClusterFor(jwksUri, where);
    provider['jwks_uri'] = jwksUri;
    provider['jwks_cluster'] = cluster.name;
    if (typeof rule['timeout'] === 'string') provider['jwks_timeout_ms'] = durationMs(rule['timeout'], where);
  } else {
    throw new Error(`${where}: neither jwks nor jwksUri is set; Istio would use OpenID discovery on "${issuer}", which the sidecar cannot do: set jwksUri`);
  }
  const fromHeaders = Array.isArray(rule['fromHeaders']) ? rule['fromHeaders'].map(asObject) : [];
  if (fromHeaders.length > 0) {
    provider['from_headers'] = fromHeaders.map((h) => ({ name: String(h['name'] ?? '').toLowerCase(), value_prefix: String(h['prefix'] ?? '') }));
  }
  const fromParams = stringList(rule['fromParams']);
  if (fromParams.length > 0) provider['from_params'] = fromParams;
  const fromCookies = stringList(rule['fromCookies']);
  if (fromCookies.length > 0) provider['from_cookies'] = fromCookies;
  if (rule['forwardOriginalToken'] === true) provider['forward_original_token'] = true;
  if (typeof rule['outputPayloadToHeader'] === 'string' && rule['outputPayloadToHeader'] !== '') {
    provider['output_payload_to_header'] = rule['outputPayloadToHeader'].toLowerCase();
  }
  const claims = Array.isArray(rule['outputClaimToHeaders']) ? rule['outputClaimToHeaders'].map(asObject) : [];
  if (claims.length > 0) {
    provider['output_claim_to_headers'] = claims.map((c) => ({ header: String(c['header'] ?? '').toLowerCase(), claim: String(c['claim'] ?? '') }));
  }
  return provider;
}

export const translateRequestAuthentication: TranslateFn = (resources) => translateJwtRules(resources, undefined);

/** The workload-scoped config: providers carry `namespace`/`selector`; no `rules` (the filter builds Istio's). */
export const translateRequestAuthenticationScoped: ScopedTranslateFn = (resources, rootNamespace) => translateJwtRules(resources, rootNamespace);

function translateJwtRules(resources: readonly IstioResource[], rootNamespace: string | undefined): JsonObject {
  const providers: Record<string, JsonValue> = {};
  for (const resource of resources) {
    const id = resourceId(resource);
    const spec = resource.spec;
    if (spec['targetRef'] !== undefined || spec['targetRefs'] !== undefined) {
      throw new Error(`${id}: targetRef/targetRefs select gateways or waypoints, not sidecars: use selector`);
    }
    const rules = Array.isArray(spec['jwtRules']) ? spec['jwtRules'].map(asObject) : [];
    rules.forEach((rule, index) => {
      const name = `${resource.metadata.namespace ?? 'default'}/${resource.metadata.name}/${index}`;
      const provider = translateRule(rule, `${id}: jwtRules[${index}]`);
      const matchLabels = asObject(asObject(spec['selector'])['matchLabels']);
      providers[name] = rootNamespace === undefined ? provider : {
        ...provider,
        namespace: resource.metadata.namespace ?? 'default',
        ...(Object.keys(matchLabels).length > 0 ? { selector: matchLabels } : {}),
      };
    });
  }
  const names = Object.keys(providers);
  if (names.length === 0) {
    // No jwtRules anywhere: Istio configures no JWT filter; requests are simply unauthenticated.
    throw new Error(`${resources.map(resourceId).join(', ')}: no jwtRules: nothing for jwt-auth to enforce (omit the filter instead)`);
  }
  // Istio: token optional; a present token must verify with one of the merged providers (the
  // filter's default rule, over the providers that apply to the proxy when scoped).
  if (rootNamespace !== undefined) return { root_namespace: rootNamespace, providers };
  return { providers, rules: [{ match: { prefix: '/' }, requires: names, allow_missing: true }] };
}

/** The clusters a jwt-auth config fetches JWKS from (for `deployer run` / rendering). */
export function requiredJwksClusters(config: JsonObject): JwksCluster[] {
  const out = new Map<string, JwksCluster>();
  for (const [name, value] of Object.entries(asObject(config['providers']))) {
    const provider = asObject(value);
    const uri = provider['jwks_uri'];
    if (typeof uri !== 'string') continue;
    const cluster = jwksClusterFor(uri, `providers.${name}`);
    const declared = provider['jwks_cluster'];
    out.set(String(declared ?? cluster.name), { ...cluster, name: String(declared ?? cluster.name) });
  }
  return [...out.values()];
}
