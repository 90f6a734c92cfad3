/**
 * jwt-auth benchmark (`npx tsx bench/jwt-auth.ts`): µs per request through the BUILT
 * build/filters/jwt-auth.wasm in-process (the wasmesh host's FilterChain: request headers +
 * stream completion), as process CPU time per request (user + system, so the other engineers'
 * load on the 2 shared cores does not count as ours; wall time swung 3× between runs). The
 * filter's own cost subtracts a no-op filter chain (build/filters/example.wasm with an empty
 * configuration: the SDK's context create/done/delete plus one metric increment), i.e. the
 * host's and SDK's per-request overhead, which is optimized separately. Cases: a request without token (passes), a cached
 * valid token (identical headers every request), the same with a :path that differs between
 * consecutive requests (the host's content-keyed header serialization cache then misses), and uncached verification (token cache disabled: parse + claims + signature every
 * request) for RS256-2048, PS256, ES256, ES384, HS256 and EdDSA on the wasm crypto path — each
 * side by side with node:crypto verifying the same token's signature, as a ratio.
 * Targets: wasm ≤ 3× node:crypto for RS256, ES256, EdDSA; cached ≤ 5 µs; module ≤ 100 KB.
 * Prints a table, writes bench/jwt-auth.json. Options: --seconds <CPU s per sample> (default 0.5), --rounds <n>
 * (default 3), --wasm <file> (another build, e.g. an older commit's), --json <file> (output path),
 * --cached-only (just the host/no-op/missing/cached rows: the uncached rows take minutes, and
 * profiling the cached path wants nothing else in the profile).
 */
import { createHmac, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FilterChain, HeaderList, StreamCompletion, StreamInfo } from '../deployer/src/host/api.js';
import { numberOption, stringOption } from './options.js';
import { shippedHost } from './shipped.js';

