import type { Command } from 'commander';
import type { BuildProfile, BuiltFilter } from '../../build/filters.js';
import { findProjectRoot } from '../project-root.js';
import { formatTable, palette, printStructured, type OutputFormat } from '../output.js';

export interface BuildCommandOptions {
  readonly debug: boolean;
  readonly outDir?: string;
  readonly cli: boolean;
  readonly output: OutputFormat;
}

export function register(program: Command): void {
  program
    .command('build')
    .description('Compile filters under filters/ to build/filters/<name>.wasm (and bundle the CLI with --cli)')
    .argument('[filters...]', 'filter names (default: every folder under filters/)')
    .option('--debug', 'debug build with names and a .wat next to the .wasm (<name>.debug.wasm)', process.env.DEPLOYER_BUILD_DEBUG === '1')
    .option('--portable', 'optimized build without wasm SIMD, for runtimes that lack it (<name>.portable.wasm)', process.env.DEPLOYER_BUILD_PORTABLE === '1')
    .option('--out-dir <dir>', 'output folder (env DEPLOYER_BUILD_OUT_DIR)', process.env.DEPLOYER_BUILD_OUT_DIR)
    .option('--cli', 'also bundle the deployer CLI to build/deployer.mjs', false)
    .option('-o, --output <format>', 'table | json | yaml', 'table')
    .addHelpText('after', `
Examples:
  $ deployer build                 # every filter, optimized
  $ deployer build jwt-auth rbac   # just these
  $ deployer build --debug -o json
  $ deployer build --portable       # no wasm SIMD (runtimes other than V8/wasmtime)`)
    .action(async (filters: string[], options: { debug: boolean; portable: boolean; outDir?: string; cli: boolean; output: string }) => {
      // Loaded on use: the AssemblyScript compiler (binaryen) and esbuild take seconds to load,
      // and no other command needs them.
      const { buildFilters, writeBuildManifest } = await import('../../build/filters.js');
      const { bundleCli } = await import('../../build/cli-bundle.js');
      const root = findProjectRoot();
      if (options.debug && options.portable) throw new Error('--debug and --portable exclude each other: pick one build profile');
      const profile: BuildProfile = options.debug ? 'debug' : options.portable ? 'portable' : 'release';
      const built = await buildFilters({ root, filters, profile, outDir: options.outDir, ...buildProgress(profile) });
      if (options.outDir === undefined && profile === 'release') await writeBuildManifest(`${root}/build/filters`, built);
      if (options.cli) await bundleCli(root);
      printBuilt(built, options.output);
    });
}

/** Progress on stderr (stdout stays the table or JSON): one line per filter as it starts and ends. */
export function buildProgress(profile: BuildProfile, write: (line: string) => void = (line) => process.stderr.write(line + '\n'), colors = palette(process.stderr)) {
  let started = 0;
  return {
    onFilterStart: (name: string, position: number, total: number) => {
      started = performance.now();
      write(colors.dim(`[${position}/${total}] compiling ${name} (${profile})…`));
    },
    onFilterBuilt: (filter: BuiltFilter) => {
      write(`${colors.green('✓')} ${filter.name} ${filter.size} bytes in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    },
  };
}

function printBuilt(built: readonly BuiltFilter[], output: string): void {
  if (output === 'json' || output === 'yaml') {
    printStructured(built, output);
    return;
  }
  if (output !== 'table') throw new Error(`unknown output format "${output}": expected table, json or yaml`);
  process.stdout.write(formatTable(['NAME', 'SIZE', 'SHA256', 'ABI', 'PATH'],
    built.map((f) => [f.name, `${f.size}`, f.sha256, f.abiVersion, f.path])));
}
