/**
 * `deployer translate` for VirtualService (+ DestinationRule subsets) → header-router config and
 * the Envoy routes it needs; the translated config is accepted by the built filter and routes
 * Istio's Bookinfo examples as documented.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateEnvoyMessage } from '../../deployer/src/envoy/validate.js';
import { parseIstioResources, translateResources, type FilterTranslation } from '../../deployer/src/translate/index.js';
import { protobufDuration } from '../../deployer/src/translate/route-settings.js';
import { translateVirtualServices } from '../../deployer/src/translate/virtual-service.js';
import { loadRouter, runRequest } from '../filters/header-router/harness.js';
import { repoRoot } from '../setup/paths.js';

const fixture = (name: string) => readFileSync(path.join(repoRoot, 'test/fixtures/header-router/istio', name), 'utf8');
const translate = (yaml: string): FilterTranslation => {
  const [only, ...rest] = translateResources(parseIstioResources(yaml));
  expect(rest).toEqual([]);
  return only!;
};

describe('translate: VirtualService → header-router', () => {
  const bookinfo = translate(fixture('bookinfo.yaml'));

  it('translate: names clusters as Istio does and reads subsets from DestinationRules (v1, v1beta1, v1alpha3)', () => {
    expect(bookinfo.filter).toBe('header-router');
    const vss = bookinfo.config['virtualServices'] as { name: string; hosts: string[]; http: { route?: { destination: string; weight?: number }[] }[] }[];
    expect(vss.map((v) => v.name)).toEqual(['default/reviews', 'default/details', 'default/ratings']);
    expect(vss[0]!.hosts).toEqual(['reviews', 'reviews.default', 'reviews.default.svc', 'reviews.default.svc.cluster.local']);
    expect(vss[0]!.http[1]!.route).toEqual([
      { destination: 'outbound|9080|v1|reviews.default.svc.cluster.local', weight: 50 },
      { destination: 'outbound|9080|v3|reviews.default.svc.cluster.local', weight: 50 },
    ]);
    expect(bookinfo.routes?.map((r) => r['name'])).toContain('header-router|outbound|9080|v2|reviews.default.svc.cluster.local');
  });

  it('translate: timeout and retries are carried into the route, which Envoy accepts', () => {
    const details = bookinfo.routes!.find((r) => r['name'] === 'header-router|outbound|9080|v1|details.default.svc.cluster.local#default/details/rule0')!;
    expect(details['route']).toEqual({
      cluster: 'outbound|9080|v1|details.default.svc.cluster.local', timeout: '2s',
      retry_policy: { retry_on: '5xx,connect-failure', num_retries: 3, per_try_timeout: '1s' },
    });
    for (const route of bookinfo.routes!) expect(() => validateEnvoyMessage('envoy.config.route.v3.Route', route)).not.toThrow();
  });

  it('header-router: onConfigure accepts the translation and routes Bookinfo as documented', async () => {
    const emulator = await loadRouter(bookinfo.config);
    const jason = runRequest(emulator, { authority: 'reviews:9080', headers: { 'end-user': 'jason' } });
    expect(jason.route).toBe('outbound|9080|v2|reviews.default.svc.cluster.local');
    const counts = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      const o = runRequest(emulator, { authority: 'reviews.default.svc.cluster.local' });
      counts.set(o.route!, (counts.get(o.route!) ?? 0) + 1);
      emulator.completeHttpContext(o.id);
    }
    expect(Math.abs(counts.get('outbound|9080|v1|reviews.default.svc.cluster.local')! / 2000 - 0.5)).toBeLessThan(0.05);
    const slow = runRequest(emulator, { authority: 'ratings', headers: { 'end-user': 'jason' } });
    expect(slow.action).toBe('Pause');
    expect(emulator.getTickPeriod()).toBe(7000);
    await emulator.close();
  });

  it('translate: gateway binding, sticky annotations, rewrite, redirect, direct response bytes, mirror and CORS', () => {
    const resources = parseIstioResources(fixture('route-settings.yaml'));
    const mesh = translateVirtualServices(resources);
    const vs = (mesh.config['virtualServices'] as Record<string, unknown>[])[0]!;
    expect(vs['hosts']).toEqual(['cart', 'cart.shop', 'cart.shop.svc', 'cart.shop.svc.cluster.local', '*.shop.example.com']);
    expect(vs['sticky']).toEqual({ key: 'cookie:session', cookie: { name: 'shop-pin', ttl: '3600s' } });
    const rules = vs['http'] as Record<string, unknown>[];
    expect(rules.map((r) => r['name'])).toEqual(['api', 'moved', 'hello']);
    expect(rules[0]!['match']).toEqual([{ uri: { prefix: '/api/' } }, { uri: { regex: '/v[0-9]+/.*' } }]);
    expect(rules[2]!['directResponse']).toEqual({ status: 200, body: { string: 'hello' } });
    const route = mesh.routes[0]!;
    expect(route['route']).toMatchObject({
      cluster: 'outbound|8080||cart.shop.svc.cluster.local', timeout: '3s',
      request_mirror_policies: [{ cluster: 'outbound|8080||cart-shadow.shop.svc.cluster.local', runtime_fraction: { default_value: { numerator: 50000, denominator: 'MILLION' } }, trace_sampled: false }],
    });
    expect(route['typed_per_filter_config']).toEqual({ 'envoy.filters.http.cors': {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy',
      allow_origin_string_match: [{ exact: 'https://shop.example.com' }], allow_methods: 'GET,POST', max_age: '86400',
    } });
    expect(() => validateEnvoyMessage('envoy.config.route.v3.Route', route)).not.toThrow();
    const gateway = translateVirtualServices(resources, { gateway: 'shop/shop-gateway' });
    const gatewayRules = ((gateway.config['virtualServices'] as Record<string, unknown>[])[0]!['http'] as Record<string, unknown>[]);
    expect(gatewayRules.map((r) => r['name'])).toEqual(['api', 'gateway-only', 'moved', 'hello']);
    expect(gatewayRules[0]!['match']).toEqual([{ uri: { regex: '/v[0-9]+/.*' } }]);
  });

  it('header-router: onConfigure accepts the gateway translation with sticky pin cookie', async () => {
    const config = translateVirtualServices(parseIstioResources(fixture('route-settings.yaml'))).config;
    const emulator = await loadRouter(config);
    const hello = runRequest(emulator, { authority: 'cart.shop', path: '/hello' });
    expect(hello.reply?.status).toBe(200);
    await emulator.close();
  });

  const broken = (spec: string, extra = '') => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: bad, namespace: default${extra} }
spec:
${spec}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: r, namespace: default }
spec: { host: reviews, subsets: [{ name: v1, labels: { version: v1 } }] }
`;

  it.each([
    ['unknown subset', broken('  hosts: [reviews]\n  http:\n  - route: [{ destination: { host: reviews, subset: v9, port: { number: 9080 } } }]'),
      'VirtualService "default/bad": spec.http[0].route[0].destination.subset: "v9" of reviews.default.svc.cluster.local is not defined by any DestinationRule given (known: v1)'],
    ['destination without port', broken('  hosts: [reviews]\n  http:\n  - route: [{ destination: { host: reviews } }]'),
      'spec.http[0].route[0].destination.port: no port'],
    ['bad regex', broken('  hosts: [reviews]\n  http:\n  - match: [{ uri: { regex: "(a)\\\\1" } }]\n    route: [{ destination: { host: reviews, port: { number: 1 } } }]'),
      'spec.http[0].match[0].uri.regex: backreference \\1 is not supported'],
    ['delegate', broken('  hosts: [reviews]\n  http:\n  - delegate: { name: other }'), 'spec.http[0].delegate: delegate VirtualServices are not supported'],
    ['tcp routes', broken('  hosts: [reviews]\n  tcp:\n  - route: [{ destination: { host: reviews, port: { number: 1 } } }]'), 'spec.tcp: TCP routes are not HTTP'],
    ['http2Error abort', broken('  hosts: [reviews]\n  http:\n  - fault: { abort: { http2Error: REFUSED_STREAM } }\n    route: [{ destination: { host: reviews, port: { number: 1 } } }]'), 'fault.abort.http2Error: not supported'],
    ['timeout on a redirect', broken('  hosts: [reviews]\n  http:\n  - redirect: { uri: /x }\n    timeout: 1s'), 'timeout, retries, mirror and corsPolicy need a route'],
    ['two rules of one name with different settings', broken('  hosts: [reviews]\n  http:\n  - name: r\n    match: [{ uri: { prefix: /a } }]\n    timeout: 1s\n    route: [{ destination: { host: reviews, port: { number: 1 } } }]\n  - name: r\n    timeout: 2s\n    route: [{ destination: { host: reviews, port: { number: 1 } } }]'),
      'spec.http[1]: route key outbound|1||reviews.default.svc.cluster.local#default/bad/r is also used by'],
    ['bad sticky annotation', broken('  hosts: [reviews]\n  http:\n  - route: [{ destination: { host: reviews, port: { number: 1 } } }]', ', annotations: { wasmesh.io/sticky-key: "ip:x" }'),
      'metadata.annotations[wasmesh.io/sticky-key]: "ip:x": expected header:<name>'],
  ])('translate: refuses %s with the resource, rule and field named', (_name, yaml, message) => {
    expect(() => translateResources(parseIstioResources(yaml))).toThrow(message);
  });

  it.each([['2s', '2s'], ['24h', '86400s'], ['1m30s', '90s'], ['500ms', '0.5s'], ['1.5s', '1.5s']])('translate: Istio duration %s is Envoy duration %s', (istio, envoy) => {
    expect(protobufDuration(istio, 'timeout')).toBe(envoy);
  });

  it('translate: refuses a duration it cannot read, naming the field', () => {
    expect(() => protobufDuration('soon', 'spec.http[0].timeout')).toThrow('spec.http[0].timeout: "soon": expected a duration');
  });
});
