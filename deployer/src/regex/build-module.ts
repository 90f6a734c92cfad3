import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { type BuildProfile, type BuiltFilter, compileEntry } from '../build/filters.js';
import { REGEX_MODULE } from './engine.js';

/** Source of the standalone regex module (filters/lib/regex/wasm.ts). */
export const REGEX_MODULE_ENTRY = path.join('filters', 'lib', 'regex', 'wasm.ts');

/** Builds build/lib/regex.wasm, the engine the deployer calls (engine.ts). */
export async function buildRegexModule(root: string, profile: BuildProfile = 'release'): Promise<BuiltFilter> {
  await mkdir(path.join(root, path.dirname(REGEX_MODULE)), { recursive: true });
  return compileEntry({ root, name: 'regex', entry: REGEX_MODULE_ENTRY, outFile: path.join(root, REGEX_MODULE), profile });
}
