import protobuf from 'protobufjs';
import { closestMessageName, findMessage, TYPE_URL_PREFIX } from './protos.js';
import { checkListRules, checkMapRules, checkValueRules, fieldRules, nestedRules, requiredRule, type Rules } from './rules.js';
import { closest, didYouMean } from './suggest.js';

/**
 * Strict proto3-JSON validation of Envoy config against Envoy's API protos.
 *
 * Hand-written because protobufjs' `fromObject` silently drops unknown fields and `verify` only
 * checks a decoded message; the deployer must reject a misspelt field instead of shipping config
 * that Envoy (or istiod's EnvoyFilter patcher) would refuse. Follows the proto3 JSON mapping
 * (https://protobuf.dev/programming-guides/json/): snake_case or lowerCamel names, `Any` with
 * `@type` (resolved against every package of Envoy's API, loaded on demand), well-known types
 * in their JSON forms — and the protoc-gen-validate rules Envoy enforces (rules.ts). Every
 * problem is collected with the path of its field
 * (`static_resources.listeners[0].adress: unknown field; did you mean "address"?`).
 */
export interface EnvoyConfigIssue {
  /** Dotted path, e.g. `static_resources.clusters[0].connect_timeout`. */
  readonly path: string;
  readonly message: string;
}

export class EnvoyConfigError extends Error {
  constructor(readonly path: string, readonly detail: string, readonly issues: readonly EnvoyConfigIssue[] = [{ path, message: detail }]) {
    super(`invalid Envoy config at ${path || '<root>'}: ${detail}`);
    this.name = 'EnvoyConfigError';
  }
}

export interface EnvoyValidationOptions {
  /**
   * A fragment merged into existing config (an EnvoyFilter MERGE patch): unknown fields and
   * wrong types still fail, but fields required on the whole message may be absent.
   */
  readonly partial?: boolean;
}

type Json = unknown;

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

class Walk {
  readonly issues: EnvoyConfigIssue[] = [];
  constructor(readonly options: EnvoyValidationOptions) {}
  report = (path: string, message: string): void => {
    this.issues.push({ path, message });
  };
  expected(path: string, what: string, actual: unknown): void {
    this.report(path, `expected ${what}, got ${show(actual)}`);
  }
}

/** Every problem of `value` as the proto3 JSON form of `messageName`. */
export function envoyMessageIssues(messageName: string, value: Json, path = '', options: EnvoyValidationOptions = {}): EnvoyConfigIssue[] {
  const walk = new Walk(options);
  const type = findMessage(messageName);
  if (type === undefined) walk.report(path, `unknown message type ${messageName}`);
  else validateMessage(walk, type, value, path);
  return walk.issues;
}

/** Every problem of a `google.protobuf.Any` in JSON form, and the message its `@type` names. */
export function envoyAnyIssues(value: Json, path = '', options: EnvoyValidationOptions = {}): { readonly typeName?: string; readonly issues: EnvoyConfigIssue[] } {
  const walk = new Walk(options);
  const typeName = validateAny(walk, value, path);
  return { ...(typeName ? { typeName } : {}), issues: walk.issues };
}

function throwFirst(issues: readonly EnvoyConfigIssue[]): void {
  const first = issues[0];
  if (first !== undefined) throw new EnvoyConfigError(first.path, first.message, issues);
}

/** Validates `value` as the proto3 JSON form of `messageName` (e.g. envoy.extensions.filters.http.wasm.v3.Wasm); throws the first problem. */
export function validateEnvoyMessage(messageName: string, value: Json, path = '', options: EnvoyValidationOptions = {}): void {
  throwFirst(envoyMessageIssues(messageName, value, path, options));
}

/** Validates a `google.protobuf.Any` in JSON form: `{"@type": "type.googleapis.com/<message>", ...fields}`; returns the message name. */
export function validateEnvoyAny(value: Json, path = ''): string {
  const { typeName, issues } = envoyAnyIssues(value, path);
  throwFirst(issues);
  return typeName!;
}

const camel = (snake: string): string => snake.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

function isPlainObject(value: Json): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function join(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;
}

