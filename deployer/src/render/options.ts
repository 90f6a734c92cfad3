import type { FailStrategy, ImagePullPolicy, ListenerContext, RenderOptions, Via } from './types.js';

/** Checks render inputs up front so a bad value is named before any manifest exists. */
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const HEX64 = /^[a-f0-9]{64}$/;
const PINNED_OCI_URL = /^oci:\/\/[^/\s@]+\/[^\s@]+@sha256:[a-f0-9]{64}$/;

export const CONTEXTS: readonly ListenerContext[] = ['inbound', 'outbound', 'gateway'];
export const VIAS: readonly Via[] = ['envoyfilter', 'wasmplugin'];
export const FAIL_STRATEGIES: readonly FailStrategy[] = ['close', 'open', 'reload'];
export const PULL_POLICIES: readonly ImagePullPolicy[] = ['IfNotPresent', 'Always'];

function oneOf<T extends string>(label: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new Error(`${label} "${value}": expected one of ${allowed.join(', ')}`);
}

export const parseContext = (value: string): ListenerContext => oneOf('context', value, CONTEXTS);
export const parseVia = (value: string): Via => oneOf('via', value, VIAS);
export const parseFailStrategy = (value: string): FailStrategy => oneOf('fail strategy', value, FAIL_STRATEGIES);
export const parsePullPolicy = (value: string): ImagePullPolicy => oneOf('image pull policy', value, PULL_POLICIES);

/** `app=x,version=v1` → {app: 'x', version: 'v1'} */
export function parseSelector(value: string | undefined): Record<string, string> {
  if (value === undefined || value.trim() === '') return {};
  const selector: Record<string, string> = {};
  for (const part of value.split(',')) {
    const match = /^\s*([^=\s]+)\s*=\s*([^=\s]*)\s*$/.exec(part);
    if (!match) throw new Error(`selector "${value}": expected key=value pairs separated by commas (e.g. app=reviews,version=v1), got "${part}"`);
    selector[match[1]!] = match[2]!;
  }
  return selector;
}

export function checkRenderOptions(options: RenderOptions): void {
  if (!DNS1123_LABEL.test(options.filter) || options.filter.length > 50) {
    throw new Error(`filter name "${options.filter}": expected lowercase letters, digits and "-" (≤50 chars), as a folder under filters/`);
  }
  if (!DNS1123_LABEL.test(options.namespace) || options.namespace.length > 63) {
    throw new Error(`namespace "${options.namespace}": expected a DNS-1123 label (lowercase letters, digits, "-", ≤63 chars)`);
  }
  parseContext(options.context);
  parseVia(options.via);
  parseFailStrategy(options.failStrategy);
  if (options.imagePullPolicy !== undefined) parsePullPolicy(options.imagePullPolicy);
  if (!PINNED_OCI_URL.test(options.image.url)) {
    throw new Error(`image URL "${options.image.url}": expected oci://host/repository@sha256:<64 hex> (pinned by manifest digest)`);
  }
  if (!/^sha256:[a-f0-9]{64}$/.test(options.image.manifestDigest) || !options.image.url.endsWith(`@${options.image.manifestDigest}`)) {
    throw new Error(`manifest digest "${options.image.manifestDigest}": expected sha256:<64 hex> matching the digest in ${options.image.url}`);
  }
  if (!HEX64.test(options.image.wasmSha256)) {
    throw new Error(`wasm sha256 "${options.image.wasmSha256}": expected 64 lowercase hex characters`);
  }
  if (options.targetRefs !== undefined && options.targetRefs.length > 0) {
    if (Object.keys(options.selector).length > 0) throw new Error(`selector ${JSON.stringify(options.selector)} and targetRefs both given: Istio accepts one of them; expected a selector (sidecars) or targetRefs (gateways)`);
    if (options.context !== 'gateway') throw new Error(`targetRefs with context "${options.context}": istiod binds targetRefs to gateways and waypoints, never to sidecars (pilot/pkg/model/policyattachment.go); expected --context gateway`);
  }
  if (options.via === 'envoyfilter' && options.failStrategy === 'reload') {
    throw new Error('fail strategy "reload" with --via envoyfilter: the Envoy Wasm API carried by our protos only has fail_open (close|open); expected --fail-strategy close|open, or --via wasmplugin for FAIL_RELOAD');
  }
  if (options.imagePullSecret !== undefined) {
    if (options.via !== 'wasmplugin') {
      throw new Error(`image pull secret "${options.imagePullSecret}" with --via envoyfilter: istiod resolves pull secrets only for WasmPlugin (it injects them into the ECDS config for istio-agent); expected --via wasmplugin, or a registry the agent can pull from without credentials`);
    }
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(options.imagePullSecret) || options.imagePullSecret.length > 253) {
      throw new Error(`image pull secret "${options.imagePullSecret}": expected the name of a Secret in namespace ${options.namespace} (DNS-1123 subdomain)`);
    }
  }
  if (options.pluginConfig !== undefined && (typeof options.pluginConfig !== 'object' || options.pluginConfig === null || Array.isArray(options.pluginConfig))) {
    throw new Error(`plugin config: expected a JSON object, got ${JSON.stringify(options.pluginConfig)}`);
  }
}
