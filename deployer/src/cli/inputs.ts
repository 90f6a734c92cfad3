import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';

/**
 * YAML inputs as kubectl takes them (`-f`): a file, a folder of .yaml/.yml/.json files (not
 * recursive, sorted by name, as `kubectl apply -f dir/`), or `-` for standard input.
 */
export interface InputFile {
  /** The path, or `<stdin>`. */
  readonly source: string;
  readonly text: string;
}

const YAML_FILE = /\.(ya?ml|json)$/;

export function readInputs(spec: string, readStdin: () => string = () => readFileSync(0, 'utf8'), flag = '-f'): InputFile[] {
  if (spec === '-') return [{ source: '<stdin>', text: readStdin() }];
  if (!existsSync(spec)) throw new Error(`${flag} ${spec}: not found: expected a YAML file, a folder of them, or - for standard input`);
  if (!statSync(spec).isDirectory()) return [{ source: spec, text: readFileSync(spec, 'utf8') }];
  const files = readdirSync(spec).filter((name) => YAML_FILE.test(name)).sort().map((name) => path.join(spec, name));
  if (files.length === 0) throw new Error(`${flag} ${spec}: no .yaml, .yml or .json files in this folder`);
  return files.map((file) => ({ source: file, text: readFileSync(file, 'utf8') }));
}

export interface SkippedResource {
  readonly source: string;
  readonly kind: string;
  /** namespace/name as written (namespace may be empty). */
  readonly name: string;
}

export interface KindFilterResult {
  /** The documents of the wanted kinds, one each; `source` is the file, with `#<n>` when it holds several. */
  readonly kept: readonly InputFile[];
  readonly skipped: readonly SkippedResource[];
}

interface MetaLike { readonly kind?: unknown; readonly metadata?: { readonly name?: unknown; readonly namespace?: unknown } }

/**
 * Keeps the documents whose kind is in `kinds` (a List's items count one by one) and lists the
 * others, so a folder of a mesh's YAML (PeerAuthentication, Gateway, Deployments…) can be read
 * whole. A document without a kind is kept: the reader after this one names what is wrong with it.
 * YAML syntax errors are reported for every file at once.
 */
export function keepKinds(inputs: readonly InputFile[], kinds: readonly string[]): KindFilterResult {
  const kept: InputFile[] = [];
  const skipped: SkippedResource[] = [];
  const errors: string[] = [];
  for (const input of inputs) {
    const documents: { readonly n: number; readonly text: string }[] = [];
    let n = 0;
    parseAllDocuments(input.text).forEach((doc, index) => {
      if (doc.errors.length > 0) {
        errors.push(`${input.source}: document ${index + 1}: YAML error: ${doc.errors[0]!.message.split('\n')[0]}`);
        return;
      }
      const value = doc.toJS() as unknown;
      if (value === null || value === undefined) return;
      const items = typeof value === 'object' && (value as MetaLike).kind === 'List' ? ((value as { items?: unknown[] }).items ?? []) : [value];
      for (const item of items) {
        n += 1;
        const meta = (typeof item === 'object' && item !== null ? item : {}) as MetaLike;
        if (typeof meta.kind === 'string' && !kinds.includes(meta.kind)) {
          skipped.push({ source: input.source, kind: meta.kind, name: `${typeof meta.metadata?.namespace === 'string' ? `${meta.metadata.namespace}/` : ''}${String(meta.metadata?.name ?? '<no name>')}` });
        } else {
          documents.push({ n, text: stringify(item) });
        }
      }
    });
    for (const doc of documents) kept.push({ source: n > 1 ? `${input.source}#${doc.n}` : input.source, text: doc.text });
  }
  if (errors.length > 0) throw new Error(errors.length === 1 ? errors[0]! : `${errors.length} YAML errors:\n  ${errors.join('\n  ')}`);
  return { kept, skipped };
}

/** One line per skipped resource: `skipped PeerAuthentication shop/default (mtls.yaml): not translated (translates: …)`. */
export function describeSkipped(skipped: readonly SkippedResource[], kinds: readonly string[]): string[] {
  return skipped.map((s) => `skipped ${s.kind} ${s.name} (${s.source}): wasmesh does not translate this kind (it translates ${kinds.join(', ')})`);
}

/**
 * The YAML of every resource of `kinds` in a file, folder or `-`, as one multi-document text (for
 * readers that take text: push/render --istio); the others are named through `note`.
 */
export function readResourcesText(spec: string, kinds: readonly string[], flag: string, note: (line: string) => void): string {
  const { kept, skipped } = keepKinds(readInputs(spec, undefined, flag), kinds);
  for (const line of describeSkipped(skipped, kinds)) note(line);
  if (kept.length === 0) throw new Error(`${flag} ${spec}: nothing to translate: expected ${kinds.join(' or ')} resources${skipped.length ? ` (found only ${[...new Set(skipped.map((s) => s.kind))].join(', ')})` : ''}`);
  return kept.map((k) => k.text).join('---\n');
}
