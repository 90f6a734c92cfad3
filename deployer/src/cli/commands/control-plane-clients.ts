import type { Command } from 'commander';
import { pushToControlPlane, type PushToControlPlaneProgress } from '../../control-plane/client/push.js';
import { controlPlaneStatus, statusTables } from '../../control-plane/client/status.js';
import { resolveToken } from '../../control-plane/token.js';
import { loadPluginConfig, type WiringFlags } from '../../push/cli-options.js';
import { filterNameFromPath, readWasmFile } from '../../push/push.js';
import { parseContext, parseSelector } from '../../render/options.js';
import { formatTable, parseOutputFormat, printStructured } from '../output.js';

/**
 * `push --control-plane` and `status --control-plane`: the flags and actions, kept here so the
 * push/status commands only gain one option block and one branch each.
 */
export interface ControlPlaneClientFlags {
  readonly controlPlane?: string;
  readonly tokenFile?: string;
  readonly timeout?: string;
}

export function addControlPlaneClientOptions(command: Command, withTimeout: boolean): Command {
  command
    .option('--control-plane <url>', "a wasmesh control plane's admin API, e.g. http://127.0.0.1:15081 (env DEPLOYER_CONTROL_PLANE)", process.env.DEPLOYER_CONTROL_PLANE)
    .option('--token-file <file>', 'admin API bearer token for --control-plane (else env DEPLOYER_CONTROL_PLANE_TOKEN)');
  if (withTimeout) command.option('--timeout <seconds>', 'with --control-plane: how long to wait for the proxies to ACK (env DEPLOYER_PUSH_TIMEOUT)', process.env.DEPLOYER_PUSH_TIMEOUT ?? '30');
  return command;
}

function progressLine(event: PushToControlPlaneProgress): string | undefined {
  switch (event.step) {
    case 'uploaded': return `  ✓ uploaded sha256:${event.sha256} (${event.size} bytes)`;
    case 'attached': return `  ✓ attached ${event.name}: ${event.targets} connected proxies targeted`;
    case 'waiting': return `    ${event.acked} ACKed, ${event.nacked} NACKed, ${event.pending} waiting`;
  }
}

/** Exit code 1 when any targeted proxy NACKed or did not answer in time. */
export async function pushToControlPlaneCommand(wasmPath: string, flags: WiringFlags & ControlPlaneClientFlags): Promise<void> {
  const filter = flags.filter ?? filterNameFromPath(wasmPath);
  const timeoutSeconds = Number(flags.timeout ?? '30');
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new Error(`--timeout "${flags.timeout}": expected a positive number of seconds`);
  let priority: number | undefined;
  if (flags.priority !== undefined) {
    priority = Number(flags.priority);
    if (!Number.isInteger(priority)) throw new Error(`--priority "${flags.priority}": expected an integer`);
  }
  if (flags.failStrategy !== 'close' && flags.failStrategy !== 'open') throw new Error(`--fail-strategy "${flags.failStrategy}": expected close or open with --control-plane`);
  let lastWaiting = '';
  const result = await pushToControlPlane({
    controlPlane: flags.controlPlane!, token: resolveToken(flags.tokenFile), wasm: await readWasmFile(wasmPath), filter,
    // No kubeconfig is involved with a control plane: -n, else "default".
    namespace: flags.namespace ?? 'default', selector: parseSelector(flags.selector), priority, pluginConfig: await loadPluginConfig(flags, filter),
    failOpen: flags.failStrategy === 'open', timeoutMs: timeoutSeconds * 1000, direction: parseContext(flags.direction),
    onProgress: (event) => {
      const line = progressLine(event);
      if (!line || (event.step === 'waiting' && line === lastWaiting)) return;
      if (event.step === 'waiting') lastWaiting = line;
      process.stderr.write(`${line}\n`);
    },
  });
  if (result.nodes.length === 0) process.stderr.write(`no connected proxy is selected by namespace ${flags.namespace ?? 'default'}${flags.selector ? ` and ${flags.selector}` : ''}: ${result.name} will reach them when they connect\n`);
  for (const node of result.nodes) process.stdout.write(`${node.state.toUpperCase().padEnd(7)} ${node.id}${node.error ? `: ${node.error}` : ''}\n`);
  if (!result.ok) {
    process.stderr.write(`deployer: ${result.nodes.filter((n) => n.state !== 'acked').length} of ${result.nodes.length} proxies did not accept ${result.name} (sha256:${result.sha256})\n`);
    process.exitCode = 1;
  }
}

export async function controlPlaneStatusCommand(flags: ControlPlaneClientFlags & { readonly output: string }): Promise<void> {
  const output = parseOutputFormat(flags.output);
  const status = await controlPlaneStatus(flags.controlPlane!, resolveToken(flags.tokenFile));
  if (output !== 'table') return printStructured(status, output);
  const tables = statusTables(status);
  process.stdout.write(formatTable(['NODE', 'CONNECTED', 'GENERATOR', 'LDS', 'RDS', 'CDS', 'EDS', 'ECDS', 'LAST NACK'], tables.nodes));
  process.stdout.write('\n');
  process.stdout.write(formatTable(['FILTER', 'SOURCE', 'SHA256', 'SELECTOR', 'PHASE/PRIORITY', 'ROLLBACKS', 'UPDATED'], tables.attachments));
  process.stdout.write('\n');
  process.stdout.write(formatTable(['MODULE SHA256', 'BYTES', 'ATTACHED TO'], tables.modules));
}
