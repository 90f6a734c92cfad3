import { placementFor, SUITE, isSuiteFilter } from '../../suite.js';
import type { WasmPhase } from '../mesh-model.js';
import type { RolloutState } from '../admin-api.js';
import { AdminClient } from './admin-client.js';
import { MATCH_MODE } from '../../render/wasmplugin.js';
import type { ListenerContext } from '../../render/types.js';

export interface ControlPlanePushOptions {
  readonly controlPlane: string;
  readonly token: string;
  readonly wasm: Uint8Array;
  readonly filter: string;
  readonly namespace: string;
  readonly selector: Readonly<Record<string, string>>;
  /** Required for a filter outside the suite (its place in the chain). */
  readonly priority?: number;
  readonly pluginConfig?: unknown;
  readonly failOpen: boolean;
  /**
   * Traffic the filter sees (`--direction`): sent as WasmPlugin match mode, as render does —
   * inbound SERVER, outbound CLIENT, gateway CLIENT_AND_SERVER. Default inbound.
   */
  readonly direction?: ListenerContext;
  /** How long to wait for every targeted proxy to answer (default 30 s). */
  readonly timeoutMs?: number;
  readonly pollMs?: number;
  readonly onProgress?: (event: PushToControlPlaneProgress) => void;
  readonly fetchImpl?: typeof fetch;
}

export interface NodeRollout { readonly id: string; readonly state: RolloutState | 'timeout'; readonly error?: string }

export type PushToControlPlaneProgress =
  | { readonly step: 'uploaded'; readonly sha256: string; readonly size: number }
  | { readonly step: 'attached'; readonly name: string; readonly targets: number }
  | { readonly step: 'waiting'; readonly acked: number; readonly nacked: number; readonly pending: number };

export interface ControlPlanePushResult {
  readonly name: string;
  readonly sha256: string;
  readonly nodes: readonly NodeRollout[];
  /** True when every targeted proxy ACKed. */
  readonly ok: boolean;
}

interface RolloutResponse { readonly name: string; readonly nodes: readonly { id: string; state: RolloutState; error?: string }[] }

/** Where the filter goes in the chain; a filter outside the suite needs an explicit priority. */
export function controlPlanePlacement(filter: string, priority: number | undefined): { phase: WasmPhase; priority: number } {
  if (!isSuiteFilter(filter) && priority === undefined) {
    throw new Error(`unknown filter "${filter}": expected one of ${SUITE.map((s) => s.filter).join(', ')} (or --filter <name>), or --priority <n> to place a filter outside the suite`);
  }
  const placement = placementFor(filter, isSuiteFilter(filter) ? undefined : priority);
  return { phase: placement.wasmPluginPhase, priority: placement.wasmPluginPriority };
}

/**
 * `deployer push --control-plane`: upload the module, attach it (WasmPlugin fields), then wait
 * until every connected proxy the selector targets has ACKed the new ECDS resource — or NACKed it,
 * or the timeout passed. The result lists each node.
 */
export async function pushToControlPlane(options: ControlPlanePushOptions): Promise<ControlPlanePushResult> {
  const { phase, priority } = controlPlanePlacement(options.filter, options.priority);
  const client = new AdminClient(options.controlPlane, options.token, options.fetchImpl);
  const uploaded = await client.call<{ sha256: string; size: number }>('POST', '/api/v1/modules', options.wasm);
  options.onProgress?.({ step: 'uploaded', sha256: uploaded.sha256, size: uploaded.size });
  const path = `/api/v1/attachments/${encodeURIComponent(options.namespace)}/${encodeURIComponent(options.filter)}`;
  const attached = await client.call<{ rollout: RolloutResponse }>('PUT', path, {
    sha256: uploaded.sha256, pluginName: options.filter, selector: options.selector, phase, priority,
    ...(options.pluginConfig !== undefined ? { pluginConfig: options.pluginConfig } : {}),
    failStrategy: options.failOpen ? 'FAIL_OPEN' : 'FAIL_CLOSE',
    match: [{ mode: MATCH_MODE[options.direction ?? 'inbound'] }],
  });
  options.onProgress?.({ step: 'attached', name: attached.rollout.name, targets: attached.rollout.nodes.length });
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let rollout = attached.rollout;
  for (;;) {
    const counts = { acked: 0, nacked: 0, pending: 0 };
    for (const node of rollout.nodes) counts[node.state] += 1;
    options.onProgress?.({ step: 'waiting', ...counts });
    if (counts.pending === 0 || Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 100));
    rollout = await client.call<RolloutResponse>('GET', `${path}/rollout`);
  }
  const nodes = rollout.nodes.map((n): NodeRollout => (n.state === 'pending' ? { id: n.id, state: 'timeout' } : n));
  return { name: rollout.name, sha256: uploaded.sha256, nodes, ok: nodes.every((n) => n.state === 'acked') };
}
