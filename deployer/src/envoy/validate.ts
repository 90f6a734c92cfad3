import protobuf from 'protobufjs';
import { lookupMessage, TYPE_URL_PREFIX } from './protos.js';

/**
 * Strict proto3-JSON validation of Envoy config against Envoy's API protos.
 *
 * Hand-written because protobufjs' `fromObject` silently drops unknown fields and `verify` only
 * checks a decoded message; the deployer must reject a misspelt field instead of shipping config
 * that Envoy (or istiod's EnvoyFilter patcher) would refuse. Follows the proto3 JSON mapping
 * (https://protobuf.dev/programming-guides/json/): snake_case or lowerCamel names, `Any` with
 * `@type`, well-known types in their JSON forms. Also enforces the protoc-gen-validate rules Envoy
 * uses most on these messages (`message.required`, `string.min_len`, `enum.defined_only`).
 */
export class EnvoyConfigError extends Error {
  constructor(readonly path: string, readonly expected: string, readonly actual: unknown) {
    super(`invalid Envoy config at ${path || '<root>'}: expected ${expected}, got ${describe(actual)}`);
    this.name = 'EnvoyConfigError';
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

type Json = unknown;

/** Validates `value` as the proto3 JSON form of `messageName` (e.g. envoy.extensions.filters.http.wasm.v3.Wasm). */
export function validateEnvoyMessage(messageName: string, value: Json, path = ''): void {
  validateMessage(lookupMessage(messageName), value, path);
}

/** Validates a `google.protobuf.Any` in JSON form: `{"@type": "type.googleapis.com/<message>", ...fields}`. */
export function validateEnvoyAny(value: Json, path = ''): string {
  validateAny(value, path);
  return ((value as Record<string, unknown>)['@type'] as string).slice(TYPE_URL_PREFIX.length);
}

const camel = (snake: string): string => snake.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

function isPlainObject(value: Json): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function join(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;
}

function validateMessage(type: protobuf.Type, value: Json, path: string): void {
  if (validateWellKnown(type.fullName.slice(1), value, path)) return;
  if (!isPlainObject(value)) throw new EnvoyConfigError(path, `an object (${type.fullName.slice(1)})`, value);
  const byName = new Map<string, protobuf.Field>();
  for (const field of type.fieldsArray) {
    byName.set(field.name, field);
    byName.set(camel(field.name), field);
  }
  const seen = new Set<protobuf.Field>();
  for (const [key, fieldValue] of Object.entries(value)) {
    const field = byName.get(key);
    if (!field) {
      const known = type.fieldsArray.map((f) => f.name).join(', ');
      throw new EnvoyConfigError(join(path, key), `a field of ${type.fullName.slice(1)} (one of: ${known})`, `unknown field "${key}"`);
    }
    if (seen.has(field)) throw new EnvoyConfigError(join(path, key), `field "${field.name}" set once (snake_case and lowerCamel both given)`, fieldValue);
    seen.add(field);
    if (fieldValue === null) continue;
    validateField(field, fieldValue, join(path, key));
  }
  for (const oneof of type.oneofsArray) {
    const set = oneof.fieldsArray.filter((f) => seen.has(f) && value[f.name] !== null && value[camel(f.name)] !== null);
    if (set.length > 1) {
      throw new EnvoyConfigError(path, `at most one of oneof "${oneof.name}" (${oneof.fieldsArray.map((f) => f.name).join(', ')})`, set.map((f) => f.name).join(' and '));
    }
    if (set.length === 0 && oneof.options?.['(validate.required)'] === true) {
      throw new EnvoyConfigError(path, `one of ${oneof.fieldsArray.map((f) => f.name).join(', ')} (oneof "${oneof.name}" is required)`, undefined);
    }
  }
  for (const field of type.fieldsArray) {
    // A rule on a oneof member applies only when that member is the one set (protoc-gen-validate).
    if (!seen.has(field) && !field.partOf && field.options?.['(validate.rules).message.required'] === true) {
      throw new EnvoyConfigError(join(path, field.name), `a ${field.type} (required by Envoy)`, undefined);
    }
  }
}

function validateField(field: protobuf.Field, value: Json, path: string): void {
  if (field.map) {
    if (!isPlainObject(value)) throw new EnvoyConfigError(path, `an object (map<${(field as unknown as protobuf.MapField).keyType}, ${field.type}>)`, value);
    for (const [key, entry] of Object.entries(value)) validateSingle(field, entry, join(path, key));
    return;
  }
  if (field.repeated) {
    if (!Array.isArray(value)) throw new EnvoyConfigError(path, `a list of ${field.type}`, value);
    value.forEach((item, index) => validateSingle(field, item, join(path, index)));
    return;
  }
  validateSingle(field, value, path);
}

function validateSingle(field: protobuf.Field, value: Json, path: string): void {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return validateMessage(resolved, value, path);
  if (resolved instanceof protobuf.Enum) return validateEnum(resolved, value, path);
  validateScalar(field.type, value, path);
  const minLen = field.options?.['(validate.rules).string.min_len'];
  if (typeof minLen === 'number' && typeof value === 'string' && value.length < minLen) {
    throw new EnvoyConfigError(path, `a string of at least ${minLen} character(s)`, value);
  }
}

function validateEnum(enumType: protobuf.Enum, value: Json, path: string): void {
  const names = Object.keys(enumType.values);
  if (typeof value === 'string' && names.includes(value)) return;
  if (typeof value === 'number' && Object.values(enumType.values).includes(value)) return;
  throw new EnvoyConfigError(path, `one of ${names.join(', ')} (${enumType.fullName.slice(1)})`, value);
}

const INT64 = /^-?\d+$/;

function validateScalar(type: string, value: Json, path: string): void {
  switch (type) {
    case 'string':
      if (typeof value !== 'string') throw new EnvoyConfigError(path, 'a string', value);
      return;
    case 'bool':
      if (typeof value !== 'boolean') throw new EnvoyConfigError(path, 'true or false', value);
      return;
    case 'bytes':
      if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) throw new EnvoyConfigError(path, 'base64 bytes', value);
      return;
    case 'double':
    case 'float':
      if (typeof value !== 'number' && !['NaN', 'Infinity', '-Infinity'].includes(String(value))) throw new EnvoyConfigError(path, 'a number', value);
      return;
    case 'int32':
    case 'sint32':
    case 'sfixed32':
      return checkInteger(value, path, -(2 ** 31), 2 ** 31 - 1, type);
    case 'uint32':
    case 'fixed32':
      return checkInteger(value, path, 0, 2 ** 32 - 1, type);
    case 'int64':
    case 'sint64':
    case 'sfixed64':
    case 'uint64':
    case 'fixed64': {
      const ok = (typeof value === 'number' && Number.isInteger(value)) || (typeof value === 'string' && INT64.test(value));
      if (!ok || (type.startsWith('u') || type.startsWith('fixed')) && String(value).startsWith('-')) {
        throw new EnvoyConfigError(path, `an integer (${type})`, value);
      }
      return;
    }
    default:
      throw new EnvoyConfigError(path, `a value of unsupported proto type ${type}`, value);
  }
}

function checkInteger(value: Json, path: string, min: number, max: number, type: string): void {
  const n = typeof value === 'string' && INT64.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) throw new EnvoyConfigError(path, `an integer in [${min}, ${max}] (${type})`, value);
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

/** Well-known types have their own JSON forms; returns false when `name` is an ordinary message. */
function validateWellKnown(name: string, value: Json, path: string): boolean {
  const wrapped = WRAPPERS[name];
  if (wrapped) {
    validateScalar(wrapped, value, path);
    return true;
  }
  switch (name) {
    case 'google.protobuf.Any':
      validateAny(value, path);
      return true;
    case 'google.protobuf.Duration':
      if (typeof value !== 'string' || !DURATION.test(value)) throw new EnvoyConfigError(path, 'a duration such as "30s" or "0.5s"', value);
      return true;
    case 'google.protobuf.Timestamp':
      if (typeof value !== 'string' || !TIMESTAMP.test(value)) throw new EnvoyConfigError(path, 'an RFC 3339 timestamp', value);
      return true;
    case 'google.protobuf.Struct':
      if (!isPlainObject(value)) throw new EnvoyConfigError(path, 'a JSON object (google.protobuf.Struct)', value);
      return true;
    case 'google.protobuf.ListValue':
      if (!Array.isArray(value)) throw new EnvoyConfigError(path, 'a JSON list (google.protobuf.ListValue)', value);
      return true;
    case 'google.protobuf.Value':
      return true;
    case 'google.protobuf.Empty':
      if (!isPlainObject(value) || Object.keys(value).length > 0) throw new EnvoyConfigError(path, 'an empty object', value);
      return true;
    default:
      return false;
  }
}

function validateAny(value: Json, path: string): void {
  if (!isPlainObject(value)) throw new EnvoyConfigError(path, 'an object with "@type" (google.protobuf.Any)', value);
  const typeUrl = value['@type'];
  if (typeof typeUrl !== 'string' || !typeUrl.startsWith(TYPE_URL_PREFIX)) {
    throw new EnvoyConfigError(join(path, '@type'), `a type URL starting with ${TYPE_URL_PREFIX}`, typeUrl);
  }
  const messageName = typeUrl.slice(TYPE_URL_PREFIX.length);
  let type: protobuf.Type;
  try {
    type = lookupMessage(messageName);
  } catch {
    throw new EnvoyConfigError(join(path, '@type'), 'a message type known to Envoy\'s API', typeUrl);
  }
  const { ['@type']: _typeUrl, ...rest } = value;
  const fullName = type.fullName.slice(1);
  const special = fullName in WRAPPERS || ['google.protobuf.Duration', 'google.protobuf.Timestamp', 'google.protobuf.Struct', 'google.protobuf.Value', 'google.protobuf.ListValue', 'google.protobuf.Any'].includes(fullName);
  if (special) {
    // Well-known types with a special JSON form sit in an Any as {"@type": ..., "value": <json>}.
    const keys = Object.keys(rest);
    if (keys.length !== 1 || keys[0] !== 'value') throw new EnvoyConfigError(path, `{"@type": "${typeUrl}", "value": ...}`, value);
    validateMessage(type, rest.value, join(path, 'value'));
    return;
  }
  validateMessage(type, rest, path);
}
