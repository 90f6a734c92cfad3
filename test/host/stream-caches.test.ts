/**
 * The host's per-stream and per-connection caches must never show a stale value.
 * Header maps (filter-chain.ts `serializedMap`, abi/pairs.ts SerializedPairsCache): one
 * serialization reused while the map holds the same pairs, across reads and across streams;
 * any write, in place or through a new list, makes the next read see the change, as Envoy's
 * header map does. Connection facts
 * (properties.ts `connectionValues`): encoded once per connection, a new connection reads anew.
 */
import { describe, expect, it } from 'vitest';
import type { ConnectionInfo, HeaderList, StreamInfo } from '../../deployer/src/host/api.js';
import { createProxyWasmHost } from '../../deployer/src/host/host.js';
import { HeaderMapType } from '../../deployer/src/host/abi/constants.js';
import { parsePairs, serializePairs, SerializedPairsCache } from '../../deployer/src/host/abi/pairs.js';
import { ChainStreamCore } from '../../deployer/src/host/filter-chain.js';
import { systemClock } from '../../deployer/src/host/services.js';
import { COMPLETION, header, testFilter, withAction } from './helpers.js';

const INFO: StreamInfo = { connection: { id: 1, sourceAddress: '10.0.0.1', sourcePort: 1, destinationAddress: '10.0.0.2', destinationPort: 2 }, protocol: 'HTTP/1.1' };
const REQUEST: HeaderList = [[':method', 'GET'], [':path', '/'], ['x-a', '1']];

/** A stream with no filters, request headers delivered. */
function stream(): ChainStreamCore {
  const core = new ChainStreamCore([], INFO, systemClock);
  core.decodeHeaders(REQUEST, true, () => undefined);
  return core;
}

/** Builds equal-content strings that are not the same objects as the literals (no interning). */
const fresh = (s: string): string => [...s].join('');

const BASE: HeaderList = [[':method', 'GET'], [':path', '/a'], ['authorization', `Bearer ${'t'.repeat(600)}`], ['x-ü', 'wert-ä']];
/** Each case: a map read after BASE was serialized, and whether it must match BASE's bytes. */
const contentCases: readonly (readonly [string, () => HeaderList])[] = [
  ['the same list object', () => BASE],
  ['a new list of the same pair objects', () => [...BASE]],
  ['a new list of equal-content strings', () => BASE.map(([k, v]) => [fresh(k), fresh(v)] as const)],
  ['one value changed', () => BASE.map(([k, v]) => [k, k === ':path' ? '/b' : v] as const)],
  ['a value changed only in its last character', () => BASE.map(([k, v]) => [k, k === 'authorization' ? `${v.slice(0, -1)}u` : v] as const)],
  ['a key changed', () => BASE.map(([k, v]) => [k === 'x-ü' ? 'x-u' : k, v] as const)],
  ['a pair added', () => [...BASE, ['x-b', '1']]],
  ['a pair removed', () => BASE.slice(0, -1)],
  ['two pairs swapped', () => [BASE[1]!, BASE[0]!, ...BASE.slice(2)]],
  ['an empty map', () => []],
];