function validateMessage(walk: Walk, type: protobuf.Type, value: Json, path: string, rules: Rules = {}): void {
  if (validateWellKnown(walk, type.fullName.slice(1), value, path, rules)) return;
  if (!isPlainObject(value)) return walk.expected(path, `an object (${type.fullName.slice(1)})`, value);
  const byName = new Map<string, protobuf.Field>();
  for (const field of type.fieldsArray) {
    byName.set(field.name, field);
    byName.set(camel(field.name), field);
  }
  const seen = new Set<protobuf.Field>();
  const present: [protobuf.Field, Json, string][] = [];
  for (const [key, fieldValue] of Object.entries(value)) {
    const field = byName.get(key);
    if (!field) {
      const names = type.fieldsArray.map((f) => f.name);
      const hint = didYouMean(key, names);
      walk.report(join(path, key), `unknown field${hint || ` of ${type.fullName.slice(1)} (fields: ${names.join(', ')})`}`);
      continue;
    }
    if (seen.has(field)) {
      walk.report(join(path, key), `field "${field.name}" given twice (snake_case and lowerCamel)`);
      continue;
    }
    seen.add(field);
    if (fieldValue !== null) present.push([field, fieldValue, join(path, key)]);
  }
  // The message's own problems (oneofs) before those of its fields.
  for (const oneof of type.oneofsArray) {
    const set = oneof.fieldsArray.filter((f) => seen.has(f) && value[f.name] !== null && value[camel(f.name)] !== null);
    if (set.length > 1) {
      walk.report(path, `only one of ${oneof.fieldsArray.map((f) => f.name).join(', ')} may be set (oneof "${oneof.name}"), got ${set.map((f) => f.name).join(' and ')}`);
    }
    if (set.length === 0 && oneof.options?.['(validate.required)'] === true && !walk.options.partial) {
      walk.report(path, `one of ${oneof.fieldsArray.map((f) => f.name).join(', ')} is required (oneof "${oneof.name}")`);
    }
  }
  for (const [field, fieldValue, fieldPath] of present) validateField(walk, field, fieldValue, fieldPath);
  if (walk.options.partial) return;
  for (const field of type.fieldsArray) {
    // A rule on a oneof member applies only when that member is the one set (protoc-gen-validate).
    if (seen.has(field) || field.partOf) continue;
    const required = requiredRule(fieldRules(field));
    if (required !== undefined) walk.report(join(path, field.name), `required field is missing (validate.rules ${required})`);
    else if (fieldRules(field)['repeated.min_items'] !== undefined) checkListRules(fieldRules(field), [], join(path, field.name), walk.report);
    else if (field.resolvedType === null && !field.repeated) {
      // An absent scalar is "" / 0 in proto3, and protoc-gen-validate checks it like a set one:
      // a min_len or a lower bound refuses it, as Envoy's Validate() would.
      const problems: string[] = [];
      checkValueRules(fieldRules(field), field.type === 'string' ? '' : field.type === 'bool' ? false : 0, join(path, field.name), (_p, message) => problems.push(message));
      if (problems.length > 0) walk.report(join(path, field.name), `required field is missing: ${problems[0]}`);
    }
  }
}

function validateField(walk: Walk, field: protobuf.Field, value: Json, path: string): void {
  const rules = fieldRules(field);
  if (field.map) {
    if (!isPlainObject(value)) return walk.expected(path, `an object (map<${(field as unknown as protobuf.MapField).keyType}, ${field.type}>)`, value);
    checkMapRules(rules, Object.keys(value).length, path, walk.report);
    const keyRules = nestedRules(rules, 'map.keys.');
    const valueRules = nestedRules(rules, 'map.values.');
    for (const [key, entry] of Object.entries(value)) {
      checkValueRules(keyRules, key, join(path, key), walk.report);
      validateSingle(walk, field, entry, join(path, key), valueRules);
    }
    return;
  }
  if (field.repeated) {
    if (!Array.isArray(value)) return walk.expected(path, `a list of ${field.type}`, value);
    checkListRules(rules, value, path, walk.report);
    const itemRules = nestedRules(rules, 'repeated.items.');
    value.forEach((item, index) => validateSingle(walk, field, item, join(path, index), itemRules));
    return;
  }
  validateSingle(walk, field, value, path, rules);
}

