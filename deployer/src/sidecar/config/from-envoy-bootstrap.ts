import { existsSync, readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { envoyMessageIssues } from '../../envoy/validate.js';
import { SidecarConfigError, type SidecarConfigProblem } from './errors.js';
import type { RawSidecarConfig } from './schema.js';
import type { RawHcmFields } from '../hcm/config.js';
import { ISTIO_ACCESS_LOG_FORMAT } from '../access-log.js';
import { ENVOY_DEFAULT_ACCESS_LOG_FORMAT } from '../envoy-bootstrap.js';
import { loadSidecarConfigFile, validateSidecarConfig } from './validate.js';
import type { SidecarConfig } from './types.js';
import { ISTIO_STATS_TAGS } from '../stats-tags.js';
import { rawClusterTls, UPSTREAM_TLS_CONTEXT, type RawClusterTls } from '../envoy-upstream-tls.js';

/**
 * `deployer run -c envoy.yaml`: an Envoy bootstrap (envoy.config.bootstrap.v3.Bootstrap) read as
 * the sidecar config, so one file serves Envoy and the local sidecar. It is validated against
 * Envoy's API protos first (a misspelt field fails as Envoy would fail it), then the subset the
 * sidecar implements is taken — the inverse of sidecar/envoy-bootstrap.ts: one static listener
 * with one HTTP connection manager (codec AUTO, stdout access log), wasm filters then the router,
 * one virtual host `*` with routes, clusters with one endpoint, downstream mTLS, admin. Anything
 * else is refused by its path, all at once, rather than run with a meaning Envoy would not give it.
 */
type Json = Record<string, unknown>;

const BOOTSTRAP = 'envoy.config.bootstrap.v3.Bootstrap';
const HCM = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const WASM = 'envoy.extensions.filters.http.wasm.v3.Wasm';
const ROUTER = 'envoy.extensions.filters.http.router.v3.Router';
const STDOUT_LOG = 'envoy.extensions.access_loggers.stream.v3.StdoutAccessLog';
const DOWNSTREAM_CONNECTIONS = 'envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig';
/** The HttpConnectionManager fields the sidecar's HCM stage implements (deployer/src/sidecar/hcm/config.ts), under Envoy's names. */
const HCM_STAGE_FIELDS = ['normalize_path', 'merge_slashes', 'path_with_escaped_slashes_action', 'max_request_headers_kb', 'common_http_protocol_options',
  'http_protocol_options', 'http2_protocol_options', 'stream_idle_timeout', 'request_headers_timeout', 'request_timeout', 'drain_timeout', 'delayed_close_timeout', 'strip_trailing_host_dot'] as const;
const DOWNSTREAM_TLS = 'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
const STRING_VALUE = 'google.protobuf.StringValue';
const V8 = 'envoy.wasm.runtime.v8';

/** A document that is an Envoy bootstrap rather than a sidecar.yaml. */
export function isEnvoyBootstrap(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const keys = Object.keys(value);
  return keys.includes('static_resources') || keys.includes('staticResources') || keys.includes('node') || keys.includes('dynamic_resources') || keys.includes('dynamicResources');
}

/** Reads a sidecar.yaml or an Envoy bootstrap (envoy.yaml), whichever the file is. */
export function loadRunConfigFile(file: string, baseDir = process.cwd()): SidecarConfig {
  if (!existsSync(file)) throw new SidecarConfigError(file, '', 'config file not found');
  const document = parseDocument(readFileSync(file, 'utf8'));
  const value = document.errors.length === 0 ? (document.toJS() as unknown) : undefined;
  if (!isEnvoyBootstrap(value)) return loadSidecarConfigFile(file, baseDir);
  // Every problem at once: what Envoy refuses, what the sidecar does not implement, and what the
  // sidecar's own checks find in the rest (files, regexes, clusters), all named by envoy.yaml path.
  const { raw, problems, envoyPath } = translateBootstrap(value);
  try {
    const config = validateSidecarConfig(raw, { source: file, baseDir });
    if (problems.length === 0) return config;
  } catch (error) {
    if (!(error instanceof SidecarConfigError)) throw error;
    const reported = (field: string) => problems.some((p) => field === p.field || field.startsWith(`${p.field}.`) || field.startsWith(`${p.field}[`));
    for (const p of error.problems) {
      const field = envoyPath(p.field);
      if (!reported(field)) problems.push({ field, problem: p.problem });
    }
  }
  throw new SidecarConfigError(file, problems);
}

const snake = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Reads fields of one message, noting those the sidecar does not implement (by path). */
class Reader {
  readonly unsupported: SidecarConfigProblem[] = [];
  /** Where each part of the sidecar config came from: sidecar.yaml path → envoy.yaml path. */
  readonly origins: [string, string][] = [];

  origin(sidecarPath: string, envoyPath: string): void {
    this.origins.push([sidecarPath, envoyPath]);
  }

  /** The envoy.yaml path of a sidecar.yaml field (the longest recorded prefix), for messages. */
  envoyPath = (field: string): string => {
    const hit = this.origins.filter(([prefix]) => field === prefix || field.startsWith(`${prefix}.`) || field.startsWith(`${prefix}[`))
      .sort((a, b) => b[0].length - a[0].length)[0];
    return hit ? `${hit[1]}${field.slice(hit[0].length)}` : field;
  };

  /** A field Envoy would run but the sidecar does not implement, with why where it helps. */
  note(path: string, why?: string): void {
    this.unsupported.push({ field: path, problem: `not implemented by deployer run${why ? ` (${why})` : ''}: Envoy would run it, the sidecar will not guess` });
  }

  /** The object at `path` with snake_case keys; a field outside `allowed` is noted. */
  fields(value: unknown, path: string, allowed: readonly string[]): Json {
    if (!isObject(value)) return {};
    const out: Json = {};
    for (const [key, field] of Object.entries(value)) {
      const name = key === '@type' ? key : snake(key);
      if (!allowed.includes(name)) this.note(join(path, name));
      else out[name] = field;
    }
    return out;
  }

  /** Exactly one element of the list at `path` (the sidecar has one listener, one chain, …). */
  one(value: unknown, path: string, what: string): unknown {
    const list = Array.isArray(value) ? value : [];
    if (list.length !== 1) this.note(path, `${list.length} ${what}; the sidecar takes exactly one`);
    return list[0];
  }

  typed(value: unknown, path: string, type: string, allowed: readonly string[]): Json {
    const message = this.fields(value, path, ['@type', ...allowed]);
    if (message['@type'] !== `type.googleapis.com/${type}`) this.note(join(path, '@type'), `${String(message['@type'])}; the sidecar implements ${type}`);
    return message;
  }
}

const join = (path: string, key: string | number): string => (typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key);

function socketAddress(r: Reader, value: unknown, path: string): string {
  const address = r.fields(r.fields(value, path, ['socket_address']).socket_address, join(path, 'socket_address'), ['address', 'port_value']);
  const host = String(address.address ?? '');
  return `${host.includes(':') ? `[${host}]` : host}:${Number(address.port_value ?? 0)}`;
}

/**
 * An https cluster's UpstreamTlsContext as sidecar.yaml `tls` (envoy-upstream-tls.ts writes the
 * inverse). Envoy verifies nothing without a validation context; the sidecar always verifies, so
 * such a context is refused rather than run with different trust.
 */
function clusterTls(r: Reader, socket: unknown, path: string, url: string): RawClusterTls | undefined {
  const contextPath = join(path, 'typed_config');
  const context = r.typed(r.fields(socket, path, ['name', 'typed_config']).typed_config, contextPath, UPSTREAM_TLS_CONTEXT, ['sni', 'common_tls_context']);
  const commonPath = join(contextPath, 'common_tls_context');
  const common = r.fields(context.common_tls_context, commonPath, ['tls_certificates', 'validation_context']);
  const filename = (v: unknown, at: string) => String(r.fields(v, at, ['filename']).filename ?? '');
  const certPath = join(commonPath, 'tls_certificates');
  const certificate = common.tls_certificates === undefined ? undefined
    : r.fields(r.one(common.tls_certificates, certPath, 'certificates'), `${certPath}[0]`, ['certificate_chain', 'private_key']);
  const validationPath = join(commonPath, 'validation_context');
  const validation = r.fields(common.validation_context, validationPath, ['trusted_ca', 'match_typed_subject_alt_names']);
  if (validation.trusted_ca === undefined) {
    r.note(join(validationPath, 'trusted_ca'), 'absent: Envoy would accept any upstream certificate, the sidecar always verifies; name the CA bundle to trust');
    return undefined;
  }
  const sansPath = join(validationPath, 'match_typed_subject_alt_names');
  const sans = validation.match_typed_subject_alt_names === undefined ? undefined
    : (Array.isArray(validation.match_typed_subject_alt_names) ? validation.match_typed_subject_alt_names : []).map((m: unknown, i: number) => {
      const matcher = r.fields(r.fields(m, `${sansPath}[${i}]`, ['san_type', 'matcher']).matcher, `${sansPath}[${i}].matcher`, ['exact']);
      return String(matcher.exact ?? '');
    });
  return rawClusterTls(new URL(url), {
    ...(typeof context.sni === 'string' ? { sni: context.sni } : {}),
    ca: filename(validation.trusted_ca, join(validationPath, 'trusted_ca')),
    ...(certificate !== undefined ? {
      cert: filename(certificate.certificate_chain, `${certPath}[0].certificate_chain`),
      key: filename(certificate.private_key, `${certPath}[0].private_key`),
    } : {}),
    ...(sans !== undefined ? { sans } : {}),
  });
}

/** The sidecar.yaml equivalent of an Envoy bootstrap; throws naming every invalid or unsupported field. */
export function sidecarConfigFromEnvoyBootstrap(value: unknown, source: string): RawSidecarConfig {
  const { raw, problems } = translateBootstrap(value);
  if (problems.length > 0) throw new SidecarConfigError(source, problems);
  return raw;
}

interface Translation {
  /** As much of the sidecar config as could be read (complete when `problems` is empty). */
  readonly raw: RawSidecarConfig;
  /** What Envoy itself refuses (unknown fields, wrong types, failed validate rules), then what the sidecar does not implement. */
  readonly problems: SidecarConfigProblem[];
  readonly envoyPath: (sidecarField: string) => string;
}

function translateBootstrap(value: unknown): Translation {
  const invalid = envoyMessageIssues(BOOTSTRAP, value).map((issue) => ({ field: issue.path, problem: `not a valid Envoy bootstrap (${BOOTSTRAP}): ${issue.message}` }));
  const r = new Reader();
  const root = r.fields(value, '', ['node', 'static_resources', 'admin', 'overload_manager', 'stats_config']);
  checkStatsConfig(r, root.stats_config);
  r.fields(root.node, 'node', ['id', 'cluster', 'metadata', 'locality']);
  const resources = r.fields(root.static_resources, 'static_resources', ['listeners', 'clusters']);

  const listenerPath = 'static_resources.listeners[0]';
  const listener = r.fields(r.one(resources.listeners, 'static_resources.listeners', 'listeners'), listenerPath, ['name', 'traffic_direction', 'address', 'filter_chains', 'per_connection_buffer_limit_bytes']);
  r.origin('listen', join(listenerPath, 'address'));
  r.origin('per_connection_buffer_limit_bytes', join(listenerPath, 'per_connection_buffer_limit_bytes'));
  if (listener.traffic_direction !== undefined && listener.traffic_direction !== 'INBOUND') {
    r.note(join(listenerPath, 'traffic_direction'), `${String(listener.traffic_direction)}; the sidecar's listener is INBOUND`);
  }
  const chainPath = join(listenerPath, 'filter_chains[0]');
  const chain = r.fields(r.one(listener.filter_chains, join(listenerPath, 'filter_chains'), 'filter chains'), chainPath, ['filters', 'transport_socket']);
  const hcmPath = join(chainPath, 'filters[0].typed_config');
  const network = r.fields(r.one(chain.filters, join(chainPath, 'filters'), 'network filters'), join(chainPath, 'filters[0]'), ['name', 'typed_config']);
  const hcm = r.typed(network.typed_config, hcmPath, HCM, ['stat_prefix', 'codec_type', 'access_log', 'route_config', 'http_filters', ...HCM_STAGE_FIELDS]);
  if (hcm.common_http_protocol_options !== undefined) r.fields(hcm.common_http_protocol_options, join(hcmPath, 'common_http_protocol_options'), ['idle_timeout', 'max_headers_count', 'max_stream_duration']);
  if (hcm.http_protocol_options !== undefined) r.fields(hcm.http_protocol_options, join(hcmPath, 'http_protocol_options'), ['accept_http_10']);
  if (hcm.http2_protocol_options !== undefined) r.fields(hcm.http2_protocol_options, join(hcmPath, 'http2_protocol_options'), ['initial_stream_window_size', 'initial_connection_window_size']);
  r.origin('http_connection_manager', hcmPath);
  const hcmStage = Object.fromEntries(HCM_STAGE_FIELDS.filter((name) => hcm[name] !== undefined).map((name) => [name, hcm[name]])) as RawHcmFields;
  let accessLogFormat: 'envoy' | 'istio' | undefined;
  if (hcm.codec_type !== undefined && hcm.codec_type !== 'AUTO') r.note(join(hcmPath, 'codec_type'), `${String(hcm.codec_type)}; the sidecar speaks AUTO: HTTP/1.1 and h2c`);
  (Array.isArray(hcm.access_log) ? hcm.access_log : []).forEach((log, i) => {
    const path = join(hcmPath, `access_log[${i}]`);
    const typed = r.typed(r.fields(log, path, ['name', 'typed_config']).typed_config, join(path, 'typed_config'), STDOUT_LOG, ['log_format']);
    // The sidecar writes Envoy's default format; a custom one would be silently different.
    const format = r.fields(typed.log_format, join(path, 'typed_config.log_format'), ['text_format_source']);
    if (format.text_format_source !== undefined) {
      const formatPath = join(path, 'typed_config.log_format.text_format_source');
      const inline = r.fields(format.text_format_source, formatPath, ['inline_string']).inline_string;
      if (inline === ISTIO_ACCESS_LOG_FORMAT) accessLogFormat = 'istio';
      else if (inline === ENVOY_DEFAULT_ACCESS_LOG_FORMAT) accessLogFormat = 'envoy';
      else r.note(join(formatPath, 'inline_string'), `a custom format; the sidecar writes Envoy's default line or Istio's`);
    }
  });

  const routeConfig = r.fields(hcm.route_config, join(hcmPath, 'route_config'), ['name', 'virtual_hosts']);
  const vhostPath = join(hcmPath, 'route_config.virtual_hosts[0]');
  const vhost = r.fields(r.one(routeConfig.virtual_hosts, join(hcmPath, 'route_config.virtual_hosts'), 'virtual hosts'), vhostPath, ['name', 'domains', 'routes']);
  if (JSON.stringify(vhost.domains ?? ['*']) !== '["*"]') r.note(join(vhostPath, 'domains'), `${JSON.stringify(vhost.domains)}; the sidecar serves every authority: ["*"]`);
  r.origin('routes', join(vhostPath, 'routes'));
  const routes = (Array.isArray(vhost.routes) ? vhost.routes : []).map((route, i) => {
    const path = join(vhostPath, `routes[${i}]`);
    r.origin(`routes[${i}]`, path);
    r.origin(`routes[${i}].cluster`, join(path, 'route.cluster'));
    r.origin(`routes[${i}].timeout`, join(path, 'route.timeout'));
    const fields = r.fields(route, path, ['name', 'match', 'route']);
    const action = r.fields(fields.route, join(path, 'route'), ['cluster', 'timeout']);
    const match = r.fields(fields.match, join(path, 'match'), ['prefix', 'path', 'safe_regex', 'headers']);
    if (match.safe_regex !== undefined) match.safe_regex = r.fields(match.safe_regex, join(path, 'match.safe_regex'), ['regex', 'google_re2']);
    if (Array.isArray(match.headers)) {
      match.headers = match.headers.map((h, j) => r.fields(h, join(path, `match.headers[${j}]`), ['name', 'string_match', 'present_match', 'invert_match']));
    }
    return { ...(fields.name !== undefined ? { name: fields.name } : {}), match, cluster: action.cluster, ...(action.timeout !== undefined ? { timeout: action.timeout } : {}) };
  });

  const httpFilters = Array.isArray(hcm.http_filters) ? hcm.http_filters : [];
  r.origin('filters', join(hcmPath, 'http_filters'));
  const filters = httpFilters.flatMap((entry, i) => {
    const path = join(hcmPath, `http_filters[${i}]`);
    const filter = r.fields(entry, path, ['name', 'typed_config']);
    const isLast = i === httpFilters.length - 1;
    if (isLast) {
      r.typed(filter.typed_config, join(path, 'typed_config'), ROUTER, []);
      return [];
    }
    r.origin(`filters[${i}]`, join(path, 'typed_config.config'));
    const config = r.fields(r.typed(filter.typed_config, join(path, 'typed_config'), WASM, ['config']).config, join(path, 'typed_config.config'), ['name', 'root_id', 'fail_open', 'configuration', 'vm_config']);
    const vmPath = join(path, 'typed_config.config.vm_config');
    const vm = r.fields(config.vm_config, vmPath, ['vm_id', 'runtime', 'code', 'configuration']);
    if (vm.runtime !== undefined && vm.runtime !== V8) r.note(join(vmPath, 'runtime'), `${String(vm.runtime)}; the sidecar's host stands for ${V8}`);
    const local = r.fields(r.fields(vm.code, join(vmPath, 'code'), ['local']).local, join(vmPath, 'code.local'), ['filename']);
    const text = (value: unknown, at: string): string | undefined => (value === undefined ? undefined : String(r.typed(value, at, STRING_VALUE, ['value']).value ?? ''));
    const configuration = text(config.configuration, join(path, 'typed_config.config.configuration'));
    const vmConfiguration = text(vm.configuration, join(vmPath, 'configuration'));
    return [{
      name: String(config.name ?? ''),
      ...(config.root_id !== undefined ? { root_id: config.root_id } : {}),
      vm_config: { ...(vm.vm_id !== undefined ? { vm_id: vm.vm_id } : {}), code: { local: { filename: local.filename } }, ...(vmConfiguration !== undefined ? { configuration: vmConfiguration } : {}) },
      ...(configuration !== undefined ? { configuration } : {}),
      ...(config.fail_open !== undefined ? { fail_open: config.fail_open } : {}),
    }];
  });
  if (httpFilters.length === 0) r.note(join(hcmPath, 'http_filters'), `none; expected wasm filters then envoy.filters.http.router`);

  const clusters: Record<string, { url: string; connect_timeout?: string; tls?: RawClusterTls }> = {};
  r.origin('clusters', 'static_resources.clusters');
  (Array.isArray(resources.clusters) ? resources.clusters : []).forEach((entry, i) => {
    const path = `static_resources.clusters[${i}]`;
    const cluster = r.fields(entry, path, ['name', 'type', 'connect_timeout', 'load_assignment', 'transport_socket']);
    if (cluster.type !== undefined && !['STATIC', 'STRICT_DNS', 'LOGICAL_DNS'].includes(String(cluster.type))) r.note(join(path, 'type'), `${String(cluster.type)}; the sidecar resolves STATIC, STRICT_DNS and LOGICAL_DNS endpoints`);
    const assignment = r.fields(cluster.load_assignment, join(path, 'load_assignment'), ['cluster_name', 'endpoints']);
    const endpointsPath = join(path, 'load_assignment.endpoints');
    const locality = r.fields(r.one(assignment.endpoints, endpointsPath, 'localities'), `${endpointsPath}[0]`, ['lb_endpoints']);
    const lbPath = `${endpointsPath}[0].lb_endpoints`;
    const lb = r.fields(r.one(locality.lb_endpoints, lbPath, 'endpoints'), `${lbPath}[0]`, ['endpoint']);
    const endpoint = r.fields(lb.endpoint, `${lbPath}[0].endpoint`, ['address']);
    r.origin(`clusters.${String(cluster.name)}`, path);
    r.origin(`clusters.${String(cluster.name)}.url`, `${lbPath}[0].endpoint.address`);
    const scheme = cluster.transport_socket === undefined ? 'http' : 'https';
    const url = `${scheme}://${socketAddress(r, endpoint.address, `${lbPath}[0].endpoint.address`)}`;
    const tls = cluster.transport_socket === undefined ? undefined : clusterTls(r, cluster.transport_socket, join(path, 'transport_socket'), url);
    r.origin(`clusters.${String(cluster.name)}.tls`, join(path, 'transport_socket.typed_config.common_tls_context'));
    clusters[String(cluster.name)] = {
      url, ...(cluster.connect_timeout !== undefined ? { connect_timeout: String(cluster.connect_timeout) } : {}), ...(tls !== undefined ? { tls } : {}),
    };
  });

  let tls: RawSidecarConfig['tls'];
  if (chain.transport_socket !== undefined) {
    const path = join(chainPath, 'transport_socket');
    const context = r.typed(r.fields(chain.transport_socket, path, ['name', 'typed_config']).typed_config, join(path, 'typed_config'), DOWNSTREAM_TLS, ['require_client_certificate', 'common_tls_context']);
    const contextPath = join(path, 'typed_config');
    if (context.require_client_certificate !== true) r.note(join(contextPath, 'require_client_certificate'), `the sidecar's TLS is mTLS, as an Istio sidecar's: expected true`);
    const common = r.fields(context.common_tls_context, join(contextPath, 'common_tls_context'), ['tls_certificates', 'validation_context', 'alpn_protocols']);
    const certPath = join(contextPath, 'common_tls_context.tls_certificates');
    const certificate = r.fields(r.one(common.tls_certificates, certPath, 'certificates'), `${certPath}[0]`, ['certificate_chain', 'private_key']);
    const filename = (v: unknown, at: string) => String(r.fields(v, at, ['filename']).filename ?? '');
    const validation = r.fields(common.validation_context, join(contextPath, 'common_tls_context.validation_context'), ['trusted_ca']);
    r.origin('tls.cert', `${certPath}[0].certificate_chain.filename`);
    r.origin('tls.key', `${certPath}[0].private_key.filename`);
    r.origin('tls.client_ca', join(contextPath, 'common_tls_context.validation_context.trusted_ca.filename'));
    tls = {
      cert: filename(certificate.certificate_chain, `${certPath}[0].certificate_chain`),
      key: filename(certificate.private_key, `${certPath}[0].private_key`),
      client_ca: filename(validation.trusted_ca, join(contextPath, 'common_tls_context.validation_context.trusted_ca')),
    };
  }
  r.origin('admin', 'admin.address');
  const admin = root.admin === undefined ? undefined : socketAddress(r, r.fields(root.admin, 'admin', ['address', 'access_log']).address, 'admin.address');
  const maxConnections = overloadCap(r, root.overload_manager);
  r.origin('overload', 'overload_manager.resource_monitors[0].typed_config');
  // An unknown field is both invalid and unread; say it once, as invalid.
  const problems = [...invalid, ...r.unsupported.filter((u) => !invalid.some((i) => i.field === u.field))];
  const raw = {
    ...(Object.keys(hcmStage).length > 0 ? { http_connection_manager: hcmStage } : {}),
    ...(accessLogFormat !== undefined ? { access_log_format: accessLogFormat } : {}),
    ...(maxConnections !== undefined ? { overload: { max_active_downstream_connections: maxConnections } } : {}),
    listen: socketAddress(r, listener.address, join(listenerPath, 'address')),
    ...(listener.per_connection_buffer_limit_bytes !== undefined ? { per_connection_buffer_limit_bytes: Number(listener.per_connection_buffer_limit_bytes) } : {}),
    ...(admin !== undefined ? { admin } : {}),
    ...(tls ? { tls } : {}),
    filters,
    clusters,
    routes,
  } as RawSidecarConfig;
  return { raw, problems, envoyPath: r.envoyPath };
}

/** The overload manager the sidecar implements: one global downstream connection cap. */
function overloadCap(r: Reader, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const manager = r.fields(value, 'overload_manager', ['resource_monitors']);
  const monitor = r.fields(r.one(manager.resource_monitors, 'overload_manager.resource_monitors', 'resource monitors'), 'overload_manager.resource_monitors[0]', ['name', 'typed_config']);
  const config = r.typed(monitor.typed_config, 'overload_manager.resource_monitors[0].typed_config', DOWNSTREAM_CONNECTIONS, ['max_active_downstream_connections']);
  const max = Number(config.max_active_downstream_connections);
  return Number.isFinite(max) ? max : undefined;
}

/** The sidecar applies Istio's sidecar stats_tags (stats-tags.ts); a bootstrap asking for other tags would report differently. */
function checkStatsConfig(r: Reader, value: unknown): void {
  if (value === undefined) return;
  const stats = r.fields(value, 'stats_config', ['use_all_default_tags', 'stats_tags']);
  const tags = Array.isArray(stats.stats_tags) ? stats.stats_tags.map((t, i) => r.fields(t, `stats_config.stats_tags[${i}]`, ['tag_name', 'regex'])) : [];
  const istio = ISTIO_STATS_TAGS.map((t) => ({ tag_name: t.tagName, regex: t.regex }));
  if (stats.use_all_default_tags !== false || JSON.stringify(tags) !== JSON.stringify(istio)) {
    r.note('stats_config', 'the sidecar applies exactly Istio\'s sidecar stats_tags with use_all_default_tags: false');
  }
}
