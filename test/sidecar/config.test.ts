import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SidecarConfigError } from '../../deployer/src/sidecar/config/errors.js';
import { loadSidecarConfigFile } from '../../deployer/src/sidecar/config/validate.js';
import { repoRoot } from '../setup/paths.js';

const fixtures = path.join(repoRoot, 'test', 'fixtures', 'sidecar');

/** Each invalid fixture states the message it must produce on its first line (`# expect: ...`). */
const invalidCases = readdirSync(path.join(fixtures, 'invalid'))
  .filter((name) => name.endsWith('.yaml'))
  .sort()
  .map((name) => {
    const file = path.join(fixtures, 'invalid', name);
    const expected = /^# expect: (.+)$/m.exec(readFileSync(file, 'utf8'))?.[1];
    if (!expected) throw new Error(`${file}: first line must be "# expect: <message>"`);
    return { name, file, expected };
  });

describe('sidecar config validation', () => {
  it.each(invalidCases)('refuses $name naming the field', ({ file, expected }) => {
    let caught: unknown;
    try {
      loadSidecarConfigFile(file, repoRoot);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SidecarConfigError);
    const message = (caught as SidecarConfigError).message;
    expect(message.startsWith(`${file}: `)).toBe(true);
    expect(message).toContain(expected);
  });

  it.each([
    { name: 'its own tls settings', cluster: { url: 'https://127.0.0.1:8443', tls: { ca: 'ca.pem', cert: 'c.pem', key: 'k.pem', sni: 'up.local', subject_alt_names: ['spiffe://td/ns/a/sa/b'] } },
      expected: { caFile: 'ca.pem', certFile: 'c.pem', keyFile: 'k.pem', sni: 'up.local', subjectAltNames: ['spiffe://td/ns/a/sa/b'] } },
    { name: 'the sidecar\'s workload certificate', cluster: 'https://127.0.0.1:8443', expected: { caFile: 'client-ca.pem', certFile: 'server.pem', keyFile: 'server-key.pem' } },
  ])('resolves an https cluster\'s TLS from $name', ({ cluster, expected }) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sidecar-upstream-tls-'));
    for (const file of ['ca.pem', 'c.pem', 'k.pem', 'client-ca.pem', 'server.pem', 'server-key.pem']) writeFileSync(path.join(dir, file), 'PEM');
    const file = path.join(dir, 'sidecar.yaml');
    writeFileSync(file, JSON.stringify({
      listen: '127.0.0.1:15006', tls: { cert: 'server.pem', key: 'server-key.pem', client_ca: 'client-ca.pem' },
      clusters: { app: cluster }, routes: [{ match: { prefix: '/' }, cluster: 'app' }],
    }));
    const tls = loadSidecarConfigFile(file, dir).clusters.get('app')?.tls;
    const inDir = (name: string | undefined) => (name === undefined ? undefined : path.join(dir, name));
    expect(tls).toEqual({ ...expected, caFile: inDir(expected.caFile), certFile: inDir(expected.certFile), keyFile: inDir(expected.keyFile) });
  });

  it('reports a config file that does not exist', () => {
    expect(() => loadSidecarConfigFile(path.join(fixtures, 'nope.yaml'), repoRoot)).toThrow(/nope\.yaml: config file not found/);
  });

  it('applies Envoy defaults to a minimal config', () => {
    const config = loadSidecarConfigFile(path.join(fixtures, 'valid', 'minimal.yaml'), repoRoot);
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 15006 });
    expect(config.admin).toEqual({ host: '127.0.0.1', port: 15000 });
    expect(config.workers).toBe(1);
    expect(config.filters).toEqual([]);
    expect(config.clusters.get('app')?.connectTimeoutMs).toBe(5000);
    expect(config.routes[0]).toMatchObject({ name: 'route_0', path: { kind: 'prefix', value: '/' }, cluster: 'app', timeoutMs: 15000 });
  });

  it('resolves a full config: files, JSON configuration, clusters, matchers, timeouts', () => {
    const config = loadSidecarConfigFile(path.join(fixtures, 'valid', 'full.yaml'), repoRoot);
    expect(config.workers).toBe(2);
    expect(config.filters[0]).toEqual({
      name: 'example', rootId: 'example', vmId: 'example-vm',
      wasmFile: path.join(repoRoot, 'build', 'filters', 'example.wasm'),
      configuration: '{"any":"json"}', vmConfiguration: '', failOpen: false,
    });
    expect(config.clusters.get('admin_api')).toMatchObject({ connectTimeoutMs: 250 });
    expect(config.clusters.get('admin_api')?.url.href).toBe('http://127.0.0.1:9090/');
    expect(config.routes[0]).toMatchObject({ name: 'admin', timeoutMs: 2000, headers: [{ name: 'x-admin', match: { kind: 'exact', value: 'yes' }, invert: false }] });
    expect(config.routes[1]!.path.kind).toBe('regex');
    expect(config.routes[2]!.path).toEqual({ kind: 'path', value: '/exact' });
  });
});
