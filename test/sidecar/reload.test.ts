/**
 * Issue #16 finding 7: live reload over real sockets. `sidecar.reload(config)` swaps the chain
 * between requests (in-flight streams finish on the old one); the file watcher reloads edits of
 * the config and refuses bad ones with the file and field named, the last good config serving.
 */
import http from 'node:http';
import http2 from 'node:http2';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadRunConfig } from '../../deployer/src/cli/commands/run.js';
import { startConfigReloader, type ConfigReloader } from '../../deployer/src/sidecar/reloader.js';
import { SidecarReloadError } from '../../deployer/src/sidecar/sidecar.js';
import { builtFilter } from '../setup/paths.js';
import { request1, sidecarConfig, startTestSidecar, startUpstream, type StartedSidecar, type TestUpstream } from './helpers.js';

const exampleFilter = (generation: string) => ({
  name: 'example', root_id: 'example',
  vm_config: { code: { local: { filename: builtFilter('example') } } },
  configuration: { response_headers: { 'x-generation': generation } },
});

/** An upstream that holds `/slow` until `release()`, and answers anything else at once. */
async function slowUpstream(name: string): Promise<TestUpstream & { release(): void; held(): Promise<void> }> {
  let release: () => void = () => undefined;
  let held: () => void = () => undefined;
  const heldPromise = new Promise<void>((resolve) => { held = resolve; });
  const upstream = await startUpstream((req, res) => {
    const answer = () => res.writeHead(200, { 'x-upstream': name, 'content-type': 'text/plain' }).end(`${name} ${req.url}\n`);
    if (req.url === '/slow') {
      release = answer;
      held();
    } else {
      answer();
    }
  });
  return Object.assign(upstream, { release: () => release(), held: () => heldPromise });
}

