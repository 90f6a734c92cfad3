/** A sidecar.yaml that cannot run. `field` is the YAML path (`filters[0].vm_config...`). */
export class SidecarConfigError extends Error {
  constructor(readonly source: string, readonly field: string, readonly problem: string) {
    super(`${source}: ${field ? `${field}: ` : ''}${problem}`);
    this.name = 'SidecarConfigError';
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
