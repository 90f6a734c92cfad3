/**
 * Turns a CRD structural schema (OpenAPI v3 with Kubernetes extensions) into a JSON schema ajv
 * can compile, following
 * https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#specifying-a-structural-schema
 *
 * - `x-kubernetes-preserve-unknown-fields: true` keeps unknown fields; elsewhere an object with
 *   `properties` rejects unknown fields. (The API server would silently prune them instead; a
 *   deployer that renders a field the schema does not know has a bug, and we refuse to ship it.)
 * - `x-kubernetes-int-or-string: true` → integer or string.
 * - `x-kubernetes-list-type: set` → unique items; `map` → unique by `x-kubernetes-list-map-keys`.
 * - `x-kubernetes-validations` → CEL rules, checked by the `x-wasmesh-cel` keyword.
 */
export type JsonSchema = { [key: string]: unknown };

const isObject = (value: unknown): value is JsonSchema => typeof value === 'object' && value !== null && !Array.isArray(value);

export function toAjvSchema(node: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    switch (key) {
      case 'description':
      case 'x-kubernetes-embedded-resource':
      case 'x-kubernetes-map-type':
        break;
      case 'x-kubernetes-preserve-unknown-fields':
      case 'x-kubernetes-list-type':
      case 'x-kubernetes-list-map-keys':
      case 'x-kubernetes-int-or-string':
        break; // handled below
      case 'x-kubernetes-validations':
        out['x-wasmesh-cel'] = value;
        break;
      case 'properties':
        out.properties = Object.fromEntries(Object.entries(value as JsonSchema).map(([name, child]) => [name, toAjvSchema(child as JsonSchema)]));
        break;
      case 'items':
      case 'additionalProperties':
      case 'not':
        out[key] = isObject(value) ? toAjvSchema(value) : value;
        break;
      case 'allOf':
      case 'anyOf':
      case 'oneOf':
        // Structural schemas use these only to constrain which fields are set; the branches have no types.
        out[key] = (value as JsonSchema[]).map((branch) => toAjvSchema(branch));
        break;
      default:
        out[key] = value;
    }
  }
  if (node['x-kubernetes-int-or-string'] === true) {
    delete out.type;
    out.anyOf = [...((out.anyOf as JsonSchema[] | undefined) ?? []), { type: 'integer' }, { type: 'string' }];
    if ((out.anyOf as JsonSchema[]).length > 2) out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  if (node['x-kubernetes-list-type'] === 'set') out.uniqueItems = true;
  if (node['x-kubernetes-list-type'] === 'map' && Array.isArray(node['x-kubernetes-list-map-keys'])) {
    out['x-wasmesh-unique-by'] = node['x-kubernetes-list-map-keys'];
  }
  const structuralObject = out.type === 'object' && isObject(out.properties);
  if (structuralObject && node['x-kubernetes-preserve-unknown-fields'] !== true && out.additionalProperties === undefined) {
    out.additionalProperties = false;
  }
  return out;
}
