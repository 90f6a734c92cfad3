import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultDockerConfigPath, resolveCredentials } from '../../deployer/src/oci/credentials.js';
import { ociFixture } from './support/fixtures.js';

const dockerConfig = (name: string): string => ociFixture(join('docker-config', name));

describe('resolveCredentials', () => {
  it.each([
    { name: 'legacy https://host/v1/ key with a colon in the password', file: 'legacy-url-key.json', registry: 'registry.example.com', expected: { username: 'alice', password: 's3cr3t:with-colon' } },
    { name: 'username/password fields', file: 'username-password.json', registry: 'registry.example.com', expected: { username: 'bob', password: 'hunter2' } },
    { name: 'index.docker.io key for docker.io', file: 'docker-hub.json', registry: 'docker.io', expected: { username: 'carol', password: 'dockerhub' } },
    { name: 'no entry for the host (anonymous)', file: 'other-host.json', registry: 'registry.example.com', expected: undefined },
  ])('reads Docker config.json: $name', async ({ file, registry, expected }) => {
    expect(await resolveCredentials(registry, { dockerConfigPath: dockerConfig(file), env: {} })).toEqual(expected);
  });

  it.each([
    { file: 'malformed-auth.json', error: 'auths["registry.example.com"].auth must be base64("username:password")' },
    { file: 'not-json.json', error: 'is not valid JSON' },
    { file: 'does-not-exist.json', error: 'could not read Docker config' },
  ])('explains a broken Docker config ($file)', async ({ file, error }) => {
    await expect(resolveCredentials('registry.example.com', { dockerConfigPath: dockerConfig(file), env: {} })).rejects.toThrow(error);
  });

  it('prefers explicit credentials, then DEPLOYER_REGISTRY_*, then the Docker config', async () => {
    const path = dockerConfig('username-password.json');
    const explicit = { username: 'flag', password: 'p' };
    const env = { DEPLOYER_REGISTRY_USERNAME: 'env', DEPLOYER_REGISTRY_PASSWORD: 'q' };
    expect(await resolveCredentials('registry.example.com', { credentials: explicit, dockerConfigPath: path, env })).toEqual(explicit);
    expect(await resolveCredentials('registry.example.com', { dockerConfigPath: path, env })).toEqual({ username: 'env', password: 'q' });
    expect(await resolveCredentials('registry.example.com', { dockerConfigPath: path, env: {} })).toEqual({ username: 'bob', password: 'hunter2' });
  });

  it('refuses a username without a password in the environment', async () => {
    await expect(resolveCredentials('r.example.com', { env: { DEPLOYER_REGISTRY_USERNAME: 'u' } })).rejects.toThrow('DEPLOYER_REGISTRY_PASSWORD is not');
  });

  describe('default location', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'wasmesh-docker-config-'));
      await writeFile(join(dir, 'config.json'), JSON.stringify({ auths: { 'r.example.com': { auth: Buffer.from('dee:x').toString('base64') } } }));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('honours DOCKER_CONFIG and treats a missing default file as anonymous', async () => {
      expect(defaultDockerConfigPath({ DOCKER_CONFIG: dir })).toBe(join(dir, 'config.json'));
      expect(await resolveCredentials('r.example.com', { env: { DOCKER_CONFIG: dir } })).toEqual({ username: 'dee', password: 'x' });
      expect(await resolveCredentials('r.example.com', { env: { DOCKER_CONFIG: join(dir, 'missing') } })).toBeUndefined();
    });
  });
});
