import { ApiException } from '@kubernetes/client-node';

/** A Kubernetes API error, with the server's Status message and the object it concerns. */
export class KubeApiError extends Error {
  constructor(readonly code: number, readonly reason: string, message: string) {
    super(message);
    this.name = 'KubeApiError';
  }
}

interface StatusBody {
  readonly message?: string;
  readonly reason?: string;
  readonly details?: { readonly causes?: readonly { readonly field?: string; readonly message?: string }[] };
}

function parseStatus(body: unknown): StatusBody {
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as StatusBody;
    } catch {
      return { message: body };
    }
  }
  return (body ?? {}) as StatusBody;
}

/** Turns client-node errors into one line that says what failed on which object and what to do. */
export function toKubeError(action: string, target: string, error: unknown, server?: string): Error {
  if (error instanceof ApiException) {
    const status = parseStatus(error.body);
    const code = error.code;
    const detail = status.message ?? `HTTP ${code}`;
    if (code === 409 && status.reason === 'Conflict') {
      const fields = (status.details?.causes ?? []).map((c) => c.field).filter(Boolean).join(', ');
      return new KubeApiError(code, 'Conflict', `${action} ${target}: ${detail}${fields ? ` (fields: ${fields})` : ''}; another field manager owns these fields — re-run with --force to take them over`);
    }
    if (code === 401 || code === 403) return new KubeApiError(code, status.reason ?? 'Forbidden', `${action} ${target}: ${detail}: expected credentials allowed to ${action.toLowerCase()} ${target.split(' ')[0]} resources`);
    if (code === 404 && status.reason !== 'NotFound') return new KubeApiError(code, 'NotFound', `${action} ${target}: ${detail}: is the Istio CRD installed on the cluster?`);
    return new KubeApiError(code, status.reason ?? 'Error', `${action} ${target}: ${detail}`);
  }
  const message = error instanceof Error ? error.message : String(error);
  const cause = (error as { cause?: { code?: string } })?.cause?.code ?? (error as { code?: string })?.code;
  if (cause === 'ECONNREFUSED' || /ECONNREFUSED/.test(message)) {
    return new Error(`${action} ${target}: cannot reach the Kubernetes API server${server ? ` at ${server}` : ''} (connection refused): expected a reachable cluster in the kubeconfig context`);
  }
  if (message.startsWith('Unrecognized API version and kind')) {
    return new Error(`${action} ${target}: ${message}: expected the Istio CRDs (networking.istio.io, extensions.istio.io) to be installed`);
  }
  return new Error(`${action} ${target}: ${message}`);
}