describe('sidecar reload(config)', () => {
  let a: Awaited<ReturnType<typeof slowUpstream>>;
  let b: TestUpstream;
  let sidecar: StartedSidecar | undefined;
  beforeAll(async () => {
    a = await slowUpstream('a');
    b = await startUpstream((req, res) => res.writeHead(200, { 'x-upstream': 'b' }).end(`b ${req.url}\n`));
  });
  afterAll(async () => { await a.close(); await b.close(); });
  afterEach(async () => { await sidecar?.close(); sidecar = undefined; });

  it('finishes an in-flight slow request on the old chain and route; new requests take the new ones; none fails', async () => {
    sidecar = await startTestSidecar(sidecarConfig({
      filters: [exampleFilter('1')],
      clusters: { a: a.url, b: b.url },
      routes: [{ match: { prefix: '/' }, cluster: 'a' }],
    }));
    // A keep-alive connection that stays open across the reload: it must not be dropped.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const viaAgent = (p: string) => new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
      http.get(`${sidecar!.url}${p}`, { agent }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => { body += c.toString(); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      }).on('error', reject);
    });
    expect((await viaAgent('/before')).headers['x-generation']).toBe('1');

    const slow = request1(`${sidecar.url}/slow`);
    await a.held();
    const result = await sidecar.reload(sidecarConfig({
      filters: [exampleFilter('2')],
      clusters: { a: a.url, b: b.url },
      routes: [{ match: { prefix: '/' }, cluster: 'b' }],
    }));
    expect(result).toMatchObject({ version: 2, loadedFilters: ['example'], reusedFilters: [] });
    expect(sidecar.version).toBe(2);

    const after = await viaAgent('/after');
    expect(after).toMatchObject({ status: 200, body: 'b /after\n' });
    expect(after.headers['x-generation']).toBe('2');

    a.release();
    const old = await slow;
    expect(old.status).toBe(200);
    expect(old.body).toBe('a /slow\n');
    expect(old.headers['x-generation']).toBe('1');
    agent.destroy();
    expect(sidecar.accessLog.every((line) => / 200 /.test(line))).toBe(true);
  });

  it('fails no request of a steady keep-alive load across five reloads', async () => {
    const config = (generation: number) => sidecarConfig({ filters: [exampleFilter(String(generation))], clusters: { b: b.url }, routes: [{ match: { prefix: '/' }, cluster: 'b' }] });
    sidecar = await startTestSidecar(config(1));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    const statuses: number[] = [];
    const generations = new Set<string>();
    let stop = false;
    const client = async () => {
      while (!stop) {
        const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
          http.get(`${sidecar!.url}/load`, { agent }, (r) => { r.resume(); r.on('end', () => resolve(r)); }).on('error', reject);
        });
        statuses.push(res.statusCode ?? 0);
        generations.add(String(res.headers['x-generation']));
      }
    };
    const clients = Array.from({ length: 4 }, client);
    for (let generation = 2; generation <= 6; generation++) {
      await new Promise((r) => setTimeout(r, 30));
      await sidecar.reload(config(generation));
    }
    await new Promise((r) => setTimeout(r, 30));
    stop = true;
    await Promise.all(clients);
    agent.destroy();
    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(generations.has('1') && generations.has('6')).toBe(true);
  });

  it('keeps the running plugin (no new VMs) when only routes change', async () => {
    sidecar = await startTestSidecar(sidecarConfig({ filters: [exampleFilter('1')], clusters: { a: a.url, b: b.url }, routes: [{ match: { prefix: '/' }, cluster: 'a' }] }));
    const before = sidecar.plugins[0];
    const result = await sidecar.reload(sidecarConfig({ filters: [exampleFilter('1')], clusters: { a: a.url, b: b.url }, routes: [{ match: { prefix: '/' }, cluster: 'b' }] }));
    expect(result.reusedFilters).toEqual(['example']);
    expect(sidecar.plugins[0]).toBe(before);
    const res = await request1(`${sidecar.url}/x`);
    expect([res.body, res.headers['x-generation']]).toEqual(['b /x\n', '1']);
  });

  it.each([
    ['a filter that refuses its configuration', { filters: [{ ...exampleFilter('2'), configuration: { bogus: 1 } }] }, /^filters\[0\] \(example\): could not load .*unknown field "bogus"/, 'filters[0]'],
    ['a module that is not wasm', { filters: [{ ...exampleFilter('2'), vm_config: { code: { local: { filename: 'package.json' } } } }] }, /^filters\[0\] \(example\): could not load .*package\.json/, 'filters[0]'],
    ['a different listen address', { listen: '127.0.0.1:1' }, /^listen: 127\.0\.0\.1:1 differs from the running listener's 127\.0\.0\.1:0/, 'listen'],
  ])('refuses %s and keeps serving the running configuration', async (_name, change, message, field) => {
    sidecar = await startTestSidecar(sidecarConfig({ filters: [exampleFilter('1')], clusters: { a: a.url }, routes: [{ match: { prefix: '/' }, cluster: 'a' }] }));
    const error = await sidecar.reload(sidecarConfig({ filters: [exampleFilter('2')], clusters: { a: a.url }, routes: [{ match: { prefix: '/' }, cluster: 'a' }], ...change })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SidecarReloadError);
    expect((error as SidecarReloadError).message).toMatch(message);
    expect((error as SidecarReloadError).field).toBe(field);
    expect(sidecar.version).toBe(1);
    expect((await request1(`${sidecar.url}/x`)).headers['x-generation']).toBe('1');
  });

  it('shows the version in force in /config_dump', async () => {
    sidecar = await startTestSidecar(sidecarConfig({ clusters: { a: a.url }, routes: [{ match: { prefix: '/' }, cluster: 'a' }] }));
    await sidecar.reload(sidecarConfig({ filters: [exampleFilter('2')], clusters: { a: a.url }, routes: [{ match: { prefix: '/' }, cluster: 'a' }] }));
    const dump = await (await fetch(`${sidecar.adminUrl}/config_dump`)).json() as { version_info: string; filters: { name: string }[] };
    expect(dump.version_info).toBe('2');
    expect(dump.filters.map((f) => f.name)).toEqual(['example']);
    // From no filters (pass-through) to a wasm chain: the host is created on demand.
    expect((await request1(`${sidecar.url}/x`)).headers['x-generation']).toBe('2');
  });
});

