import type { PathMatch, SidecarConfig, StringMatch } from './config/types.js';
import { hcmSettings } from './envoy-bootstrap.js';
import { redactSecrets } from './redact.js';

/** Which configuration is in force: Envoy's `version_info` / `last_updated` of a dynamic resource. */
export interface ConfigVersion {
  /** 1 for the configuration the sidecar started with, +1 per applied reload. */
  readonly version: number;
  readonly lastUpdated: Date;
}

/**
 * `/config_dump`: the running config as JSON, in the YAML's own field names, with secret material
 * (HMAC keys of inline JWKS, tokens, credentials, private keys) redacted as Envoy redacts
 * sensitive fields (redact.ts).
 */
export function configDump(config: SidecarConfig, wasmDigests: ReadonlyMap<string, string>, version?: ConfigVersion): unknown {
  return redactSecrets({
    ...(version ? { version_info: String(version.version), last_updated: version.lastUpdated.toISOString() } : {}),
    listen: `${config.listen.host}:${config.listen.port}`,
    admin: `${config.admin.host}:${config.admin.port}`,
    workers: config.workers,
    // The listener-level settings in force (they reload too), under sidecar.yaml's names.
    http_connection_manager: hcmSettings(config.hcm),
    per_connection_buffer_limit_bytes: config.perConnectionBufferLimitBytes,
    overload: { max_active_downstream_connections: config.overload.maxActiveDownstreamConnections },
    access_log_format: config.accessLogFormat,
    tls: config.tls && { cert: config.tls.certFile, key: config.tls.keyFile, client_ca: config.tls.clientCaFile, require_client_certificate: true },
    filters: config.filters.map((filter) => ({
      name: filter.name,
      root_id: filter.rootId,
      vm_config: {
        vm_id: filter.vmId, runtime: 'envoy.wasm.runtime.v8', code: { local: { filename: filter.wasmFile } }, sha256: wasmDigests.get(filter.name),
        configuration: parseMaybeJson(filter.vmConfiguration),
      },
      configuration: parseMaybeJson(filter.configuration),
      fail_open: filter.failOpen,
    })),
    clusters: Object.fromEntries([...config.clusters.values()].map((c) => [c.name, { url: c.url.origin, connect_timeout: `${c.connectTimeoutMs / 1000}s` }])),
    routes: config.routes.map((route) => ({
      name: route.name,
      match: { ...pathMatch(route.path), headers: route.headers.length ? route.headers.map((h) => ({ name: h.name, ...(h.match ? { string_match: stringMatch(h.match) } : { present_match: true }), invert_match: h.invert })) : undefined },
      cluster: route.cluster,
      timeout: `${route.timeoutMs / 1000}s`,
    })),
  });
}

function pathMatch(match: PathMatch): Record<string, unknown> {
  return match.kind === 'regex' ? { safe_regex: { regex: match.value.pattern } } : { [match.kind]: match.value };
}

function stringMatch(match: StringMatch): Record<string, unknown> {
  return match.kind === 'regex' ? { safe_regex: { regex: match.value.pattern } } : { [match.kind]: match.value, ignore_case: match.ignoreCase };
}

function parseMaybeJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