/** The host as the CLI ships it, not as tsx compiles this file (bench/shipped.ts). */
const createProxyWasmHost = await shippedHost();

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** --wasm <file> measures another build (e.g. an older commit's) instead of build/filters/jwt-auth.wasm. */
const wasmFile = path.resolve(stringOption('wasm') ?? path.join(root, 'build', 'filters', 'jwt-auth.wasm'));
/** --json <file> writes the results elsewhere than bench/jwt-auth.json. */
const jsonFile = path.resolve(stringOption('json') ?? path.join(root, 'bench', 'jwt-auth.json'));
const noopWasmFile = path.join(root, 'build', 'filters', 'example.wasm');

const SECONDS = numberOption('seconds', 0.5, false);
/** --cached-only: skip the uncached verification rows (and node:crypto) — see the header. */
const CACHED_ONLY = process.argv.includes('--cached-only');
const ROUNDS = numberOption('rounds', 3);

type Alg = 'RS256' | 'PS256' | 'ES256' | 'ES384' | 'HS256' | 'EdDSA';
interface BenchKey { readonly alg: Alg; readonly jwk: Record<string, string>; readonly privateKey?: KeyObject; readonly publicKey?: KeyObject; readonly secret?: Buffer }

function makeKey(alg: Alg): BenchKey {
  if (alg === 'HS256') {
    const secret = Buffer.alloc(32, 7);
    return { alg, secret, jwk: { kty: 'oct', kid: alg, alg, k: secret.toString('base64url') } };
  }
  const pair = alg === 'RS256' || alg === 'PS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : alg === 'ES384' ? generateKeyPairSync('ec', { namedCurve: 'P-384' })
        : generateKeyPairSync('ed25519');
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = pair.privateKey.export({ format: 'jwk' }) as Record<string, string>;
  return { alg, privateKey: pair.privateKey, publicKey: pair.publicKey, jwk: { ...pub, kid: alg, alg } };
}

const b64 = (s: string): string => Buffer.from(s).toString('base64url');
const NOW_S = Math.floor(Date.now() / 1000);

function mint(key: BenchKey): string {
  const input = `${b64(JSON.stringify({ alg: key.alg, kid: key.alg, typ: 'JWT' }))}.${b64(JSON.stringify({ iss: 'https://issuer.example', sub: 'bench-user', aud: 'api', exp: NOW_S + 86400, iat: NOW_S, scope: 'read write' }))}`;
  let sig: Buffer;
  if (key.alg === 'HS256') sig = createHmac('sha256', key.secret!).update(input).digest();
  else if (key.alg === 'PS256') sig = sign('sha256', Buffer.from(input), { key: key.privateKey!, padding: 6, saltLength: 32 });
  else sig = sign(key.alg === 'EdDSA' ? null : key.alg === 'ES384' ? 'sha384' : 'sha256', Buffer.from(input), { key: key.privateKey!, dsaEncoding: 'ieee-p1363' });
  return `${input}.${sig.toString('base64url')}`;
}

/** node:crypto verifying the same token's signature (key objects prepared once, like the filter's). */
function nodeVerify(key: BenchKey, token: string): boolean {
  const dot = token.lastIndexOf('.');
  const input = Buffer.from(token.slice(0, dot));
  const sig = Buffer.from(token.slice(dot + 1), 'base64url');
  switch (key.alg) {
    case 'HS256': return createHmac('sha256', key.secret!).update(input).digest().equals(sig);
    case 'PS256': return verify('sha256', input, { key: key.publicKey!, padding: 6, saltLength: 32 }, sig);
    case 'EdDSA': return verify(null, input, key.publicKey!, sig);
    default: return verify(key.alg === 'ES384' ? 'sha384' : 'sha256', input, { key: key.publicKey!, dsaEncoding: 'ieee-p1363' }, sig);
  }
}

const INFO: StreamInfo = {
  connection: { id: 1, sourceAddress: '10.0.0.1', sourcePort: 40000, destinationAddress: '10.0.0.2', destinationPort: 8080 },
  protocol: 'HTTP/1.1',
};
const DONE: StreamCompletion = { responseCode: 200, responseCodeDetails: 'via_upstream', responseFlags: '-', bytesReceived: 0, bytesSent: 0 };
const headersFor = (token: string | null): HeaderList => [
  [':method', 'GET'], [':path', '/api/items?page=2'], [':authority', 'api.example'], [':scheme', 'http'], ['user-agent', 'bench'],
  ...(token === null ? [] : [['authorization', `Bearer ${token}`] as const]),
];

/** 64 copies of `headers` with distinct :path values (no two consecutive requests alike). */
const variedPaths = (headers: HeaderList): HeaderList[] =>
  Array.from({ length: 64 }, (_, i) => headers.map(([k, v]) => [k, k === ':path' ? `${v}&n=${i}` : v] as const));

/** A chain with no filter at all (null) or with jwt-auth over `keys`. */
async function chainFor(keys: readonly BenchKey[] | null, cacheSize: number): Promise<FilterChain> {
  const host = createProxyWasmHost({ logLevel: 'warn', onLog: () => undefined });
  if (keys === null) return host.newFilterChain([]);
  const plugin = await host.loadPlugin({
    name: 'jwt-auth', rootId: 'jwt-auth', wasm: new Uint8Array(readFileSync(wasmFile)), failOpen: false,
    configuration: JSON.stringify({
      crypto: 'wasm', token_cache_size: cacheSize,
      providers: { main: { issuer: 'https://issuer.example', audiences: ['api'], jwks: { keys: keys.map((k) => k.jwk) } } },
    }),
  });
  return host.newFilterChain([plugin]);
}

/** The example filter with an empty configuration: a no-op filter through the same SDK. */
async function noopChain(): Promise<FilterChain> {
  const host = createProxyWasmHost({ logLevel: 'warn', onLog: () => undefined });
  const plugin = await host.loadPlugin({
    name: 'example', rootId: 'example', wasm: new Uint8Array(readFileSync(noopWasmFile)), failOpen: false, configuration: '{}',
  });
  return host.newFilterChain([plugin]);
}

/** Process CPU µs (user + system) since `start`. */
const cpuMicrosSince = (start: NodeJS.CpuUsage): number => { const used = process.cpuUsage(start); return used.user + used.system; };

const isRotation = (h: HeaderList | readonly HeaderList[]): h is readonly HeaderList[] => h.length > 0 && Array.isArray(h[0]) && Array.isArray(h[0][0]);

/**
 * CPU µs per request: runs batches until `SECONDS` of CPU time have been used. `headers` is one
 * list sent every request, or several sent in turn (prepared up front, so the loop allocates
 * nothing of its own): consecutive requests then differ, and the host's serialization cache
 * (keyed by header content) misses as it would for real traffic with varying paths.
 */
async function timeChain(chain: FilterChain, headersOrRotation: HeaderList | readonly HeaderList[], expectAllowed: boolean): Promise<number> {
  const rotation: readonly HeaderList[] = isRotation(headersOrRotation) ? headersOrRotation : [headersOrRotation];
  const first = chain.newStream(INFO);
  const outcome = await first.requestHeaders(rotation[0]!, true);
  first.complete(DONE);
  if ((outcome.action === 'continue') !== expectAllowed) throw new Error(`unexpected outcome ${JSON.stringify(outcome.action === 'localReply' ? new TextDecoder().decode(outcome.reply.body) : outcome.action)}`);
  let n = 0;
  const start = process.cpuUsage();
  const budget = SECONDS * 1e6;
  let elapsed = 0;
  while (elapsed < budget) {
    for (let i = 0; i < 50; i++) {
      const stream = chain.newStream(INFO);
      await stream.requestHeaders(rotation[(n + i) % rotation.length]!, true);
      stream.complete(DONE);
    }
    n += 50;
    elapsed = cpuMicrosSince(start);
  }
  return elapsed / n;
}

function timeNode(key: BenchKey, token: string): number {
  if (!nodeVerify(key, token)) throw new Error(`node:crypto rejects the ${key.alg} token`);
  let n = 0;
  const start = process.cpuUsage();
  const budget = SECONDS * 1e6;
  let elapsed = 0;
  while (elapsed < budget) {
    for (let i = 0; i < 20; i++) nodeVerify(key, token);
    n += 20;
    elapsed = cpuMicrosSince(start);
  }
  return elapsed / n;
}

const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

interface Row {
  readonly case: string; readonly microsPerRequest: number; readonly filterMicros: number;
  readonly nodeMicros: number | null; readonly ratio: number | null; readonly target: string | null; readonly meetsTarget: boolean | null;
}

async function main(): Promise<void> {
  const algs: Alg[] = ['RS256', 'PS256', 'ES256', 'ES384', 'HS256', 'EdDSA'];
  const keys = algs.map(makeKey);
  const tokens = new Map(keys.map((k) => [k.alg, mint(k)]));
  const none = await chainFor(null, 0);
  const noop = await noopChain();
  const cached = await chainFor(keys, 1024);
  const uncached = CACHED_ONLY ? null : await chainFor(keys, 0);

  const samples = new Map<string, number[]>();
  const add = (name: string, v: number): void => { samples.set(name, [...(samples.get(name) ?? []), v]); };
  // Interleave cases round by round so machine load (2 shared cores) hits all alike.
  for (let round = 0; round < ROUNDS; round++) {
    add('host', await timeChain(none, headersFor(null), true));
    add('noop', await timeChain(noop, headersFor(null), true));
    add('missing', await timeChain(cached, headersFor(null), true));
    add('cached', await timeChain(cached, headersFor(tokens.get('RS256')!), true));
    add('cached-varied', await timeChain(cached, variedPaths(headersFor(tokens.get('RS256')!)), true));
    if (uncached === null) continue;
    for (const key of keys) {
      add(key.alg, await timeChain(uncached, headersFor(tokens.get(key.alg)!), true));
      add(`node-${key.alg}`, timeNode(key, tokens.get(key.alg)!));
    }
  }
  const host = median(samples.get('host')!);
  const noopFilter = median(samples.get('noop')!);
  const rows: Row[] = [];
  const row = (name: string, id: string, target: number | null, nodeId: string | null, ratioTarget: number | null): void => {
    const micros = median(samples.get(id)!);
    const filterMicros = micros - noopFilter;
    const nodeMicros = nodeId === null ? null : median(samples.get(nodeId)!);
    const ratio = nodeMicros === null ? null : filterMicros / nodeMicros;
    const meets = target !== null ? filterMicros <= target : ratioTarget !== null && ratio !== null ? ratio <= ratioTarget : null;
    rows.push({
      case: name, microsPerRequest: micros, filterMicros, nodeMicros, ratio,
      target: target !== null ? `≤ ${target} µs` : ratioTarget !== null ? `≤ ${ratioTarget}× node` : null, meetsTarget: meets,
    });
  };
  row('missing token (pass)', 'missing', null, null, null);
  // The target applies to both: repeated identical headers hit the host's serialization cache,
  // real traffic (a different :path per request) does not.
  row('cached valid token', 'cached', 5, null, null);
  row('cached, :path varies', 'cached-varied', 5, null, null);
  if (!CACHED_ONLY) for (const alg of algs) row(`uncached ${alg === 'RS256' ? 'RS256-2048' : alg} (wasm)`, alg, null, `node-${alg}`, ['RS256', 'ES256', 'EdDSA'].includes(alg) ? 3 : null);

  const size = statSync(wasmFile).size;
  console.log(`CPU µs per request; host-only chain: ${host.toFixed(2)} µs; no-op filter chain: ${noopFilter.toFixed(2)} µs (subtracted)`);
  console.log('case                        µs/request  filter µs  node µs   ratio  target        ok');
  for (const r of rows) {
    console.log(`${r.case.padEnd(26)} ${r.microsPerRequest.toFixed(2).padStart(10)} ${r.filterMicros.toFixed(2).padStart(10)} ${(r.nodeMicros === null ? '-' : r.nodeMicros.toFixed(2)).padStart(8)} ${(r.ratio === null ? '-' : `${r.ratio.toFixed(2)}×`).padStart(7)}  ${(r.target ?? '-').padEnd(12)}  ${r.meetsTarget === null ? '-' : r.meetsTarget ? 'yes' : 'NO'}`);
  }
  console.log(`module size: ${size} bytes (${(size / 1024).toFixed(1)} KiB; target ≤ 100 KB = 102400 bytes: ${size <= 102_400 ? 'yes' : 'NO'})`);
  writeFileSync(jsonFile, `${JSON.stringify({
    generatedAt: new Date().toISOString(), cachedOnly: CACHED_ONLY, wasm: path.relative(root, wasmFile), secondsPerSample: SECONDS, rounds: ROUNDS, clock: 'process CPU time (user + system)',
    hostOnlyMicros: host, noopFilterMicros: noopFilter,
    note: 'filterMicros = CPU µs/request through the built filter minus a no-op filter chain (example.wasm, empty configuration); uncached = token_cache_size 0 (parse, claims and signature every request); nodeMicros = node:crypto verifying the same token signature; ratio = filterMicros / nodeMicros',
    rows, moduleBytes: size, moduleTargetBytes: 102_400, moduleMeetsTarget: size <= 102_400,
  }, null, 2)}\n`);
}

await main();
