/**
 * The protoc-gen-validate rules (`[(validate.rules).<type> = {...}]`) Envoy checks on every config
 * it loads (Envoy's MessageUtil::validate → the generated `Validate()`), the ones that matter in
 * practice: required fields, string lengths / prefixes / header-safe regexes, numeric and
 * duration bounds, list sizes, and the same rules on list items and map keys/values.
 * protobufjs flattens the options: `[(validate.rules).uint32 = {lte: 65535}]` arrives as
 * `{"(validate.rules).uint32.lte": 65535}`. Rule reference:
 * https://github.com/bufbuild/protoc-gen-validate/blob/main/README.md
 */
import type protobuf from 'protobufjs';

export type Report = (path: string, message: string) => void;
export type Rules = Readonly<Record<string, unknown>>;

const PREFIX = '(validate.rules).';

/** The field's rules with the `(validate.rules).` prefix removed: `{'string.min_len': 1}`. */
export function fieldRules(field: protobuf.Field): Rules {
  const rules: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(field.options ?? {})) if (key.startsWith(PREFIX)) rules[key.slice(PREFIX.length)] = value;
  return rules;
}

/** Rules under a nested prefix (`repeated.items.`, `map.keys.`), prefix removed. */
export function nestedRules(rules: Rules, prefix: string): Rules {
  const nested: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rules)) if (key.startsWith(prefix)) nested[key.slice(prefix.length)] = value;
  return nested;
}

/** A field left unset although a rule requires it (message/duration/timestamp/any `.required`). */
export function requiredRule(rules: Rules): string | undefined {
  return Object.keys(rules).find((key) => /^(message|duration|timestamp|any)\.required$/.test(key) && rules[key] === true);
}

const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);
const codePoints = (text: string): number => [...text].length;

