import type { Command } from 'commander';
import { parseSelector } from '../../render/options.js';
import { parseDryRun } from '../../apply/apply.js';
import { undeployFilter } from '../../apply/undeploy.js';
import { formatTable, parseOutputFormat, printStructured } from '../output.js';

export function register(program: Command): void {
  program
    .command('undeploy')
    .description('Remove a filter from the sidecars: delete the EnvoyFilter/WasmPlugin wasmesh applied for it')
    .argument('<filter>', 'filter name, e.g. metrics')
    .option('-n, --namespace <ns>', 'namespace (env DEPLOYER_NAMESPACE)', process.env.DEPLOYER_NAMESPACE ?? 'default')
    .option('-l, --selector <labels>', 'only the object for this scope (its exact selector, e.g. app=productpage); default every scope of the filter (env DEPLOYER_SELECTOR)', process.env.DEPLOYER_SELECTOR)
    .option('--kubeconfig <file>', 'kubeconfig file (env DEPLOYER_KUBECONFIG)', process.env.DEPLOYER_KUBECONFIG)
    .option('--kube-context <name>', 'kubeconfig context (env DEPLOYER_KUBE_CONTEXT)', process.env.DEPLOYER_KUBE_CONTEXT)
    .option('--dry-run [mode]', 'client | server', process.env.DEPLOYER_DRY_RUN)
    .option('-o, --output <format>', 'table | json | yaml', process.env.DEPLOYER_OUTPUT ?? 'table')
    .addHelpText('after', `
Examples:
  $ deployer undeploy metrics -n shop
  $ deployer undeploy rbac -n shop --dry-run=server`)
    .action(async (filter: string, flags: { namespace: string; selector?: string; kubeconfig?: string; kubeContext?: string; dryRun?: string | boolean; output: string }) => {
      const output = parseOutputFormat(flags.output);
      const removed = await undeployFilter({ filter, namespace: flags.namespace, ...(flags.selector ? { selector: parseSelector(flags.selector) } : {}), kubeconfig: flags.kubeconfig, context: flags.kubeContext, dryRun: parseDryRun(flags.dryRun) });
      if (output !== 'table') return printStructured(removed, output);
      process.stdout.write(formatTable(['KIND', 'NAMESPACE', 'NAME', 'DIGEST'], removed.map((r) => [r.kind, r.namespace, r.name, r.digest])));
    });
}