function validateSingle(walk: Walk, field: protobuf.Field, value: Json, path: string, rules: Rules): void {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return validateMessage(walk, resolved, value, path, rules);
  if (resolved instanceof protobuf.Enum) return validateEnum(walk, resolved, value, path);
  if (validateScalar(walk, field.type, value, path)) checkValueRules(rules, value, path, walk.report);
}

function validateEnum(walk: Walk, enumType: protobuf.Enum, value: Json, path: string): void {
  const names = Object.keys(enumType.values);
  if (typeof value === 'string' && names.includes(value)) return;
  if (typeof value === 'number' && Object.values(enumType.values).includes(value)) return;
  const hint = typeof value === 'string' ? didYouMean(value, names) : '';
  walk.report(path, `${show(value)} is not a value of ${enumType.fullName.slice(1)}${hint || ` (values: ${names.join(', ')})`}`);
}

const INT64 = /^-?\d+$/;

/** True when the value has the scalar's JSON type (rules then apply). */
function validateScalar(walk: Walk, type: string, value: Json, path: string): boolean {
  const fail = (what: string): boolean => {
    walk.expected(path, what, value);
    return false;
  };
  switch (type) {
    case 'string':
      return typeof value === 'string' || fail('a string');
    case 'bool':
      return typeof value === 'boolean' || fail('true or false');
    case 'bytes':
      return (typeof value === 'string' && /^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) || fail('base64 bytes');
    case 'double':
    case 'float':
      return typeof value === 'number' || ['NaN', 'Infinity', '-Infinity'].includes(String(value)) || fail('a number');
    case 'int32':
    case 'sint32':
    case 'sfixed32':
      return checkInteger(value, -(2 ** 31), 2 ** 31 - 1) || fail(`an integer in [${-(2 ** 31)}, ${2 ** 31 - 1}] (${type})`);
    case 'uint32':
    case 'fixed32':
      return checkInteger(value, 0, 2 ** 32 - 1) || fail(`an integer in [0, ${2 ** 32 - 1}] (${type})`);
    case 'int64':
    case 'sint64':
    case 'sfixed64':
    case 'uint64':
    case 'fixed64': {
      const ok = (typeof value === 'number' && Number.isInteger(value)) || (typeof value === 'string' && INT64.test(value));
      const unsigned = type.startsWith('u') || type.startsWith('fixed');
      return (ok && !(unsigned && String(value).startsWith('-'))) || fail(`an integer (${type})`);
    }
    default:
      return fail(`a value of unsupported proto type ${type}`);
  }
}

function checkInteger(value: Json, min: number, max: number): boolean {
  const n = typeof value === 'string' && INT64.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max;
}

const WRAPPERS: Readonly<Record<string, string>> = {
  'google.protobuf.StringValue': 'string',
  'google.protobuf.BoolValue': 'bool',
  'google.protobuf.BytesValue': 'bytes',
  'google.protobuf.DoubleValue': 'double',
  'google.protobuf.FloatValue': 'float',
  'google.protobuf.Int32Value': 'int32',
  'google.protobuf.UInt32Value': 'uint32',
  'google.protobuf.Int64Value': 'int64',
  'google.protobuf.UInt64Value': 'uint64',
};

const DURATION = /^-?\d+(\.\d{1,9})?s$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const SPECIAL_JSON = new Set(['google.protobuf.Duration', 'google.protobuf.Timestamp', 'google.protobuf.Struct', 'google.protobuf.Value', 'google.protobuf.ListValue', 'google.protobuf.Any', 'google.protobuf.FieldMask']);