/** RFC 7230 token (plus a leading ':' for pseudo-headers) and header-value rules, as PGV's well_known_regex. */
const HEADER_NAME_STRICT = /^:?[0-9a-zA-Z!#$%&'*+\-.^_|~`]+$/;
const HEADER_VALUE_STRICT = /^[^\u0000-\u0008\u000A-\u001F\u007F]*$/;
const HEADER_LOOSE = /^[^\u0000\u000A\u000D]*$/;

function checkString(rules: Rules, value: string, path: string, report: Report): void {
  const r = (name: string) => rules[`string.${name}`];
  const n = codePoints(value);
  const bytes = Buffer.byteLength(value);
  const bound = (name: string, ok: (limit: number) => boolean, text: (limit: number) => string) => {
    const limit = r(name);
    if (typeof limit === 'number' && !ok(limit)) report(path, `${text(limit)} (validate.rules string.${name}), got ${JSON.stringify(value)}`);
  };
  bound('min_len', (l) => n >= l, (l) => (l === 1 ? 'must not be empty' : `must be at least ${l} characters`));
  bound('max_len', (l) => n <= l, (l) => `must be at most ${l} characters`);
  bound('len', (l) => n === l, (l) => `must be exactly ${l} characters`);
  bound('min_bytes', (l) => bytes >= l, (l) => (l === 1 ? 'must not be empty' : `must be at least ${l} bytes`));
  bound('max_bytes', (l) => bytes <= l, (l) => `must be at most ${l} bytes`);
  const text = (name: string, ok: (expected: string) => boolean, what: string) => {
    const expected = r(name);
    if (typeof expected === 'string' && !ok(expected)) report(path, `${what} ${JSON.stringify(expected)} (validate.rules string.${name}), got ${JSON.stringify(value)}`);
  };
  text('prefix', (e) => value.startsWith(e), 'must start with');
  text('suffix', (e) => value.endsWith(e), 'must end with');
  text('contains', (e) => value.includes(e), 'must contain');
  text('not_contains', (e) => !value.includes(e), 'must not contain');
  text('const', (e) => value === e, 'must be');
  if (r('in') !== undefined && !list(r('in')).includes(value)) report(path, `must be one of ${list(r('in')).map((v) => JSON.stringify(v)).join(', ')} (validate.rules string.in), got ${JSON.stringify(value)}`);
  if (r('not_in') !== undefined && list(r('not_in')).includes(value)) report(path, `must not be ${JSON.stringify(value)} (validate.rules string.not_in)`);
  const pattern = r('pattern');
  if (typeof pattern === 'string') {
    let re: RegExp | undefined;
    try {
      re = new RegExp(pattern, 'u'); // RE2 syntax; a pattern JS cannot compile is left to Envoy.
    } catch {
      re = undefined;
    }
    if (re && !re.test(value)) report(path, `must match /${pattern}/ (validate.rules string.pattern), got ${JSON.stringify(value)}`);
  }
  const wellKnown = r('well_known_regex');
  if (wellKnown === 'HTTP_HEADER_NAME' || wellKnown === 'HTTP_HEADER_VALUE') {
    const strict = r('strict') !== false;
    const re = !strict ? HEADER_LOOSE : wellKnown === 'HTTP_HEADER_NAME' ? HEADER_NAME_STRICT : HEADER_VALUE_STRICT;
    if (!re.test(value) || (wellKnown === 'HTTP_HEADER_NAME' && strict && value === '')) {
      report(path, `must be a valid ${wellKnown === 'HTTP_HEADER_NAME' ? 'HTTP header name' : 'HTTP header value'} (validate.rules string.well_known_regex ${wellKnown}), got ${JSON.stringify(value)}`);
    }
  }
}

const NUMERIC = /^(u?int(32|64)|sint(32|64)|s?fixed(32|64)|double|float)\.(const|lt|lte|gt|gte|in|not_in)$/;

function checkNumber(rules: Rules, value: number, path: string, report: Report): void {
  for (const [key, limit] of Object.entries(rules)) {
    const match = NUMERIC.exec(key);
    if (!match) continue;
    const op = match[5]!;
    const rule = `(validate.rules ${key})`;
    if (op === 'in' || op === 'not_in') {
      const values = list(limit).map(Number);
      if ((op === 'in') !== values.includes(value)) report(path, `must ${op === 'in' ? '' : 'not '}be one of ${values.join(', ')} ${rule}, got ${value}`);
      continue;
    }
    const n = Number(limit);
    const ok = op === 'const' ? value === n : op === 'lt' ? value < n : op === 'lte' ? value <= n : op === 'gt' ? value > n : value >= n;
    const words = { const: '=', lt: '<', lte: '≤', gt: '>', gte: '≥' }[op as 'const'];
    if (!ok) report(path, `must be ${words} ${n} ${rule}, got ${value}`);
  }
}

/** "1.5s" → nanoseconds (the JSON form was checked before). */
export function durationNanos(text: string): bigint {
  const negative = text.startsWith('-');
  const [whole, fraction = ''] = text.replace(/^-/, '').slice(0, -1).split('.');
  const nanos = BigInt(whole!) * 1_000_000_000n + BigInt(fraction.padEnd(9, '0'));
  return negative ? -nanos : nanos;
}

function ruleNanos(rules: Rules, key: string): bigint | undefined {
  const seconds = rules[`${key}.seconds`];
  const nanos = rules[`${key}.nanos`];
  if (seconds === undefined && nanos === undefined && rules[key] === undefined) return undefined;
  return BigInt(Number(seconds ?? 0)) * 1_000_000_000n + BigInt(Number(nanos ?? 0));
}

const formatNanos = (n: bigint): string => `${Number(n) / 1e9}s`;

function checkDuration(rules: Rules, value: string, path: string, report: Report): void {
  const nanos = durationNanos(value);
  for (const [op, words] of [['gt', '>'], ['gte', '≥'], ['lt', '<'], ['lte', '≤'], ['const', '=']] as const) {
    const limit = ruleNanos(rules, `duration.${op}`);
    if (limit === undefined) continue;
    const ok = op === 'gt' ? nanos > limit : op === 'gte' ? nanos >= limit : op === 'lt' ? nanos < limit : op === 'lte' ? nanos <= limit : nanos === limit;
    if (!ok) report(path, `must be ${words} ${formatNanos(limit)} (validate.rules duration.${op}), got "${value}"`);
  }
}

/** Rules on one value (a scalar, a wrapper's value, a duration) that has already passed its type check. */
export function checkValueRules(rules: Rules, value: unknown, path: string, report: Report): void {
  if (typeof value === 'string' && /^-?\d+(\.\d{1,9})?s$/.test(value) && Object.keys(rules).some((k) => k.startsWith('duration.'))) {
    checkDuration(rules, value, path, report);
    return;
  }
  if (typeof value === 'string') checkString(rules, value, path, report);
  const numeric = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : undefined;
  if (numeric !== undefined) checkNumber(rules, numeric, path, report);
}

/** Rules on a whole list (sizes, uniqueness); item rules are applied by the caller per item. */
export function checkListRules(rules: Rules, items: readonly unknown[], path: string, report: Report): void {
  const min = rules['repeated.min_items'];
  const max = rules['repeated.max_items'];
  if (typeof min === 'number' && items.length < min) report(path, `${min === 1 ? 'must not be empty' : `must have at least ${min} items`} (validate.rules repeated.min_items), got ${items.length}`);
  if (typeof max === 'number' && items.length > max) report(path, `must have at most ${max} items (validate.rules repeated.max_items), got ${items.length}`);
  if (rules['repeated.unique'] === true) {
    const seen = new Set<string>();
    items.forEach((item, index) => {
      const key = JSON.stringify(item);
      if (seen.has(key)) report(`${path}[${index}]`, `duplicate item ${key} (validate.rules repeated.unique)`);
      seen.add(key);
    });
  }
}

export function checkMapRules(rules: Rules, size: number, path: string, report: Report): void {
  const min = rules['map.min_pairs'];
  const max = rules['map.max_pairs'];
  if (typeof min === 'number' && size < min) report(path, `must have at least ${min} entries (validate.rules map.min_pairs), got ${size}`);
  if (typeof max === 'number' && size > max) report(path, `must have at most ${max} entries (validate.rules map.max_pairs), got ${size}`);
}