describe('sidecar live reload from the watched config file', () => {
  let upstream: TestUpstream;
  let sidecar: StartedSidecar | undefined;
  let reloader: ConfigReloader | undefined;
  beforeAll(async () => { upstream = await startUpstream((req, res) => res.writeHead(200).end(`ok ${req.url}\n`)); });
  afterAll(async () => { await upstream.close(); });
  afterEach(async () => { reloader?.close(); await sidecar?.close(); sidecar = undefined; });

  const yaml = (generation: string, extra: Record<string, unknown> = {}) => stringify({
    listen: '127.0.0.1:0', admin: '127.0.0.1:0',
    filters: [exampleFilter(generation)],
    clusters: { app: upstream.url },
    routes: [{ match: { prefix: '/' }, cluster: 'app' }],
    ...extra,
  });
  async function start(): Promise<{ file: string; notes: string[]; waitFor(pattern: RegExp): Promise<string> }> {
    const dir = await mkdtemp(path.join(tmpdir(), 'wasmesh-reload-'));
    const file = path.join(dir, 'sidecar.yaml');
    await writeFile(file, yaml('1'));
    const notes: string[] = [];
    const flags = { config: file, accessLog: '-', logLevel: 'info', namespace: 'default' };
    const loaded = loadRunConfig(flags, () => undefined);
    sidecar = await startTestSidecar(loaded.config);
    reloader = startConfigReloader(sidecar, () => loadRunConfig(flags, () => undefined), loaded.inputs, { note: (line) => notes.push(line), debounceMs: 300 });
    const waitFor = async (pattern: RegExp) => {
      for (let i = 0; i < 200; i++) {
        const hit = notes.find((n) => pattern.test(n));
        if (hit) return hit;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`no note matching ${pattern}; got:\n${notes.join('\n')}`);
    };
    return { file, notes, waitFor };
  }

  it('applies a valid edit (saved by rename, as editors do), once per burst of writes', async () => {
    const { file, notes, waitFor } = await start();
    // A burst: three writes in a row, then an atomic rename over the file.
    await writeFile(file, yaml('x'));
    await writeFile(file, yaml('y'));
    await writeFile(`${file}.tmp`, yaml('2'));
    await rename(`${file}.tmp`, file);
    expect(await waitFor(/reloaded/)).toMatch(/reloaded after a change to .*sidecar\.yaml: version 2; filters: example \(new VMs\)/);
    await new Promise((r) => setTimeout(r, 500));
    expect(notes.filter((n) => n.startsWith('reloaded'))).toHaveLength(1);
    expect((await request1(`${sidecar!.url}/x`)).headers['x-generation']).toBe('2');
  });

  it.each([
    ['a field of the wrong type', (g: string) => yaml(g, { routes: [{ match: { prefix: '/' }, cluster: 'nope' }] }), /sidecar\.yaml: routes\[0\]\.cluster/],
    ['three mistakes, all listed', (g: string) => yaml(g, { listn: 'x', workers: 0, routes: [{ match: { prefix: '/' }, cluster: 'nope' }] }), /sidecar\.yaml: 3 problems:\n {2}listn: unknown field.*\n {2}workers: expected a value >= 1, got 0\n {2}routes\[0\]\.cluster: unknown cluster "nope"/],
    ['invalid YAML', () => 'listen: [', /sidecar\.yaml: not valid YAML/],
    ['a filter configuration the filter refuses', (g: string) => yaml(g, { filters: [{ ...exampleFilter(g), configuration: { response_headers: { 'Bad Name': 'x' } } }] }), /filters\[0\] \(example\): could not load/],
  ])('refuses an edit with %s, naming file and field, and keeps the last good configuration', async (_name, edit, reason) => {
    const { file, waitFor } = await start();
    await writeFile(file, edit('2'));
    const refused = await waitFor(/reload refused/);
    expect(refused).toMatch(reason);
    expect(refused).toMatch(/still serving version 1$/);
    expect(sidecar!.version).toBe(1);
    expect((await request1(`${sidecar!.url}/x`)).headers['x-generation']).toBe('1');
    // A later good edit still applies.
    await writeFile(file, yaml('3'));
    await waitFor(/reloaded/);
    expect((await request1(`${sidecar!.url}/x`)).headers['x-generation']).toBe('3');
  });
});

