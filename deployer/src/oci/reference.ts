// Image reference grammar follows distribution/reference (reference.go) as used by Docker and
// go-containerregistry `name.ParseReference`, which Istio uses to read WasmPlugin `url`s.

export interface ImageReference {
  readonly registry: string;
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
  /** true when the registry is spoken to over plain HTTP (loopback hosts or an explicit http:// prefix). */
  readonly insecure: boolean;
}

const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_API_HOST = 'registry-1.docker.io';
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const HOST = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::([0-9]{1,5}))?$/;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const EXPECTED = 'expected oci://host[:port]/repository[:tag|@sha256:<64 hex>] or host/repository:tag';

export class ImageReferenceError extends Error {
  constructor(reference: string, reason: string) {
    super(`invalid image reference "${reference}": ${reason} (${EXPECTED})`);
    this.name = 'ImageReferenceError';
  }
}

export function parseImageReference(ref: string): ImageReference {
  const input = ref.trim();
  if (input === '') throw new ImageReferenceError(ref, 'it is empty');
  const { rest, forcedInsecure } = stripScheme(ref, input);

  const atIndex = rest.indexOf('@');
  const namePart = atIndex >= 0 ? rest.slice(0, atIndex) : rest;
  const digest = atIndex >= 0 ? rest.slice(atIndex + 1) : undefined;
  if (digest !== undefined && !DIGEST.test(digest)) {
    throw new ImageReferenceError(ref, `digest "${digest}" is not sha256:<64 lowercase hex>`);
  }

  const lastSlash = namePart.lastIndexOf('/');
  const lastColon = namePart.lastIndexOf(':');
  const hasTag = lastColon > lastSlash;
  const name = hasTag ? namePart.slice(0, lastColon) : namePart;
  const tag = hasTag ? namePart.slice(lastColon + 1) : undefined;
  if (tag !== undefined && !TAG.test(tag)) {
    throw new ImageReferenceError(ref, `tag "${tag}" must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`);
  }

  if (rest !== input && name !== '' && !name.includes('/')) {
    // With a scheme the user names a registry explicitly; never fall back to Docker Hub silently.
    throw new ImageReferenceError(ref, `"${name}" has no repository: a reference with ${input.slice(0, input.indexOf("://"))}:// must name host/repository`);
  }
  const { registry, repository } = splitRegistry(ref, name);
  for (const component of repository.split('/')) {
    if (!PATH_COMPONENT.test(component)) {
      throw new ImageReferenceError(ref, `repository component "${component}" must be lowercase letters, digits and separators (. _ __ -)`);
    }
  }
  if (repository.length > 255) throw new ImageReferenceError(ref, 'repository name is longer than 255 characters');

  const insecure = forcedInsecure || LOOPBACK_HOSTS.has(hostWithoutPort(registry));
  return {
    registry,
    repository,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
    ...(tag === undefined && digest === undefined ? { tag: 'latest' } : {}),
    insecure,
  };
}

/** Canonical text form, `host/repo:tag@sha256:…` (no scheme), as Istio's WasmPlugin `url` expects after `oci://`. */
export function formatImageReference(reference: ImageReference): string {
  const tag = reference.tag !== undefined ? `:${reference.tag}` : '';
  const digest = reference.digest !== undefined ? `@${reference.digest}` : '';
  return `${reference.registry}/${reference.repository}${tag}${digest}`;
}

/** Base URL of the distribution API (`/v2/`) for a reference. */
export function registryBaseUrl(reference: ImageReference): string {
  const host = reference.registry === DOCKER_HUB ? DOCKER_HUB_API_HOST : reference.registry;
  return `${reference.insecure ? 'http' : 'https'}://${host}`;
}

function stripScheme(original: string, input: string): { readonly rest: string; readonly forcedInsecure: boolean } {
  const schemeMatch = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(input);
  if (!schemeMatch) return { rest: input, forcedInsecure: false };
  const scheme = schemeMatch[1]!.toLowerCase();
  const rest = input.slice(schemeMatch[0].length);
  if (scheme === 'oci' || scheme === 'https') return { rest, forcedInsecure: false };
  if (scheme === 'http') return { rest, forcedInsecure: true };
  throw new ImageReferenceError(original, `scheme "${scheme}://" is not supported (use oci://)`);
}

function splitRegistry(original: string, name: string): { readonly registry: string; readonly repository: string } {
  if (name === '') throw new ImageReferenceError(original, 'repository name is missing');
  const firstSlash = name.indexOf('/');
  const first = firstSlash >= 0 ? name.slice(0, firstSlash) : '';
  // Docker's rule: the first component is a registry host when it has a dot, a port, or is localhost.
  const looksLikeHost = first !== '' && (first.includes('.') || first.includes(':') || first.startsWith('[') || first === 'localhost');
  if (!looksLikeHost) {
    const repository = name.includes('/') ? name : `library/${name}`;
    return { registry: DOCKER_HUB, repository };
  }
  const hostMatch = HOST.exec(first);
  if (!hostMatch) throw new ImageReferenceError(original, `registry host "${first}" is not a valid host[:port]`);
  const port = hostMatch[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) {
    throw new ImageReferenceError(original, `registry port ${port} is outside 1-65535`);
  }
  const repository = name.slice(firstSlash + 1);
  if (repository === '') throw new ImageReferenceError(original, 'repository name is missing after the registry host');
  return { registry: first.toLowerCase(), repository };
}

function hostWithoutPort(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(0, registry.indexOf(']') + 1);
  const colon = registry.lastIndexOf(':');
  return colon >= 0 ? registry.slice(0, colon) : registry;
}
