/**
 * header-router benchmark (`npm run bench -- header-router`):
 * 1. µs per request for 20 mixed rules (uri exact/prefix/regex, headers, query, cookies, method,
 *    weighted and sticky splits, header edits, rewrites), over a rotating request mix that hits
 *    early, late and no rules — filter only (a minimal in-bench host handing over pre-serialized
 *    headers, as bench/rbac.ts does) and through the wasmesh host minus a no-op filter chain.
 *    Target ≤ 3 µs filter-only.
 * 2. Regex cost per input byte: filters/lib/regex (through build/lib/regex.wasm, the sidecar's
 *    path: includes copying the input into wasm) side by side with V8's RegExp, on a benign
 *    route pattern and on the catastrophic `(a+)+$` (V8 backtracks exponentially: it is only
 *    measured up to a small input, and its growth is printed).
 * 3. Module size (target ≤ 100 KB).
 * Prints a table and writes bench/header-router.json. Options: --requests <n>, --rounds <n>.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FilterChain, HeaderList, StreamCompletion, StreamInfo } from '../deployer/src/host/api.js';
import { serializePairs } from '../deployer/src/host/abi/pairs.js';
import { Re2Regex } from '../deployer/src/regex/engine.js';
import { numberOption } from './options.js';
import { shippedHost } from './shipped.js';

/** The host as the CLI ships it, not as tsx compiles this file (bench/shipped.ts). */
const createProxyWasmHost = await shippedHost();

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const wasmFile = path.join(root, 'build', 'filters', 'header-router.wasm');
const noopWasmFile = path.join(root, 'build', 'filters', 'example.wasm');
const jsonFile = path.join(root, 'bench', 'header-router.json');
const REQUESTS = numberOption('requests', 100_000);
const ROUNDS = numberOption('rounds', 5);

const V = (n: number) => `outbound|8080|v${n}|api.shop.svc.cluster.local`;

/** 20 rules in the shapes VirtualServices use. */
const CONFIG = {
  virtualServices: [{
    name: 'shop/api',
    hosts: ['api', 'api.shop', 'api.shop.svc', 'api.shop.svc.cluster.local'],
    sticky: { key: 'header:x-user' },
    http: [
      { name: 'health', match: [{ uri: { exact: '/healthz' } }], directResponse: { status: 200, body: { string: 'ok' } } },
      { name: 'legacy', match: [{ uri: { prefix: '/legacy/' } }], redirect: { uri: '/v2/', redirectCode: 301 } },
      ...Array.from({ length: 6 }, (_, i) => ({ name: `tenant-${i}`, match: [{ headers: { 'x-tenant': { exact: `tenant-${i}` } }, uri: { prefix: `/t${i}/` } }], route: [{ destination: V(1) }] })),
      { name: 'jason', match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [{ destination: V(2) }] },
      { name: 'beta-cookie', match: [{ cookies: { beta: { exact: 'yes' } } }], route: [{ destination: V(3) }] },
      { name: 'query', match: [{ queryParams: { version: { exact: '3' } } }], route: [{ destination: V(3) }] },
      { name: 'items-regex', match: [{ uri: { regex: '/api/v[0-9]+/items/[0-9]+' } }], route: [{ destination: V(1) }] },
      { name: 'agent-regex', match: [{ headers: { 'user-agent': { regex: '.*(iPhone|Android).*' } } }], route: [{ destination: V(2) }] },
      { name: 'post-orders', match: [{ method: { exact: 'POST' }, uri: { prefix: '/orders' } }], route: [{ destination: V(1) }], headers: { request: { set: { 'x-route': 'orders' } } } },
      { name: 'rewrite', match: [{ uri: { prefix: '/old-api/' } }], rewrite: { uri: '/api/' }, route: [{ destination: V(1) }] },
      { name: 'regex-rewrite', match: [{ uri: { prefix: '/svc/' } }], rewrite: { uriRegexRewrite: { match: '^/svc/([^/]+)(/.*)$', rewrite: '\\2/instance/\\1' } }, route: [{ destination: V(1) }] },
      { name: 'admin', match: [{ uri: { prefix: '/admin' } }, { headers: { 'x-admin': {} } }], route: [{ destination: V(1) }] },
      { name: 'no-debug', match: [{ uri: { prefix: '/debug' }, withoutHeaders: { 'x-debug': { exact: 'on' } } }], route: [{ destination: V(1) }] },
      { name: 'canary', route: [{ destination: V(1), weight: 90 }, { destination: V(2), weight: 10 }], headers: { response: { set: { 'x-served-by': 'wasmesh' } } } },
    ],
  }],
};

