import type { Command } from 'commander';
import { describeParts, filterStatus } from '../../apply/status.js';
import { formatTable, parseOutputFormat, printStructured } from '../output.js';
import { addKubeTargetOptions, addNamespaceOption, kubeContext, resolveNamespace, type NamespaceFlags } from '../options.js';
import { addControlPlaneClientOptions, controlPlaneStatusCommand, type ControlPlaneClientFlags } from './control-plane-clients.js';

export function register(program: Command): void {
  const command = program
    .command('status')
    .description('Show which wasmesh filters are applied where: name, scope (workloads selected), digest, context, chain order, last applied, and the objects deployed with them (PARTS: the routes of header-router)')
    .option('-A, --all-namespaces', 'every namespace (as kubectl -A)', false);
  addControlPlaneClientOptions(command, false);
  addKubeTargetOptions(addNamespaceOption(command, 'only this namespace'))
    .option('-o, --output <format>', 'table | json | yaml', process.env.DEPLOYER_OUTPUT ?? 'table')
    .addHelpText('after', `
Examples:
  $ deployer status
  $ deployer status -n shop -o json
  $ deployer status -A
  $ deployer status --control-plane http://127.0.0.1:15081 --token-file token`)
    .action(async (flags: NamespaceFlags & { allNamespaces: boolean; output: string } & ControlPlaneClientFlags) => {
      if (flags.controlPlane) return controlPlaneStatusCommand(flags);
      const output = parseOutputFormat(flags.output);
      if (flags.allNamespaces && flags.namespace) throw new Error(`-A/--all-namespaces and -n ${flags.namespace} both given: expected one`);
      const namespace = flags.allNamespaces ? undefined : resolveNamespace(flags).namespace;
      const rows = await filterStatus({ namespace, kubeconfig: flags.kubeconfig, context: kubeContext(flags) });
      if (output !== 'table') return printStructured(rows, output);
      process.stdout.write(formatTable(['NAMESPACE', 'ORDER', 'FILTER', 'SCOPE', 'KIND', 'CONTEXT', 'DIGEST', 'LAST APPLIED', 'PARTS'],
        rows.map((r) => [r.namespace, String(r.order), r.filter, r.scope, r.kind, r.context, r.digest, r.lastApplied, describeParts(r)])));
    });
}
