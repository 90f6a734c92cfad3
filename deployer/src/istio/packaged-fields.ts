import { PACKAGED_FIELDS } from './packaged-fields.gen.js';

/** Which fields a schema node declares (scripts/istio-packaged-fields.ts derives these). */
export type FieldNode =
  /** A scalar (string, number, boolean, enum, int-or-string). */
  | 0
  /** An object that takes any field (`x-kubernetes-preserve-unknown-fields`). */
  | 1
  | { readonly fields: Readonly<Record<string, FieldNode>> }
  | { readonly items: FieldNode }
  /** A map (`additionalProperties`): any key, each value of this shape. */
  | { readonly values: FieldNode };

/** The declared fields of one packaged kind (packaged-fields.gen.ts), or undefined for a kind it lacks. */
export function packagedFields(group: string, version: string, kind: string): FieldNode | undefined {
  return PACKAGED_FIELDS[`${group}/${version}/${kind}`];
}
