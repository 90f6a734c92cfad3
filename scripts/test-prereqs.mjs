// npm pretest: the system programs the tests start or call, located or installed, so that
// `npm ci && npm test` works on a fresh Debian/Ubuntu machine:
//   docker-registry — CNCF distribution, the real OCI registry the push/pull tests run on loopback
//                     (WASMESH_REGISTRY_BINARY overrides its path);
//   openssl         — the registry token-auth test signs its token certificate with it;
//   docker-compose  — Compose v1 parses envoy-configs/docker-compose.yml with no engine running
//                     (test/envoy/compose.test.ts), the check that the compose file is valid.
// Installed with apt-get when running as root; otherwise one line says what is missing and how to
// get it, and the tests that need it fail naming it.
import { accessSync, constants, existsSync, writeFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const REQUIRED = [
  { pkg: 'docker-registry', binary: process.env.WASMESH_REGISTRY_BINARY ?? '/usr/bin/docker-registry' },
  { pkg: 'openssl', binary: 'openssl' },
  { pkg: 'docker-compose', binary: 'docker-compose' },
];

function onPath(binary) {
  if (binary.includes('/')) return isExecutable(binary);
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir && isExecutable(path.join(dir, binary)));
}

function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const run = (command, args) => spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;

const missing = REQUIRED.filter((r) => !onPath(r.binary));
if (missing.length === 0) process.exit(0);
const names = missing.map((m) => m.pkg).join(' ');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot || !onPath('apt-get')) {
  console.warn(`pretest: ${names} not found and not installable here (${isRoot ? 'no apt-get' : 'not root'}): install the Debian package(s) ${names} (sudo apt-get install ${names}); the tests that need them fail naming them`);
  process.exit(0);
}
console.log(`pretest: installing ${names} (apt-get)`);
// The registry package's service must not start here: the tests start their own registry on a
// free port. policy-rc.d exit 101 tells the package scripts not to start services.
const policy = '/usr/sbin/policy-rc.d';
const createdPolicy = !existsSync(policy);
if (createdPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
try {
  const ok = run('apt-get', ['update', '-qq']) && run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing.map((m) => m.pkg)]);
  if (!ok) console.warn(`pretest: apt-get could not install ${names}: the tests that need them fail naming them`);
} finally {
  if (createdPolicy) rmSync(policy, { force: true });
}
