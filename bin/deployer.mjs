#!/usr/bin/env node
// The `deployer` bin: runs the esbuild bundle (npm run build) when it is at least as new as the
// TypeScript sources, else the sources through tsx — so a stale bundle never runs old code. An
// installed package has only the bundle (package.json "files"); a checkout may have only sources.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const bundle = path.join(root, 'build', 'deployer.mjs');
const sources = path.join(root, 'deployer', 'src');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

const hasSources = existsSync(sources);
const bundleIsFresh = existsSync(bundle) && (!hasSources || statSync(bundle).mtimeMs >= newestMtime(sources));
if (bundleIsFresh) {
  await import(pathToFileURL(bundle).href);
} else if (hasSources) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(path.join(sources, 'cli', 'main.ts')).href);
} else {
  process.stderr.write(`deployer: ${bundle} is missing: this package was packed without its build (npm pack runs \`npm run build\` first)\n`);
  process.exitCode = 1;
}