interface BenchRequest { readonly info: StreamInfo; readonly headers: HeaderList }

function request(method: string, requestPath: string, extra: HeaderList = []): BenchRequest {
  return {
    info: { connection: { id: 1, sourceAddress: '10.0.0.1', sourcePort: 40000, destinationAddress: '10.0.0.2', destinationPort: 8080 }, protocol: 'HTTP/1.1', startTime: new Date() },
    headers: [[':method', method], [':path', requestPath], [':authority', 'api.shop:8080'], [':scheme', 'http'], ['user-agent', 'Mozilla/5.0 (X11; Linux x86_64)'], ['accept', '*/*'], ...extra],
  };
}

const MIX: readonly BenchRequest[] = [
  request('GET', '/products/42', [['x-user', 'user-1234']]),
  request('GET', '/t3/cart', [['x-tenant', 'tenant-3']]),
  request('GET', '/api/v2/items/991', [['cookie', 'session=abc; theme=dark']]),
  request('POST', '/orders/new', [['x-user', 'user-99']]),
  request('GET', '/svc/catalog/v1/list?page=2'),
  request('GET', '/search?q=shoes&version=1', [['x-user', 'user-7'], ['x-wasmesh-route', 'spoofed']]),
];

const ROOT_ID = new TextEncoder().encode('header-router');

/**
 * Minimal host: every import answers Ok; headers and properties are pre-serialized per request.
 * Exports are bound once and memory views kept until the memory grows, so what is measured is
 * the filter, not the stub's own property lookups and view allocations.
 */
class StubHost {
  private readonly exports: Record<string, (...a: number[]) => number>;
  private readonly memory: WebAssembly.Memory;
  private headers: Uint8Array = new Uint8Array(0);
  private nextContext = 2;
  private bytes: Uint8Array = new Uint8Array(0);
  private view: DataView = new DataView(new ArrayBuffer(0));

  constructor(module: WebAssembly.Module, private readonly config: Uint8Array) {
    const copyOut = (bytes: Uint8Array, ptrPtr: number, sizePtr: number): number => {
      const ptr = bytes.length === 0 ? 0 : allocate(bytes.length);
      const view = this.views();
      if (bytes.length > 0) this.bytes.set(bytes, ptr);
      view.setUint32(ptrPtr, ptr, true);
      view.setUint32(sizePtr, bytes.length, true);
      return 0;
    };
    let metric = 1;
    const env: Record<string, (...args: number[]) => number | bigint> = {};
    for (const imp of WebAssembly.Module.imports(module)) env[imp.name] = () => 0;
    Object.assign(env, {
      proxy_get_buffer_bytes: (_t: number, _s: number, _l: number, p: number, s: number) => copyOut(this.config, p, s),
      proxy_get_header_map_pairs: (_t: number, p: number, s: number) => copyOut(this.headers, p, s),
      // The SDK asks for its root id; everything else (JWT, node metadata) is absent.
      proxy_get_property: (pathPtr: number, pathLen: number, p: number, s: number) =>
        Buffer.from(this.memory.buffer, pathPtr, pathLen).toString() === 'plugin_root_id' ? copyOut(ROOT_ID, p, s) : 1,
      proxy_define_metric: (_t: number, _p: number, _l: number, idPtr: number) => { this.views().setUint32(idPtr, metric++, true); return 0; },
      proxy_get_current_time_nanoseconds: (ptr: number) => { this.views().setBigUint64(ptr, process.hrtime.bigint(), true); return 0; },
      proxy_call_foreign_function: () => 0,
    });
    const instance = new WebAssembly.Instance(module, { env });
    this.exports = instance.exports as unknown as Record<string, (...a: number[]) => number>;
    const allocate = this.exports['proxy_on_memory_allocate']!;
    this.memory = instance.exports['memory'] as WebAssembly.Memory;
    this.exports['_initialize']!();
    this.exports['proxy_on_context_create']!(1, 0);
    this.exports['proxy_on_vm_start']!(1, 0);
    if (this.exports['proxy_on_configure']!(1, config.length) !== 1) throw new Error('stub host: configuration refused');
  }

