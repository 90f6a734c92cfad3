import { existsSync, readFileSync } from 'node:fs';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import type { JsonObject, JsonValue } from '../render/types.js';
import { formatProblems, ProblemList, type SidecarConfigProblem as ConfigProblem } from '../sidecar/config/errors.js';
import type { RbacMeshOptions } from '../translate/authorization-policy.js';

/**
 * `--mesh-config <file>`: the Istio MeshConfig settings the wasmesh translators honour.
 *
 * Field names and meanings follow istio/api mesh/v1alpha1/config.proto (MeshConfig) and
 * proxy.proto (ProxyConfig.gatewayTopology), istio.io/latest/docs/reference/config/istio.mesh.v1alpha1/:
 *  - `pathNormalization.normalization`: ProxyPathNormalization.NormalizationType; DEFAULT is BASE.
 *  - `extensionProviders[]`: each `{name, <one provider kind>}`; only `envoyExtAuthzHttp` reaches
 *    the rbac filter. Other kinds (tracing, access log, gRPC ext_authz) are allowed in the file,
 *    since a real mesh config carries them, but are not handed on.
 *  - `defaultConfig.gatewayTopology.numTrustedProxies`: trusted X-Forwarded-For hops.
 *  - `rootNamespace`: policies there apply to every workload (default istio-system).
 *
 * Hand-written rather than a JSON schema: MeshConfig has hundreds of fields we do not read, and
 * each error here names the field and what was expected in the words of Istio's reference.
 * Only the fields used are checked; an `envoyExtAuthzHttp` field the rbac filter does not
 * implement is refused (ignoring it could change what a CUSTOM policy decides).
 */

/** Which of the three accepted layouts the file had. */
export type MeshConfigForm =
  | 'ConfigMap' // a whole `istio` ConfigMap: data.mesh holds the MeshConfig as YAML text
  | 'mesh key' // the ConfigMap's data: `mesh: |` holding (or nesting) the MeshConfig
  | 'MeshConfig'; // a bare MeshConfig document

export interface MeshSettings {
  /** Handed to the AuthorizationPolicy translator. */
  readonly rbac: RbacMeshOptions;
  /** meshConfig.rootNamespace (absent: Istio's default, istio-system). */
  readonly rootNamespace?: string;
}

export interface LoadedMeshConfig {
  readonly source: string;
  readonly form: MeshConfigForm;
  readonly settings: MeshSettings;
}

const NORMALIZATIONS = ['DEFAULT', 'NONE', 'BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES'] as const;
type Normalization = NonNullable<RbacMeshOptions['pathNormalization']>;

/** EnvoyExternalAuthorizationHttpProvider fields the rbac filter implements (filters/rbac/README.md), plus its `cluster`. */
const SUPPORTED_EXT_AUTHZ_HTTP_FIELDS = [
  'service', 'port', 'cluster', 'timeout', 'pathPrefix', 'failOpen', 'statusOnError',
  'includeRequestHeadersInCheck', 'includeAdditionalHeadersInCheck', 'headersToUpstreamOnAllow', 'headersToDownstreamOnDeny',
] as const;
const HEADER_LIST_FIELDS = ['includeRequestHeadersInCheck', 'headersToUpstreamOnAllow', 'headersToDownstreamOnDeny'] as const;

/**
 * Every problem of a mesh config, in one error: `<file>: <field>: <problem>` for one, else one
 * indented line each (as sidecar.yaml's, sidecar/config/errors.ts). `field`/`problem` are the first.
 */
export class MeshConfigError extends Error {
  readonly problems: readonly ConfigProblem[];

  constructor(readonly source: string, fieldOrProblems: string | readonly ConfigProblem[], problem = '') {
    const problems = typeof fieldOrProblems === 'string' ? [{ field: fieldOrProblems, problem }] : fieldOrProblems;
    super(formatProblems(source, problems));
    this.problems = problems;
    this.name = 'MeshConfigError';
  }

  get field(): string {
    return this.problems[0]!.field;
  }

  get problem(): string {
    return this.problems[0]!.problem;
  }
}

/**
 * `report` notes a problem and the check goes on; `fail` notes one the rest of its part cannot be
 * read past (a provider that is not a mapping), ending that part only: the other parts are still
 * checked, so one run lists everything to fix.
 */
interface Checks {
  readonly report: (field: string, problem: string) => undefined;
  readonly fail: (field: string, problem: string) => never;
}

