/**
 * STAND-IN Kubernetes API server for tests — not Kubernetes.
 *
 * No cluster exists on our machines, so the deployer's Kubernetes path is tested against this
 * real HTTP server, which implements only the endpoints the deployer uses, with the semantics
 * of the real ones:
 * - discovery: GET /api, /api/v1, /apis, /apis/<group>/<version> for the Istio groups;
 * - server-side apply: PATCH application/apply-patch+yaml with fieldManager, force, dryRun=All —
 *   per-manager field ownership recorded in metadata.managedFields (FieldsV1), 409 Conflict when
 *   another manager owns a field with a different value (unless force, which takes the fields over),
 *   fields the applier stops sending are removed unless someone else owns them, lists are atomic
 *   (as for CRD lists without x-kubernetes-list-type), 422 Invalid when the result breaks the CRD
 *   schema (validated with the deployer's own Istio CRD validator);
 * - GET one object, LIST (namespaced or all namespaces) with an equality-based labelSelector, DELETE.
 * See https://kubernetes.io/docs/reference/using-api/server-side-apply/ and
 * https://kubernetes.io/docs/reference/using-api/api-concepts/.
 * It was never run against a live cluster here; behaviour a real API server adds (admission
 * webhooks, RBAC, watch, strategic merge) is not modelled.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { istioResourceProblems } from '../../deployer/src/istio/validate.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonMap = { [key: string]: Json };

interface ResourceType {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
}

const RESOURCE_TYPES: readonly ResourceType[] = [
  { group: 'networking.istio.io', version: 'v1alpha3', kind: 'EnvoyFilter', plural: 'envoyfilters' },
  { group: 'extensions.istio.io', version: 'v1alpha1', kind: 'WasmPlugin', plural: 'wasmplugins' },
];

interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: JsonMap;
}

/** One recorded request, for assertions. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly contentType?: string;
}

export interface StandinApiServer {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Objects currently stored (deep copies). */
  objects(): JsonMap[];
  /** Write kubeconfig YAML pointing at this server (context name `standin`). */
  kubeconfigYaml(namespace?: string): string;
  /** Make N requests with this method fail with `status`, after letting `skip` of them through (simulates a flaky server). */
  failNext(method: string, status: number, count?: number, skip?: number): void;
  close(): Promise<void>;
}

const isMap = (v: unknown): v is JsonMap => typeof v === 'object' && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => structuredClone(v);

/** Leaf paths a manager owns: objects recurse, lists and scalars are atomic leaves. */
function leafPaths(value: Json, prefix: string[] = []): string[][] {
  if (isMap(value) && Object.keys(value).length > 0) {
    return Object.entries(value).flatMap(([k, v]) => leafPaths(v, [...prefix, k]));
  }
  return [prefix];
}

/** Fields of an applied config that count for ownership (identity fields are not owned). */
function ownedPaths(config: JsonMap): string[][] {
  const { apiVersion: _a, kind: _k, metadata, ...rest } = config;
  const paths = leafPaths(rest as Json);
  const meta = isMap(metadata) ? metadata : {};
  for (const key of ['labels', 'annotations'] as const) {
    const m = meta[key];
    if (isMap(m)) for (const k of Object.keys(m)) paths.push(['metadata', key, k]);
  }
  return paths.filter((p) => p.length > 0);
}

const pathKey = (p: readonly string[]): string => JSON.stringify(p);
const dotted = (p: readonly string[]): string => '.' + p.join('.');

