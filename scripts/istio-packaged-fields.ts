/**
 * Derives, from the typings of @kubernetes-models/istio, which fields each Istio kind declares at
 * every depth: the package's compiled validators do not check unknown fields (its generator drops
 * `additionalProperties: false`), but its typings, generated from the same CRD schemas, list every
 * field. `npm run gen:istio` writes the result to deployer/src/istio/packaged-fields.gen.ts;
 * test/istio/packaged-strict.test.ts fails when that file is stale against the installed package.
 *
 * The typings' shapes, as the kubernetes-models generator writes them:
 * - an object schema with `properties` → a type literal with one property signature per field
 * - `additionalProperties: {…}` (a map) → a type literal with a `[key: string]: T` index signature
 * - an object without properties (`x-kubernetes-preserve-unknown-fields`, e.g. WasmPlugin
 *   pluginConfig, EnvoyFilter patch.value) → `{}`: any field
 * - `oneOf`/`not` (Istio's proto oneofs) → `A & (Exclude<A, B> | …)`, all over the same fields
 * - `items` → `Array<T>`; `x-kubernetes-int-or-string` and enums → unions of keywords/literals
 */
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import type { FieldNode } from '../deployer/src/istio/packaged-fields.js';

/** The fields the root of every kind has beside those of its typings, checked by istio/metadata.ts. */
const TYPE_META = ['apiVersion', 'kind', 'metadata'];

function merge(a: FieldNode, b: FieldNode): FieldNode {
  if (a === 0) return b;
  if (b === 0) return a;
  if (a === 1 || b === 1) return 1;
  if ('fields' in a && 'fields' in b) {
    const fields: Record<string, FieldNode> = { ...a.fields };
    for (const [name, node] of Object.entries(b.fields)) fields[name] = name in fields ? merge(fields[name]!, node) : node;
    return { fields };
  }
  if ('items' in a && 'items' in b) return { items: merge(a.items, b.items) };
  if ('values' in a && 'values' in b) return { values: merge(a.values, b.values) };
  throw new Error(`cannot merge ${JSON.stringify(a).slice(0, 80)} with ${JSON.stringify(b).slice(0, 80)}`);
}

function nodeOf(type: ts.TypeNode, where: string): FieldNode {
  if (ts.isParenthesizedTypeNode(type)) return nodeOf(type.type, where);
  if (ts.isUnionTypeNode(type) || ts.isIntersectionTypeNode(type)) {
    return type.types.map((t) => nodeOf(t, where)).reduce(merge, 0);
  }
  if (ts.isTypeReferenceNode(type)) {
    const name = type.typeName.getText();
    const args = type.typeArguments ?? [];
    if (name === 'Array') return { items: nodeOf(args[0]!, `${where}[]`) };
    // Exclude<A, B> narrows which combinations of A's fields are allowed (a oneof); A has them all.
    if (name === 'Exclude') return nodeOf(args[0]!, where);
    throw new Error(`${where}: unexpected type reference ${name} in the package's typings`);
  }
  if (ts.isTypeLiteralNode(type)) {
    if (type.members.length === 0) return 1;
    const index = type.members.find(ts.isIndexSignatureDeclaration);
    if (index) return { values: nodeOf(index.type, `${where}{}`) };
    const fields: Record<string, FieldNode> = {};
    for (const member of type.members) {
      if (!ts.isPropertySignature(member) || !member.type) throw new Error(`${where}: unexpected member ${member.getText()}`);
      const name = ts.isStringLiteral(member.name) ? member.name.text : member.name.getText();
      fields[name] = nodeOf(member.type, `${where}.${name}`);
    }
    return { fields };
  }
  if (ts.isArrayTypeNode(type)) return { items: nodeOf(type.elementType, `${where}[]`) };
  // Keywords (string, number, boolean) and literal types: a scalar.
  if (ts.isLiteralTypeNode(type) || type.kind === ts.SyntaxKind.StringKeyword || type.kind === ts.SyntaxKind.NumberKeyword || type.kind === ts.SyntaxKind.BooleanKeyword) return 0;
  throw new Error(`${where}: unexpected type ${ts.SyntaxKind[type.kind]} in the package's typings`);
}

/** The field tree of one kind from its typings file (`<group>/<version>/<Kind>.d.ts`). */
export function fieldsFromTypings(file: string, kind: string): FieldNode {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const iface = source.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === `I${kind}`);
  if (!iface) throw new Error(`${file}: no interface I${kind}`);
  const fields: Record<string, FieldNode> = {};
  for (const member of iface.members) {
    if (!ts.isPropertySignature(member) || !member.type) continue;
    const name = ts.isStringLiteral(member.name) ? member.name.text : member.name.getText();
    fields[name] = TYPE_META.includes(name) ? 1 : nodeOf(member.type, `${kind}.${name}`);
  }
  for (const name of TYPE_META) fields[name] ??= 1;
  return { fields };
}
