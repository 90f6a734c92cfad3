import type { Command } from 'commander';
import { rollbackFilter } from '../../apply/rollback.js';
import { parseDryRun } from '../../apply/apply.js';
import { dryRunMarker, parseOutputFormat, printStructured } from '../output.js';
import { addKubeTargetOptions, addNamespaceOption, kubeContext, resolveNamespace, type NamespaceFlags } from '../options.js';

export function register(program: Command): void {
  const command = program
    .command('rollback')
    .description('Point a filter back at its previous image digest (recorded in the wasmesh history annotation)')
    .argument('<filter>', 'filter name, e.g. jwt-auth');
  addKubeTargetOptions(addNamespaceOption(command, 'namespace'))
    .option('--to <digest>', 'a specific earlier sha256:… digest from the history')
    .option('--dry-run [mode]', 'client | server', process.env.DEPLOYER_DRY_RUN)
    .option('--force', 'take over fields owned by another field manager', false)
    .option('-o, --output <format>', 'table | json | yaml', process.env.DEPLOYER_OUTPUT ?? 'table')
    .addHelpText('after', `
Examples:
  $ deployer rollback jwt-auth -n shop
  $ deployer rollback rbac -n shop --to sha256:0f3c… --dry-run=server`)
    .action(async (filter: string, flags: NamespaceFlags & { to?: string; dryRun?: string | boolean; force: boolean; output: string }) => {
      const output = parseOutputFormat(flags.output);
      const dryRun = parseDryRun(flags.dryRun);
      const result = await rollbackFilter({ filter, namespace: resolveNamespace(flags).namespace, toDigest: flags.to, kubeconfig: flags.kubeconfig, context: kubeContext(flags), dryRun, force: flags.force });
      if (output !== 'table') return printStructured({ filter: result.filter, from: result.from, to: result.to, applied: result.applied }, output);
      process.stdout.write(`${filter}: ${result.from} → ${result.to.manifestDigest} (${result.applied.map((a) => `${a.kind} ${a.namespace}/${a.name} ${a.action}`).join(', ')})${dryRunMarker(dryRun)}\n`);
    });
}
