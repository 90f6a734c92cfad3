import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';
import { DEFAULT_PER_CONNECTION_BUFFER_LIMIT_BYTES, defaultMaxDownstreamConnections, openFilesLimit, resolveHcmConfig, type OverloadConfig } from '../hcm/config.js';
import { describeAjvError, valueAt } from './ajv-messages.js';
import { describeValue, ProblemList, SidecarConfigError } from './errors.js';
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

/** Parses and validates sidecar YAML (or JSON) text; throws one SidecarConfigError naming every bad field. */
export function parseSidecarConfig(text: string, options: LoadConfigOptions): SidecarConfig {
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    const problems = new ProblemList();
    for (const error of document.errors) problems.report('', `not valid YAML: ${error.message.split('\n')[0]}`);
    problems.throwIfAny(options.source);
  }
  return validateSidecarConfig(document.toJS() as unknown, options);
}

/**
 * Validates an already parsed config object (e.g. one built from Istio resources). Every problem
 * is collected — the structural ones (types, unknown and missing fields) and, in the parts whose
 * structure is sound, the semantic ones (files, clusters, regexes) — and thrown as one
 * SidecarConfigError, so a file with three mistakes takes one run to fix, not three.
 */
export function validateSidecarConfig(value: unknown, options: LoadConfigOptions): SidecarConfig {
  const problems = new ProblemList();
  const shapeErrors = validateShape(value) ? [] : [...(validateShape.errors ?? [])];
  for (const { field, problem } of shapeProblems(shapeErrors, value)) problems.report(field, problem);
  const isObject = value !== null && typeof value === 'object' && !Array.isArray(value);
  const config = isObject ? resolve(value as RawSidecarConfig, options, problems, brokenAt(shapeErrors)) : undefined;
  problems.throwIfAny(options.source);
  return config!;
}

/**
 * ajv's errors as one problem each, a misspelt field first (it usually explains a "missing" one
 * next to it). With anyOf (cluster: string | object) ajv reports every branch: keep the branch
 * that applies to the value given (the object branch for an object, else the anyOf itself).
 */
function shapeProblems(errors: readonly ErrorObject[], root: unknown): { field: string; problem: string }[] {
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  const kept = errors.filter((error) => {
    const anyOfAt = [...anyOfPaths].find((p) => error.instancePath === p || error.instancePath.startsWith(`${p}/`));
    if (anyOfAt === undefined) return true;
    const value = valueAt(root, anyOfAt);
    const objectGiven = value !== null && typeof value === 'object' && !Array.isArray(value);
    if (error.keyword === 'anyOf') return !objectGiven;
    return objectGiven && error.schemaPath.includes('/anyOf/1/');
  });
  const unknownFirst = [...kept.filter((e) => e.keyword === 'additionalProperties'), ...kept.filter((e) => e.keyword !== 'additionalProperties')];
  return unknownFirst.map((error) => describeAjvError(error, valueAt(root, error.instancePath)));
}

/** Whether ajv found a problem at or under a JSON pointer: such a part is not checked further. */
function brokenAt(errors: readonly ErrorObject[]): (pointer: string) => boolean {
  return (pointer) => errors.some((e) => e.instancePath === pointer || e.instancePath.startsWith(`${pointer}/`));
}

/** A list ajv may have refused (not an array): nothing to check in it. */
const listOrNone = <T>(value: readonly T[] | undefined): readonly T[] => (Array.isArray(value) ? value : []);

/** A JSON pointer (as ajv's instancePath) from path segments. */
const pointer = (...segments: ReadonlyArray<string | number>): string =>
  segments.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');

