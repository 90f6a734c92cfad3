import type { JsonObject, JsonValue } from '../render/types.js';
import type { IstioResource, ScopedTranslateFn, TranslateFn } from './index.js';

/**
 * AuthorizationPolicy (security.istio.io/v1 and v1beta1, already validated against the CRD by
 * the registry) → the rbac filter's configuration (schema: filters/rbac/README.md).
 *
 * The filter's config mirrors the resource, so translation is mostly selection and checks:
 *  - Workload selection (`selector`, namespace, root namespace) is the caller's job
 *    (deployer/src/istio/selection.ts, shared by run/push/render/translate): every resource given here
 *    applies to the workload. `selector` is dropped; `targetRef(s)` never reach a sidecar and are
 *    refused. Except with `rootNamespace` (one object for overlapping scopes,
 *    deployer/src/istio/scopes.ts): the config is then workload-scoped, each policy keeps its
 *    namespace and `selector.matchLabels`, and the filter selects per proxy as istiod would.
 *  - Only the dry-run annotation (`istio.io/dry-run`) is carried over from metadata.
 *  - Mesh-level settings Istio keeps in MeshConfig (path normalization, ext_authz providers,
 *    trusted proxies) come from `options.mesh`; a CUSTOM policy whose provider is not defined
 *    there cannot be translated exactly and throws (it must never become a config that allows
 *    more).
 *  - Fields the filter does not implement (`serviceAccounts`, `trustDomains`) throw here already,
 *    naming the policy.
 * Value-level checks (CIDRs, ports, wildcards, templates) are the filter's own onConfigure.
 */

/** The MeshConfig subset the rbac filter honours (istio.io/latest/docs/reference/config/istio.mesh.v1alpha1/). */
export interface RbacMeshOptions {
  /** meshConfig.pathNormalization.normalization; default BASE. */
  readonly pathNormalization?: 'NONE' | 'BASE' | 'MERGE_SLASHES' | 'DECODE_AND_MERGE_SLASHES';
  /** meshConfig.extensionProviders (only `envoyExtAuthzHttp` ones are supported). */
  readonly extensionProviders?: readonly JsonObject[];
  /** meshConfig.defaultConfig.gatewayTopology.numTrustedProxies: trusted X-Forwarded-For hops. */
  readonly numTrustedProxies?: number;
}

export interface AuthorizationPolicyTranslateOptions {
  readonly mesh?: RbacMeshOptions;
  /** Set: a workload-scoped config (policies keep their namespace and selector) for this mesh root namespace. */
  readonly rootNamespace?: string;
}

const DRY_RUN_ANNOTATION = 'istio.io/dry-run';
const UNSUPPORTED_SOURCE_FIELDS = ['serviceAccounts', 'notServiceAccounts', 'trustDomains', 'notTrustDomains'] as const;

function policyId(resource: IstioResource): string {
  return `${resource.metadata.namespace ?? 'default'}/${resource.metadata.name}`;
}

function asObject(value: JsonValue | undefined): JsonObject | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as JsonObject : undefined;
}

function checkRules(resource: IstioResource, rules: JsonValue | undefined): void {
  if (!Array.isArray(rules)) return;
  rules.forEach((rule, r) => {
    const from = asObject(rule as JsonValue)?.['from'];
    if (!Array.isArray(from)) return;
    from.forEach((entry, f) => {
      const source = asObject(asObject(entry as JsonValue)?.['source']);
      for (const field of UNSUPPORTED_SOURCE_FIELDS) {
        if (source?.[field] !== undefined) {
          throw new Error(`AuthorizationPolicy "${policyId(resource)}": spec.rules[${r}].from[${f}].source.${field} is not supported by the rbac filter; expected principals/namespaces instead`);
        }
      }
    });
  });
}

