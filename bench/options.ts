/** Command-line options shared by the benchmarks (`--name value`), validated with a message naming the bad value. */

/** The value after `--<name>`, or null when the option is absent. */
export function stringOption(name: string): string | null {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return null;
  const value = process.argv[i + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`--${name}: expected a value`);
  return value;
}

/** A positive number after `--<name>` (a positive integer when `integer`), or `fallback` when absent. */
export function numberOption(name: string, fallback: number, integer = true): number {
  const text = stringOption(name);
  if (text === null) return fallback;
  const value = Number(text);
  if (integer ? !Number.isInteger(value) || value <= 0 : !(value > 0)) {
    throw new Error(`--${name} ${text}: expected a positive ${integer ? 'integer' : 'number'}`);
  }
  return value;
}
