import { existsSync, readdirSync, readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { istioResourceProblems } from '../istio/validate.js';
import { pullWasmImage } from '../oci/pull.js';
import { translateResources, TRANSLATORS, type IstioResource } from '../translate/index.js';
import { convertResources, ConfigInputError, type ConvertedInput, type SourcedResource, type WasmPluginInput } from './istio-input.js';
import type { FilterAttachment } from './mesh-model.js';
import type { ModuleStore } from './module-store.js';
import type { Log } from './types.js';
import { formatProblems } from '../sidecar/config/errors.js';

/** The configuration directory, read and checked: everything needed to build a MeshModel. */
export interface LoadedConfig {
  readonly input: ConvertedInput;
  /** WasmPlugins with their module in the store. */
  readonly filters: readonly FilterAttachment[];
  readonly files: readonly string[];
}

export interface ConfigDirOptions {
  readonly dir: string;
  readonly modules: ModuleStore;
  /** For `oci://` WasmPlugin urls. */
  readonly dockerConfigPath?: string;
}

function listYamlFiles(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`--config ${dir}: not a directory; expected a folder of Istio YAML files`);
  return readdirSync(dir).filter((n) => /\.ya?ml$/.test(n) && !n.startsWith('.')).sort().map((n) => path.join(dir, n));
}

/** Receives each problem found; loading goes on so the whole directory is reported at once. */
export type ReportProblem = (problem: ConfigInputError) => void;

/**
 * Every problem of a configuration directory (file, document, field, what is wrong), one per
 * line, as SidecarConfigError lists a sidecar config's: an edit with three mistakes is refused
 * once, naming all three, and the last good configuration keeps serving.
 */
export class ConfigDirError extends Error {
  constructor(readonly dir: string, readonly problems: readonly ConfigInputError[]) {
    super(formatProblems(dir, problems.map((p) => ({ field: '', problem: p.message }))));
    this.name = 'ConfigDirError';
  }
}

/**
 * Parse and validate every document against its Istio CRD. A document with problems is reported
 * (every YAML error, every schema problem, each naming file, document and field) and left out.
 */
export function readConfigFiles(dir: string, report: ReportProblem): { resources: SourcedResource[]; files: string[] } {
  const files = listYamlFiles(dir);
  const resources: SourcedResource[] = [];
  for (const file of files) {
    const relative = path.relative(process.cwd(), file);
    const name = relative && !relative.startsWith('..') ? relative : file;
    const docs = parseAllDocuments(readFileSync(file, 'utf8'));
    const list = Array.isArray(docs) ? docs : [docs];
    list.forEach((doc, index) => {
      if (doc.errors.length > 0) {
        // The parser's message carries a code frame after its first line (which has line and column).
        for (const error of doc.errors) report(new ConfigInputError(name, index + 1, '', `YAML error: ${error.message.split('\n')[0]!.trim()}`));
        return;
      }
      const value = doc.toJS() as unknown;
      if (value === null || value === undefined) return;
      const problems = istioResourceProblems(value);
      if (problems.length > 0) {
        const r = value as { kind?: unknown; metadata?: { name?: unknown } };
        const what = `${String(r.kind ?? '<no kind>')} "${String(r.metadata?.name ?? '<no name>')}"`;
        for (const p of problems) report(new ConfigInputError(name, index + 1, p.path, `${what}: ${p.message}`));
        return;
      }
      resources.push({ file: name, document: index + 1, resource: value as IstioResource });
    });
  }
  return { resources, files };
}

/** The module a WasmPlugin url points at, put in the store; sha256 (if given) must match. */
async function resolveModule(plugin: WasmPluginInput, options: ConfigDirOptions): Promise<string> {
  const { at, url } = plugin;
  const fail = (detail: string): never => { throw new ConfigInputError(at.file, at.document, 'spec.url', detail); };
  let digest: string;
  const pinned = /\/modules\/sha256\/([0-9a-f]{64})$/.exec(url);
  if (pinned) {
    digest = pinned[1]!;
    if (!options.modules.has(digest)) fail(`${url}: no module with sha256 ${digest} was pushed to this control plane`);
  } else if (url.startsWith('file://') || url.startsWith('/') || url.startsWith('./')) {
    const file = url.startsWith('file://') ? fileURLToPath(url.startsWith('file:///') ? url : `file://${path.resolve(options.dir, url.slice('file://'.length))}`) : path.resolve(options.dir, url);
    if (!existsSync(file)) fail(`${url}: ${file} not found`);
    try { digest = options.modules.put(readFileSync(file)).sha256; } catch (error) { fail(`${url}: ${error instanceof Error ? error.message : String(error)}`); }
  } else if (url.startsWith('oci://')) {
    try {
      const pulled = await pullWasmImage(url, { dockerConfigPath: options.dockerConfigPath });
      digest = options.modules.put(pulled.wasm).sha256;
    } catch (error) {
      fail(`${url}: ${error instanceof Error ? error.message : String(error)}`);
    }
  } else if (url.startsWith('http://') || url.startsWith('https://')) {
    digest = options.modules.put(await fetchModule(url, fail)).sha256;
  } else {
    fail(`${url}: expected oci://, file://, http(s)://, or http://<control plane>/modules/sha256/<hex> of a module pushed here`);
  }
  digest = digest!;
  if (plugin.sha256 && plugin.sha256 !== digest) {
    throw new ConfigInputError(at.file, at.document, 'spec.sha256', `${plugin.sha256} does not match the module at ${url} (sha256 ${digest})`);
  }
  return digest;
}