describe('host: SerializedPairsCache (content-keyed)', () => {
  it.each(contentCases)('host: proxy_get_header_map_pairs bytes always match the map read: %s', (_name, next) => {
    const cache = new SerializedPairsCache();
    expect(cache.serialize(BASE).slice()).toEqual(serializePairs(BASE));
    const list = next();
    expect(cache.serialize(list).slice()).toEqual(serializePairs(list));
    // and back: the cache follows the content, not the last list object
    expect(cache.serialize(BASE).slice()).toEqual(serializePairs(BASE));
  });

  const TOKEN = `Bearer ${'eyJhbGciOiJSUzI1NiJ9'.repeat(30)}`;
  it.each<[string, HeaderList]>([
    ['short ASCII strings', [[':method', 'GET'], [':path', '/a/b?c=d'], ['x-a', '']]],
    ['a long ASCII value (written natively)', [[':path', '/'], ['authorization', TOKEN]]],
    ['a non-ASCII short value', [[':path', '/'], ['x-name', 'Zoë']]],
    ['a non-ASCII long value', [[':path', '/'], ['x-long', `${'a'.repeat(40)}é${'b'.repeat(40)}`]]],
    ['a non-ASCII name after ASCII pairs', [[':path', '/'], ['authorization', TOKEN], ['x-ü', '1']]],
    ['a lone surrogate (U+FFFD, as TextEncoder)', [[':path', '/'], ['x-bad', 'a\ud800b']]],
  ])('host: proxy_get_header_map_pairs serializes %s as TextEncoder would', (_name, list) => {
    const cache = new SerializedPairsCache();
    expect(cache.serialize(list).slice()).toEqual(serializePairs(list));
    expect(parsePairs(cache.serialize(list))).toEqual(list.map(([k, v]) => [k, new TextDecoder().decode(new TextEncoder().encode(v))]));
  });

  it('host: proxy_get_header_map_pairs sees an in-place edit of the same list object', () => {
    const cache = new SerializedPairsCache();
    const list: (readonly [string, string])[] = [[':method', 'GET'], ['x-a', '1']];
    cache.serialize(list);
    list[1] = ['x-a', '2'];
    expect(parsePairs(cache.serialize(list))).toEqual([[':method', 'GET'], ['x-a', '2']]);
    list.push(['x-b', '3']);
    expect(parsePairs(cache.serialize(list))).toEqual([[':method', 'GET'], ['x-a', '2'], ['x-b', '3']]);
    list.length = 0;
    expect(cache.serialize(list).slice()).toEqual(serializePairs([]));
  });

  it('host: a second stream with the same headers reads its own (equal) map, a third with other headers its own', () => {
    const a = stream();
    const bytesA = a.serializedMap(HeaderMapType.RequestHeaders)!.slice();
    const b = new ChainStreamCore([], INFO, systemClock);
    b.decodeHeaders(REQUEST.map(([k, v]) => [fresh(k), fresh(v)] as const), true, () => undefined);
    expect(b.serializedMap(HeaderMapType.RequestHeaders)!.slice()).toEqual(bytesA);
    const c = new ChainStreamCore([], INFO, systemClock);
    const other: HeaderList = [[':method', 'GET'], [':path', '/'], ['x-a', '2']];
    c.decodeHeaders(other, true, () => undefined);
    expect(parsePairs(c.serializedMap(HeaderMapType.RequestHeaders)!)).toEqual(other);
    expect(parsePairs(a.serializedMap(HeaderMapType.RequestHeaders)!)).toEqual(REQUEST);
  });
});

