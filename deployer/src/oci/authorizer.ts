import type { AuthChallenge } from './challenge.js';
import type { RegistryCredentials } from './credentials.js';
import { OciError, RegistryAuthError, describeError } from './errors.js';

/**
 * Turns registry 401 challenges into an Authorization header: Basic directly, Bearer through the
 * token endpoint named by the challenge (distribution docs/spec/auth/token.md: GET realm?service=&scope=,
 * Basic credentials when we have them, answer `{"token"}` or `{"access_token"}`).
 */
export class Authorizer {
  private header: string | undefined;

  constructor(
    private readonly registry: string,
    private readonly credentials: RegistryCredentials | undefined,
    private readonly defaultScope: string,
    private readonly signal: AbortSignal | undefined,
  ) {}

  /** Authorization header to send pre-emptively, once a challenge has been answered. */
  current(): string | undefined {
    return this.header;
  }

  /** Answer a challenge; throws RegistryAuthError when we cannot. */
  async answer(challenge: AuthChallenge | undefined, status: number): Promise<string> {
    if (!challenge) {
      throw new RegistryAuthError(this.registry, status, 'the registry asked for authentication without a Basic or Bearer challenge');
    }
    if (challenge.scheme === 'basic') {
      if (!this.credentials) {
        throw new RegistryAuthError(this.registry, status, 'the registry requires credentials and none were given');
      }
      this.header = `Basic ${basic(this.credentials)}`;
      return this.header;
    }
    this.header = `Bearer ${await this.fetchToken(challenge)}`;
    return this.header;
  }

  private async fetchToken(challenge: AuthChallenge): Promise<string> {
    const realm = challenge.params.realm;
    if (!realm) throw new RegistryAuthError(this.registry, 401, 'the Bearer challenge has no realm (token endpoint)');
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new RegistryAuthError(this.registry, 401, `the Bearer challenge realm "${realm}" is not a URL`);
    }
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    url.searchParams.set('scope', challenge.params.scope ?? this.defaultScope);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.credentials) headers.authorization = `Basic ${basic(this.credentials)}`;

    let response: Response;
    try {
      response = await fetch(url, { headers, signal: this.signal });
    } catch (error) {
      throw new OciError(`could not reach the token endpoint ${url.origin}${url.pathname} for ${this.registry}: ${describeError(error)}`, { cause: error });
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      const who = this.credentials ? `user "${this.credentials.username}" was rejected by the token endpoint` : 'the token endpoint requires credentials and none were given';
      throw new RegistryAuthError(this.registry, response.status, who);
    }
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      throw new OciError(`token endpoint ${url.origin}${url.pathname} for ${this.registry} returned ${response.status}: ${text.slice(0, 200)}`);
    }
    const body: unknown = await response.json().catch(() => undefined);
    const token = readToken(body);
    if (!token) throw new OciError(`token endpoint ${url.origin}${url.pathname} for ${this.registry} answered without "token" or "access_token"`);
    return token;
  }
}

function basic(credentials: RegistryCredentials): string {
  return Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64');
}

function readToken(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const record = body as Record<string, unknown>;
  if (typeof record.token === 'string' && record.token !== '') return record.token;
  if (typeof record.access_token === 'string' && record.access_token !== '') return record.access_token;
  return undefined;
}
