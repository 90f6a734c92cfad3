import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RegistryAuthError } from '../../deployer/src/oci/errors.js';
import { pullWasmImage } from '../../deployer/src/oci/pull.js';
import { pushWasmImage } from '../../deployer/src/oci/push.js';
import { type RunningRegistry, startRegistry } from '../support/registry.js';
import { builtExampleFilter } from './support/fixtures.js';
import { type TokenServer, startTokenServer } from './support/token-server.js';

const user = { username: 'wasmesh', password: 'correct horse battery staple' };
const wasm = builtExampleFilter();

describe('oci basic auth (htpasswd) against a real registry', () => {
  let registry: RunningRegistry;
  let workDir: string;
  beforeAll(async () => {
    registry = await startRegistry({ htpasswd: [user] });
    workDir = await mkdtemp(join(tmpdir(), 'wasmesh-auth-'));
    await writeFile(join(workDir, 'empty.json'), '{"auths":{}}');
  });
  afterAll(async () => {
    await registry?.stop();
    await rm(workDir, { recursive: true, force: true });
  });
  afterEach(() => {
    delete process.env.DEPLOYER_REGISTRY_USERNAME;
    delete process.env.DEPLOYER_REGISTRY_PASSWORD;
  });

  it('pushes and pulls with credentials given as options', async () => {
    const pushed = await pushWasmImage({ wasm, reference: `${registry.host}/auth/basic:v1`, format: 'compat', credentials: user });
    const pulled = await pullWasmImage(`${registry.host}/auth/basic:v1`, { credentials: user });
    expect(pulled.manifestDigest).toBe(pushed.manifestDigest);
  });

  it('uses DEPLOYER_REGISTRY_USERNAME/PASSWORD when no credentials are given', async () => {
    process.env.DEPLOYER_REGISTRY_USERNAME = user.username;
    process.env.DEPLOYER_REGISTRY_PASSWORD = user.password;
    const pushed = await pushWasmImage({ wasm, reference: `${registry.host}/auth/env:v1`, format: 'oci', dockerConfigPath: join(workDir, 'empty.json') });
    expect(pushed.manifestDigest).toMatch(/^sha256:/);
  });

  it('uses auths[host].auth from a Docker config.json', async () => {
    const configPath = join(workDir, 'config.json');
    const auth = Buffer.from(`${user.username}:${user.password}`).toString('base64');
    await writeFile(configPath, JSON.stringify({ auths: { [registry.host]: { auth } } }));
    const pushed = await pushWasmImage({ wasm, reference: `${registry.host}/auth/docker-config:v1`, format: 'oci', dockerConfigPath: configPath });
    const pulled = await pullWasmImage(`${registry.host}/auth/docker-config:v1`, { dockerConfigPath: configPath });
    expect(pulled.wasmSha256).toBe(pushed.wasmSha256);
  });

  it.each([
    { name: 'a wrong password', credentials: { username: user.username, password: 'wrong' }, detail: 'rejected the credentials of user "wasmesh"' },
    { name: 'no credentials', credentials: undefined, detail: 'requires credentials and none were given' },
  ])('fails with a clear 401 error on $name', async ({ credentials, detail }) => {
    const push = pushWasmImage({ wasm, reference: `${registry.host}/auth/denied:v1`, format: 'compat', credentials, dockerConfigPath: join(workDir, 'empty.json') });
    await expect(push).rejects.toBeInstanceOf(RegistryAuthError);
    await expect(push).rejects.toThrow(`authentication to ${registry.host} failed (401): the registry ${detail}`);
  });
});

describe('oci bearer token auth against a real registry and an in-test token service', () => {
  let registry: RunningRegistry;
  let tokens: TokenServer;
  let workDir: string;
  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'wasmesh-token-'));
    tokens = await startTokenServer(workDir, [user, { username: 'reader', password: 'r', allowedActions: ['pull'] }]);
    registry = await startRegistry({ token: tokens });
  });
  afterAll(async () => {
    await registry?.stop();
    await tokens?.stop();
    await rm(workDir, { recursive: true, force: true });
  });

  it('follows the WWW-Authenticate challenge to the token endpoint and pushes/pulls', async () => {
    const pushed = await pushWasmImage({ wasm, reference: `${registry.host}/token/example:v1`, format: 'oci', credentials: user });
    const pulled = await pullWasmImage(`${registry.host}/token/example:v1`, { credentials: user });
    expect(pulled.manifestDigest).toBe(pushed.manifestDigest);
    // distribution lists the actions of a challenge scope in map order: compare them as sets.
    const scopes = tokens.requestedScopes.map((scope) => scope.split(':').map((part, index) => (index === 2 ? part.split(',').sort().join(',') : part)).join(':'));
    expect(scopes).toContain('repository:token/example:pull,push');
    expect(scopes).toContain('repository:token/example:pull');
  });

  it('names the missing access when the token does not grant push', async () => {
    const push = pushWasmImage({ wasm, reference: `${registry.host}/token/readonly:v1`, format: 'oci', credentials: { username: 'reader', password: 'r' } });
    await expect(push).rejects.toThrow(
      new RegExp(`^authentication to ${registry.host.replace(/\./g, '\\.')} failed \\(401\\): the token issued for user "reader" lacks repository:token/readonly:(pull,push|push,pull) access \\(insufficient_scope\\); check `),
    );
  });

  it('reports a token endpoint refusal as an authentication failure', async () => {
    const push = pushWasmImage({ wasm, reference: `${registry.host}/token/denied:v1`, format: 'oci', credentials: { username: user.username, password: 'nope' } });
    await expect(push).rejects.toThrow(`authentication to ${registry.host} failed (401): user "wasmesh" was rejected by the token endpoint`);
  });
});
