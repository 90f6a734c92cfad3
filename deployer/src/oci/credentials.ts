import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface RegistryCredentials {
  readonly username: string;
  readonly password: string;
}

export interface CredentialSources {
  /** Explicit credentials (CLI flags) win over everything else. */
  readonly credentials?: RegistryCredentials;
  /** Path to a Docker config.json; default `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`. */
  readonly dockerConfigPath?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

interface DockerAuthEntry {
  readonly auth?: string;
  readonly username?: string;
  readonly password?: string;
  readonly identitytoken?: string;
}

/**
 * Resolve credentials for one registry host: flags, then DEPLOYER_REGISTRY_USERNAME/PASSWORD,
 * then Docker config.json `auths[host]` (the same precedence `docker login` users expect;
 * DOCKER_CONFIG is honoured as in docker/cli cli/config/config.go). Returns undefined for anonymous.
 */
export async function resolveCredentials(registry: string, sources: CredentialSources = {}): Promise<RegistryCredentials | undefined> {
  if (sources.credentials) return sources.credentials;
  const env = sources.env ?? process.env;
  const username = env.DEPLOYER_REGISTRY_USERNAME;
  const password = env.DEPLOYER_REGISTRY_PASSWORD;
  if (username !== undefined && username !== '') {
    if (password === undefined) {
      throw new Error('DEPLOYER_REGISTRY_USERNAME is set but DEPLOYER_REGISTRY_PASSWORD is not; set both or neither');
    }
    return { username, password };
  }
  const configPath = sources.dockerConfigPath ?? defaultDockerConfigPath(env);
  return readDockerConfigCredentials(configPath, registry, sources.dockerConfigPath !== undefined);
}

export function defaultDockerConfigPath(env: Readonly<Record<string, string | undefined>>): string {
  const dir = env.DOCKER_CONFIG && env.DOCKER_CONFIG !== '' ? env.DOCKER_CONFIG : join(homedir(), '.docker');
  return join(dir, 'config.json');
}

async function readDockerConfigCredentials(path: string, registry: string, explicit: boolean): Promise<RegistryCredentials | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    // A missing default config simply means anonymous access; a missing explicit one is a user error.
    if (!explicit && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`could not read Docker config ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`Docker config ${path} is not valid JSON: ${(error as Error).message}`);
  }
  const auths = isRecord(parsed) && isRecord(parsed.auths) ? parsed.auths : {};
  const entry = findAuthEntry(auths, registry);
  if (!entry) return undefined;
  return decodeAuthEntry(entry, path, registry);
}

/** docker/cli matches `auths` keys by host, also accepting legacy `https://host/v1/`-style keys. */
function findAuthEntry(auths: Record<string, unknown>, registry: string): DockerAuthEntry | undefined {
  const wanted = registry === 'docker.io' ? ['docker.io', 'index.docker.io', 'registry-1.docker.io'] : [registry];
  for (const [key, value] of Object.entries(auths)) {
    const host = key.replace(/^https?:\/\//, '').split('/')[0]!.toLowerCase();
    if (wanted.includes(host) && isRecord(value)) return value as DockerAuthEntry;
  }
  return undefined;
}

function decodeAuthEntry(entry: DockerAuthEntry, path: string, registry: string): RegistryCredentials | undefined {
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) {
      throw new Error(`Docker config ${path}: auths["${registry}"].auth must be base64("username:password")`);
    }
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (typeof entry.username === 'string' && typeof entry.password === 'string') {
    return { username: entry.username, password: entry.password };
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
