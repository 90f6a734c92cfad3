/**
 * A duration flag in Go's form as Istio and Envoy settings take it (`100ms`, `1.5s`, `2m`, or `0`),
 * in milliseconds; an error names the flag and the value.
 */
export function flagDurationMs(flag: string, text: string): number {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(trimmed);
  if (!match) throw new Error(`${flag} "${text}": not a duration; expected e.g. 100ms, 1.5s, 2m or 0`);
  return Math.round(Number(match[1]) * { ms: 1, s: 1000, m: 60_000 }[match[2] as 'ms' | 's' | 'm']);
}
