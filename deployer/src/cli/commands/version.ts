import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { istioCrdsPath } from '../../istio/crds.js';
import { formatTable, parseOutputFormat, printStructured } from '../output.js';
import { builtFiltersDir, packageRoot } from '../project-root.js';

export interface FilterDigest {
  readonly name: string;
  readonly file: string;
  readonly size: number;
  readonly sha256: string;
}

export interface VersionInfo {
  readonly version: string;
  readonly node: string;
  /** Where Istio's schemas come from: `package:@kubernetes-models/istio@…` or a CRD file. */
  readonly istioSchemas: string;
  readonly filtersDir: string;
  readonly filters: readonly FilterDigest[];
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** The deployer's version and the sha256 of every built filter it ships (what `push` would publish). */
export function versionInfo(): VersionInfo {
  const filtersDir = builtFiltersDir();
  const files = existsSync(filtersDir) ? readdirSync(filtersDir).filter((f) => f.endsWith('.wasm')).sort((a, b) => a.replace(/\.wasm$/, '').localeCompare(b.replace(/\.wasm$/, ''))) : [];
  const filters = files.map((file) => {
    const bytes = readFileSync(path.join(filtersDir, file));
    return { name: file.replace(/\.wasm$/, ''), file: path.join(filtersDir, file), size: bytes.length, sha256: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
  });
  return { version: packageVersion(), node: process.version, istioSchemas: istioCrdsPath(), filtersDir, filters };
}

export function formatVersion(info: VersionInfo): string {
  const head = `deployer ${info.version} (node ${info.node})\nistio schemas: ${info.istioSchemas.replace(/^package:/, '')}\nfilters: ${info.filtersDir}${info.filters.length === 0 ? ' (none built: npm run build)' : ''}\n`;
  if (info.filters.length === 0) return head;
  return head + formatTable(['NAME', 'SIZE', 'DIGEST'], info.filters.map((f) => [f.name, String(f.size), f.sha256]));
}

export function register(program: Command): void {
  program
    .command('version')
    .description('Print the deployer version, where its Istio schemas come from, and the digest of every filter it ships')
    .option('-o, --output <format>', 'table | json | yaml (env DEPLOYER_OUTPUT)', process.env.DEPLOYER_OUTPUT ?? 'table')
    .addHelpText('after', `
Examples:
  $ deployer version
  $ deployer version -o json | jq -r '.filters[] | select(.name == "rbac") | .sha256'`)
    .action((flags: { readonly output: string }) => {
      const output = parseOutputFormat(flags.output);
      const info = versionInfo();
      if (output === 'table') process.stdout.write(formatVersion(info));
      else printStructured(info, output);
    });
}
