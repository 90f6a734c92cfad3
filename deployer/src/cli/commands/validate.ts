import type { Command } from 'commander';
import { formatValidation, validateConfigFiles } from '../../envoy/validate-files.js';
import { parseOutputFormat, printStructured } from '../output.js';

export function register(program: Command): void {
  program
    .command('validate')
    .description('Validate Envoy configs (bootstraps, xDS resources, TypedExtensionConfig, any message with "@type") against Envoy\'s v3 API protos and Istio resources (EnvoyFilter patch values included) against the CRD schemas; the kind of each document is told from its content')
    .argument('<file...>', 'YAML or JSON files; several documents per file are fine')
    .option('-o, --output <format>', 'table | json | yaml (env DEPLOYER_OUTPUT)', process.env.DEPLOYER_OUTPUT ?? 'table')
    .option('--type <message>', 'validate every document as this Envoy message, e.g. envoy.config.cluster.v3.Cluster (env DEPLOYER_VALIDATE_TYPE)', process.env.DEPLOYER_VALIDATE_TYPE)
    .addHelpText(
      'after',
      `
Checks unknown fields (with a "did you mean"), value types, enum values, "@type" URLs, and the
protoc-gen-validate rules Envoy enforces (required fields, lengths, numeric and duration bounds,
list sizes). Problems name the field: static_resources.listeners[0].adress: unknown field; did you mean "address"?

Exit codes: 0 all valid, 1 some document invalid, 2 some file unreadable (missing, not YAML/JSON, or the Istio CRDs are missing).

Examples:
  $ deployer validate envoy-configs/envoy.yaml
  $ deployer render ... > out.yaml && deployer validate out.yaml
  $ deployer validate cluster.json --type envoy.config.cluster.v3.Cluster -o json`,
    )
    .action(async (files: readonly string[], options: { readonly output: string; readonly type?: string }) => {
      const output = parseOutputFormat(options.output);
      const { files: results, exitCode } = await validateConfigFiles(files, options.type ? { type: options.type } : {});
      if (output === 'table') process.stdout.write(formatValidation(results));
      else printStructured({ files: results, exitCode }, output);
      process.exitCode = exitCode;
    });
}
