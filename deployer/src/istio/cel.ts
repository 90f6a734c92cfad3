import { Environment } from '@marcbachmann/cel-js';

/**
 * Evaluates the CEL rules of `x-kubernetes-validations` the way the API server does for CRDs,
 * with the Kubernetes URL library functions Istio's rules use (isURL, url(), getScheme…).
 * https://kubernetes.io/docs/reference/using-api/cel/#kubernetes-url-library
 */
class KubeUrl {
  constructor(readonly url: URL) {}
}

function isUrl(value: string): boolean {
  // Kubernetes accepts absolute URLs and absolute paths (Go url.ParseRequestURI).
  return value.startsWith('/') || URL.canParse(value);
}

function parseUrl(value: string): KubeUrl {
  if (!isUrl(value)) throw new Error(`url(${JSON.stringify(value)}): not a URL`);
  return new KubeUrl(new URL(value, 'http://_relative_'));
}

const env = new Environment({ unlistedVariablesAreDyn: true })
  .registerType('URL', KubeUrl)
  .registerFunction('isURL(string): bool', isUrl)
  .registerFunction('url(string): URL', parseUrl)
  .registerFunction({ name: 'getScheme', receiverType: 'URL', returnType: 'string', params: [], handler: (u: KubeUrl) => u.url.protocol.replace(/:$/, '') })
  .registerFunction({ name: 'getHost', receiverType: 'URL', returnType: 'string', params: [], handler: (u: KubeUrl) => u.url.host })
  .registerFunction({ name: 'getHostname', receiverType: 'URL', returnType: 'string', params: [], handler: (u: KubeUrl) => u.url.hostname })
  .registerFunction({ name: 'getPort', receiverType: 'URL', returnType: 'string', params: [], handler: (u: KubeUrl) => u.url.port })
  .registerFunction({ name: 'getEscapedPath', receiverType: 'URL', returnType: 'string', params: [], handler: (u: KubeUrl) => u.url.pathname });

/** CEL ints are int64: JSON integers become bigint, everything else keeps its JSON shape. */
function toCel(value: unknown): unknown {
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(toCel);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toCel(v)]));
  return value;
}

export type CelOutcome = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export function evaluateRule(rule: string, self: unknown): CelOutcome {
  try {
    const result = env.evaluate(rule, { self: toCel(self) });
    return result === true ? { ok: true } : { ok: false, reason: 'rule evaluated to false' };
  } catch (error) {
    // Fail closed: a rule we cannot evaluate counts as violated, with the reason shown.
    return { ok: false, reason: `rule could not be evaluated: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** A failed rule as the API server words it: the CRD's message (or the rule), then the rule and why. */
export function celProblemMessage(rule: string, message: string | undefined, reason: string): string {
  return `${message ?? `failed rule: ${rule}`} (CEL: ${rule.replace(/\s+/g, ' ')}; ${reason})`;
}