const STOP = Symbol('mesh config part unreadable');

/** Runs one independent part of the checks; undefined if it had to stop. */
function part<T>(run: () => T): T | undefined {
  try {
    return run();
  } catch (error) {
    if (error === STOP) return undefined;
    throw error;
  }
}

const describe = (value: unknown): string => (value === undefined ? 'nothing' : JSON.stringify(value) ?? String(value));

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function loadMeshConfigFile(file: string): LoadedMeshConfig {
  if (!existsSync(file)) throw new MeshConfigError(file, '', 'file not found: expected an Istio MeshConfig YAML file');
  return parseMeshConfig(readFileSync(file, 'utf8'), file);
}

export function parseMeshConfig(text: string, source = '<mesh config>'): LoadedMeshConfig {
  const problems = new ProblemList();
  const checks: Checks = { report: problems.report, fail: (field, problem) => { problems.report(field, problem); throw STOP; } };
  const loaded = part(() => {
    const documents = parseAllDocuments(text);
    documents.forEach((doc, i) => { if (doc.errors.length > 0) checks.report('', `document ${i + 1}: not valid YAML: ${doc.errors[0]!.message}`); });
    if (problems.problems.length > 0) throw STOP;
    const values = documents.map((doc) => doc.toJS() as unknown).filter((v) => v !== null && v !== undefined);
    if (values.length !== 1) checks.fail('', `expected one YAML document (a MeshConfig, the istio ConfigMap or its mesh key), found ${values.length}`);
    const { form, mesh, prefix } = unwrap(values[0], checks.fail);
    return { source, form, settings: readSettings(mesh, prefix, checks) };
  });
  if (problems.problems.length > 0 || !loaded) throw new MeshConfigError(source, problems.problems);
  return loaded;
}

type Fail = Checks['fail'];

/** Tells the three layouts apart; `prefix` is where the MeshConfig sits, for error messages. */
function unwrap(root: unknown, fail: Fail): { form: MeshConfigForm; mesh: Record<string, unknown>; prefix: string } {
  if (!isObject(root)) return fail('', `expected a YAML mapping, got ${describe(root)}`);
  if (root['kind'] === 'ConfigMap') {
    const data = root['data'];
    if (!isObject(data) || data['mesh'] === undefined) return fail('data.mesh', 'missing: expected the istio ConfigMap with its MeshConfig under data.mesh');
    return { form: 'ConfigMap', mesh: meshText(data['mesh'], 'data.mesh', fail), prefix: 'data.mesh.' };
  }
  if (root['kind'] !== undefined) return fail('kind', `${describe(root['kind'])}: expected a ConfigMap, or no kind (a bare MeshConfig)`);
  if (root['mesh'] !== undefined) {
    return { form: 'mesh key', mesh: meshText(root['mesh'], 'mesh', fail), prefix: 'mesh.' };
  }
  return { form: 'MeshConfig', mesh: root, prefix: '' };
}

