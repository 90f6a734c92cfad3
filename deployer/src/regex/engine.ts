import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The deployer's regex engine is the filters' own: filters/lib/regex (RE2 syntax, Pike VM,
 * linear time), compiled to the standalone build/lib/regex.wasm and called here. One regex
 * behaviour for the sidecar's `safe_regex` matchers, config validation and the header-router
 * filter — and no backtracking engine (JS RegExp) on any request path.
 */

/** Where the module is built (by `npm run build` and the test setup); see build-module.ts. */
export const REGEX_MODULE = path.join('build', 'lib', 'regex.wasm');

interface RegexExports {
  readonly memory: WebAssembly.Memory;
  regex_input(units: number): number;
  regex_compile(units: number): number;
  regex_error_ptr(): number;
  regex_error_units(): number;
  regex_release(handle: number): void;
  regex_full_match(handle: number, units: number): number;
  regex_partial_match(handle: number, units: number): number;
  regex_replace_all(handle: number, textUnits: number, totalUnits: number): number;
  regex_replaced_ptr(): number;
  regex_find(handle: number, units: number): number;
  regex_slot(index: number): number;
  regex_steps(): number;
  regex_reset_steps(): void;
}

export class RegexSyntaxError extends Error {
  constructor(readonly pattern: string, readonly reason: string) {
    super(reason.includes(pattern) ? reason : `${reason} (pattern ${JSON.stringify(pattern)})`);
    this.name = 'RegexSyntaxError';
  }
}

let engine: RegexExports | undefined;

/** Folders searched upwards for build/lib/regex.wasm: DEPLOYER_ROOT, this file's, the working directory. */
function candidateRoots(): string[] {
  const roots: string[] = [];
  if (process.env.DEPLOYER_ROOT) roots.push(path.resolve(process.env.DEPLOYER_ROOT));
  for (const start of [path.dirname(fileURLToPath(import.meta.url)), process.cwd()]) {
    for (let dir = start; ; dir = path.dirname(dir)) {
      roots.push(dir);
      if (path.dirname(dir) === dir) break;
    }
  }
  return roots;
}

export function findRegexModule(): string {
  for (const root of candidateRoots()) {
    const file = path.join(root, REGEX_MODULE);
    if (existsSync(file)) return file;
  }
  throw new Error(`regex engine ${REGEX_MODULE} not found above ${path.dirname(fileURLToPath(import.meta.url))} or ${process.cwd()}: run \`npm run build\` in the wasmesh checkout (or set DEPLOYER_ROOT)`);
}

function load(): RegexExports {
  if (engine) return engine;
  const file = findRegexModule();
  // Synchronous compile: matchers are built while a config is validated, which is synchronous.
  const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(file)), {});
  const exports = instance.exports as unknown as RegexExports & { _initialize?: () => void };
  exports._initialize?.();
  engine = exports;
  return exports;
}

function writeInput(e: RegexExports, text: string): void {
  const ptr = e.regex_input(text.length);
  const units = new Uint16Array(e.memory.buffer, ptr, text.length);
  for (let i = 0; i < text.length; i++) units[i] = text.charCodeAt(i);
}

function readUnits(e: RegexExports, ptr: number, count: number): string {
  return Buffer.from(e.memory.buffer, ptr, count * 2).toString('utf16le');
}

/** A compiled RE2-syntax pattern. */
export class Re2Regex {
  private constructor(readonly pattern: string, private readonly handle: number) {}

  /** Compiles `pattern`; throws RegexSyntaxError (naming the pattern and the construct) where RE2 would refuse it. */
  static compile(pattern: string): Re2Regex {
    const e = load();
    writeInput(e, pattern);
    const handle = e.regex_compile(pattern.length);
    if (handle < 0) throw new RegexSyntaxError(pattern, readUnits(e, e.regex_error_ptr(), e.regex_error_units()));
    return new Re2Regex(pattern, handle);
  }

  /** RE2::FullMatch: Envoy's `safe_regex` semantics. */
  fullMatch(text: string): boolean {
    const e = load();
    writeInput(e, text);
    return e.regex_full_match(this.handle, text.length) === 1;
  }

  /** RE2::PartialMatch: a match anywhere in `text`. */
  partialMatch(text: string): boolean {
    const e = load();
    writeInput(e, text);
    return e.regex_partial_match(this.handle, text.length) === 1;
  }

  /** The leftmost-first match: group texts (undefined for an unset group) and where it starts, or null. */
  find(text: string): { readonly index: number; readonly groups: readonly (string | undefined)[] } | null {
    const e = load();
    writeInput(e, text);
    const slots = e.regex_find(this.handle, text.length);
    if (slots === 0) return null;
    const groups: (string | undefined)[] = [];
    for (let i = 0; i < slots; i += 2) {
      const from = e.regex_slot(i);
      groups.push(from < 0 ? undefined : text.slice(from, e.regex_slot(i + 1)));
    }
    return { index: e.regex_slot(0), groups };
  }

  /** RE2::GlobalReplace (Envoy's regex_rewrite): \0-\9 in `rewrite` are groups. */
  replaceAll(text: string, rewrite: string): string {
    const e = load();
    writeInput(e, text + rewrite);
    const length = e.regex_replace_all(this.handle, text.length, text.length + rewrite.length);
    return readUnits(e, e.regex_replaced_ptr(), length);
  }

  /** Frees the engine's copy; the object must not be used afterwards. */
  release(): void {
    load().regex_release(this.handle);
  }
}

/** Pike VM thread steps since the last reset — what the linear-time tests measure. */
export function regexSteps(): number {
  return load().regex_steps();
}

export function resetRegexSteps(): void {
  load().regex_reset_steps();
}