function getAt(obj: Json, path: readonly string[]): Json | undefined {
  let cur: Json | undefined = obj;
  for (const part of path) {
    if (!isMap(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

function setAt(obj: JsonMap, path: readonly string[], value: Json): void {
  let cur = obj;
  for (const part of path.slice(0, -1)) {
    if (!isMap(cur[part])) cur[part] = {};
    cur = cur[part] as JsonMap;
  }
  cur[path[path.length - 1]!] = clone(value);
}

function deleteAt(obj: JsonMap, path: readonly string[]): void {
  const parents: JsonMap[] = [obj];
  let cur: Json | undefined = obj;
  for (const part of path.slice(0, -1)) {
    if (!isMap(cur)) return;
    cur = cur[part];
    if (!isMap(cur)) return;
    parents.push(cur);
  }
  delete parents[parents.length - 1]![path[path.length - 1]!];
  // Drop maps emptied by the removal (except top-level ones).
  for (let i = parents.length - 1; i > 1; i--) {
    if (Object.keys(parents[i]!).length === 0) delete parents[i - 1]![path[i - 1]!];
  }
}

function toFieldsV1(paths: readonly string[][]): JsonMap {
  const root: JsonMap = {};
  for (const p of paths) {
    let cur = root;
    for (const part of p) {
      const key = `f:${part}`;
      if (!isMap(cur[key])) cur[key] = {};
      cur = cur[key] as JsonMap;
    }
  }
  return root;
}

function fromFieldsV1(fields: JsonMap, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const [key, child] of Object.entries(fields)) {
    if (!key.startsWith('f:')) continue;
    const path = [...prefix, key.slice(2)];
    if (isMap(child) && Object.keys(child).length > 0) out.push(...fromFieldsV1(child, path));
    else out.push(path);
  }
  return out;
}

/** Equality-based label selectors: `a=b`, `a==b`, `a!=b`, `a`, `!a`, comma-separated (AND). */
export function matchesSelector(labels: Readonly<Record<string, string>>, selector: string | undefined): boolean {
  if (!selector) return true;
  return selector.split(',').map((s) => s.trim()).filter(Boolean).every((term) => {
    let m = /^([^!=]+)!=(.*)$/.exec(term);
    if (m) return labels[m[1]!.trim()] !== m[2]!.trim();
    m = /^([^!=]+)==?(.*)$/.exec(term);
    if (m) return labels[m[1]!.trim()] === m[2]!.trim();
    if (term.startsWith('!')) return !(term.slice(1) in labels);
    return term in labels;
  });
}

function status(code: number, reason: string, message: string, details?: JsonMap): JsonMap {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: code < 300 ? 'Success' : 'Failure', message, reason, code, ...(details ? { details } : {}) };
}

export async function startStandinApiServer(): Promise<StandinApiServer> {
  const store = new Map<string, JsonMap>();
  const requests: RecordedRequest[] = [];
  const injected: { method: string; status: number; count: number; skip: number }[] = [];
  let resourceVersion = 1000;

  const send = (res: http.ServerResponse, code: number, body: Json): void => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  function discovery(path: string): Json | undefined {
    if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] };
    if (path === '/api/v1') return { kind: 'APIResourceList', groupVersion: 'v1', resources: [] };
    if (path === '/apis') {
      return {
        kind: 'APIGroupList', apiVersion: 'v1',
        groups: RESOURCE_TYPES.map((t) => ({ name: t.group, versions: [{ groupVersion: `${t.group}/${t.version}`, version: t.version }], preferredVersion: { groupVersion: `${t.group}/${t.version}`, version: t.version } })),
      };
    }
    const m = /^\/apis\/([^/]+)\/([^/]+)$/.exec(path);
    if (m) {
      const types = RESOURCE_TYPES.filter((t) => t.group === m[1] && t.version === m[2]);
      if (types.length === 0) return undefined;
      return {
        kind: 'APIResourceList', apiVersion: 'v1', groupVersion: `${m[1]}/${m[2]}`,
        resources: types.map((t) => ({ name: t.plural, singularName: t.kind.toLowerCase(), namespaced: true, kind: t.kind, verbs: ['delete', 'get', 'list', 'patch'] })),
      };
    }
    return undefined;
  }

  function apply(type: ResourceType, namespace: string, name: string, body: string, query: Record<string, string>): { code: number; body: JsonMap } {
    const manager = query.fieldManager;
    if (!manager) return { code: 422, body: status(422, 'Invalid', 'PATCH /apply: fieldManager is required for apply requests') };
    let config: unknown;
    try {
      config = parseYaml(body);
    } catch (error) {
      return { code: 400, body: status(400, 'BadRequest', `error decoding YAML: ${(error as Error).message}`) };
    }
    if (!isMap(config)) return { code: 400, body: status(400, 'BadRequest', 'apply patch must be an object') };
    const apiVersion = `${type.group}/${type.version}`;
    if (config.apiVersion !== apiVersion || config.kind !== type.kind) {
      return { code: 400, body: status(400, 'BadRequest', `apply patch apiVersion/kind ${String(config.apiVersion)}/${String(config.kind)} does not match ${apiVersion}/${type.kind}`) };
    }
    const meta = isMap(config.metadata) ? config.metadata : {};
    if (meta.name !== name || (meta.namespace !== undefined && meta.namespace !== namespace)) {
      return { code: 400, body: status(400, 'BadRequest', `the name/namespace of the object (${String(meta.namespace)}/${String(meta.name)}) does not match the URL (${namespace}/${name})`) };
    }
    const force = query.force === 'true';
    const key = `${apiVersion}/${type.plural}/${namespace}/${name}`;
    const existing = store.get(key);
    const live: JsonMap = existing ? clone(existing) : { apiVersion, kind: type.kind, metadata: { name, namespace } };
    const liveMeta = live.metadata as JsonMap;
    const entries = ((liveMeta.managedFields ?? []) as unknown as ManagedFieldsEntry[]).map((e) => ({ ...e, paths: fromFieldsV1(e.fieldsV1) }));
    const applied = ownedPaths(config);
    const appliedKeys = new Set(applied.map(pathKey));

    // Conflicts: a field another manager owns, which this apply sets to a different value.
    const conflicts: { manager: string; path: string[] }[] = [];
    for (const entry of entries) {
      if (entry.manager === manager) continue;
      for (const p of entry.paths) {
        if (appliedKeys.has(pathKey(p)) && JSON.stringify(getAt(config as Json, p)) !== JSON.stringify(getAt(live, p))) {
          conflicts.push({ manager: entry.manager, path: p });
        }
      }
    }
    if (conflicts.length > 0 && !force) {
      const lines = conflicts.map((c) => `conflict with "${c.manager}": ${dotted(c.path)}`);
      return {
        code: 409,
        body: status(409, 'Conflict', `Apply failed with ${conflicts.length} conflict${conflicts.length > 1 ? 's' : ''}: ${lines.join('\n')}`, {
          name, group: type.group, kind: type.plural,
          causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with "${c.manager}" using ${apiVersion}`, field: dotted(c.path) })),
        }),
      };
    }
    // force: the conflicting fields move to this manager.
    for (const entry of entries) {
      if (entry.manager !== manager) entry.paths = entry.paths.filter((p) => !appliedKeys.has(pathKey(p)) || !conflicts.some((c) => pathKey(c.path) === pathKey(p)));
    }
    // Fields this manager applied before but no longer sends are removed, unless someone else owns them.
    const mine = entries.find((e) => e.manager === manager);
    const othersOwn = new Set(entries.filter((e) => e.manager !== manager).flatMap((e) => e.paths.map(pathKey)));
    for (const p of mine?.paths ?? []) {
      if (!appliedKeys.has(pathKey(p)) && !othersOwn.has(pathKey(p))) deleteAt(live, p);
    }
    for (const p of applied) setAt(live, p, getAt(config as Json, p) as Json);

    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const nextEntries = entries.filter((e) => e.manager !== manager && e.paths.length > 0)
      .map(({ paths, ...e }) => ({ ...e, fieldsV1: toFieldsV1(paths) }));
    nextEntries.push({ manager, operation: 'Apply', apiVersion, time: now, fieldsType: 'FieldsV1', fieldsV1: toFieldsV1(applied) });

    const problems = istioResourceProblems(stripServerFields(live));
    if (problems.length > 0) {
      return {
        code: 422,
        body: status(422, 'Invalid', `${type.kind}.${type.group} "${name}" is invalid: ${problems.map((p) => `${p.path}: ${p.message}`).join(', ')}`, {
          name, group: type.group, kind: type.kind, causes: problems.map((p) => ({ reason: 'FieldValueInvalid', message: p.message, field: p.path })),
        }),
      };
    }
    const specChanged = JSON.stringify(live.spec) !== JSON.stringify(existing?.spec);
    const metaChanged = JSON.stringify(stripServerFields(live)) !== JSON.stringify(existing ? stripServerFields(existing) : undefined);
    liveMeta.managedFields = nextEntries as unknown as Json;
    if (!existing) {
      liveMeta.uid = randomUUID();
      liveMeta.creationTimestamp = now;
      liveMeta.generation = 1;
    } else if (specChanged) {
      liveMeta.generation = Number(liveMeta.generation ?? 1) + 1;
    }
    const ownershipChanged = JSON.stringify(nextEntries.map((e) => [e.manager, e.fieldsV1])) !== JSON.stringify(((existing?.metadata as JsonMap | undefined)?.managedFields as unknown as ManagedFieldsEntry[] | undefined ?? []).map((e) => [e.manager, e.fieldsV1]));
    if (!existing || metaChanged || ownershipChanged) liveMeta.resourceVersion = String(++resourceVersion);
    else liveMeta.managedFields = (existing.metadata as JsonMap).managedFields as Json; // a no-op apply changes nothing
    if (query.dryRun !== 'All') store.set(key, live);
    return { code: existing ? 200 : 201, body: live };
  }

  function stripServerFields(obj: JsonMap): JsonMap {
    const copy = clone(obj);
    const meta = copy.metadata as JsonMap;
    for (const k of ['managedFields', 'uid', 'creationTimestamp', 'generation', 'resourceVersion']) delete meta[k];
    return copy;
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://standin');
      const query = Object.fromEntries(url.searchParams.entries());
      const method = req.method ?? 'GET';
      requests.push({ method, path: url.pathname, query, contentType: req.headers['content-type'] });
      const fault = injected.find((f) => f.method === method && f.count > 0);
      if (fault && fault.skip > 0) fault.skip--;
      else if (fault) {
        fault.count--;
        const reason = ({ 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 409: 'Conflict', 429: 'TooManyRequests', 503: 'ServiceUnavailable' } as Record<number, string>)[fault.status] ?? 'InternalError';
        return send(res, fault.status, status(fault.status, reason, `stand-in: injected failure ${fault.status}`));
      }
      if (method === 'GET') {
        const doc = discovery(url.pathname);
        if (doc !== undefined) return send(res, 200, doc);
      }
      const m = /^\/apis\/([^/]+)\/([^/]+)(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?$/.exec(url.pathname);
      const type = m && RESOURCE_TYPES.find((t) => t.group === m[1] && t.version === m[2] && t.plural === m[4]);
      if (!m || !type) return send(res, 404, status(404, 'NotFound', `the server could not find the requested resource (${method} ${url.pathname})`));
      const [, , , namespace, , name] = m;
      const apiVersion = `${type.group}/${type.version}`;
      const key = `${apiVersion}/${type.plural}/${namespace}/${name}`;
      const notFound = (): void => send(res, 404, status(404, 'NotFound', `${type.plural}.${type.group} "${name}" not found`, { name: name ?? '', group: type.group, kind: type.plural }));

      if (method === 'GET' && name) {
        const obj = store.get(key);
        return obj ? send(res, 200, obj) : notFound();
      }
      if (method === 'GET') {
        const items = [...store.entries()]
          .filter(([k]) => k.startsWith(`${apiVersion}/${type.plural}/`))
          .map(([, v]) => v)
          .filter((o) => !namespace || (o.metadata as JsonMap).namespace === namespace)
          .filter((o) => matchesSelector(((o.metadata as JsonMap).labels ?? {}) as Record<string, string>, query.labelSelector));
        return send(res, 200, { apiVersion, kind: `${type.kind}List`, metadata: { resourceVersion: String(resourceVersion) }, items });
      }
      if (method === 'PATCH' && name && namespace) {
        const contentType = req.headers['content-type'] ?? '';
        if (!contentType.startsWith('application/apply-patch')) {
          return send(res, 415, status(415, 'UnsupportedMediaType', `stand-in supports only server-side apply (application/apply-patch+yaml), got ${contentType}`));
        }
        const result = apply(type, namespace, name, Buffer.concat(chunks).toString('utf8'), query);
        return send(res, result.code, result.body);
      }
      if (method === 'DELETE' && name) {
        const obj = store.get(key);
        if (!obj) return notFound();
        if (query.dryRun !== 'All') store.delete(key);
        return send(res, 200, status(200, '', '', { name, group: type.group, kind: type.plural, uid: String((obj.metadata as JsonMap).uid) }));
      }
      return send(res, 405, status(405, 'MethodNotAllowed', `stand-in does not implement ${method} ${url.pathname}`));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    requests,
    objects: () => [...store.values()].map(clone),
    kubeconfigYaml: (namespace = 'default') => [
      'apiVersion: v1', 'kind: Config', 'current-context: standin',
      'clusters:', '- name: standin', '  cluster:', `    server: ${url}`, '    insecure-skip-tls-verify: true', // client-node refuses plain http otherwise
      'users:', '- name: standin-user', '  user:', '    token: standin-token',
      'contexts:', '- name: standin', '  context:', '    cluster: standin', '    user: standin-user', `    namespace: ${namespace}`, '',
    ].join('\n'),
    failNext: (method, code, count = 1, skip = 0) => { injected.push({ method, status: code, count, skip }); },
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}
