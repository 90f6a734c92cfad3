// npm postinstall: apply patches/ (the proxy-wasm SDK patches, patches/README.md) with
// patch-package in a checkout. An installed deployer package ships built filters and neither
// patches/ nor patch-package, so there is nothing to patch.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

if (existsSync('patches')) {
  const require = createRequire(import.meta.url);
  let bin;
  try {
    bin = require.resolve('patch-package/index.js');
  } catch {
    console.warn('postinstall: patches/ not applied: patch-package is not installed (npm ci installs it with the dev dependencies)');
    process.exit(0);
  }
  const result = spawnSync(process.execPath, [bin], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
