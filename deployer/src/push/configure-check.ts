import type { LogEntry, NodeInfo } from '../host/api.js';
import { createProxyWasmHost } from '../host/host.js';

/**
 * Proves a configuration against the module before it ships: the module is loaded into our
 * proxy-wasm host and proxy_on_vm_start / proxy_on_configure run with the exact configuration
 * string the proxy will receive — what Envoy does when the config arrives (envoy
 * source/extensions/common/wasm/wasm.cc: a plugin whose on_configure returns false is refused,
 * and with fail_open false every request is then denied). A refusal is reported with the
 * filter's own words: its error/critical log lines during start-up, then the host's reason.
 */
export class ConfigurationRefusedError extends Error {
  constructor(readonly filter: string, readonly where: string, readonly filterLog: readonly string[], reason: string) {
    const unsaid = filterLog.filter((line) => !reason.includes(line));
    super(`${where}: refused by the filter itself (what Envoy would do with it): ${reason}${unsaid.length > 0 ? `; filter log: ${unsaid.join('; ')}` : ''}`);
    this.name = 'ConfigurationRefusedError';
  }
}

export interface ConfigureCheck {
  readonly wasm: Uint8Array;
  /** Filter name = root id, as rendered (root_id / pluginName). */
  readonly filter: string;
  /** The plugin configuration exactly as shipped (deployer/src/render/retarget.ts shippedConfiguration). */
  readonly configuration: string;
  /** What is being checked, for the message: `EnvoyFilter shop/wasmesh-rbac`, `--config jwt.json`. */
  readonly where: string;
  /** The proxy's node (Istio node metadata): workload-scoped configs read NAMESPACE and LABELS from it (scoped-check.ts). */
  readonly node?: NodeInfo;
}

const REPORTED: ReadonlySet<LogEntry['level']> = new Set(['error', 'critical']);

/** Resolves with the filter's log lines when the configuration is accepted; rejects with ConfigurationRefusedError otherwise. */
export async function checkConfiguration(check: ConfigureCheck): Promise<readonly LogEntry[]> {
  const logs: LogEntry[] = [];
  const host = createProxyWasmHost({ logLevel: 'info', onLog: (entry) => logs.push(entry), ...(check.node ? { node: check.node } : {}) });
  try {
    await host.loadPlugin({ name: check.filter, rootId: check.filter, wasm: check.wasm, configuration: check.configuration, failOpen: false, workers: 1 });
    return logs;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigurationRefusedError(check.filter, check.where, logs.filter((l) => REPORTED.has(l.level)).map((l) => l.message), reason);
  } finally {
    await host.close();
  }
}