function resolve(raw: RawSidecarConfig, options: LoadConfigOptions, problems: ProblemList, broken: (pointer: string) => boolean): SidecarConfig | undefined {
  const report = problems.report;
  const sound = (at: string, value: unknown): boolean => value !== undefined && !broken(at);
  const listen = sound('/listen', raw.listen) ? parseListenAddress(raw.listen, 'listen', report) : undefined;
  const admin = sound('/admin', raw.admin ?? DEFAULT_ADMIN) ? parseListenAddress(raw.admin ?? DEFAULT_ADMIN, 'admin', report) : undefined;
  if (listen && admin && listen.port !== 0 && listen.port === admin.port && listen.host === admin.host) {
    report('admin', `must differ from listen (both are ${raw.listen})`);
  }
  const existingFile = (field: string, file: string): string => {
    const absolute = path.resolve(options.baseDir, file);
    if (!existsSync(absolute) || !statSync(absolute).isFile()) report(field, `file ${file} not found`);
    return absolute;
  };
  const tls: TlsListenerConfig | undefined = raw.tls && sound('/tls', raw.tls) ? {
    certFile: existingFile('tls.cert', raw.tls.cert),
    keyFile: existingFile('tls.key', raw.tls.key),
    clientCaFile: existingFile('tls.client_ca', raw.tls.client_ca),
  } : undefined;

  const names = new Set<string>();
  const filters = listOrNone(raw.filters).flatMap((filter, i): WasmFilterConfig[] => {
    if (broken(pointer('filters', i))) return [];
    const at = `filters[${i}]`;
    if (names.has(filter.name)) report(`${at}.name`, `duplicate filter name "${filter.name}"; names must be unique (they key stats and config_dump)`);
    names.add(filter.name);
    const runtime = filter.vm_config.runtime;
    if (runtime !== undefined && runtime !== V8_RUNTIME) {
      report(`${at}.vm_config.runtime`, `unsupported runtime "${runtime}"; expected "${V8_RUNTIME}" (the host runs modules on V8)`);
    }
    return [{
      name: filter.name,
      rootId: filter.root_id ?? '',
      vmId: filter.vm_config.vm_id ?? '',
      wasmFile: existingFile(`${at}.vm_config.code.local.filename`, filter.vm_config.code.local.filename),
      configuration: configurationText(filter.configuration),
      vmConfiguration: configurationText(filter.vm_config.configuration),
      failOpen: filter.fail_open ?? false,
    }];
  });

  const clusterSpecs = raw.clusters !== null && typeof raw.clusters === 'object' && !Array.isArray(raw.clusters) ? raw.clusters : undefined;
  const clusters = new Map<string, ClusterConfig>();
  for (const [name, value] of Object.entries(clusterSpecs ?? {})) {
    if (broken(pointer('clusters', name))) continue;
    const at = `clusters.${name}`;
    const spec = typeof value === 'string' ? { url: value } : value;
    const url = parseClusterUrl(spec.url, typeof value === 'string' ? at : `${at}.url`, report);
    const clusterTls = typeof value === 'string' ? undefined : value.tls;
    if (url && clusterTls !== undefined && url.protocol !== 'https:') report(`${at}.tls`, `TLS settings need an https:// url, got ${describeValue(spec.url)}`);
    if (url) {
      clusters.set(name, {
        name,
        url,
        connectTimeoutMs: spec.connect_timeout === undefined ? DEFAULT_CONNECT_TIMEOUT_MS : durationMs(spec.connect_timeout),
        ...(url.protocol === 'https:' ? { tls: upstreamTls(clusterTls, tls, `${at}.tls`, existingFile, report) } : {}),
      });
    }
  }

  const routes = listOrNone(raw.routes).flatMap((route, i): RouteConfig[] => {
    if (broken(pointer('routes', i))) return [];
    const at = `routes[${i}]`;
    // Only against a clusters map that is there: with none, "unknown cluster" would only repeat that.
    if (clusterSpecs && !Object.hasOwn(clusterSpecs, route.cluster)) {
      report(`${at}.cluster`, `unknown cluster "${route.cluster}"; expected one of: ${Object.keys(clusterSpecs).join(', ')}`);
    }
    const path = parsePathMatch(route.match, `${at}.match`, report);
    const headers = (route.match.headers ?? []).map((header, j) => parseHeaderMatcher(header, `${at}.match.headers[${j}]`, report));
    if (!path || headers.some((h) => h === undefined)) return [];
    return [{
      name: route.name ?? `route_${i}`,
      path,
      headers: headers as HeaderMatcher[],
      cluster: route.cluster,
      timeoutMs: route.timeout === undefined ? DEFAULT_ROUTE_TIMEOUT_MS : durationMs(route.timeout),
    }];
  });

  if (problems.problems.length > 0 || !listen || !admin) return undefined;
  const hcm = resolveHcmConfig(raw.http_connection_manager, durationMs);
  const overload: OverloadConfig = {
    maxActiveDownstreamConnections: raw.overload?.max_active_downstream_connections ??
      defaultMaxDownstreamConnections(openFilesLimit(() => readFileSync('/proc/self/limits', 'utf8'))),
  };
  return {
    listen, admin, workers: raw.workers ?? 1, tls, filters, clusters, routes, hcm, overload, accessLogFormat: raw.access_log_format ?? 'envoy',
    perConnectionBufferLimitBytes: raw.per_connection_buffer_limit_bytes ?? DEFAULT_PER_CONNECTION_BUFFER_LIMIT_BYTES,
  };
}

