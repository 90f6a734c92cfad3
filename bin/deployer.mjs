#!/usr/bin/env node
// The `deployer` bin: runs the esbuild bundle (npm run build), or the TypeScript sources
// through tsx when the bundle has not been built yet.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const bundle = path.join(root, 'build', 'deployer.mjs');
if (existsSync(bundle)) {
  await import(pathToFileURL(bundle).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(path.join(root, 'deployer', 'src', 'cli', 'main.ts')).href);
}
