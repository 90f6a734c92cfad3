import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Fetches a filter's code from `remote.http_uri` and checks it against `remote.sha256`, as
 * Envoy's RemoteAsyncDataProvider does (source/common/config/remote_data_fetcher.cc: a body with
 * another hash is a failure). Verified modules are cached by digest, so a reconnect or a rollback
 * to a module fetched before costs nothing.
 */
export class ModuleFetchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModuleFetchError';
  }
}

export interface ModuleFetcherOptions {
  readonly cacheDir: string;
  readonly timeoutMs?: number;
  readonly fetchImpl?: typeof fetch;
}

export class ModuleFetcher {
  /** Digests this process verified and wrote (or re-verified) in the cache: a config-only push re-reads and re-hashes nothing. */
  private readonly verified = new Set<string>();

  constructor(private readonly options: ModuleFetcherOptions) {
    mkdirSync(options.cacheDir, { recursive: true });
  }

  /** The path of the verified module; throws ModuleFetchError naming the URL and the problem. */
  async fetch(uri: string, sha256: string): Promise<string> {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new ModuleFetchError(`${uri}: sha256 "${sha256}" is not 64 hex digits`);
    const file = path.join(this.options.cacheDir, `${sha256}.wasm`);
    if (this.verified.has(sha256) && existsSync(file)) return file;
    if (existsSync(file) && digest(readFileSync(file)) === sha256) {
      this.verified.add(sha256);
      return file;
    }
    let response: Response;
    try {
      response = await (this.options.fetchImpl ?? fetch)(uri, { signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000) });
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause?.message;
      throw new ModuleFetchError(`could not fetch ${uri}: ${cause ?? (error instanceof Error ? error.message : String(error))}`);
    }
    if (!response.ok) throw new ModuleFetchError(`could not fetch ${uri}: HTTP ${response.status}`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    const actual = digest(bytes);
    if (actual !== sha256) throw new ModuleFetchError(`module from ${uri} has sha256 ${actual}, expected ${sha256}: refused`);
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, bytes);
    renameSync(temporary, file);
    this.verified.add(sha256);
    return file;
  }
}

function digest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