function translatePolicy(resource: IstioResource, providers: ReadonlySet<string>, scoped: boolean): JsonObject {
  const spec = resource.spec;
  if (spec['targetRef'] !== undefined || spec['targetRefs'] !== undefined) {
    throw new Error(`AuthorizationPolicy "${policyId(resource)}": spec.targetRef(s) binds the policy to a gateway or waypoint, not to a sidecar; expected spec.selector or none`);
  }
  if (spec['action'] === 'CUSTOM') {
    const name = asObject(spec['provider'])?.['name'];
    if (typeof name !== 'string' || !providers.has(name)) {
      throw new Error(`AuthorizationPolicy "${policyId(resource)}": CUSTOM provider ${JSON.stringify(name)} is not defined; expected one of the mesh extensionProviders (${[...providers].join(', ') || 'none given'})`);
    }
  }
  checkRules(resource, spec['rules']);
  const annotations = resource.metadata['annotations'] as Readonly<Record<string, unknown>> | undefined;
  const dryRun = annotations?.[DRY_RUN_ANNOTATION];
  if (dryRun !== undefined && typeof dryRun !== 'string') {
    throw new Error(`AuthorizationPolicy "${policyId(resource)}": annotation ${DRY_RUN_ANNOTATION} must be a string "true" or "false"`);
  }
  const { selector, ...rest } = spec;
  const matchLabels = asObject(asObject(selector)?.['matchLabels']);
  const keep = scoped && matchLabels !== undefined && Object.keys(matchLabels).length > 0;
  return {
    apiVersion: resource.apiVersion,
    kind: 'AuthorizationPolicy',
    metadata: {
      name: resource.metadata.name,
      namespace: resource.metadata.namespace ?? 'default',
      ...(dryRun !== undefined ? { annotations: { [DRY_RUN_ANNOTATION]: dryRun } } : {}),
    },
    spec: keep ? { selector: { matchLabels }, ...rest } : rest,
  };
}

function providerName(provider: JsonObject, index: number): string {
  const name = provider['name'];
  if (typeof name !== 'string' || name === '') throw new Error(`mesh extensionProviders[${index}].name: expected a non-empty string`);
  return name;
}

export function translateAuthorizationPolicies(resources: readonly IstioResource[], options: AuthorizationPolicyTranslateOptions = {}): JsonObject {
  const mesh = options.mesh ?? {};
  const httpProviders = (mesh.extensionProviders ?? []).filter((p) => p['envoyExtAuthzHttp'] !== undefined);
  const providerNames = new Set(httpProviders.map(providerName));
  const trustedHops = mesh.numTrustedProxies ?? 0;
  if (!Number.isInteger(trustedHops) || trustedHops < 0 || trustedHops > 64) {
    throw new Error(`mesh numTrustedProxies: ${trustedHops} is not an integer from 0 to 64`);
  }
  const seen = new Set<string>();
  const policies = resources.map((resource) => {
    if (resource.kind !== 'AuthorizationPolicy') throw new Error(`${resource.kind} "${resource.metadata.name}": expected kind AuthorizationPolicy`);
    const id = policyId(resource);
    if (seen.has(id)) throw new Error(`AuthorizationPolicy "${id}" appears twice in the input; expected one resource per namespace/name`);
    seen.add(id);
    return translatePolicy(resource, providerNames, options.rootNamespace !== undefined);
  });
  return {
    ...(options.rootNamespace !== undefined ? { rootNamespace: options.rootNamespace } : {}),
    pathNormalization: mesh.pathNormalization ?? 'BASE',
    remoteIpTrustedHops: trustedHops,
    ...(httpProviders.length > 0 ? { extensionProviders: httpProviders } : {}),
    policies,
  };
}

/** A registry TranslateFn with fixed mesh options (`deployer run --istio` uses the defaults). */
export function authorizationPolicyTranslator(options: AuthorizationPolicyTranslateOptions = {}): TranslateFn {
  return (resources) => translateAuthorizationPolicies(resources, options);
}

/** The workload-scoped variant (TranslatorEntry.scoped) with fixed mesh options. */
export function scopedAuthorizationPolicyTranslator(options: AuthorizationPolicyTranslateOptions = {}): ScopedTranslateFn {
  return (resources, rootNamespace) => translateAuthorizationPolicies(resources, { ...options, rootNamespace });
}

export const translateAuthorizationPolicy: TranslateFn = authorizationPolicyTranslator();
