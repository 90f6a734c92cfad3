import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';
import { defaultMaxDownstreamConnections, openFilesLimit, resolveHcmConfig, type OverloadConfig } from '../hcm/config.js';
import { describeAjvError, valueAt } from './ajv-messages.js';
import { describeValue, SidecarConfigError } from './errors.js';
import { sidecarConfigSchema, type RawSidecarConfig, type RawStringMatcher, type RawUpstreamTls } from './schema.js';
import { Re2Regex } from '../../regex/engine.js';
import type {
  ClusterConfig, HeaderMatcher, ListenAddress, PathMatch, RouteConfig, SidecarConfig, StringMatch, TlsListenerConfig, UpstreamTlsConfig,
  WasmFilterConfig,
} from './types.js';

export interface LoadConfigOptions {
  /** Named in error messages (the file path, or "<inline>"). */
  readonly source: string;
  /**
   * Folder that relative file names (wasm modules, certificates) resolve against. Envoy resolves
   * them against its working directory; `deployer run` does the same by default.
   */
  readonly baseDir: string;
}

const DEFAULT_ADMIN = '127.0.0.1:15000';
// Envoy's defaults: route timeout 15 s (RouteAction.timeout), cluster connect_timeout 5 s.
const DEFAULT_ROUTE_TIMEOUT_MS = 15_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const V8_RUNTIME = 'envoy.wasm.runtime.v8';

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
const validateShape = ajv.compile(sidecarConfigSchema);

/** Reads, parses and validates a sidecar.yaml file. */
export function loadSidecarConfigFile(file: string, baseDir = process.cwd()): SidecarConfig {
  if (!existsSync(file)) throw new SidecarConfigError(file, '', 'config file not found');
  return parseSidecarConfig(readFileSync(file, 'utf8'), { source: file, baseDir });
}

/** Parses and validates sidecar YAML (or JSON) text; throws SidecarConfigError naming the field. */
export function parseSidecarConfig(text: string, options: LoadConfigOptions): SidecarConfig {
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    throw new SidecarConfigError(options.source, '', `not valid YAML: ${document.errors[0]!.message}`);
  }
  return validateSidecarConfig(document.toJS() as unknown, options);
}

/** Validates an already parsed config object (e.g. one built from Istio resources). */
export function validateSidecarConfig(value: unknown, options: LoadConfigOptions): SidecarConfig {
  if (!validateShape(value)) {
    const error = pickError(validateShape.errors ?? [], value);
    const { field, problem } = describeAjvError(error, valueAt(value, error.instancePath));
    throw new SidecarConfigError(options.source, field, problem);
  }
  return resolve(value as RawSidecarConfig, options);
}

/**
 * The error worth showing: a misspelt field first (it usually explains a "missing" one next to
 * it); with anyOf (cluster: string | object) ajv reports every branch, keep the one that applies.
 */
function pickError(errors: readonly ErrorObject[], root: unknown): ErrorObject {
  const unknownField = errors.find((e) => e.keyword === 'additionalProperties' && !e.schemaPath.includes('/anyOf/'));
  if (unknownField) return unknownField;
  const anyOf = errors.find((e) => e.keyword === 'anyOf');
  if (anyOf) {
    const value = valueAt(root, anyOf.instancePath);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const objectBranch = errors.find((e) => e.schemaPath.includes('/anyOf/1/'));
      if (objectBranch) return objectBranch;
    }
    return anyOf;
  }
  return errors[0]!;
}

