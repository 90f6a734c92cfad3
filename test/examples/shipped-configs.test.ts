import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { validateEnvoyMessage } from '../../deployer/src/envoy/validate.js';
import { validateIstioResource } from '../../deployer/src/istio/validate.js';
import { repoRoot } from '../setup/paths.js';

// Every Envoy bootstrap and Istio manifest we ship is something a user copies: none of them can
// run here (no Envoy, no cluster), so each is validated against Envoy's API protos (unknown
// fields rejected) or the matching Istio CRD schema.
const filterDirs = readdirSync(path.join(repoRoot, 'filters'), { withFileTypes: true })
  .filter((e) => e.isDirectory() && existsSync(path.join(repoRoot, 'filters', e.name, 'assembly', 'index.ts')))
  .map((e) => e.name);

const bootstraps = [
  ...filterDirs.map((name) => `filters/${name}/envoy.yaml`),
  'envoy-configs/envoy.yaml',
];

const istioManifests = filterDirs.flatMap((name) => {
  const dir = path.join(repoRoot, 'filters', name, 'istio');
  return existsSync(dir) ? readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).map((f) => `filters/${name}/istio/${f}`) : [];
});

describe('examples: shipped configuration', () => {
  it.each(filterDirs)('examples: filters/%s has the standard shape (index.ts, config.ts, README.md, envoy.yaml, istio/)', (name) => {
    for (const file of ['assembly/index.ts', 'assembly/config.ts', 'README.md', 'envoy.yaml', 'istio']) {
      expect(existsSync(path.join(repoRoot, 'filters', name, file)), `filters/${name}/${file}`).toBe(true);
    }
  });

  it.each(bootstraps)('examples: %s is a valid envoy.config.bootstrap.v3.Bootstrap', (file) => {
    const bootstrap: unknown = parseAllDocuments(readFileSync(path.join(repoRoot, file), 'utf8'))[0]!.toJS();
    expect(() => validateEnvoyMessage('envoy.config.bootstrap.v3.Bootstrap', bootstrap)).not.toThrow();
  });

  it.each(istioManifests)('examples: every resource in %s validates against its Istio CRD schema', (file) => {
    const docs = parseAllDocuments(readFileSync(path.join(repoRoot, file), 'utf8')).map((d) => d.toJS() as unknown).filter((d) => d !== null);
    expect(docs.length).toBeGreaterThan(0);
    for (const doc of docs) expect(() => validateIstioResource(doc)).not.toThrow();
  });

  it('examples: a misspelt field in a bootstrap is refused with its path', () => {
    const bootstrap = parseAllDocuments(readFileSync(path.join(repoRoot, 'filters/example/envoy.yaml'), 'utf8'))[0]!.toJS() as { admin: Record<string, unknown> };
    bootstrap.admin.adress = bootstrap.admin.address;
    expect(() => validateEnvoyMessage('envoy.config.bootstrap.v3.Bootstrap', bootstrap)).toThrow(/at admin\.adress: unknown field; did you mean "address"\?/);
  });
});