  /** Views over the current memory (renewed when it grew). */
  private views(): DataView {
    if (this.bytes.buffer !== this.memory.buffer) {
      this.bytes = new Uint8Array(this.memory.buffer);
      this.view = new DataView(this.memory.buffer);
    }
    return this.view;
  }

  /** The host's own header-map codec (deployer/src/host/abi/pairs.ts), so the stub hands over the same bytes. */
  static serialize(headers: HeaderList): Uint8Array {
    return serializePairs(headers);
  }

  /** One request: context create, request headers, done, log, delete. */
  run(headers: Uint8Array, count: number): void {
    const { proxy_on_context_create: create, proxy_on_request_headers: onHeaders, proxy_on_done: done, proxy_on_log: log, proxy_on_delete: remove } = this.exports;
    this.headers = headers;
    const id = this.nextContext++;
    create!(id, 1);
    onHeaders!(id, count, 1);
    done!(id);
    log!(id);
    remove!(id);
  }
}

const best = (values: readonly number[]): number => Math.min(...values);

function cpuMicros(n: number, run: (i: number) => void): number {
  const cpu = process.cpuUsage();
  for (let i = 0; i < n; i++) run(i);
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / n;
}

function filterOnly(): number {
  const stub = new StubHost(new WebAssembly.Module(readFileSync(wasmFile)), new TextEncoder().encode(JSON.stringify(CONFIG)));
  const prepared = MIX.map((r) => ({ bytes: StubHost.serialize(r.headers), count: r.headers.length }));
  const round = (n: number) => cpuMicros(n, (i) => { const r = prepared[i % prepared.length]!; stub.run(r.bytes, r.count); });
  round(20_000);
  return best(Array.from({ length: ROUNDS * 2 }, () => round(REQUESTS)));
}

const DONE: StreamCompletion = { responseCode: 200, responseCodeDetails: 'via_upstream', responseFlags: '-', bytesReceived: 0, bytesSent: 0 };

async function chain(wasm: string | null, name: string, configuration: string): Promise<FilterChain> {
  const host = createProxyWasmHost({ logLevel: 'info', onLog: () => undefined });
  if (wasm === null) return host.newFilterChain([]);
  const plugin = await host.loadPlugin({ name, rootId: name, wasm: new Uint8Array(readFileSync(wasm)), failOpen: false, configuration });
  return host.newFilterChain([plugin]);
}

async function throughHost(c: FilterChain, n: number): Promise<number> {
  const cpu = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const r = MIX[i % MIX.length]!;
    const stream = c.newStream(r.info);
    await stream.requestHeaders(r.headers, true);
    stream.complete(DONE);
  }
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / n;
}

async function hostRows(): Promise<{ none: number; noop: number; router: number }> {
  const chains = {
    none: await chain(null, '', ''),
    noop: await chain(noopWasmFile, 'example', '{}'),
    router: await chain(wasmFile, 'header-router', JSON.stringify(CONFIG)),
  };
  const samples = { none: [] as number[], noop: [] as number[], router: [] as number[] };
  for (const key of Object.keys(chains) as (keyof typeof chains)[]) await throughHost(chains[key], 10_000);
  // Interleaved, so machine load hits all alike.
  for (let pass = 0; pass < ROUNDS; pass++) {
    for (const key of Object.keys(chains) as (keyof typeof chains)[]) samples[key].push(await throughHost(chains[key], Math.min(REQUESTS, 50_000)));
  }
  return { none: best(samples.none), noop: best(samples.noop), router: best(samples.router) };
}

/** ns per input byte of one full match, best of rounds. */
function nsPerByte(input: string, repeat: number, match: (s: string) => boolean): number {
  const round = () => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < repeat; i++) match(input);
    return Number(process.hrtime.bigint() - start) / repeat / input.length;
  };
  round();
  return best(Array.from({ length: ROUNDS }, round));
}

interface RegexRow { readonly case: string; readonly bytes: number; readonly oursNsPerByte: number; readonly v8NsPerByte: number | null }

