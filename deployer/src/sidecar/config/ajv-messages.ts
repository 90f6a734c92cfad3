import type { ErrorObject } from 'ajv';
import { describeValue, fieldPath } from './errors.js';

/** ajv's JSON pointer (`/filters/0/vm_config`) → YAML field path (`filters[0].vm_config`). */
export function pointerToField(pointer: string): string {
  if (pointer === '') return '';
  const segments = pointer.slice(1).split('/').map((raw) => {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    return /^[0-9]+$/.test(segment) ? Number(segment) : segment;
  });
  return fieldPath(segments);
}

function child(parent: string, name: string): string {
  return parent === '' ? name : `${parent}.${name}`;
}

/**
 * One ajv error rewritten for a person editing the YAML: the field it is about and what was
 * expected there. ajv's own messages ("must NOT have additional properties") name neither.
 */
export function describeAjvError(error: ErrorObject, value: unknown): { field: string; problem: string } {
  const field = pointerToField(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { field: child(field, String(params.missingProperty)), problem: 'is required but missing' };
    case 'additionalProperties': {
      const allowed = Object.keys((error.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {});
      return {
        field: child(field, String(params.additionalProperty)),
        problem: `unknown field; expected one of: ${allowed.join(', ')}`,
      };
    }
    case 'type':
      return { field, problem: `expected ${String(params.type)}, got ${describeValue(value)}` };
    case 'minimum':
    case 'maximum':
      return { field, problem: `expected a value ${error.keyword === 'minimum' ? '>=' : '<='} ${String(params.limit)}, got ${describeValue(value)}` };
    case 'minLength':
      return { field, problem: 'expected a non-empty string' };
    case 'minItems':
      return { field, problem: `expected at least ${String(params.limit)} entr${params.limit === 1 ? 'y' : 'ies'}` };
    case 'minProperties':
      return { field, problem: `expected at least ${String(params.limit)} entr${params.limit === 1 ? 'y' : 'ies'}` };
    case 'pattern':
      return { field, problem: `expected a duration such as "15s" or "0.25s", got ${describeValue(value)}` };
    case 'anyOf':
      return { field, problem: `expected a URL string such as "http://127.0.0.1:8080" or {url, connect_timeout}, got ${describeValue(value)}` };
    default:
      return { field, problem: `${error.message ?? 'is invalid'} (got ${describeValue(value)})` };
  }
}

/** The value at an ajv instance path, for quoting it back in the message. */
export function valueAt(root: unknown, pointer: string): unknown {
  if (pointer === '') return root;
  let current: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
