import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { attachmentFrom, attachRequestProblem, AttachmentNotFoundError, type AttachmentStore, type AttachRequest } from './attachments.js';
import type { FilterAttachment } from './mesh-model.js';
import type { ModuleStore } from './module-store.js';
import { serveModule } from './module-server.js';
import { labelsMatch } from './node-identity.js';
import type { NodeStatusRegistry } from './node-status.js';
import { wasmExtensionConfig } from './resources/extension-configs.js';
import { buildResource } from './snapshot.js';
import type { SnapshotCache } from './snapshot-cache.js';
import { TYPE_SHORT_NAMES, TypeUrl, type NodeStatus } from './types.js';

export interface AdminContext {
  readonly token: string;
  readonly modules: ModuleStore;
  readonly attachments: AttachmentStore;
  readonly status: NodeStatusRegistry;
  readonly cache: SnapshotCache;
  readonly moduleBaseUrl: string;
  readonly rootNamespace: string;
  /** WasmPlugins from the config directory (their names are not attachable). */
  configFilters(): readonly FilterAttachment[];
  /** Apply a change of attachments (debounced push). */
  rebuild(): void;
}

const MAX_MODULE_BYTES = 64 * 1024 * 1024;
const MAX_JSON_BYTES = 1024 * 1024;

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Constant-time token check: both sides hashed to equal length first, so neither length nor content leaks by timing. */
function authorized(header: string | undefined, token: string): boolean {
  const presented = /^Bearer (.+)$/i.exec(header ?? '')?.[1] ?? '';
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b) && presented !== '';
}

async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, `body larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const body = await readBody(request, MAX_JSON_BYTES);
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch (error) {
    throw new HttpError(400, `body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(`${JSON.stringify(body, null, 2)}\n`);
}

/** Node status with type URLs shortened (LDS, ECDS, …) for people and scripts. */
function describeNode(s: NodeStatus): Record<string, unknown> {
  const short = <T>(record: Partial<Record<TypeUrl, T>>) => Object.fromEntries(Object.entries(record).map(([k, v]) => [TYPE_SHORT_NAMES[k as TypeUrl] ?? k, v]));
  return { id: s.node.id, generator: s.node.generator, namespace: s.node.namespace, labels: s.node.labels, workloadName: s.node.workloadName, connected: s.connected, streams: s.streams, acked: short(s.acked), lastNack: short(s.lastNack), pending: short(s.pending), extensionConfigs: s.resources[TypeUrl.extensionConfig] ?? {} };
}

export type RolloutState = 'acked' | 'nacked' | 'pending';

/** For each connected sidecar the attachment selects: has it ACKed the new ECDS resource, NACKed it, or not yet answered? */
export function rollout(context: AdminContext, name: string): Record<string, unknown> {
  const entry = context.attachments.get(name);
  if (!entry) throw new HttpError(404, `no attachment named ${name}`);
  const filter = entry.current;
  const expected = buildResource(wasmExtensionConfig(filter, context.moduleBaseUrl)).version;
  const nodes = context.status.list()
    .filter((s) => s.connected && s.node.generator === 'sidecar' && (s.node.namespace === filter.namespace || filter.namespace === context.rootNamespace) && labelsMatch(filter.selector, s.node.labels))
    .map((s) => {
      const held = s.resources[TypeUrl.extensionConfig]?.[filter.name];
      const nack = s.lastNack[TypeUrl.extensionConfig];
      const nacked = nack && nack.resources.includes(filter.name) && nack.at >= entry.updatedAt && held !== expected;
      const state: RolloutState = held === expected ? 'acked' : nacked ? 'nacked' : 'pending';
      return { id: s.node.id, state, expectedVersion: expected, heldVersion: held ?? null, ...(nacked ? { error: nack.error } : {}) };
    });
  return { name: filter.name, sha256: filter.sha256, updatedAt: entry.updatedAt, nodes };
}

