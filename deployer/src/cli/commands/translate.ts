import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { printStructured } from '../output.js';
import { parseIstioResources, translateResources } from '../../translate/index.js';

export function register(program: Command): void {
  program
    .command('translate')
    .description('Translate Istio RequestAuthentication/AuthorizationPolicy/VirtualService/Telemetry into each wasmesh filter config')
    .argument('<policy>', 'YAML file with one or more Istio resources')
    .option('-o, --output <format>', 'json | yaml (env DEPLOYER_OUTPUT)', process.env.DEPLOYER_OUTPUT ?? 'json')
    .addHelpText('after', `
Examples:
  $ deployer translate authz.yaml            # {"filter": "rbac", "config": {...}}
  $ deployer translate policies.yaml -o yaml`)
    .action(async (policy: string, flags: { output: string }) => {
      if (flags.output !== 'json' && flags.output !== 'yaml') throw new Error(`-o "${flags.output}": expected json or yaml`);
      const text = await readFile(policy, 'utf8').catch((e: NodeJS.ErrnoException) => { throw new Error(`policy "${policy}": ${e.code ?? e.message}: expected a readable YAML file`); });
      printStructured(translateResources(parseIstioResources(text, policy)), flags.output);
    });
}
