import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The tests validate against Istio's full CRDs (unknown fields, CEL rules) from the shared test
// data beside the checkout; the product itself defaults to the schemas of @kubernetes-models/istio
// (deployer/src/istio/crds.ts), which test/istio/crds-package.test.ts cross-checks against them.
const sharedCrds = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'shared', 'testdata', 'istio', 'customresourcedefinitions.gen.yaml');
const crdEnv: Record<string, string> = !process.env.DEPLOYER_ISTIO_CRDS && existsSync(sharedCrds) ? { DEPLOYER_ISTIO_CRDS: sharedCrds } : {};

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/build-wasm.ts'],
    env: crdEnv,
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // 2-core machines: two workers keep CPU-heavy wasm tests from starving servers under test.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    reporters: ['default'],
  },
});
