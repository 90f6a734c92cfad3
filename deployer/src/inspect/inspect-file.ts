import { readFile, stat } from 'node:fs/promises';
import { DEFAULT_MAX_MODULE_BYTES, type InspectOptions, type InspectReport, inspectModule } from './inspect.js';

export interface FileInspectReport extends InspectReport {
  readonly path: string;
}

/** Inspect a module on disk; refuses to read files far over the limit into memory. */
export async function inspectFile(path: string, options: InspectOptions = {}): Promise<FileInspectReport> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new Error('not a regular file');
    size = info.size;
  } catch (error) {
    throw new Error(`cannot inspect ${path}: ${(error as Error).message}`);
  }
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_MODULE_BYTES;
  if (size > maxBytes) {
    return { path, ok: false, size, sha256: '', exports: [], imports: [], callbacks: [], problems: [`module is ${size} bytes, over the ${maxBytes}-byte limit`], warnings: [] };
  }
  const bytes = await readFile(path);
  return { path, ...inspectModule(bytes, options) };
}
