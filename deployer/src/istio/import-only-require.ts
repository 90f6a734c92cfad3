import { existsSync, readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';

/**
 * require() of an ES module from a package whose `exports` map has only an `import` condition
 * (the @kubernetes-models packages). Node ≥ 20.19 loads such a file natively, and its own
 * `import` statements resolve with ESM conditions — that is what the esbuild bundle does. Under a
 * CommonJS transform hook (`node --import tsx`, whose require hook recompiles the ES module into
 * CommonJS), those `import`s become require() calls resolved with the `require` condition, and
 * Node refuses them with ERR_PACKAGE_PATH_NOT_EXPORTED. For the duration of the call, a refused
 * bare specifier is resolved again through the package's `import` (or `default`) export, so the
 * same files load either way.
 */
const nodeRequire = createRequire(import.meta.url);

interface ResolverInternals {
  _resolveFilename(request: string, parent: { readonly filename?: string | null } | undefined, ...rest: unknown[]): string;
}

export function requireImportOnly(file: string): unknown {
  const internals = Module as unknown as ResolverInternals;
  const original = internals._resolveFilename;
  internals._resolveFilename = function resolveWithImportCondition(this: unknown, request, parent, ...rest) {
    try {
      return original.call(this, request, parent, ...rest);
    } catch (error) {
      const fallback = (error as NodeJS.ErrnoException).code === 'ERR_PACKAGE_PATH_NOT_EXPORTED' && parent?.filename ? importExportTarget(request, parent.filename) : undefined;
      if (fallback === undefined) throw error;
      return fallback;
    }
  };
  try {
    return nodeRequire(file);
  } finally {
    internals._resolveFilename = original;
  }
}

type ExportTarget = string | { readonly import?: ExportTarget; readonly default?: ExportTarget; readonly [condition: string]: ExportTarget | undefined } | null;

/** `@scope/pkg/sub/path` → the file its `exports` maps to under the `import` condition, as the ESM resolver would. */
export function importExportTarget(request: string, fromFile: string): string | undefined {
  const match = /^((?:@[^/]+\/)?[^/.][^/]*)(\/.*)?$/.exec(request);
  if (!match) return undefined;
  const [, name, rest] = match;
  const subpath = `.${rest ?? ''}`;
  for (let dir = path.dirname(fromFile); ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'node_modules', name!, 'package.json');
    if (existsSync(manifest)) {
      const exportsMap = (JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: Record<string, ExportTarget> }).exports;
      const target = exportsMap ? lookupSubpath(exportsMap, subpath) : undefined;
      return target === undefined ? undefined : path.join(path.dirname(manifest), target);
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

function lookupSubpath(exportsMap: Readonly<Record<string, ExportTarget>>, subpath: string): string | undefined {
  // `"exports": {"import": …}` is sugar for `{".": {"import": …}}` (no key starts with ".").
  if (!Object.keys(exportsMap).some((key) => key.startsWith('.'))) return subpath === '.' ? conditionTarget(exportsMap as ExportTarget, '') : undefined;
  if (subpath in exportsMap) return conditionTarget(exportsMap[subpath]!, '');
  for (const [key, target] of Object.entries(exportsMap)) {
    const star = key.indexOf('*');
    if (star < 0) continue;
    const prefix = key.slice(0, star), suffix = key.slice(star + 1);
    if (subpath.startsWith(prefix) && subpath.endsWith(suffix) && subpath.length >= key.length - 1) {
      return conditionTarget(target, subpath.slice(prefix.length, subpath.length - suffix.length));
    }
  }
  return undefined;
}

function conditionTarget(target: ExportTarget, star: string): string | undefined {
  if (target === null) return undefined;
  if (typeof target === 'string') return target.replace('*', star);
  const chosen = target.import ?? target.default;
  return chosen === undefined ? undefined : conditionTarget(chosen, star);
}