/** http(s) WasmPlugin urls: fetched once here (Istio's agent does the same), then served from the store. */
async function fetchModule(url: string, fail: (detail: string) => never): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message;
    return fail(`${url}: could not fetch the module: ${cause ?? (error instanceof Error ? error.message : String(error))}`);
  }
  if (!response.ok) return fail(`${url}: could not fetch the module: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Every destination of every VirtualService names a known service, subset and port. */
function checkReferences(input: ConvertedInput, at: ReadonlyMap<string, SourcedResource>, report: ReportProblem): void {
  for (const vs of input.virtualServices) {
    const where = at.get(`VirtualService|${vs.source}`)!;
    vs.http.forEach((route, i) => route.destinations.forEach((d, j) => {
      const field = `spec.http[${i}].route[${j}].destination`;
      const service = input.services.find((s) => s.hosts.includes(d.host));
      if (!service) return report(new ConfigInputError(where.file, where.document, `${field}.host`, `${d.host}: no ServiceEntry defines this host`));
      if (d.port !== undefined && !service.ports.some((p) => p.number === d.port)) report(new ConfigInputError(where.file, where.document, `${field}.port.number`, `${d.port}: ${d.host} has ports ${service.ports.map((p) => p.number).join(', ')}`));
      if (d.subset !== undefined && !input.destinationRules.some((dr) => dr.host === d.host && dr.subsets.some((s) => s.name === d.subset))) {
        report(new ConfigInputError(where.file, where.document, `${field}.subset`, `${d.subset}: no DestinationRule defines this subset for ${d.host}`));
      }
    }));
  }
}

/** Policies must translate (grouped as a workload in their namespace would see them) and their filter must be built. */
function checkPolicies(input: ConvertedInput, at: ReadonlyMap<string, SourcedResource>, builtModules: ReadonlyMap<string, string>, report: ReportProblem): void {
  for (const policy of input.policies) {
    const where = at.get(`${policy.kind}|${policy.metadata.namespace}/${policy.metadata.name}`)!;
    try {
      const [translation] = translateResources([policy], TRANSLATORS);
      if (translation && !builtModules.has(translation.filter)) throw new Error(`needs filter ${translation.filter}, which is not built (npm run build) nor pushed`);
    } catch (error) {
      report(new ConfigInputError(where.file, where.document, 'spec', error instanceof Error ? error.message : String(error)));
    }
  }
}

/**
 * Read, validate and resolve the whole directory. Every problem of every document is collected
 * (a resource refused at one stage is left out of the next) and thrown as one ConfigDirError.
 */
export async function loadConfigDir(options: ConfigDirOptions, builtModules: ReadonlyMap<string, string>): Promise<LoadedConfig> {
  const problems: ConfigInputError[] = [];
  const report: ReportProblem = (problem) => { problems.push(problem); };
  const { resources, files } = readConfigFiles(options.dir, report);
  const input = convertResources(resources, 'default', report);
  const at = new Map(resources.map((r) => [`${r.resource.kind}|${r.resource.metadata.namespace ?? 'default'}/${r.resource.metadata.name}`, r]));
  checkReferences(input, at, report);
  checkPolicies(input, at, builtModules, report);
  const filters: FilterAttachment[] = [];
  for (const plugin of input.wasmPlugins) {
    let sha256: string;
    try {
      sha256 = await resolveModule(plugin, options);
    } catch (error) {
      report(error instanceof ConfigInputError ? error : new ConfigInputError(plugin.at.file, plugin.at.document, 'spec.url', error instanceof Error ? error.message : String(error)));
      continue;
    }
    filters.push({
      name: `${plugin.namespace}.${plugin.name}`, namespace: plugin.namespace, selector: plugin.selector, phase: plugin.phase, priority: plugin.priority,
      rootId: plugin.rootId, sha256, configuration: plugin.configuration, failOpen: plugin.failOpen, origin: `${plugin.at.file}: WasmPlugin ${plugin.namespace}/${plugin.name}`, traffic: plugin.traffic,
    });
  }
  // In reading order: by file, then document (stages found them in pipeline order).
  const ordered = problems.map((p, i) => ({ p, i })).sort((a, b) => a.p.file.localeCompare(b.p.file) || a.p.document - b.p.document || a.i - b.i).map((x) => x.p);
  if (ordered.length > 0) throw new ConfigDirError(options.dir, ordered);
  return { input, filters, files };
}

/**
 * Watch the directory and reload after a quiet period; an edit that fails to load is logged and
 * the last good configuration keeps serving. fs.watch on the directory sees editors' rename-over
 * writes as well as in-place ones.
 */
export function watchConfigDir(options: ConfigDirOptions, builtModules: () => ReadonlyMap<string, string>, onLoaded: (config: LoadedConfig) => void, log: Log, quietMs = 100): { close(): void; reload(): Promise<boolean> } {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<boolean> = Promise.resolve(true);
  const reload = (): Promise<boolean> => {
    running = running.then(async () => {
      try {
        const config = await loadConfigDir(options, builtModules());
        onLoaded(config);
        log(`control-plane: loaded ${options.dir} (${config.files.length} files)`);
        return true;
      } catch (error) {
        log(`control-plane: refused the edit, last good configuration keeps serving: ${error instanceof Error ? error.message : String(error)}`);
        return false;
      }
    });
    return running;
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(options.dir, () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => { timer = undefined; void reload(); }, quietMs);
    });
  } catch (error) {
    throw new Error(`could not watch ${options.dir}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return {
    close: () => { if (timer) clearTimeout(timer); watcher?.close(); },
    reload,
  };
}