describe('host: stream header map serialization cache', () => {
  it('host: proxy_get_header_map_pairs answers the same bytes on every read of an unchanged map', () => {
    const core = stream();
    const first = core.serializedMap(HeaderMapType.RequestHeaders)!.slice();
    expect(parsePairs(first)).toEqual(REQUEST);
    expect(core.serializedMap(HeaderMapType.RequestHeaders)).toEqual(first);
  });

  it('host: proxy_get_header_map_pairs keeps two streams\' maps apart', () => {
    const a = stream();
    const b = new ChainStreamCore([], INFO, systemClock);
    const other: HeaderList = [[':method', 'POST'], [':path', '/b']];
    b.decodeHeaders(other, true, () => undefined);
    expect(parsePairs(a.serializedMap(HeaderMapType.RequestHeaders)!)).toEqual(REQUEST);
    expect(parsePairs(b.serializedMap(HeaderMapType.RequestHeaders)!)).toEqual(other);
    expect(parsePairs(a.serializedMap(HeaderMapType.RequestHeaders)!)).toEqual(REQUEST);
  });

  it.each<[string, (map: (readonly [string, string])[]) => void, HeaderList]>([
    ['add', (map) => map.push(['x-b', '2']), [...REQUEST, ['x-b', '2']]],
    ['replace', (map) => { map[2] = ['x-a', 'changed']; }, [[':method', 'GET'], [':path', '/'], ['x-a', 'changed']]],
    ['remove', (map) => map.splice(2, 1), [[':method', 'GET'], [':path', '/']]],
  ])('host: proxy_get_header_map_pairs sees a %s on the next read', (_name, write, expected) => {
    const core = stream();
    core.serializedMap(HeaderMapType.RequestHeaders);
    write(core.mutableMap(HeaderMapType.RequestHeaders)!);
    expect(parsePairs(core.serializedMap(HeaderMapType.RequestHeaders)!)).toEqual(expected);
  });

  it.each<[string, (map: (readonly [string, string])[]) => void]>([
    ['add', (map) => map.push(['x-b', '2'])],
    ['replace', (map) => { map[2] = ['x-a', 'changed']; }],
    ['remove', (map) => map.splice(0, 3)],
  ])('host: a %s on the stream\'s map leaves the embedder\'s list and its pairs unchanged (copy on write shares only immutable pairs)', (_name, write) => {
    const embedder: HeaderList = [[':method', 'GET'], [':path', '/'], ['x-a', '1']];
    const before = JSON.stringify(embedder);
    const core = new ChainStreamCore([], INFO, systemClock);
    core.decodeHeaders(embedder, true, () => undefined);
    const map = core.mutableMap(HeaderMapType.RequestHeaders)!;
    expect(map).not.toBe(embedder);
    write(map);
    expect(JSON.stringify(embedder)).toBe(before);
  });

  it('host: proxy_get_header_map_pairs serializes a new list handed over by the embedder', () => {
    const core = stream();
    core.serializedMap(HeaderMapType.ResponseTrailers);
    const trailers: HeaderList = [['grpc-status', '0']];
    core.encodeTrailers(trailers, () => undefined);
    expect(parsePairs(core.serializedMap(HeaderMapType.ResponseTrailers)!)).toEqual(trailers);
  });

  it('host: proxy_remove_header_map_value of an absent header leaves the other headers and reports the change', async () => {
    const host = createProxyWasmHost({ onLog: () => undefined });
    const plugin = await host.loadPlugin({ name: 'headers', rootId: 'conformance', wasm: testFilter('conformance'), configuration: '', failOpen: false });
    const stream = host.newFilterChain([plugin]).newStream(INFO);
    const outcome = await stream.requestHeaders(withAction('headers', [['x-keep', 'yes']]), true);
    stream.complete(COMPLETION);
    expect(outcome.action).toBe('continue');
    if (outcome.action !== 'continue') return;
    expect(header(outcome.headers, 'x-keep')).toBe('yes');
    expect(header(outcome.headers, 'x-remove')).toBeUndefined();
    expect(outcome.routeCacheCleared).toBe(true);
    await host.close();
  });

  it('host: proxy_get_header_map_pairs answers no serialization for a map the stream does not have', () => {
    expect(stream().serializedMap(HeaderMapType.ResponseHeaders)).toBeNull();
  });
});

describe('host: connection property cache', () => {
  const keepAlive: ConnectionInfo = { id: 1, sourceAddress: '10.1.2.3', sourcePort: 5555, destinationAddress: '10.0.0.1', destinationPort: 8080 };
  const next: ConnectionInfo = { id: 2, sourceAddress: '2001:db8::7', sourcePort: 6000, destinationAddress: '10.0.0.1', destinationPort: 9090, tls: { peerCertificate: { uriSans: ['spiffe://a/b'], dnsSans: [], subject: '' } } };
  const hex = (s: string): string => Buffer.from(s).toString('hex');
  const port = (n: number): string => { const b = Buffer.alloc(8); b.writeBigInt64LE(BigInt(n)); return b.toString('hex'); };

  it.each<[string, string, string, string]>([
    ['source/address', hex('10.1.2.3:5555'), hex('10.1.2.3:5555'), hex('[2001:db8::7]:6000')],
    ['destination/port', port(8080), port(8080), port(9090)],
    ['connection/uri_san_peer_certificate', '<missing>', '<missing>', hex('spiffe://a/b')],
  ])('host: proxy_get_property %s is the same on a keep-alive connection and read anew on the next connection', async (property, first, second, third) => {
    const host = createProxyWasmHost({ onLog: () => undefined });
    const plugin = await host.loadPlugin({ name: 'props', rootId: 'conformance', wasm: testFilter('conformance'), configuration: '', failOpen: false });
    const chain = host.newFilterChain([plugin]);
    const read = async (connection: ConnectionInfo): Promise<string | undefined> => {
      const stream = chain.newStream({ connection, protocol: 'HTTP/1.1' });
      const outcome = await stream.requestHeaders(withAction('get-property', [['x-property', property]]), true);
      stream.complete(COMPLETION);
      return header(outcome.action === 'continue' ? outcome.headers : [], 'x-property-value');
    };
    expect([await read(keepAlive), await read(keepAlive), await read(next)]).toEqual([first, second, third]);
    await host.close();
  });
});
