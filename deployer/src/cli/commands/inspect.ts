import type { Command } from 'commander';
import { formatInspectReport } from '../../inspect/format.js';
import { inspectFile } from '../../inspect/inspect-file.js';
import { parseOutputFormat, printStructured } from '../output.js';

export function register(program: Command): void {
  program
    .command('inspect')
    .description('Validate a Wasm module the way Envoy would load it (the table `deployer run` loads with): magic, ABI version (0.1.0, 0.2.0, 0.2.1), imports and callbacks with their types, allocator, memory, size; states the Envoy releases that load it')
    .argument('<module>', 'path to a .wasm file')
    .option('-o, --output <format>', 'table | json | yaml (env DEPLOYER_OUTPUT)', process.env.DEPLOYER_OUTPUT ?? 'table')
    .option('--max-bytes <bytes>', 'largest module accepted (env DEPLOYER_INSPECT_MAX_BYTES; default 64 MiB)', process.env.DEPLOYER_INSPECT_MAX_BYTES)
    .addHelpText(
      'after',
      `
Exits 1 and prints the reasons when the module would not load in Envoy.

Examples:
  $ deployer inspect build/filters/jwt-auth.wasm
  $ deployer inspect filter.wasm -o json | jq .imports
  $ DEPLOYER_INSPECT_MAX_BYTES=1048576 deployer inspect filter.wasm`,
    )
    .action(async (modulePath: string, options: { readonly output: string; readonly maxBytes?: string }) => {
      const output = parseOutputFormat(options.output);
      const report = await inspectFile(modulePath, { maxBytes: parseMaxBytes(options.maxBytes) });
      if (output === 'table') process.stdout.write(formatInspectReport(report));
      else printStructured(report, output);
      if (!report.ok) {
        process.stderr.write(`deployer: ${modulePath} would not load in Envoy: ${report.problems.join('; ')}\n`);
        process.exitCode = 1;
      }
    });
}

function parseMaxBytes(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const bytes = Number(value);
  if (!Number.isInteger(bytes) || bytes <= 0) throw new Error(`--max-bytes "${value}" is invalid: expected a positive whole number of bytes`);
  return bytes;
}
