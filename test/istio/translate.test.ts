import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configFromIstio, parseIstioResources, translateResources, type TranslatorEntry } from '../../deployer/src/translate/index.js';

const policies = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'render', 'policies');
const read = (name: string) => readFileSync(path.join(policies, name), 'utf8');

/** A stand-in translator: records what it was given, so the registry's dispatch is what is tested. */
const fakeRegistry: readonly TranslatorEntry[] = [
  { kind: 'AuthorizationPolicy', filter: 'rbac', translate: (rs) => ({ policies: rs.map((r) => r.metadata.name) }) },
];

describe('translate registry', () => {
  it('translate: resources are validated against their CRD first (fail closed on a bad policy)', () => {
    expect(() => parseIstioResources(read('invalid-authz.yaml'), 'invalid-authz.yaml')).toThrow(/AuthorizationPolicy "typo" is invalid: spec\.action: expected one of/);
  });

  it('translate: each kind goes to its registered translator, naming the sources', () => {
    const result = translateResources(parseIstioResources(read('authz.yaml')), fakeRegistry);
    expect(result).toEqual([{ filter: 'rbac', kind: 'AuthorizationPolicy', sources: ['shop/reviews-viewer'], config: { policies: ['reviews-viewer'] } }]);
  });

  it.each([
    ['telemetry.yaml', 'rbac', /Telemetry "mesh-default": no translator for this kind: expected one of AuthorizationPolicy \(→ rbac\)/],
    ['authz.yaml', 'jwt-auth', /nothing in it configures filter "jwt-auth"/],
  ])('translate: %s for filter %s is refused with the reason', (file, filter, message) => {
    expect(() => configFromIstio(read(file), filter, file, fakeRegistry)).toThrow(message);
  });

  it('translate: an empty input is an error, not an empty config', () => {
    expect(() => parseIstioResources('# nothing\n', 'empty.yaml')).toThrow(/no Istio resources found/);
  });
});