function regexRows(): RegexRow[] {
  const rows: RegexRow[] = [];
  const benign = '/api/v[0-9]+/users/[a-z0-9-]+/orders/[0-9]+';
  const ours = Re2Regex.compile(benign);
  const v8 = new RegExp(`^(?:${benign})$`);
  for (const size of [64, 1024, 16_384]) {
    const id = 'a1b2-'.repeat(Math.max(1, Math.floor((size - 30) / 5)));
    const input = `/api/v2/users/${id}/orders/12345`;
    rows.push({ case: `benign route regex, ${input.length} B`, bytes: input.length, oursNsPerByte: nsPerByte(input, 2000, (s) => ours.fullMatch(s)), v8NsPerByte: nsPerByte(input, 2000, (s) => v8.test(s)) });
  }
  const catastrophic = Re2Regex.compile('(a+)+$');
  const v8Catastrophic = /^(?:(a+)+$)$/;
  for (const n of [16, 20, 24]) {
    const input = 'a'.repeat(n) + 'b';
    rows.push({ case: `(a+)+$ on a^${n}b`, bytes: input.length, oursNsPerByte: nsPerByte(input, 200, (s) => catastrophic.fullMatch(s)), v8NsPerByte: nsPerByte(input, n >= 24 ? 1 : 10, (s) => v8Catastrophic.test(s)) });
  }
  for (const n of [10_000, 100_000]) {
    const input = 'a'.repeat(n) + 'b';
    // V8 would not return: only ours is measured.
    rows.push({ case: `(a+)+$ on a^${n}b`, bytes: input.length, oursNsPerByte: nsPerByte(input, 3, (s) => catastrophic.fullMatch(s)), v8NsPerByte: null });
  }
  return rows;
}

async function main(): Promise<void> {
  const host = await hostRows();
  const only = filterOnly();
  const regex = regexRows();
  const size = statSync(wasmFile).size;
  const hostFilter = host.router - host.noop;
  console.log(`${path.relative(root, wasmFile)}: load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores; CPU µs per request, best of rounds; 20 rules, ${MIX.length}-request mix`);
  console.log('case                              µs/request  filter µs  target  ok');
  console.log(`${'host only (no filter)'.padEnd(33)} ${host.none.toFixed(2).padStart(10)}          -       -   -`);
  console.log(`${'no-op filter (baseline)'.padEnd(33)} ${host.noop.toFixed(2).padStart(10)}          -       -   -`);
  console.log(`${'header-router through the host'.padEnd(33)} ${host.router.toFixed(2).padStart(10)} ${hostFilter.toFixed(2).padStart(10)}       -   -`);
  console.log(`${'header-router filter only'.padEnd(33)} ${only.toFixed(2).padStart(10)} ${only.toFixed(2).padStart(10)}   ≤ 3   ${only <= 3 ? 'yes' : 'NO'}`);
  console.log('\nregex, ns per input byte (ours: filters/lib/regex via build/lib/regex.wasm, input copy included; V8: RegExp)');
  for (const r of regex) {
    console.log(`${r.case.padEnd(34)} ours ${r.oursNsPerByte.toFixed(2).padStart(9)}   V8 ${r.v8NsPerByte === null ? '(would not finish)'.padStart(12) : r.v8NsPerByte.toFixed(2).padStart(12)}`);
  }
  console.log(`module size: ${size} bytes (${(size / 1024).toFixed(1)} KiB; target ≤ 100 KB = 102400 bytes: ${size <= 102_400 ? 'yes' : 'NO'})`);
  writeFileSync(jsonFile, `${JSON.stringify({
    generatedAt: new Date().toISOString(), requestsPerRound: REQUESTS, rounds: ROUNDS, rules: 20, requestMix: MIX.length,
    unit: 'CPU µs per request (user+system), best round', loadAverage1m: os.loadavg()[0], cpus: os.cpus().length,
    hostOnlyMicros: host.none, noopMicros: host.noop, throughHostMicros: host.router, throughHostFilterMicros: hostFilter,
    filterOnlyMicros: only, filterOnlyTarget: 3, filterOnlyMeetsTarget: only <= 3,
    regex, moduleBytes: size, moduleTargetBytes: 102_400, moduleMeetsTarget: size <= 102_400,
  }, null, 2)}\n`);
}

await main();
