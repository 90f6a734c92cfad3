/**
 * HTTP client for the control plane's admin API (admin-api.ts), used by `deployer push
 * --control-plane` and `deployer status --control-plane`. Errors name the call and carry the
 * server's message.
 */
export class AdminClient {
  private readonly base: string;

  constructor(baseUrl: string, private readonly token: string, private readonly fetchImpl: typeof fetch = fetch) {
    let url: URL;
    try {
      url = new URL(baseUrl);
    } catch {
      throw new Error(`--control-plane ${baseUrl}: not a URL; expected e.g. http://127.0.0.1:15081`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`--control-plane ${baseUrl}: expected an http:// or https:// URL`);
    this.base = url.toString().replace(/\/$/, '');
  }

  async call<T>(method: string, path: string, body?: Uint8Array | unknown): Promise<T> {
    const isBytes = body instanceof Uint8Array;
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.base}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': isBytes ? 'application/wasm' : 'application/json' }) },
        body: body === undefined ? undefined : isBytes ? new Blob([body as Uint8Array<ArrayBuffer>]) : JSON.stringify(body),
      });
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause?.message;
      throw new Error(`could not reach the control plane at ${this.base} (${method} ${path}): ${cause ?? (error instanceof Error ? error.message : String(error))}`);
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text === '' ? {} : JSON.parse(text);
    } catch {
      json = { error: text };
    }
    if (!response.ok) {
      const message = (json as { error?: string }).error ?? response.statusText;
      throw new Error(`control plane refused ${method} ${path}: ${response.status} ${message}`);
    }
    return json as T;
  }
}
