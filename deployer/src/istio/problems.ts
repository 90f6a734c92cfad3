import { didYouMean } from '../envoy/suggest.js';

/**
 * Messages shared by both sources of Istio schemas (a CRD file, validate.ts; the packaged
 * schemas, packaged-strict.ts), so a resource is refused in the same words whichever is used.
 */
export function unknownFieldMessage(field: string, declared: readonly string[], hint = ''): string {
  const suggestion = didYouMean(field, declared);
  return suggestion ? `unknown field${suggestion}` : `unknown field: expected only fields declared by the CRD schema${hint}`;
}

/** `x-kubernetes-list-type: map`: no two items with the same key fields; the message, or undefined. */
export function duplicateListMapEntry(keys: readonly string[], data: unknown): string | undefined {
  if (!Array.isArray(data)) return undefined;
  const seen = new Set<string>();
  for (const item of data) {
    const id = JSON.stringify(keys.map((k) => (item as Record<string, unknown> | null)?.[k]));
    if (seen.has(id)) return `duplicate entry for list-map keys ${keys.join(', ')} = ${id}`;
    seen.add(id);
  }
  return undefined;
}

/** A message about a scalar value ends with the value found, as ajv's other messages do. */
export function withValueFound(message: string, data: unknown): string {
  return data !== undefined && (typeof data !== 'object' || data === null) ? `${message}, got ${JSON.stringify(data)}` : message;
}
