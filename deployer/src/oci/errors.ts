/** Base class so callers (CLI, push orchestration) can tell registry failures from bugs. */
export class OciError extends Error {
  constructor(message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.name = 'OciError';
  }
}

/** The registry (or its token service) refused our credentials. */
export class RegistryAuthError extends OciError {
  constructor(
    readonly registry: string,
    readonly status: number,
    detail: string,
  ) {
    super(
      `authentication to ${registry} failed (${status}): ${detail}; check the username/password ` +
        `(--username/--password, DEPLOYER_REGISTRY_USERNAME/DEPLOYER_REGISTRY_PASSWORD or the Docker config.json auths entry for ${registry})`,
    );
    this.name = 'RegistryAuthError';
  }
}

/** A registry answered with an unexpected HTTP status; carries the OCI error body when present. */
export class RegistryResponseError extends OciError {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly url: string,
    readonly registryErrors: string,
  ) {
    super(`${method} ${url} returned ${status}${registryErrors ? `: ${registryErrors}` : ''}`);
    this.name = 'RegistryResponseError';
  }
}

/** The request never got an HTTP answer (connection refused/reset/closed); retrying may help. */
export class RegistryNetworkError extends OciError {
  constructor(message: string, options: { readonly cause: unknown; readonly aborted: boolean }) {
    super(message, { cause: options.cause });
    this.name = 'RegistryNetworkError';
    this.aborted = options.aborted;
  }

  readonly aborted: boolean;
}

/** Wrap any failure with the step it happened in, keeping the cause chain. */
export function withContext(context: string, error: unknown): OciError {
  if (error instanceof RegistryAuthError) return error;
  return new OciError(`${context}: ${describeError(error)}`, { cause: error });
}

/** Message of an error including undici's nested network cause (ECONNRESET, ECONNREFUSED...). */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'AbortError') return 'aborted';
  const cause = error.cause;
  if (cause instanceof Error && error.message === 'fetch failed') {
    const code = (cause as NodeJS.ErrnoException).code;
    return `network error: ${cause.message}${code && !cause.message.includes(code) ? ` (${code})` : ''}`;
  }
  return error.message;
}
