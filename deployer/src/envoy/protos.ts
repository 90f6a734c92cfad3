import { existsSync } from 'node:fs';
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

export function lookupMessage(fullName: string): protobuf.Type {
  let found = envoyProtoRoot().lookup(fullName);
  if (!(found instanceof protobuf.Type) && !bootstrapLoaded) {
    bootstrapLoaded = true;
    const root = envoyProtoRoot();
    const { deps, wellKnown } = protoDirectories();
    const present = BOOTSTRAP_FILES.filter((file) => file.startsWith('google/protobuf/') ? existsSync(path.join(wellKnown, file)) : deps.some((dir) => existsSync(path.join(dir, file))));
    root.loadSync([...present], { keepCase: true });
    root.resolveAll();
    found = root.lookup(fullName);
  }
  if (!(found instanceof protobuf.Type)) {
    throw new Error(`unknown protobuf message "${fullName}": not in Envoy's API protos`);
  }
  return found;
}
