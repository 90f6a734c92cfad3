import type { Command } from 'commander';
import { parseSelector } from '../../render/options.js';
import { parseDryRun } from '../../apply/apply.js';
import { undeployFilter } from '../../apply/undeploy.js';
import { dryRunMarker, formatTable, parseOutputFormat, printStructured } from '../output.js';
import { addKubeTargetOptions, addNamespaceOption, kubeContext, resolveNamespace, type NamespaceFlags } from '../options.js';

export function register(program: Command): void {
  const command = program
    .command('undeploy')
    .description('Remove a filter from the sidecars: delete the EnvoyFilter/WasmPlugin wasmesh applied for it, with the objects deployed with it (the routes of header-router)')
    .argument('<filter>', 'filter name, e.g. metrics');
  addKubeTargetOptions(addNamespaceOption(command, 'namespace'))
    .option('-l, --selector <labels>', 'only the object for this scope (its exact selector, e.g. app=productpage); default every scope of the filter (env DEPLOYER_SELECTOR)', process.env.DEPLOYER_SELECTOR)
    .option('--dry-run [mode]', 'client | server', process.env.DEPLOYER_DRY_RUN)
    .option('-o, --output <format>', 'table | json | yaml', process.env.DEPLOYER_OUTPUT ?? 'table')
    .addHelpText('after', `
Examples:
  $ deployer undeploy metrics -n shop
  $ deployer undeploy rbac -n shop --dry-run=server`)
    .action(async (filter: string, flags: NamespaceFlags & { selector?: string; dryRun?: string | boolean; output: string }) => {
      const output = parseOutputFormat(flags.output);
      const dryRun = parseDryRun(flags.dryRun);
      const removed = await undeployFilter({ filter, namespace: resolveNamespace(flags).namespace, ...(flags.selector ? { selector: parseSelector(flags.selector) } : {}), kubeconfig: flags.kubeconfig, context: kubeContext(flags), dryRun });
      if (output !== 'table') return printStructured(removed, output);
      process.stdout.write(formatTable(['KIND', 'NAMESPACE', 'NAME', 'DIGEST', 'PART'], removed.map((r) => [r.kind, r.namespace, r.name, r.digest, r.part ?? '-'])));
      if (dryRun !== 'none') process.stderr.write(`nothing was deleted${dryRunMarker(dryRun)}\n`);
    });
}
