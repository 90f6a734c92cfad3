/**
 * `deployer validate` core: reads config files (YAML or JSON, several documents per file),
 * tells each document's kind from its content and validates it (documents.ts).
 * Exit codes: 0 every document valid, 1 some document invalid, 2 some file unreadable (missing,
 * not a file, not parseable as YAML/JSON) — the worst wins.
 */
import { readFile, stat } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { IstioCrdsUnavailableError } from '../istio/crds.js';
import { SidecarConfigError } from '../sidecar/config/errors.js';
import { validateSidecarConfig } from '../sidecar/config/validate.js';
import { checkComposeFile } from './compose.js';
import { validateDocument, type DocumentVerdict } from './documents.js';

export interface DocumentResult extends DocumentVerdict {
  /** 1-based position of the document in its file. */
  readonly index: number;
}

export interface FileResult {
  readonly path: string;
  readonly status: 'valid' | 'invalid' | 'unreadable';
  /** Why the file could not be read or parsed (status unreadable); the documents that did parse are still checked. */
  readonly error?: string;
  readonly documents: readonly DocumentResult[];
}

export interface ValidateFilesOptions {
  /** Validate every document as this Envoy message instead of detecting its kind. */
  readonly type?: string;
}

export const EXIT_VALID = 0;
export const EXIT_INVALID = 1;
export const EXIT_UNREADABLE = 2;

export async function validateConfigFile(path: string, options: ValidateFilesOptions = {}): Promise<FileResult> {
  const unreadable = (error: string): FileResult => ({ path, status: 'unreadable', error, documents: [] });
  let text: string;
  try {
    if (!(await stat(path)).isFile()) return unreadable('not a regular file');
    text = await readFile(path, 'utf8');
  } catch (error) {
    return unreadable((error as NodeJS.ErrnoException).code ?? (error as Error).message);
  }
  const parsed = parseAllDocuments(text, { prettyErrors: true });
  const docs = Array.isArray(parsed) ? parsed : [parsed];
  const documents: DocumentResult[] = [];
  // A document that does not parse makes the file unreadable, but the others are still checked
  // and listed: one run shows everything to fix.
  const yamlErrors: string[] = [];
  for (const [i, doc] of docs.entries()) {
    if (doc.errors.length > 0) {
      yamlErrors.push(`not valid YAML/JSON (document ${i + 1}): ${doc.errors[0]!.message.split('\n')[0]!.replace(/:$/, '')}`);
      continue;
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue; // empty document (a trailing ---)
    try {
      const verdict = validateDocument(value, options.type);
      documents.push({ index: i + 1, ...(verdict.fileCheck ? runFileCheck(verdict, path, value) : verdict) });
    } catch (error) {
      // The Istio CRDs could not be read: nothing was checked, which is not "invalid".
      if (error instanceof IstioCrdsUnavailableError) return unreadable(error.message);
      throw error;
    }
  }
  if (yamlErrors.length > 0) return { path, status: 'unreadable', error: yamlErrors.join('\n  '), documents };
  if (documents.length === 0) return unreadable('no documents: the file is empty');
  return { path, status: documents.some((d) => d.issues.length > 0) ? 'invalid' : 'valid', documents };
}

/** Compose files go to a real compose implementation; sidecar configs to `deployer run`'s own validation. */
function runFileCheck(verdict: DocumentVerdict, path: string, value: unknown): DocumentVerdict {
  if (verdict.fileCheck === 'compose') {
    const { cli, error } = checkComposeFile(path);
    if (cli === undefined) return { kind: verdict.kind, issues: [], skipped: 'neither `docker compose` nor `docker-compose` is installed, so it was not checked' };
    return { kind: `${verdict.kind} (checked by ${cli.label} config)`, issues: error === undefined ? [] : [{ path: '', message: `${cli.label} refuses it: ${error}` }] };
  }
  try {
    // Relative module paths resolve against the working directory, as `deployer run` (and Envoy) do.
    validateSidecarConfig(value, { source: path, baseDir: process.cwd() });
    return { kind: verdict.kind, issues: [] };
  } catch (error) {
    if (error instanceof SidecarConfigError) return { kind: verdict.kind, issues: error.problems.map((p) => ({ path: p.field, message: p.problem })) };
    throw error;
  }
}

export async function validateConfigFiles(paths: readonly string[], options: ValidateFilesOptions = {}): Promise<{ readonly files: readonly FileResult[]; readonly exitCode: number }> {
  const files: FileResult[] = [];
  for (const path of paths) files.push(await validateConfigFile(path, options));
  const exitCode = files.some((f) => f.status === 'unreadable') ? EXIT_UNREADABLE : files.some((f) => f.status === 'invalid') ? EXIT_INVALID : EXIT_VALID;
  return { files, exitCode };
}

/** One line per document, then one indented line per problem: `path: message`. */
export function formatValidation(files: readonly FileResult[]): string {
  const lines: string[] = [];
  for (const file of files) {
    if (file.status === 'unreadable') lines.push(`${file.path}: UNREADABLE — ${file.error}`);
    const many = file.documents.length > 1 || file.status === 'unreadable';
    for (const doc of file.documents) {
      const where = many ? `${file.path}#${doc.index}` : file.path;
      const status = doc.skipped !== undefined ? `skipped — ${doc.kind}: ${doc.skipped}` : doc.issues.length === 0 ? `valid — ${doc.kind}` : `INVALID — ${doc.kind}`;
      lines.push(`${where}: ${status}`);
      for (const issue of doc.issues) lines.push(`  ${issue.path || '<root>'}: ${issue.message}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
