import type { Command } from 'commander';
import { filterStatus } from '../../apply/status.js';
import { formatTable, parseOutputFormat, printStructured } from '../output.js';

export function register(program: Command): void {
  program
    .command('status')
    .description('Show which wasmesh filters are applied where: name, scope (workloads selected), digest, context, chain order, last applied')
    .option('-n, --namespace <ns>', 'only this namespace (env DEPLOYER_NAMESPACE; default: all namespaces)', process.env.DEPLOYER_NAMESPACE)
    .option('--kubeconfig <file>', 'kubeconfig file (env DEPLOYER_KUBECONFIG)', process.env.DEPLOYER_KUBECONFIG)
    .option('--kube-context <name>', 'kubeconfig context (env DEPLOYER_KUBE_CONTEXT)', process.env.DEPLOYER_KUBE_CONTEXT)
    .option('-o, --output <format>', 'table | json | yaml', process.env.DEPLOYER_OUTPUT ?? 'table')
    .addHelpText('after', `
Examples:
  $ deployer status
  $ deployer status -n shop -o json`)
    .action(async (flags: { namespace?: string; kubeconfig?: string; kubeContext?: string; output: string }) => {
      const output = parseOutputFormat(flags.output);
      const rows = await filterStatus({ namespace: flags.namespace, kubeconfig: flags.kubeconfig, context: flags.kubeContext });
      if (output !== 'table') return printStructured(rows, output);
      process.stdout.write(formatTable(['NAMESPACE', 'ORDER', 'FILTER', 'SCOPE', 'KIND', 'CONTEXT', 'DIGEST', 'LAST APPLIED'],
        rows.map((r) => [r.namespace, String(r.order), r.filter, r.scope, r.kind, r.context, r.digest, r.lastApplied])));
    });
}
