import { Authorizer } from './authorizer.js';
import { parseAuthChallenge } from './challenge.js';
import type { RegistryCredentials } from './credentials.js';
import { RegistryAuthError, RegistryNetworkError, RegistryResponseError, describeError } from './errors.js';
import { type ImageReference, registryBaseUrl } from './reference.js';

export interface RegistryClientOptions {
  readonly reference: ImageReference;
  readonly credentials?: RegistryCredentials;
  readonly actions: 'pull' | 'pull,push';
  readonly signal?: AbortSignal;
}

export interface RegistryRequest {
  readonly method: 'GET' | 'HEAD' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** Path below the registry origin (`/v2/...`) or an absolute URL (upload Location). */
  readonly target: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
  /** Statuses treated as success; anything else becomes a RegistryResponseError. */
  readonly expect: readonly number[];
}

/**
 * Minimal OCI distribution-spec client (opencontainers/distribution-spec spec.md) over node's fetch.
 * Handles the 401 → challenge → retry dance once per request and remembers the answer.
 */
export class RegistryClient {
  readonly baseUrl: string;
  private readonly authorizer: Authorizer;

  constructor(private readonly options: RegistryClientOptions) {
    this.baseUrl = registryBaseUrl(options.reference);
    const scope = `repository:${options.reference.repository}:${options.actions}`;
    this.authorizer = new Authorizer(options.reference.registry, options.credentials, scope, options.signal);
  }

  get repositoryPath(): string {
    return `/v2/${this.options.reference.repository}`;
  }

  resolve(target: string): URL {
    return new URL(target, this.baseUrl);
  }

  async send(request: RegistryRequest): Promise<Response> {
    const url = this.resolve(request.target);
    let response = await this.fetchOnce(url, request, this.authorizer.current());
    if (response.status === 401) {
      await response.body?.cancel();
      const challenge = parseAuthChallenge(response.headers.get('www-authenticate'));
      const authorization = await this.authorizer.answer(challenge, 401);
      response = await this.fetchOnce(url, request, authorization);
      if (response.status === 401) {
        await response.body?.cancel();
        throw new RegistryAuthError(this.options.reference.registry, 401, this.describeRejection(response));
      }
    }
    if (response.status === 403) {
      const detail = await readRegistryErrors(response);
      throw new RegistryAuthError(this.options.reference.registry, 403, `access to ${this.options.reference.repository} denied${detail ? ` (${detail})` : ''}`);
    }
    if (!request.expect.includes(response.status)) {
      const detail = await readRegistryErrors(response);
      throw new RegistryResponseError(response.status, request.method, redact(url), detail);
    }
    return response;
  }

  /** Why a request still got 401 after we answered the challenge. */
  private describeRejection(response: Response): string {
    const challenge = parseAuthChallenge(response.headers.get('www-authenticate'));
    const who = this.options.credentials ? `user "${this.options.credentials.username}"` : 'anonymous access';
    // RFC 6750 section 3.1: a valid token without the needed access is answered with error="insufficient_scope".
    if (challenge?.params.error === 'insufficient_scope') {
      return `the token issued for ${who} lacks ${challenge.params.scope ?? this.options.actions} access (insufficient_scope)`;
    }
    return this.options.credentials ? `the registry rejected the credentials of ${who}` : 'the registry requires credentials and none were given';
  }

  private async fetchOnce(url: URL, request: RegistryRequest, authorization: string | undefined): Promise<Response> {
    const headers: Record<string, string> = { ...request.headers };
    if (authorization) headers.authorization = authorization;
    try {
      return await fetch(url, {
        method: request.method,
        headers,
        body: request.body as Uint8Array<ArrayBuffer> | undefined,
        signal: this.options.signal,
        redirect: 'follow',
      });
    } catch (error) {
      const aborted = this.options.signal?.aborted === true || (error instanceof Error && error.name === 'AbortError');
      throw new RegistryNetworkError(`${request.method} ${redact(url)} failed: ${describeError(error)}`, { cause: error, aborted });
    }
  }
}

/** OCI error body: {"errors":[{"code","message","detail"}]} (distribution-spec "Error Codes"). */
async function readRegistryErrors(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && Array.isArray((parsed as { errors?: unknown }).errors)) {
      return ((parsed as { errors: unknown[] }).errors)
        .map((entry) => {
          const record = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
          return [record.code, record.message].filter((part) => typeof part === 'string' && part !== '').join(' ');
        })
        .join('; ');
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.trim().slice(0, 200);
}

/** Upload URLs carry opaque `_state` tokens; keep them out of error messages. */
function redact(url: URL): string {
  return `${url.origin}${url.pathname}`;
}
