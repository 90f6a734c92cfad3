/**
 * Workload-scoped policies: which of a configuration's policies istiod would apply to this proxy.
 * Shared by rbac (AuthorizationPolicy) and jwt-auth (RequestAuthentication); kept tiny (jwt-auth
 * is close to its size budget).
 *
 * istiod (istio/istio pilot/pkg/model/authorization.go ListAuthorizationPolicies and
 * authentication.go getConfigsForWorkload) looks in two namespaces for a workload: the mesh root
 * namespace and the workload's own. A root-namespace policy applies in every namespace, still
 * subject to its selector; `selector.matchLabels` must be a subset of the workload's labels
 * (policyattachment.go; absent or empty: every workload).
 *
 * The proxy's identity is Istio's node metadata, read as Envoy hands it over (Struct values
 * unwrapped by CEL, as istio/proxy extensions/common/context.cc reads them):
 * `node.metadata.NAMESPACE` and `node.metadata.LABELS.<key>` are plain strings. Istio sets both
 * on every sidecar (pkg/model/proxy.go NodeMetadata; the injector always labels the pod with
 * security.istio.io/tlsMode and service.istio.io/canonical-*), so a proxy without them is not one
 * istiod configured: the filters then refuse a scoped configuration rather than guess.
 */
import { JsonValue } from "./json";
import { fetchProperty, propertyString, releaseProperty } from "./properties";

/** The workload's namespace, or null when the node metadata lacks NAMESPACE or LABELS. */
export function workloadNamespace(): string | null {
  if (!fetchProperty(String.UTF8.encode("node\0metadata\0LABELS"))) return null;
  releaseProperty();
  return propertyString(String.UTF8.encode("node\0metadata\0NAMESPACE"));
}

/**
 * Whether istiod applies a policy of `namespace` with `selector` (flat key, value, key, value…)
 * to this proxy in `workload` namespace.
 */
export function appliesHere(namespace: string, selector: Array<string>, root: string, workload: string): bool {
  if (namespace != workload && namespace != root) return false;
  for (let i = 0; i < selector.length; i += 2) {
    const value = propertyString(String.UTF8.encode("node\0metadata\0LABELS\0" + selector[i]));
    if (value === null || value != selector[i + 1]) return false;
  }
  return true;
}

/** `{key: value, …}` (string values, non-empty keys) → flat key, value list; null when malformed. */
export function labelList(value: JsonValue): Array<string> | null {
  if (!value.isObject()) return null;
  const out = new Array<string>();
  for (let i = 0; i < value.keys.length; i++) {
    const v = value.values[i];
    if (value.keys[i].length == 0 || !v.isString()) return null;
    out.push(value.keys[i]);
    out.push(v.stringValue);
  }
  return out;
}

/** Why a scoped configuration is refused without an identity (each filter prefixes its name). */
export const NO_WORKLOAD = "a workload-scoped configuration needs the proxy's identity: node metadata NAMESPACE and LABELS " +
  "(Istio sets both on every sidecar); refused rather than apply policies to an unknown workload";