/** Module server (no token) and admin API (bearer token on every call) on one HTTP port. */
export async function handleAdminRequest(context: AdminContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://control-plane');
  const moduleMatch = /^\/modules\/sha256\/([0-9a-f]{64})$/.exec(url.pathname);
  if (moduleMatch) return serveModule(request, response, context.modules, moduleMatch[1]!);
  if (!url.pathname.startsWith('/api/')) return send(response, 404, { error: `${url.pathname}: not found; expected /api/v1/… or /modules/sha256/<hex>` });
  if (!authorized(request.headers.authorization, context.token)) {
    response.setHeader('www-authenticate', 'Bearer realm="wasmesh control plane"');
    return send(response, 401, { error: request.headers.authorization ? 'wrong token: the bearer token does not match' : 'missing token: expected an Authorization: Bearer <token> header (--token-file or DEPLOYER_CONTROL_PLANE_TOKEN)' });
  }
  try {
    await route(context, request, response, url);
  } catch (error) {
    if (error instanceof HttpError) return send(response, error.status, { error: error.message });
    if (error instanceof AttachmentNotFoundError) return send(response, 404, { error: error.message });
    throw error;
  }
}

async function route(context: AdminContext, request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
  const method = request.method ?? 'GET';
  const path = url.pathname;
  if (path === '/api/v1/modules' && method === 'POST') {
    const body = await readBody(request, MAX_MODULE_BYTES);
    try {
      return send(response, 201, context.modules.put(body));
    } catch (error) {
      throw new HttpError(400, error instanceof Error ? error.message : String(error));
    }
  }
  if (path === '/api/v1/modules' && method === 'GET') {
    const attached = context.attachments.list();
    return send(response, 200, { modules: context.modules.list().map((m) => ({ ...m, attachedTo: attached.filter((a) => a.current.sha256 === m.sha256).map((a) => a.current.name) })) });
  }
  if (path === '/api/v1/nodes' && method === 'GET') return send(response, 200, { nodes: context.status.list().map(describeNode) });
  if (path === '/api/v1/status' && method === 'GET') {
    return send(response, 200, {
      nodes: context.status.list().map(describeNode),
      modules: context.modules.list(),
      attachments: context.attachments.list(),
      wasmPlugins: context.configFilters(),
      groups: context.cache.servedSnapshots().map((s) => ({ group: s.group, versions: Object.fromEntries(Object.entries(s.versions).map(([k, v]) => [TYPE_SHORT_NAMES[k as TypeUrl], v])) })),
    });
  }
  if (path === '/api/v1/attachments' && method === 'GET') return send(response, 200, { attachments: context.attachments.list() });
  const attachment = /^\/api\/v1\/attachments\/([a-z0-9-]+)\/([a-z0-9-]+)(\/rollback|\/rollout)?$/.exec(path);
  if (attachment) {
    const [, namespace, name, action] = attachment as unknown as [string, string, string, string | undefined];
    const full = `${namespace}.${name}`;
    if (!action && method === 'PUT') {
      const body = await readJson(request);
      const withName = typeof body === 'object' && body !== null ? { ...body, namespace, name } : body;
      const problem = attachRequestProblem(withName);
      if (problem) throw new HttpError(400, problem);
      const attach = withName as AttachRequest;
      if (!context.modules.has(attach.sha256)) throw new HttpError(404, `sha256: no module ${attach.sha256} on this control plane: upload it first (POST /api/v1/modules)`);
      if (context.configFilters().some((f) => f.name === full)) throw new HttpError(409, `${namespace}/${name}: a WasmPlugin of the config directory has this name; edit that file instead`);
      const stored = context.attachments.attach(attachmentFrom(attach));
      context.rebuild();
      return send(response, 200, { attachment: stored, rollout: rollout(context, full) });
    }
    if (!action && method === 'DELETE') {
      context.attachments.detach(full);
      context.rebuild();
      return send(response, 200, { detached: full });
    }
    if (!action && method === 'GET') {
      const stored = context.attachments.get(full);
      if (!stored) throw new HttpError(404, `no attachment named ${full}`);
      return send(response, 200, { attachment: stored });
    }
    if (action === '/rollback' && method === 'POST') {
      let stored;
      try {
        stored = context.attachments.rollback(full);
      } catch (error) {
        if (error instanceof AttachmentNotFoundError) throw error;
        throw new HttpError(409, error instanceof Error ? error.message : String(error));
      }
      context.rebuild();
      return send(response, 200, { attachment: stored, rollout: rollout(context, full) });
    }
    if (action === '/rollout' && method === 'GET') return send(response, 200, rollout(context, full));
  }
  throw new HttpError(path.startsWith('/api/v1/') ? 405 : 404, `${method} ${path}: no such call; expected POST/GET /api/v1/modules, GET /api/v1/nodes, GET /api/v1/status, PUT/GET/DELETE /api/v1/attachments/<ns>/<name>, POST …/rollback, GET …/rollout`);
}