/** Well-known types have their own JSON forms; returns false when `name` is an ordinary message. */
function validateWellKnown(walk: Walk, name: string, value: Json, path: string, rules: Rules): boolean {
  const wrapped = WRAPPERS[name];
  if (wrapped) {
    if (validateScalar(walk, wrapped, value, path)) checkValueRules(rules, value, path, walk.report);
    return true;
  }
  switch (name) {
    case 'google.protobuf.Any':
      validateAny(walk, value, path);
      return true;
    case 'google.protobuf.Duration':
      if (typeof value !== 'string' || !DURATION.test(value)) walk.expected(path, 'a duration such as "30s" or "0.5s"', value);
      else checkValueRules(rules, value, path, walk.report);
      return true;
    case 'google.protobuf.Timestamp':
      if (typeof value !== 'string' || !TIMESTAMP.test(value)) walk.expected(path, 'an RFC 3339 timestamp', value);
      return true;
    case 'google.protobuf.Struct':
      if (!isPlainObject(value)) walk.expected(path, 'a JSON object (google.protobuf.Struct)', value);
      return true;
    case 'google.protobuf.ListValue':
      if (!Array.isArray(value)) walk.expected(path, 'a JSON list (google.protobuf.ListValue)', value);
      return true;
    case 'google.protobuf.Value':
      return true;
    case 'google.protobuf.FieldMask':
      if (typeof value !== 'string') walk.expected(path, 'comma-separated field paths (google.protobuf.FieldMask)', value);
      return true;
    case 'google.protobuf.Empty':
      if (!isPlainObject(value) || Object.keys(value).length > 0) walk.expected(path, 'an empty object', value);
      return true;
    default:
      return false;
  }
}

/** Validates an Any; returns the message name its @type resolves to (undefined when it does not). */
function validateAny(walk: Walk, value: Json, path: string): string | undefined {
  if (!isPlainObject(value)) {
    walk.expected(path, 'an object with "@type" (google.protobuf.Any)', value);
    return undefined;
  }
  const typeUrl = value['@type'];
  const typePath = join(path, '@type');
  if (typeof typeUrl !== 'string' || !typeUrl.includes('/')) {
    walk.expected(typePath, `a type URL such as "${TYPE_URL_PREFIX}envoy.config.listener.v3.Listener"`, typeUrl);
    return undefined;
  }
  // Envoy resolves the part after the last '/' (TypeUtil::typeUrlToDescriptorFullName).
  const messageName = typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
  const type = findMessage(messageName);
  if (type === undefined) {
    const suggestion = closestMessageName(messageName, (word, candidates) => closest(word, candidates));
    walk.report(typePath, `unresolvable @type "${typeUrl}": no such message in Envoy's API${suggestion ? `; did you mean "${TYPE_URL_PREFIX}${suggestion}"?` : ''}`);
    return undefined;
  }
  const { ['@type']: _typeUrl, ...rest } = value;
  const fullName = type.fullName.slice(1);
  if (fullName in WRAPPERS || SPECIAL_JSON.has(fullName)) {
    // Well-known types with a special JSON form sit in an Any as {"@type": ..., "value": <json>}.
    const keys = Object.keys(rest);
    if (keys.length !== 1 || keys[0] !== 'value') walk.expected(path, `{"@type": "${typeUrl}", "value": ...}`, value);
    else validateMessage(walk, type, rest.value, join(path, 'value'));
    return fullName;
  }
  validateMessage(walk, type, rest, path);
  if (TYPED_STRUCTS.has(fullName)) validateTypedStruct(walk, rest, path);
  return fullName;
}

const TYPED_STRUCTS = new Set(['udpa.type.v1.TypedStruct', 'xds.type.v3.TypedStruct']);

/**
 * A TypedStruct carries its message as a Struct (`value`) named by `type_url`: Envoy converts it
 * to that message (MessageUtil::unpackTo → jsonConvert), so its fields are checked as that
 * message's — how Istio hands Envoy a Wasm filter config inside an EnvoyFilter patch.
 */
function validateTypedStruct(walk: Walk, struct: Record<string, unknown>, path: string): void {
  const typeUrl = struct['type_url'] ?? struct['typeUrl'];
  if (typeof typeUrl !== 'string') return;
  const messageName = typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
  const type = findMessage(messageName);
  if (type === undefined) {
    const suggestion = closestMessageName(messageName, (word, candidates) => closest(word, candidates));
    walk.report(join(path, 'type_url'), `unresolvable type_url "${typeUrl}": no such message in Envoy's API${suggestion ? `; did you mean "${TYPE_URL_PREFIX}${suggestion}"?` : ''}`);
    return;
  }
  validateMessage(walk, type, struct['value'] ?? {}, join(path, 'value'));
}
