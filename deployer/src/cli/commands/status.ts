import type { Command } from 'commander';
import { filterStatus } from '../../apply/status.js';
import { formatTable, parseOutputFormat, printStructured } from '../output.js';
import { addControlPlaneClientOptions, controlPlaneStatusCommand, type ControlPlaneClientFlags } from './control-plane-clients.js';

export function register(program: Command): void {
  const command = program.command('status');
  addControlPlaneClientOptions(command, false);
  command
    .description('Show which wasmesh filters are applied where: name, digest, context, chain order, last applied')
    .option('-n, --namespace <ns>', 'only this namespace (env DEPLOYER_NAMESPACE; default: all namespaces)', process.env.DEPLOYER_NAMESPACE)
    .option('--kubeconfig <file>', 'kubeconfig file (env DEPLOYER_KUBECONFIG)', process.env.DEPLOYER_KUBECONFIG)
    .option('--kube-context <name>', 'kubeconfig context (env DEPLOYER_KUBE_CONTEXT)', process.env.DEPLOYER_KUBE_CONTEXT)
    .option('-o, --output <format>', 'table | json | yaml', process.env.DEPLOYER_OUTPUT ?? 'table')
    .addHelpText('after', `
Examples:
  $ deployer status
  $ deployer status -n shop -o json
  $ deployer status --control-plane http://127.0.0.1:15081 --token-file token`)
    .action(async (flags: { namespace?: string; kubeconfig?: string; kubeContext?: string; output: string } & ControlPlaneClientFlags) => {
      if (flags.controlPlane) return controlPlaneStatusCommand(flags);
      const output = parseOutputFormat(flags.output);
      const rows = await filterStatus({ namespace: flags.namespace, kubeconfig: flags.kubeconfig, context: flags.kubeContext });
      if (output !== 'table') return printStructured(rows, output);
      process.stdout.write(formatTable(['NAMESPACE', 'ORDER', 'FILTER', 'KIND', 'CONTEXT', 'DIGEST', 'LAST APPLIED'],
        rows.map((r) => [r.namespace, String(r.order), r.filter, r.kind, r.context, r.digest, r.lastApplied])));
    });
}
