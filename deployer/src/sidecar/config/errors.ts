/** One problem of a config: the YAML path of the field (`filters[0].vm_config...`, '' for the file) and what is wrong. */
export interface SidecarConfigProblem {
  readonly field: string;
  readonly problem: string;
}

/**
 * A sidecar.yaml (or envoy.yaml) that cannot run, with every problem found in it: a file with
 * three mistakes is refused once, listing all three, one per line. `field`/`problem` are the first.
 */
export class SidecarConfigError extends Error {
  readonly problems: readonly SidecarConfigProblem[];

  constructor(source: string, field: string, problem: string);
  constructor(source: string, problems: readonly SidecarConfigProblem[]);
  constructor(readonly source: string, fieldOrProblems: string | readonly SidecarConfigProblem[], problem = '') {
    const problems = typeof fieldOrProblems === 'string' ? [{ field: fieldOrProblems, problem }] : fieldOrProblems;
    if (problems.length === 0) throw new TypeError('SidecarConfigError needs at least one problem');
    super(formatProblems(source, problems));
    this.problems = problems;
    this.name = 'SidecarConfigError';
  }

  get field(): string {
    return this.problems[0]!.field;
  }

  get problem(): string {
    return this.problems[0]!.problem;
  }
}

const problemLine = ({ field, problem }: SidecarConfigProblem): string => `${field ? `${field}: ` : ''}${problem}`;

/** `file: field: problem` for one problem; `file: N problems:` then one indented line each for several. */
export function formatProblems(source: string, problems: readonly SidecarConfigProblem[]): string {
  if (problems.length === 1) return `${source}: ${problemLine(problems[0]!)}`;
  return `${source}: ${problems.length} problems:\n${problems.map((p) => `  ${problemLine(p)}`).join('\n')}`;
}

/** Collects problems; `report` returns undefined so a parser can `return report(...)` and go on. */
export class ProblemList {
  readonly problems: SidecarConfigProblem[] = [];

  report = (field: string, problem: string): undefined => {
    if (!this.problems.some((p) => p.field === field && p.problem === problem)) this.problems.push({ field, problem });
    return undefined;
  };

  /** Throws one SidecarConfigError listing every problem collected, if any. */
  throwIfAny(source: string): void {
    if (this.problems.length > 0) throw new SidecarConfigError(source, this.problems);
  }
}

/** `{"a":[{"b":1}]}` path segments → `a[0].b`, the way a reader of the YAML names a field. */
export function fieldPath(segments: ReadonlyArray<string | number>): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? segment : `.${segment}`;
  }
  return out;
}

/** A value as it appears in an error message: JSON, shortened. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