/** `data.mesh` is YAML text in a ConfigMap; a hand-written file may nest the mapping instead. */
function meshText(value: unknown, field: string, fail: Fail): Record<string, unknown> {
  if (isObject(value)) return value;
  if (typeof value !== 'string') return fail(field, `expected the MeshConfig as YAML text, got ${describe(value)}`);
  let parsed: unknown;
  try {
    parsed = parseYaml(value);
  } catch (error) {
    return fail(field, `not valid YAML: ${(error as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (!isObject(parsed)) return fail(field, `expected a MeshConfig mapping, got ${describe(parsed)}`);
  return parsed;
}

/** Each setting is read on its own: a problem in one does not hide those of the others. */
function readSettings(mesh: Record<string, unknown>, prefix: string, checks: Checks): MeshSettings {
  const rbac: { pathNormalization?: Normalization; extensionProviders?: JsonObject[]; numTrustedProxies?: number } = {};
  const normalization = part(() => readNormalization(mesh['pathNormalization'], `${prefix}pathNormalization`, checks.fail));
  if (normalization !== undefined) rbac.pathNormalization = normalization;
  const providers = part(() => readProviders(mesh['extensionProviders'], `${prefix}extensionProviders`, checks)) ?? [];
  if (providers.length > 0) rbac.extensionProviders = providers;
  const hops = part(() => readTrustedProxies(mesh['defaultConfig'], `${prefix}defaultConfig`, checks.fail));
  if (hops !== undefined) rbac.numTrustedProxies = hops;
  const root = mesh['rootNamespace'];
  if (root !== undefined && (typeof root !== 'string' || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(root))) {
    checks.report(`${prefix}rootNamespace`, `${describe(root)}: expected a Kubernetes namespace name such as istio-system`);
  }
  return { rbac, ...(typeof root === 'string' ? { rootNamespace: root } : {}) };
}

function readNormalization(value: unknown, field: string, fail: Fail): Normalization | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) return fail(field, `expected {normalization: ${NORMALIZATIONS.join(' | ')}}, got ${describe(value)}`);
  const mode = value['normalization'];
  if (mode === undefined) return undefined;
  if (typeof mode !== 'string' || !(NORMALIZATIONS as readonly string[]).includes(mode)) {
    return fail(`${field}.normalization`, `${describe(mode)}: expected one of ${NORMALIZATIONS.join(', ')}`);
  }
  // config.proto: "DEFAULT: Currently the same as BASE".
  return mode === 'DEFAULT' ? 'BASE' : mode as Normalization;
}

function readTrustedProxies(value: unknown, field: string, fail: Fail): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) return fail(field, `expected a ProxyConfig mapping, got ${describe(value)}`);
  const topology = value['gatewayTopology'];
  if (topology === undefined || topology === null) return undefined;
  if (!isObject(topology)) return fail(`${field}.gatewayTopology`, `expected {numTrustedProxies: N}, got ${describe(topology)}`);
  const hops = topology['numTrustedProxies'];
  if (hops === undefined) return undefined;
  // Envoy's xff_num_trusted_hops is a uint32; the rbac filter caps it at 64 (filters/rbac/README.md).
  if (typeof hops !== 'number' || !Number.isInteger(hops) || hops < 0 || hops > 64) {
    return fail(`${field}.gatewayTopology.numTrustedProxies`, `${describe(hops)}: expected an integer from 0 to 64`);
  }
  return hops;
}

function readProviders(value: unknown, field: string, checks: Checks): JsonObject[] {
  const report = checks.report;
  // Annotated: a call to a `never` function narrows only through a declared type.
  const fail: Fail = checks.fail;
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return fail(field, `expected a list of {name, <provider>}, got ${describe(value)}`);
  const names = new Set<string>();
  const http: JsonObject[] = [];
  // Each provider on its own: a problem in one does not hide those of the next.
  value.forEach((provider: unknown, i) => part(() => {
    const at = `${field}[${i}]`;
    if (!isObject(provider)) fail(at, `expected {name, <provider>}, got ${describe(provider)}`);
    const name = provider['name'];
    if (typeof name !== 'string' || name === '') fail(`${at}.name`, `${describe(name)}: expected a non-empty string`);
    // Istio's validation: provider names are unique (pilot/pkg/config/validation, validateExtensionProvider).
    if (names.has(name)) report(`${at}.name`, `"${name}" is defined twice: expected unique provider names`);
    names.add(name);
    const kinds = Object.keys(provider).filter((key) => key !== 'name');
    if (kinds.length !== 1) fail(at, `provider "${name}" has ${kinds.length === 0 ? 'no provider kind' : `${kinds.join(' and ')}`}: expected exactly one, e.g. envoyExtAuthzHttp`);
    if (kinds[0] === 'envoyExtAuthzHttp') {
      http.push({ name, envoyExtAuthzHttp: readExtAuthzHttp(provider['envoyExtAuthzHttp'], `${at}.envoyExtAuthzHttp`, checks) });
    }
  }));
  return http;
}

/** Every field's problem is reported (the caller refuses the file if any was). */
function readExtAuthzHttp(value: unknown, at: string, checks: Checks): JsonObject {
  const { report } = checks;
  if (!isObject(value)) return checks.fail(at, `expected {service, port, ...}, got ${describe(value)}`);
  for (const key of Object.keys(value)) {
    if (!(SUPPORTED_EXT_AUTHZ_HTTP_FIELDS as readonly string[]).includes(key)) {
      report(`${at}.${key}`, `not supported by the wasmesh rbac filter: expected only ${SUPPORTED_EXT_AUTHZ_HTTP_FIELDS.join(', ')}`);
    }
  }
  const service = value['service'];
  const serviceForm = typeof service === 'string' ? /^(?:([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/)?([A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?)$/.exec(service) : null;
  if (serviceForm === null) {
    report(`${at}.service`, `${describe(service)}: expected [<namespace>/]<hostname> such as ext-authz.foo.svc.cluster.local`);
  }
  const port = value['port'];
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) report(`${at}.port`, `${describe(port)}: expected an integer from 1 to 65535`);
  const cluster = value['cluster'];
  if (cluster !== undefined && (typeof cluster !== 'string' || cluster === '')) report(`${at}.cluster`, `${describe(cluster)}: expected a non-empty cluster name`);
  const timeout = value['timeout'];
  // protobuf Duration in JSON/YAML: decimal seconds with "s" ("0.5s"); Go-style "200ms" is accepted as Istio's tooling does.
  if (timeout !== undefined && (typeof timeout !== 'string' || !/^\d+(\.\d+)?(ms|s|m|h)$/.test(timeout) || Number.parseFloat(timeout) <= 0)) {
    report(`${at}.timeout`, `${describe(timeout)}: expected a positive duration such as "0.5s" or "200ms"`);
  }
  const pathPrefix = value['pathPrefix'];
  if (pathPrefix !== undefined && (typeof pathPrefix !== 'string' || (pathPrefix !== '' && !pathPrefix.startsWith('/')))) {
    report(`${at}.pathPrefix`, `${describe(pathPrefix)}: expected a path starting with "/"`);
  }
  const failOpen = value['failOpen'];
  if (failOpen !== undefined && failOpen !== false) {
    report(`${at}.failOpen`, `${describe(failOpen)}: expected false: the rbac filter fails closed when the authorizer is unreachable`);
  }
  const status = value['statusOnError'];
  if (status !== undefined && (typeof status !== 'string' || !/^[45]\d\d$/.test(status))) {
    report(`${at}.statusOnError`, `${describe(status)}: expected an HTTP status from 400 to 599 as a string, such as "503"`);
  }
  for (const key of HEADER_LIST_FIELDS) {
    const list = value[key];
    if (list !== undefined && (!Array.isArray(list) || list.some((h) => typeof h !== 'string' || h === ''))) {
      report(`${at}.${key}`, `${describe(list)}: expected a list of header names (or prefix* / *suffix patterns)`);
    }
  }
  const additional = value['includeAdditionalHeadersInCheck'];
  if (additional !== undefined && (!isObject(additional) || Object.values(additional).some((v) => typeof v !== 'string'))) {
    report(`${at}.includeAdditionalHeadersInCheck`, `${describe(additional)}: expected a mapping of header name to string value`);
  }
  // `<namespace>/<hostname>` only disambiguates the service; Istio's cluster is still
  // outbound|<port>||<hostname> (pilot/pkg/model/extensionproviders LookupCluster), and the rbac
  // filter derives the cluster name from `service`: hand it the hostname.
  if (serviceForm === null) throw STOP;
  return serviceForm[1] === undefined ? value as JsonValue as JsonObject : { ...(value as JsonObject), service: serviceForm[3]! };
}

/** The Envoy cluster an ext_authz provider is called through (the rbac filter's naming, filters/rbac/README.md). */
export function extAuthzCluster(provider: JsonObject): { readonly name: string; readonly service: string; readonly port: number } {
  const http = provider['envoyExtAuthzHttp'] as JsonObject;
  const service = String(http['service']);
  const port = Number(http['port']);
  const name = typeof http['cluster'] === 'string' ? http['cluster'] : `outbound|${port}||${service}`;
  return { name, service, port };
}

/** One line saying what `--mesh-config` found, e.g. `mesh.yaml: ConfigMap (data.mesh): pathNormalization DECODE_AND_MERGE_SLASHES, ...`. */
export function describeMeshConfig(loaded: LoadedMeshConfig): string {
  const { rbac, rootNamespace } = loaded.settings;
  const where = { 'ConfigMap': 'ConfigMap, data.mesh', 'mesh key': 'the ConfigMap\'s mesh key', 'MeshConfig': 'a bare MeshConfig' }[loaded.form];
  const providers = (rbac.extensionProviders ?? []).map((p) => String(p['name']));
  return `mesh config ${loaded.source} (${where}): pathNormalization ${rbac.pathNormalization ?? 'BASE (default)'}, ` +
    `ext_authz providers ${providers.join(', ') || '(none)'}, numTrustedProxies ${rbac.numTrustedProxies ?? '0 (default)'}` +
    (rootNamespace !== undefined ? `, rootNamespace ${rootNamespace}` : '');
}
