import { parseTrafficSelectors, type FilterAttachment, type WasmPhase } from './mesh-model.js';
import type { StateDir } from './state-dir.js';

/** What the admin API's attach call takes: WasmPlugin's fields, with the module by digest. */
export interface AttachRequest {
  readonly namespace: string;
  readonly name: string;
  readonly sha256: string;
  readonly pluginName?: string;
  readonly selector?: Readonly<Record<string, string>>;
  readonly phase?: WasmPhase;
  readonly priority?: number;
  /** WasmPlugin pluginConfig (any JSON) — handed to the filter as JSON text. */
  readonly pluginConfig?: unknown;
  readonly failStrategy?: 'FAIL_CLOSE' | 'FAIL_OPEN';
  /** WasmPlugin match: `[{mode: CLIENT|SERVER|CLIENT_AND_SERVER, ports: [{number}]}]`; absent: every listener. */
  readonly match?: unknown;
}

export interface StoredAttachment {
  readonly current: FilterAttachment;
  /** Earlier versions, newest first (rollback pops one). */
  readonly history: readonly FilterAttachment[];
  readonly updatedAt: string;
}

const FILE = 'attachments.json';
const HISTORY_LIMIT = 10;
const PHASES: readonly WasmPhase[] = ['AUTHN', 'AUTHZ', 'STATS', 'UNSPECIFIED_PHASE'];
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Checks an attach request; returns the problem (naming the field) or undefined. */
export function attachRequestProblem(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body: expected a JSON object with WasmPlugin fields (sha256, selector, phase, priority, pluginName, pluginConfig, failStrategy, match)';
  const r = body as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (!['namespace', 'name', 'sha256', 'pluginName', 'selector', 'phase', 'priority', 'pluginConfig', 'failStrategy', 'match'].includes(key)) return `${key}: unknown field; expected sha256, selector, phase, priority, pluginName, pluginConfig, failStrategy, match`;
  }
  const match = parseTrafficSelectors(r.match);
  if (!Array.isArray(match)) return `match${match.field}: ${match.problem}`;
  if (typeof r.namespace !== 'string' || !DNS_LABEL.test(r.namespace)) return `namespace: ${JSON.stringify(r.namespace)} is not a Kubernetes namespace name`;
  if (typeof r.name !== 'string' || !DNS_LABEL.test(r.name)) return `name: ${JSON.stringify(r.name)} is not a valid name: expected lower-case letters, digits and '-'`;
  if (typeof r.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(r.sha256)) return `sha256: ${JSON.stringify(r.sha256)}: expected 64 lower-case hex digits`;
  if (r.pluginName !== undefined && (typeof r.pluginName !== 'string' || r.pluginName === '')) return 'pluginName: expected a non-empty string';
  if (r.selector !== undefined && (typeof r.selector !== 'object' || r.selector === null || Object.values(r.selector).some((v) => typeof v !== 'string'))) return 'selector: expected a map of label → value strings';
  if (r.phase !== undefined && !PHASES.includes(r.phase as WasmPhase)) return `phase: ${JSON.stringify(r.phase)}: expected one of ${PHASES.join(', ')}`;
  if (r.priority !== undefined && (!Number.isInteger(r.priority) || Math.abs(r.priority as number) > 2 ** 31 - 1)) return `priority: ${JSON.stringify(r.priority)}: expected an int32`;
  if (r.failStrategy !== undefined && r.failStrategy !== 'FAIL_CLOSE' && r.failStrategy !== 'FAIL_OPEN') return `failStrategy: ${JSON.stringify(r.failStrategy)}: expected FAIL_CLOSE or FAIL_OPEN`;
  return undefined;
}

export function attachmentFrom(request: AttachRequest): FilterAttachment {
  return {
    name: `${request.namespace}.${request.name}`,
    namespace: request.namespace,
    selector: request.selector ?? {},
    phase: request.phase ?? 'UNSPECIFIED_PHASE',
    priority: request.priority ?? 0,
    rootId: request.pluginName ?? request.name,
    sha256: request.sha256,
    configuration: request.pluginConfig === undefined ? '' : typeof request.pluginConfig === 'string' ? request.pluginConfig : JSON.stringify(request.pluginConfig),
    failOpen: request.failStrategy === 'FAIL_OPEN',
    origin: 'admin API',
    traffic: parseTrafficSelectors(request.match) as FilterAttachment['traffic'],
  };
}

/** Filters attached through the admin API, with their rollback history; persisted in the state directory. */
export class AttachmentStore {
  private readonly entries = new Map<string, StoredAttachment>();

  constructor(private readonly state?: StateDir) {
    const saved = state?.read(FILE);
    if (!saved) return;
    let parsed: { attachments?: StoredAttachment[] };
    try {
      parsed = JSON.parse(saved.toString('utf8')) as { attachments?: StoredAttachment[] };
    } catch (error) {
      throw new Error(`${state!.root}/${FILE}: not valid JSON (${error instanceof Error ? error.message : String(error)}); refusing to start rather than lose attachments`);
    }
    // Attachments saved before `match` was served ran inbound only: they keep doing so.
    const inboundIfUnset = (a: FilterAttachment): FilterAttachment => (a.traffic === undefined ? { ...a, traffic: [{ mode: 'SERVER', ports: [] }] } : a);
    for (const entry of parsed.attachments ?? []) {
      this.entries.set(entry.current.name, { ...entry, current: inboundIfUnset(entry.current), history: entry.history.map(inboundIfUnset) });
    }
  }

  list(): StoredAttachment[] {
    return [...this.entries.values()].sort((a, b) => a.current.name.localeCompare(b.current.name));
  }

  get(name: string): StoredAttachment | undefined {
    return this.entries.get(name);
  }

  attach(attachment: FilterAttachment): StoredAttachment {
    const existing = this.entries.get(attachment.name);
    const unchanged = existing && JSON.stringify(existing.current) === JSON.stringify(attachment);
    const history = existing && !unchanged ? [existing.current, ...existing.history].slice(0, HISTORY_LIMIT) : existing?.history ?? [];
    const entry: StoredAttachment = { current: attachment, history, updatedAt: new Date().toISOString() };
    this.save(new Map(this.entries).set(attachment.name, entry));
    return entry;
  }

  /** Back to the previous module and config; throws if there is none. */
  rollback(name: string): StoredAttachment {
    const existing = this.entries.get(name);
    if (!existing) throw new AttachmentNotFoundError(name);
    const [previous, ...rest] = existing.history;
    if (!previous) throw new Error(`${name}: no earlier version to roll back to`);
    const entry: StoredAttachment = { current: previous, history: rest, updatedAt: new Date().toISOString() };
    this.save(new Map(this.entries).set(name, entry));
    return entry;
  }

  detach(name: string): void {
    if (!this.entries.has(name)) throw new AttachmentNotFoundError(name);
    const next = new Map(this.entries);
    next.delete(name);
    this.save(next);
  }

  /** Every module an attachment uses now or could roll back to. */
  referencedModules(): Set<string> {
    return new Set(this.list().flatMap((e) => [e.current.sha256, ...e.history.map((h) => h.sha256)]));
  }

  /** Disk first, then memory: a failed write changes nothing. */
  private save(next: Map<string, StoredAttachment>): void {
    this.state?.writeAtomic(FILE, `${JSON.stringify({ attachments: [...next.values()] }, null, 2)}\n`);
    this.entries.clear();
    for (const [k, v] of next) this.entries.set(k, v);
  }
}

export class AttachmentNotFoundError extends Error {
  constructor(name: string) {
    super(`no attachment named ${name}`);
    this.name = 'AttachmentNotFoundError';
  }
}
