import { AdminClient } from './admin-client.js';

export interface ControlPlaneStatus {
  readonly nodes: readonly {
    id: string; generator: string; namespace: string; connected: boolean;
    acked: Record<string, { version: string; at: string }>;
    lastNack: Record<string, { version: string; error: string; at: string }>;
    extensionConfigs: Record<string, string>;
  }[];
  readonly modules: readonly { sha256: string; size: number }[];
  readonly attachments: readonly { current: { name: string; sha256: string; selector: Record<string, string>; phase: string; priority: number }; history: readonly unknown[]; updatedAt: string }[];
  readonly wasmPlugins: readonly { name: string; sha256: string; origin: string }[];
}

/** `deployer status --control-plane`: one GET of /api/v1/status. */
export function controlPlaneStatus(controlPlane: string, token: string, fetchImpl?: typeof fetch): Promise<ControlPlaneStatus> {
  return new AdminClient(controlPlane, token, fetchImpl).call<ControlPlaneStatus>('GET', '/api/v1/status');
}

const TYPES = ['LDS', 'RDS', 'CDS', 'EDS', 'ECDS'] as const;

/** Rows for the three tables `status` prints: nodes, modules, attachments. */
export function statusTables(status: ControlPlaneStatus): { nodes: string[][]; modules: string[][]; attachments: string[][] } {
  const nodes = status.nodes.map((n) => [
    n.id, n.connected ? 'yes' : 'no', n.generator,
    ...TYPES.map((t) => n.acked[t]?.version ?? '-'),
    Object.entries(n.lastNack).map(([t, r]) => `${t} ${r.version}: ${r.error}`).join('; ') || '-',
  ]);
  const attachedTo = (sha: string) => [...status.attachments.filter((a) => a.current.sha256 === sha).map((a) => a.current.name), ...status.wasmPlugins.filter((w) => w.sha256 === sha).map((w) => w.name)];
  const modules = status.modules.map((m) => [m.sha256, String(m.size), attachedTo(m.sha256).join(', ') || '-']);
  const attachments = [
    ...status.attachments.map((a) => [a.current.name, 'admin API', a.current.sha256.slice(0, 12), Object.entries(a.current.selector).map(([k, v]) => `${k}=${v}`).join(',') || '(all)', `${a.current.phase}/${a.current.priority}`, String(a.history.length), a.updatedAt]),
    ...status.wasmPlugins.map((w) => [w.name, w.origin, w.sha256.slice(0, 12), '-', '-', '-', '-']),
  ];
  return { nodes, modules, attachments };
}
