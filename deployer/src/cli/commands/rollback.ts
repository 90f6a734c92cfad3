import type { Command } from 'commander';
import { parseSelector } from '../../render/options.js';
import { rollbackFilter } from '../../apply/rollback.js';
import { parseDryRun } from '../../apply/apply.js';
import { dryRunMarker, parseOutputFormat, printStructured } from '../output.js';
import { addKubeTargetOptions, addNamespaceOption, kubeContext, resolveNamespace, type NamespaceFlags } from '../options.js';

export function register(program: Command): void {
  const command = program
    .command('rollback')
    .description('Put a filter back to its previous deployment — image digest and configuration, and the routes of header-router with them — as recorded in the wasmesh history annotations')
    .argument('<filter>', 'filter name, e.g. jwt-auth');
  addKubeTargetOptions(addNamespaceOption(command, 'namespace'))
    .option('--to <digest>', 'a specific earlier sha256:… digest from the history')
    .option('-l, --selector <labels>', 'only the object for this scope (its exact selector, e.g. app=productpage); default every scope of the filter (env DEPLOYER_SELECTOR)', process.env.DEPLOYER_SELECTOR)
    .option('--dry-run [mode]', 'client | server', process.env.DEPLOYER_DRY_RUN)
    .option('--force', 'take over fields owned by another field manager', false)
    .option('-o, --output <format>', 'table | json | yaml', process.env.DEPLOYER_OUTPUT ?? 'table')
    .addHelpText('after', `
Examples:
  $ deployer rollback jwt-auth -n shop
  $ deployer rollback rbac -n shop --to sha256:0f3c… --dry-run=server`)
    .action(async (filter: string, flags: NamespaceFlags & { selector?: string; to?: string; dryRun?: string | boolean; force: boolean; output: string }) => {
      const output = parseOutputFormat(flags.output);
      const dryRun = parseDryRun(flags.dryRun);
      const result = await rollbackFilter({ filter, namespace: resolveNamespace(flags).namespace, ...(flags.selector ? { selector: parseSelector(flags.selector) } : {}), toDigest: flags.to, kubeconfig: flags.kubeconfig, context: kubeContext(flags), dryRun, force: flags.force });
      if (output !== 'table') {
        return printStructured({ filter: result.filter, from: result.from, to: result.to, objects: result.objects, applied: result.applied.map(({ manifest: _m, ...rest }) => rest) }, output);
      }
      result.objects.forEach((o, i) => {
        const what = o.part === undefined ? 'configuration' : o.part;
        const config = o.emptied ? `no ${what} then: emptied` : o.to.config === undefined || (o.part !== undefined && o.to.config === '') ? `${what} not recorded: left as is` : o.to.config === o.from.config ? `same ${what}` : `${what} of ${o.to.appliedAt} restored`;
        const applied = result.applied[i];
        process.stdout.write(`${filter}: ${o.kind} ${o.name}: ${o.from.manifestDigest} → ${o.to.manifestDigest}, ${config}${applied ? ` (${applied.action})` : ''}${dryRunMarker(dryRun)}\n`);
      });
    });
}