function resolve(raw: RawSidecarConfig, options: LoadConfigOptions): SidecarConfig {
  const fail = (field: string, problem: string): never => {
    throw new SidecarConfigError(options.source, field, problem);
  };
  const listen = parseListenAddress(raw.listen, 'listen', fail);
  const admin = parseListenAddress(raw.admin ?? DEFAULT_ADMIN, 'admin', fail);
  if (listen.port !== 0 && listen.port === admin.port && listen.host === admin.host) {
    fail('admin', `must differ from listen (both are ${raw.listen})`);
  }
  const existingFile = (field: string, file: string): string => {
    const absolute = path.resolve(options.baseDir, file);
    if (!existsSync(absolute) || !statSync(absolute).isFile()) fail(field, `file ${file} not found`);
    return absolute;
  };
  const tls: TlsListenerConfig | undefined = raw.tls && {
    certFile: existingFile('tls.cert', raw.tls.cert),
    keyFile: existingFile('tls.key', raw.tls.key),
    clientCaFile: existingFile('tls.client_ca', raw.tls.client_ca),
  };

  const names = new Set<string>();
  const filters = (raw.filters ?? []).map((filter, i): WasmFilterConfig => {
    const at = `filters[${i}]`;
    if (names.has(filter.name)) fail(`${at}.name`, `duplicate filter name "${filter.name}"; names must be unique (they key stats and config_dump)`);
    names.add(filter.name);
    const runtime = filter.vm_config.runtime;
    if (runtime !== undefined && runtime !== V8_RUNTIME) {
      fail(`${at}.vm_config.runtime`, `unsupported runtime "${runtime}"; expected "${V8_RUNTIME}" (the host runs modules on V8)`);
    }
    return {
      name: filter.name,
      rootId: filter.root_id ?? '',
      vmId: filter.vm_config.vm_id ?? '',
      wasmFile: existingFile(`${at}.vm_config.code.local.filename`, filter.vm_config.code.local.filename),
      configuration: configurationText(filter.configuration),
      vmConfiguration: configurationText(filter.vm_config.configuration),
      failOpen: filter.fail_open ?? false,
    };
  });

  const clusters = new Map<string, ClusterConfig>();
  for (const [name, value] of Object.entries(raw.clusters)) {
    const at = `clusters.${name}`;
    const spec = typeof value === 'string' ? { url: value } : value;
    const url = parseClusterUrl(spec.url, typeof value === 'string' ? at : `${at}.url`, fail);
    const clusterTls = typeof value === 'string' ? undefined : value.tls;
    if (clusterTls !== undefined && url.protocol !== 'https:') fail(`${at}.tls`, `TLS settings need an https:// url, got ${describeValue(spec.url)}`);
    clusters.set(name, {
      name,
      url,
      connectTimeoutMs: spec.connect_timeout === undefined ? DEFAULT_CONNECT_TIMEOUT_MS : durationMs(spec.connect_timeout),
      ...(url.protocol === 'https:' ? { tls: upstreamTls(clusterTls, tls, `${at}.tls`, existingFile, fail) } : {}),
    });
  }

  const routes = raw.routes.map((route, i): RouteConfig => {
    const at = `routes[${i}]`;
    if (!clusters.has(route.cluster)) {
      fail(`${at}.cluster`, `unknown cluster "${route.cluster}"; expected one of: ${[...clusters.keys()].join(', ')}`);
    }
    return {
      name: route.name ?? `route_${i}`,
      path: parsePathMatch(route.match, `${at}.match`, fail),
      headers: (route.match.headers ?? []).map((header, j) => parseHeaderMatcher(header, `${at}.match.headers[${j}]`, fail)),
      cluster: route.cluster,
      timeoutMs: route.timeout === undefined ? DEFAULT_ROUTE_TIMEOUT_MS : durationMs(route.timeout),
    };
  });

  const hcm = resolveHcmConfig(raw.http_connection_manager, durationMs);
  const overload: OverloadConfig = {
    maxActiveDownstreamConnections: raw.overload?.max_active_downstream_connections ??
      defaultMaxDownstreamConnections(openFilesLimit(() => readFileSync('/proc/self/limits', 'utf8'))),
  };
  return { listen, admin, workers: raw.workers ?? 1, tls, filters, clusters, routes, hcm, overload, accessLogFormat: raw.access_log_format ?? 'envoy' };
}

export type Fail = (field: string, problem: string) => never;

/** `host:port`, `[::1]:port` or `:port` (all interfaces, like Envoy's 0.0.0.0). */
export function parseListenAddress(text: string, field: string, fail: Fail): ListenAddress {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):([0-9]{1,5})$/.exec(text);
  if (!match) return fail(field, `expected host:port such as "127.0.0.1:15006", got ${describeValue(text)}`);
  const port = Number(match[3]);
  if (port > 65535) return fail(field, `port ${port} out of range; expected 0-65535`);
  const host = match[1] ?? (match[2] === '' ? '0.0.0.0' : match[2]!);
  return { host, port };
}

/**
 * An https:// cluster's TLS: its own `tls` settings, else the sidecar's workload certificate
 * (`tls.cert`/`tls.key` presented, `tls.client_ca` trusted — one identity both ways, as an
 * Istio sidecar uses its workload certificate for ISTIO_MUTUAL), else a plain https client.
 */
