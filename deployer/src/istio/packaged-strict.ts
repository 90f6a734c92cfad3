import { celProblemMessage, evaluateRule } from './cel.js';
import { crdRulesFor, type CrdRuleSet } from './crd-rules.js';
import { packagedFields, type FieldNode } from './packaged-fields.js';
import { duplicateListMapEntry, unknownFieldMessage, withValueFound } from './problems.js';

/**
 * What makes the packaged schemas (crds-package.ts) as strict as Istio's CRDs: the package's
 * compiled validators check types, enums, required fields, formats and patterns but not unknown
 * fields, CEL rules or list-map keys. These come from two tables: the fields each kind declares,
 * derived from the package's own typings (packaged-fields.gen.ts), and Istio's CEL rules,
 * preserve-unknown-fields and list-map keys (crd-rules.gen.ts). Problems carry the same paths and
 * messages as the CRD path's (validate.ts), so both sources refuse a resource the same way.
 */
export interface StrictProblem {
  readonly path: string;
  readonly message: string;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const join = (path: string, key: string | number): string => (typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key);

export function packagedStrictProblems(resource: Json, group: string, version: string, kind: string, unknownFieldHint = ''): StrictProblem[] {
  const fields = packagedFields(group, version, kind);
  const sets = crdRulesFor(group, version, kind);
  const problems: StrictProblem[] = [];
  if (fields !== undefined) {
    const preserved = new Set(sets.filter((s) => s.preserveUnknownFields).map((s) => s.path));
    unknownFields(resource, fields, '', '', preserved, unknownFieldHint, problems);
  }
  for (const set of sets) {
    if (!set.rules && !set.listMapKeys) continue;
    for (const { value, path } of nodesAt(resource, set.path)) checkNode(set, value, path, problems);
  }
  return problems;
}

/** Every field the schema does not declare, at any depth, except under preserve-unknown-fields. */
function unknownFields(value: unknown, node: FieldNode, path: string, schemaPath: string, preserved: ReadonlySet<string>, hint: string, out: StrictProblem[]): void {
  if (node === 0 || node === 1 || preserved.has(schemaPath)) return;
  if ('items' in node) {
    if (Array.isArray(value)) value.forEach((item, i) => unknownFields(item, node.items, join(path, i), `${schemaPath}[]`, preserved, hint, out));
  } else if ('values' in node) {
    if (isObject(value)) for (const [key, child] of Object.entries(value)) unknownFields(child, node.values, join(path, key), `${schemaPath}{}`, preserved, hint, out);
  } else if (isObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      const declared = node.fields[key];
      if (declared === undefined) out.push({ path: join(path, key), message: unknownFieldMessage(key, Object.keys(node.fields), hint) });
      else unknownFields(child, declared, join(path, key), join(schemaPath, key), preserved, hint, out);
    }
  }
}

/** The values a table path (`spec.rules[].from[].source`, `…matchLabels{}`) names in a resource, with their concrete paths. */
function nodesAt(root: unknown, tablePath: string): { value: unknown; path: string }[] {
  let nodes: { value: unknown; path: string }[] = [{ value: root, path: '' }];
  for (const token of tablePath.match(/[^.[\]{}]+|\[\]|\{\}/g) ?? []) {
    nodes = nodes.flatMap(({ value, path }) => {
      if (token === '[]') return Array.isArray(value) ? value.map((item, i) => ({ value: item, path: join(path, i) })) : [];
      if (token === '{}') return isObject(value) ? Object.entries(value).map(([key, item]) => ({ value: item, path: join(path, key) })) : [];
      return isObject(value) && value[token] !== undefined ? [{ value: value[token], path: join(path, token) }] : [];
    });
  }
  return nodes;
}

function checkNode(set: CrdRuleSet, value: unknown, path: string, out: StrictProblem[]): void {
  for (const { rule, message } of set.rules ?? []) {
    const outcome = evaluateRule(rule, value);
    if (!outcome.ok) out.push({ path, message: withValueFound(celProblemMessage(rule, message, outcome.reason), value) });
  }
  const duplicate = set.listMapKeys && duplicateListMapEntry(set.listMapKeys, value);
  if (duplicate) out.push({ path, message: duplicate });
}
