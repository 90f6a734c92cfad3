import { describe, expect, it } from 'vitest';
import type { HeaderList } from '../../deployer/src/host/api.js';
import { RouteTable } from '../../deployer/src/sidecar/routing.js';
import { sidecarConfig } from './helpers.js';

const table = new RouteTable(sidecarConfig({
  clusters: { a: 'http://127.0.0.1:1', b: 'http://127.0.0.1:2', c: 'http://127.0.0.1:3' },
  routes: [
    { name: 'exact', match: { path: '/exact' }, cluster: 'a' },
    { name: 'canary', match: { prefix: '/api', headers: [{ name: 'x-canary', present_match: true }] }, cluster: 'c' },
    { name: 'tenant', match: { prefix: '/api', headers: [{ name: 'x-tenant', string_match: { prefix: 'blue' } }] }, cluster: 'b' },
    { name: 'no-debug', match: { prefix: '/api', headers: [{ name: 'x-debug', string_match: { exact: 'on' }, invert_match: true }] }, cluster: 'a' },
    { name: 'regex', match: { safe_regex: { regex: '/v[0-9]+/[a-z]+' } }, cluster: 'b' },
    { name: 'ci', match: { prefix: '/ci', headers: [{ name: 'x-env', string_match: { exact: 'PROD', ignore_case: true } }] }, cluster: 'c' },
  ],
}).routes);

const request = (path: string, extra: HeaderList = []): HeaderList => [[':authority', 'x'], [':path', path], [':method', 'GET'], ...extra];

describe('route table (first match, Envoy RouteMatch semantics)', () => {
  it.each([
    { path: '/exact', headers: [], route: 'exact' },
    { path: '/exact?query=1', headers: [], route: 'exact' },
    { path: '/exact/sub', headers: [], route: undefined },
    { path: '/api/x', headers: [['x-canary', '']], route: 'canary' },
    { path: '/api/x', headers: [['x-tenant', 'blue-7']], route: 'tenant' },
    { path: '/api/x', headers: [['x-tenant', 'red']], route: 'no-debug' },
    { path: '/api/x', headers: [['x-debug', 'on']], route: undefined },
    { path: '/api/x', headers: [['x-tenant', 'red'], ['x-tenant', 'blue']], route: 'no-debug' },
    { path: '/v2/items', headers: [], route: 'regex' },
    { path: '/v2/items/1', headers: [], route: undefined },
    { path: '/ci', headers: [['x-env', 'prod']], route: 'ci' },
    { path: '/ci', headers: [], route: undefined },
  ] as const)('$path with $headers → $route', ({ path, headers, route }) => {
    expect(table.match(request(path, headers as unknown as HeaderList))?.name).toBe(route);
  });
});

describe('route table: safe_regex on the RE2 engine (linear time, RE2 syntax)', () => {
  const redos = new RouteTable(sidecarConfig({
    clusters: { a: 'http://127.0.0.1:1' },
    routes: [
      { name: 'catastrophic', match: { prefix: '/', headers: [{ name: 'x-user', string_match: { safe_regex: { regex: '(a+)+$' } } }] }, cluster: 'a' },
      { name: 'regex-ignores-ignore-case', match: { prefix: '/', headers: [{ name: 'x-env', string_match: { safe_regex: { regex: 'prod' }, ignore_case: true } }] }, cluster: 'a' },
    ],
  }).routes);

  it('answers a hostile header against (a+)+$ without backtracking', () => {
    // 100,000 "a"s then "!": a backtracking engine (JS RegExp) would not return in our lifetime.
    expect(redos.match(request('/', [['x-user', 'a'.repeat(100_000) + '!']]))).toBeUndefined();
    expect(redos.match(request('/', [['x-user', 'aaaa']]))?.name).toBe('catastrophic');
  });

  it('ignores ignore_case for safe_regex, as Envoy does', () => {
    expect(redos.match(request('/', [['x-env', 'PROD']]))).toBeUndefined();
    expect(redos.match(request('/', [['x-env', 'prod']]))?.name).toBe('regex-ignores-ignore-case');
  });

  it.each([
    ['(a)\\1', 'backreference \\1 is not supported'],
    ['foo(?=bar)', 'lookahead (?= is not supported'],
  ])('refuses %s at config time, naming the field and the construct', (regex, reason) => {
    expect(() => sidecarConfig({ clusters: { a: 'http://127.0.0.1:1' }, routes: [{ name: 'r', match: { safe_regex: { regex } }, cluster: 'a' }] }))
      .toThrow(reason);
  });
});