/** Notes a problem and yields undefined, so a parser can `return report(...)` and the caller goes on. */
export type Report = (field: string, problem: string) => undefined;

/** `host:port`, `[::1]:port` or `:port` (all interfaces, like Envoy's 0.0.0.0). */
export function parseListenAddress(text: string, field: string, fail: Report): ListenAddress | undefined {
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
  existingFile: (field: string, file: string) => string, report: Report): UpstreamTlsConfig {
  if (raw === undefined) {
    return listener === undefined ? {} : { caFile: listener.clientCaFile, certFile: listener.certFile, keyFile: listener.keyFile };
  }
  if ((raw.cert === undefined) !== (raw.key === undefined)) report(at, 'expected both cert and key (a client certificate and its private key), or neither');
  return {
    ...(raw.ca !== undefined ? { caFile: existingFile(`${at}.ca`, raw.ca) } : {}),
    ...(raw.cert !== undefined ? { certFile: existingFile(`${at}.cert`, raw.cert) } : {}),
    ...(raw.key !== undefined ? { keyFile: existingFile(`${at}.key`, raw.key) } : {}),
    ...(raw.sni !== undefined ? { sni: raw.sni } : {}),
    ...(raw.subject_alt_names !== undefined ? { subjectAltNames: raw.subject_alt_names } : {}),
  };
}

export function parseClusterUrl(text: string, field: string, fail: Report): URL | undefined {
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

function parsePathMatch(match: RawSidecarConfig['routes'][number]['match'], field: string, fail: Report): PathMatch | undefined {
  const given = (['prefix', 'path', 'safe_regex'] as const).filter((key) => match[key] !== undefined);
  if (given.length !== 1) {
    return fail(field, `expected exactly one of prefix, path, safe_regex${given.length ? `, got ${given.join(' and ')}` : ''}`);
  }
  if (match.prefix !== undefined) return { kind: 'prefix', value: match.prefix };
  if (match.path !== undefined) return { kind: 'path', value: match.path };
  const regex = compileRegex(match.safe_regex!.regex, `${field}.safe_regex.regex`, fail);
  return regex && { kind: 'regex', value: regex };
}

function parseHeaderMatcher(raw: NonNullable<RawSidecarConfig['routes'][number]['match']['headers']>[number], field: string, fail: Report): HeaderMatcher | undefined {
  if (raw.string_match && raw.present_match !== undefined) return fail(field, 'expected one of string_match or present_match, got both');
  if (raw.present_match === false) return fail(`${field}.present_match`, 'expected true (omit the matcher, or use invert_match, to match an absent header)');
  const match = raw.string_match && parseStringMatch(raw.string_match, `${field}.string_match`, fail);
  if (raw.string_match && !match) return undefined;
  return { name: raw.name.toLowerCase(), match, invert: raw.invert_match ?? false };
}

function parseStringMatch(raw: RawStringMatcher, field: string, fail: Report): StringMatch | undefined {
  const given = (['exact', 'prefix', 'suffix', 'contains', 'safe_regex'] as const).filter((key) => raw[key] !== undefined);
  if (given.length !== 1) {
    return fail(field, `expected exactly one of exact, prefix, suffix, contains, safe_regex${given.length ? `, got ${given.join(' and ')}` : ''}`);
  }
  // Envoy's StringMatcher: ignore_case applies to exact/prefix/suffix/contains, not safe_regex.
  if (raw.safe_regex) {
    const regex = compileRegex(raw.safe_regex.regex, `${field}.safe_regex.regex`, fail);
    return regex && { kind: 'regex', value: regex };
  }
  const kind = given[0] as 'exact' | 'prefix' | 'suffix' | 'contains';
  return raw.ignore_case ? { kind, value: raw[kind]!, ignoreCase: true } : { kind, value: raw[kind]! };
}

/** Envoy's safe_regex: RE2 syntax, full match — on the filters' own RE2 engine (linear time). */
function compileRegex(source: string, field: string, fail: Report): Re2Regex | undefined {
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
