// `npm run gen:istio`: the tables that make the packaged Istio schemas as strict as Istio's CRDs
// (deployer/src/istio/packaged-strict.ts). Re-run after upgrading @kubernetes-models/istio or the
// shared testdata CRDs; test/istio/packaged-strict.test.ts fails while they are stale.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crdRulesFile, packagedFieldsFile, renderCrdRules, renderPackagedFields } from './istio-tables.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const sharedCrds = path.resolve(root, process.argv[2] ?? path.join('..', 'shared', 'testdata', 'istio', 'customresourcedefinitions.gen.yaml'));
writeFileSync(path.join(root, packagedFieldsFile), renderPackagedFields());
writeFileSync(path.join(root, crdRulesFile), renderCrdRules(sharedCrds));
process.stdout.write(`wrote ${packagedFieldsFile} and ${crdRulesFile} (from ${sharedCrds})\n`);
