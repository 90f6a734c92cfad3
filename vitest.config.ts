import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/setup/build-wasm.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // 2-core machines: two workers keep CPU-heavy wasm tests from starving servers under test.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    reporters: ['default'],
  },
});
