/**
 * ObjectMeta checks the API server makes before a CRD schema is even consulted
 * (k8s.io/apimachinery/pkg/api/validation/objectmeta.go): DNS-1123 names, qualified label keys,
 * label values, annotation size.
 */
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const TOTAL_ANNOTATION_BYTES = 256 * 1024;

export interface MetadataProblem {
  readonly path: string;
  readonly expected: string;
  readonly actual: unknown;
}

function checkQualifiedKey(key: string, path: string): MetadataProblem | undefined {
  const [prefix, name] = key.includes('/') ? key.split('/', 2) as [string, string] : [undefined, key];
  if (prefix !== undefined && (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) {
    return { path, expected: 'a key prefix that is a DNS-1123 subdomain', actual: key };
  }
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    return { path, expected: 'a qualified name (≤63 alphanumerics, "-", "_", ".", starting and ending alphanumeric)', actual: key };
  }
  return undefined;
}

export function metadataProblems(metadata: unknown, namespaced: boolean): MetadataProblem[] {
  if (typeof metadata !== 'object' || metadata === null) return [{ path: 'metadata', expected: 'an object with name', actual: metadata }];
  const meta = metadata as Record<string, unknown>;
  const problems: MetadataProblem[] = [];
  const name = meta.name;
  if (typeof name !== 'string' || name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    problems.push({ path: 'metadata.name', expected: 'a DNS-1123 subdomain (lowercase alphanumerics, "-", ".", ≤253 chars)', actual: name });
  }
  if (namespaced && meta.namespace !== undefined && (typeof meta.namespace !== 'string' || meta.namespace.length > 63 || !DNS1123_LABEL.test(meta.namespace))) {
    problems.push({ path: 'metadata.namespace', expected: 'a DNS-1123 label (lowercase alphanumerics and "-", ≤63 chars)', actual: meta.namespace });
  }
  const labels = meta.labels;
  if (labels !== undefined) {
    if (typeof labels !== 'object' || labels === null) problems.push({ path: 'metadata.labels', expected: 'a map of strings', actual: labels });
    else for (const [key, value] of Object.entries(labels)) {
      const keyProblem = checkQualifiedKey(key, `metadata.labels.${key}`);
      if (keyProblem) problems.push(keyProblem);
      if (typeof value !== 'string' || value.length > 63 || !LABEL_VALUE.test(value)) {
        problems.push({ path: `metadata.labels.${key}`, expected: 'a label value (≤63 alphanumerics, "-", "_", ".", starting and ending alphanumeric)', actual: value });
      }
    }
  }
  const annotations = meta.annotations;
  if (annotations !== undefined) {
    if (typeof annotations !== 'object' || annotations === null) problems.push({ path: 'metadata.annotations', expected: 'a map of strings', actual: annotations });
    else {
      let total = 0;
      for (const [key, value] of Object.entries(annotations)) {
        const keyProblem = checkQualifiedKey(key, `metadata.annotations.${key}`);
        if (keyProblem) problems.push(keyProblem);
        if (typeof value !== 'string') problems.push({ path: `metadata.annotations.${key}`, expected: 'a string', actual: value });
        else total += key.length + value.length;
      }
      if (total > TOTAL_ANNOTATION_BYTES) problems.push({ path: 'metadata.annotations', expected: `at most ${TOTAL_ANNOTATION_BYTES} bytes in total`, actual: `${total} bytes` });
    }
  }
  return problems;
}