describe('sidecar live reload of --istio resources and --mesh-config', () => {
  let upstream: TestUpstream;
  beforeAll(async () => { upstream = await startUpstream((req, res) => res.writeHead(200).end(`ok ${req.url}\n`)); });
  afterAll(async () => { await upstream.close(); });

  const denyPolicy = (paths: readonly string[]) => stringify({
    apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy',
    metadata: { name: 'deny', namespace: 'shop' },
    spec: { action: 'DENY', rules: [{ to: [{ operation: { paths } }] }] },
  });
  const mesh = (normalization: string) => stringify({ pathNormalization: { normalization } });

  it('reloads an edited policy directory and mesh config, and refuses a bad policy keeping the running rules', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'wasmesh-reload-istio-'));
    const policies = path.join(dir, 'policies');
    await mkdir(policies);
    await writeFile(path.join(policies, 'deny.yaml'), denyPolicy(['/admin/*']));
    await writeFile(path.join(dir, 'mesh.yaml'), mesh('BASE'));
    const config = path.join(dir, 'sidecar.yaml');
    await writeFile(config, stringify({ listen: '127.0.0.1:0', admin: '127.0.0.1:0', clusters: { app: upstream.url }, routes: [{ match: { prefix: '/' }, cluster: 'app' }] }));
    const notes: string[] = [];
    const flags = { config, accessLog: '-', logLevel: 'error', namespace: 'shop', istio: policies, meshConfig: path.join(dir, 'mesh.yaml') };
    const loaded = loadRunConfig(flags, () => undefined);
    const sidecar = await startTestSidecar(loaded.config);
    const reloader = startConfigReloader(sidecar, () => loadRunConfig(flags, () => undefined), loaded.inputs, { note: (line) => notes.push(line), debounceMs: 300 });
    const until = async (predicate: () => boolean) => {
      for (let i = 0; i < 200 && !predicate(); i++) await new Promise((r) => setTimeout(r, 25));
      if (!predicate()) throw new Error(`timed out; notes:\n${notes.join('\n')}`);
    };
    try {
      expect((await request1(`${sidecar.url}/admin/x`)).status).toBe(403);
      expect((await request1(`${sidecar.url}/secret/x`)).status).toBe(200);

      await writeFile(path.join(policies, 'deny.yaml'), denyPolicy(['/secret/*']));
      await until(() => sidecar.version === 2);
      expect((await request1(`${sidecar.url}/admin/x`)).status).toBe(200);
      expect((await request1(`${sidecar.url}/secret/x`)).status).toBe(403);

      // A second file in the directory is an input too; this one is not a valid policy.
      await writeFile(path.join(policies, 'broken.yaml'), stringify({ apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'b', namespace: 'shop' }, spec: { action: 'SOMETIMES' } }));
      await until(() => notes.some((n) => n.startsWith('reload refused')));
      expect(notes.find((n) => n.startsWith('reload refused'))).toMatch(/broken\.yaml.*SOMETIMES.*still serving version 2$/s);
      expect((await request1(`${sidecar.url}/secret/x`)).status).toBe(403);

      await rm(path.join(policies, 'broken.yaml'));
      await until(() => sidecar.version === 3);
      await writeFile(path.join(dir, 'mesh.yaml'), mesh('DECODE_AND_MERGE_SLASHES'));
      await until(() => sidecar.version === 4);
      expect(JSON.parse(sidecar.config.filters[0]!.configuration)).toMatchObject({ pathNormalization: 'DECODE_AND_MERGE_SLASHES' });
    } finally {
      reloader.close();
      await sidecar.close();
    }
  });
});

describe('sidecar drain(timeout)', () => {
  // The drain of open connections (GOAWAY, connection: close, idle ones closed): drain.test.ts.
  it('cuts what is still in flight when the drain time runs out, and says how many', async () => {
    const a = await slowUpstream('a');
    const sidecar = await startTestSidecar(sidecarConfig({ clusters: { a: a.url }, routes: [{ match: { prefix: '/' }, cluster: 'a', timeout: '0s' }] }));
    try {
      const slow = request1(`${sidecar.url}/slow`).catch((e: Error) => e);
      await a.held();
      expect(await sidecar.drain(100)).toBe(1);
      expect(await slow).toBeInstanceOf(Error);
    } finally {
      await a.close();
    }
  });
});