function upstreamTls(raw: RawUpstreamTls | undefined, listener: TlsListenerConfig | undefined, at: string,
  existingFile: (field: string, file: string) => string, fail: Fail): UpstreamTlsConfig {
  if (raw === undefined) {
    return listener === undefined ? {} : { caFile: listener.clientCaFile, certFile: listener.certFile, keyFile: listener.keyFile };
  }
  if ((raw.cert === undefined) !== (raw.key === undefined)) fail(at, 'expected both cert and key (a client certificate and its private key), or neither');
  return {
    ...(raw.ca !== undefined ? { caFile: existingFile(`${at}.ca`, raw.ca) } : {}),
    ...(raw.cert !== undefined ? { certFile: existingFile(`${at}.cert`, raw.cert) } : {}),
    ...(raw.key !== undefined ? { keyFile: existingFile(`${at}.key`, raw.key) } : {}),
    ...(raw.sni !== undefined ? { sni: raw.sni } : {}),
    ...(raw.subject_alt_names !== undefined ? { subjectAltNames: raw.subject_alt_names } : {}),
  };
}

export function parseClusterUrl(text: string, field: string, fail: Fail): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail(field, `expected an http:// URL such as "http://127.0.0.1:8080", got ${describeValue(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return fail(field, `unsupported scheme "${url.protocol}"; expected http:// or https:// (upstreams speak HTTP/1.1)`);
  if (url.pathname !== '/' || url.search !== '') return fail(field, `expected scheme://host:port without a path, got ${describeValue(text)}`);
  return url;
}

function parsePathMatch(match: RawSidecarConfig['routes'][number]['match'], field: string, fail: Fail): PathMatch {
  const given = (['prefix', 'path', 'safe_regex'] as const).filter((key) => match[key] !== undefined);
  if (given.length !== 1) {
    return fail(field, `expected exactly one of prefix, path, safe_regex${given.length ? `, got ${given.join(' and ')}` : ''}`);
  }
  if (match.prefix !== undefined) return { kind: 'prefix', value: match.prefix };
  if (match.path !== undefined) return { kind: 'path', value: match.path };
  return { kind: 'regex', value: compileRegex(match.safe_regex!.regex, `${field}.safe_regex.regex`, fail) };
}

function parseHeaderMatcher(raw: NonNullable<RawSidecarConfig['routes'][number]['match']['headers']>[number], field: string, fail: Fail): HeaderMatcher {
  if (raw.string_match && raw.present_match !== undefined) fail(field, 'expected one of string_match or present_match, got both');
  if (raw.present_match === false) fail(`${field}.present_match`, 'expected true (omit the matcher, or use invert_match, to match an absent header)');
  return {
    name: raw.name.toLowerCase(),
    match: raw.string_match && parseStringMatch(raw.string_match, `${field}.string_match`, fail),
    invert: raw.invert_match ?? false,
  };
}

function parseStringMatch(raw: RawStringMatcher, field: string, fail: Fail): StringMatch {
  const given = (['exact', 'prefix', 'suffix', 'contains', 'safe_regex'] as const).filter((key) => raw[key] !== undefined);
  if (given.length !== 1) {
    return fail(field, `expected exactly one of exact, prefix, suffix, contains, safe_regex${given.length ? `, got ${given.join(' and ')}` : ''}`);
  }
  // Envoy's StringMatcher: ignore_case applies to exact/prefix/suffix/contains, not safe_regex.
  if (raw.safe_regex) return { kind: 'regex', value: compileRegex(raw.safe_regex.regex, `${field}.safe_regex.regex`, fail) };
  const kind = given[0] as 'exact' | 'prefix' | 'suffix' | 'contains';
  return raw.ignore_case ? { kind, value: raw[kind]!, ignoreCase: true } : { kind, value: raw[kind]! };
}

/** Envoy's safe_regex: RE2 syntax, full match — on the filters' own RE2 engine (linear time). */
function compileRegex(source: string, field: string, fail: Fail): Re2Regex {
  try {
    return Re2Regex.compile(source);
  } catch (error) {
    return fail(field, `invalid regular expression ${describeValue(source)}: ${(error as Error).message}`);
  }
}

function durationMs(text: string): number {
  return Math.round(Number(text.slice(0, -1)) * 1000);
}

/** Envoy hands the filter the Any's value: a StringValue's text as is, anything else as JSON. */
function configurationText(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
