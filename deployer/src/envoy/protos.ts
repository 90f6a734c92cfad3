import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import protobuf from 'protobufjs';

/**
 * Envoy's API protos, as shipped by @grpc/grpc-js-xds under deps/ (envoy-api, xds, udpa,
 * protoc-gen-validate, googleapis). That package is maintained by the gRPC team and vendors the
 * upstream envoyproxy/data-plane-api tree, so the messages we validate against are Envoy's own.
 * google/protobuf/*.proto come from protobufjs itself.
 */
const require = createRequire(import.meta.url);

/** Entry points: everything the deployer renders is reachable from these files. */
const ENTRY_FILES = [
  'envoy/extensions/filters/http/wasm/v3/wasm.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/config/core/v3/extension.proto',
  'envoy/config/core/v3/config_source.proto',
  'udpa/type/v1/typed_struct.proto',
  'xds/type/v3/typed_struct.proto',
] as const;

/**
 * Loaded on the first lookup the entry points can't answer: whole bootstraps (envoy.yaml files,
 * envoy-configs/) and the typed configs they use. Kept out of the first load because the push
 * path never needs them and they double the load time.
 */
const BOOTSTRAP_FILES = [
  'envoy/config/bootstrap/v3/bootstrap.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  // Per-route CORS policies header-router's routes carry (VirtualService corsPolicy).
  'envoy/extensions/filters/http/cors/v3/cors.proto',
  'envoy/extensions/access_loggers/stream/v3/stream.proto',
  'envoy/extensions/access_loggers/file/v3/file.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  // The overload manager's connection cap the sidecar's bootstrap renders (sidecar/hcm/config.ts).
  'envoy/extensions/resource_monitors/downstream_connections/v3/downstream_connections.proto',
  'google/protobuf/wrappers.proto',
] as const;

function protoDirectories(): { readonly deps: readonly string[]; readonly wellKnown: string } {
  const xdsPackageJson = require.resolve('@grpc/grpc-js-xds/package.json');
  const depsRoot = path.join(path.dirname(xdsPackageJson), 'deps');
  const deps = ['envoy-api', 'xds', 'protoc-gen-validate', 'googleapis', 'udpa'].map((d) => path.join(depsRoot, d)).filter((d) => existsSync(d));
  const wellKnown = path.dirname(require.resolve('protobufjs/package.json'));
  return { deps, wellKnown };
}

let cached: protobuf.Root | undefined;
let bootstrapLoaded = false;

/** The resolved root holding Envoy's API; loaded once per process (about a second). */
export function envoyProtoRoot(): protobuf.Root {
  if (cached) return cached;
  const { deps, wellKnown } = protoDirectories();
  const root = new protobuf.Root();
  root.resolvePath = (origin: string, target: string): string => {
    if (target.startsWith('google/protobuf/')) return path.join(wellKnown, target);
    for (const dir of deps) {
      const candidate = path.join(dir, target);
      if (existsSync(candidate)) return candidate;
    }
    return path.resolve(path.dirname(origin), target);
  };
  const entries = ENTRY_FILES.filter((file) => deps.some((dir) => existsSync(path.join(dir, file))));
  if (entries.length === 0) {
    throw new Error(`Envoy API protos not found under ${deps.join(', ') || '@grpc/grpc-js-xds/deps'}: expected @grpc/grpc-js-xds to be installed`);
  }
  // keepCase: Envoy's canonical field names are snake_case; the validator also accepts lowerCamel json names.
  root.loadSync([...entries], { keepCase: true });
  root.resolveAll();
  cached = root;
  return root;
}

export const TYPE_URL_PREFIX = 'type.googleapis.com/';

const loadedPackages = new Set<string>();

/**
 * Loads every .proto of the package directory a message name points into
 * (`envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication` →
 * `envoy/extensions/filters/http/jwt_authn/v3/*.proto`; nested names try shorter prefixes), so
 * any extension's typed_config resolves without loading all ~500 files up front.
 */
function loadPackageOf(fullName: string): void {
  const parts = fullName.split('.');
  const { deps } = protoDirectories();
  for (let n = parts.length - 1; n >= 2; n--) {
    const relative = parts.slice(0, n).join('/');
    if (loadedPackages.has(relative)) continue;
    const dir = deps.map((d) => path.join(d, relative)).find((d) => existsSync(d) && statSync(d).isDirectory());
    if (dir === undefined) continue;
    loadedPackages.add(relative);
    const files = readdirSync(dir).filter((f) => f.endsWith('.proto')).map((f) => `${relative}/${f}`);
    if (files.length === 0) continue;
    const root = envoyProtoRoot();
    root.loadSync(files, { keepCase: true });
    root.resolveAll();
    return;
  }
}

function loadBootstrap(): void {
  if (bootstrapLoaded) return;
  bootstrapLoaded = true;
  const root = envoyProtoRoot();
  const { deps, wellKnown } = protoDirectories();
  const present = BOOTSTRAP_FILES.filter((file) => file.startsWith('google/protobuf/') ? existsSync(path.join(wellKnown, file)) : deps.some((dir) => existsSync(path.join(dir, file))));
  root.loadSync([...present], { keepCase: true });
  root.resolveAll();
}

/** The message, loading its package on demand; undefined when Envoy's API has no such message. */
export function findMessage(fullName: string): protobuf.Type | undefined {
  const root = envoyProtoRoot();
  const find = (): protobuf.Type | undefined => {
    try {
      const found = root.lookup(fullName);
      return found instanceof protobuf.Type ? found : undefined;
    } catch {
      return undefined;
    }
  };
  let found = find();
  if (found === undefined) {
    loadBootstrap();
    found = find();
  }
  if (found === undefined && /^[A-Za-z_][\w.]*$/.test(fullName)) {
    loadPackageOf(fullName);
    found = find();
  }
  return found;
}

export function lookupMessage(fullName: string): protobuf.Type {
  const found = findMessage(fullName);
  if (found === undefined) throw new Error(`unknown protobuf message "${fullName}": not in Envoy's API protos`);
  return found;
}

/**
 * The message name Envoy's API has closest to a misspelt one: each package segment is matched
 * against the directories that exist, then the message against the package's messages.
 */
export function closestMessageName(fullName: string, pick: (word: string, candidates: readonly string[]) => string | undefined): string | undefined {
  const parts = fullName.split('.');
  const { deps } = protoDirectories();
  const fixed: string[] = [];
  for (let i = 0; i < parts.length - 1; i++) {
    const here = deps.map((d) => path.join(d, ...fixed)).filter((d) => existsSync(d));
    const subdirs = [...new Set(here.flatMap((d) => readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name)))];
    if (subdirs.length === 0) break;
    const segment = subdirs.includes(parts[i]!) ? parts[i]! : pick(parts[i]!, subdirs);
    if (segment === undefined) return undefined;
    fixed.push(segment);
  }
  const pkg = fixed.join('.');
  loadPackageOf(`${pkg}.X`);
  let namespace: protobuf.ReflectionObject | null = null;
  try {
    namespace = envoyProtoRoot().lookup(pkg);
  } catch {
    return undefined;
  }
  if (!(namespace instanceof protobuf.Namespace)) return undefined;
  const messages = namespace.nestedArray.filter((n) => n instanceof protobuf.Type).map((n) => n.name);
  const name = pick(parts[parts.length - 1]!, messages);
  return name === undefined ? undefined : `${pkg}.${name}`;
}
