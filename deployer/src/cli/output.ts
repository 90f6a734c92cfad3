import { stringify } from 'yaml';

export type OutputFormat = 'table' | 'json' | 'yaml';

export function parseOutputFormat(value: string, allowed: readonly OutputFormat[] = ['table', 'json', 'yaml']): OutputFormat {
  if ((allowed as readonly string[]).includes(value)) return value as OutputFormat;
  throw new Error(`unknown output format "${value}": expected ${allowed.join(', ')}`);
}

export function printStructured(value: unknown, format: 'json' | 'yaml'): void {
  process.stdout.write(format === 'json' ? JSON.stringify(value, null, 2) + '\n' : stringify(value));
}

/** Left-aligned columns separated by two spaces, like kubectl. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/**
 * ANSI colour for one stream: only when it is a terminal, never with NO_COLOR set to anything
 * non-empty (https://no-color.org), always with FORCE_COLOR=1..3 (as Node and chalk read it),
 * never with TERM=dumb.
 */
export interface Palette {
  readonly enabled: boolean;
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  bold(text: string): string;
  dim(text: string): string;
}

export function colorEnabled(stream: { readonly isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '') return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

export function palette(stream: { readonly isTTY?: boolean } = process.stderr, env: NodeJS.ProcessEnv = process.env): Palette {
  const enabled = colorEnabled(stream, env);
  const wrap = (open: number, close: number) => (text: string) => (enabled ? `\u001b[${open}m${text}\u001b[${close}m` : text);
  return { enabled, green: wrap(32, 39), red: wrap(31, 39), yellow: wrap(33, 39), bold: wrap(1, 22), dim: wrap(2, 22) };
}

/** `--dry-run` output is marked, so a reader never takes it for what happened. */
export function dryRunMarker(mode: 'none' | 'client' | 'server' | undefined): string {
  return mode === 'client' ? ' (dry run: client)' : mode === 'server' ? ' (dry run: server)' : '';
}
