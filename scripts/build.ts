// `npm run build`: every filter (release), then the CLI bundle. Same core functions as `deployer build --cli`.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleCli } from '../deployer/src/build/cli-bundle.js';
import { buildFilters, writeBuildManifest } from '../deployer/src/build/filters.js';
import { buildRegexModule } from '../deployer/src/regex/build-module.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const debug = process.argv.includes('--debug');
const report = (f: { name: string; size: number; sha256: string; abiVersion: string; path: string }) =>
  process.stdout.write(`built ${path.relative(root, f.path).padEnd(40)} ${String(f.size).padStart(7)} bytes  sha256:${f.sha256.slice(0, 12)}  abi ${f.abiVersion}\n`);
const built = await buildFilters({
  root,
  profile: debug ? 'debug' : 'release',
  onFilterBuilt: report,
});
// The portable (no SIMD) variants ship beside the default ones.
if (!debug) await buildFilters({ root, profile: 'portable', onFilterBuilt: report });
if (!debug) await writeBuildManifest(path.join(root, 'build', 'filters'), built);
// The deployer's own regex engine (the filters' RE2 engine, standalone): deployer/src/regex/engine.ts.
report(await buildRegexModule(root));
const cli = await bundleCli(root);
process.stdout.write(`bundled CLI ${path.relative(root, cli)}\n`);
