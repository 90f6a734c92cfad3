import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { validateEnvoyAny, validateEnvoyMessage } from '../../deployer/src/envoy/validate.js';
import { loadRunConfigFile } from '../../deployer/src/sidecar/config/from-envoy-bootstrap.js';
import { validateSidecarConfig } from '../../deployer/src/sidecar/config/validate.js';
import { toEnvoyBootstrap } from '../../deployer/src/sidecar/envoy-bootstrap.js';
import { SYSTEM_CA_BUNDLE } from '../../deployer/src/sidecar/envoy-upstream-tls.js';

/**
 * https:// clusters on the Envoy path: the bootstrap `deployer run` exports carries the TLS the
 * sidecar uses (UpstreamTlsContext), and `run -c envoy.yaml` reads it back.
 */
const dir = mkdtempSync(path.join(tmpdir(), 'wasmesh-upstream-tls-'));
const pem = (name: string) => { const file = path.join(dir, name); writeFileSync(file, '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n'); return file; };
const [ca, cert, key] = [pem('ca.pem'), pem('cert.pem'), pem('key.pem')];
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const CLUSTERS: Record<string, unknown> = {
  plain: 'http://127.0.0.1:8080',
  public: 'https://jwks.example.com',
  mesh: { url: 'https://10.0.0.9:15443', tls: { ca, cert, key, sni: 'outbound_.9080_._.reviews.bookinfo.svc.cluster.local', subject_alt_names: ['spiffe://cluster.local/ns/bookinfo/sa/reviews', 'reviews.bookinfo'] } },
  pinned: { url: 'https://idp.example.com:8443', tls: { ca } },
};
const sidecar = validateSidecarConfig({
  listen: '127.0.0.1:15006', admin: '127.0.0.1:15000', clusters: CLUSTERS, routes: [{ match: { prefix: '/' }, cluster: 'plain' }],
}, { source: '<test>', baseDir: dir });
const bootstrap = toEnvoyBootstrap(sidecar, { wasmDir: '/etc/wasmesh/filters' }) as Json;
const clusterNamed = (b: Json, name: string): Json => (b.static_resources.clusters as Json[]).find((c) => c.name === name)!;

describe('run: https clusters on the Envoy path', () => {
  it.each([
    ['plain', 8080, undefined],
    ['public', 443, { sni: 'jwks.example.com', common_tls_context: { validation_context: { trusted_ca: { filename: SYSTEM_CA_BUNDLE }, match_typed_subject_alt_names: [{ san_type: 'DNS', matcher: { exact: 'jwks.example.com' } }] } } }],
    ['mesh', 15443, {
      sni: 'outbound_.9080_._.reviews.bookinfo.svc.cluster.local',
      common_tls_context: {
        tls_certificates: [{ certificate_chain: { filename: cert }, private_key: { filename: key } }],
        validation_context: { trusted_ca: { filename: ca }, match_typed_subject_alt_names: [
          { san_type: 'URI', matcher: { exact: 'spiffe://cluster.local/ns/bookinfo/sa/reviews' } }, { san_type: 'DNS', matcher: { exact: 'reviews.bookinfo' } },
        ] },
      },
    }],
    ['pinned', 8443, { sni: 'idp.example.com', common_tls_context: { validation_context: { trusted_ca: { filename: ca } } } }],
  ])('run: cluster %s exports as an Envoy cluster on port %i with the TLS the sidecar checks', (name, port, tls) => {
    const cluster = clusterNamed(bootstrap, name);
    validateEnvoyMessage('envoy.config.cluster.v3.Cluster', cluster, `static_resources.clusters.${name}`);
    expect(cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value).toBe(port);
    if (tls === undefined) {
      expect(cluster.transport_socket).toBeUndefined();
      return;
    }
    expect(cluster.transport_socket.name).toBe('envoy.transport_sockets.tls');
    expect(validateEnvoyAny(cluster.transport_socket.typed_config)).toBe('envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext');
    const { '@type': _type, ...context } = cluster.transport_socket.typed_config as Json;
    expect(context).toEqual(tls);
  });

  it('run: the exported bootstrap reads back as the same clusters (run -c envoy.yaml)', () => {
    const file = path.join(dir, 'envoy.yaml');
    writeFileSync(file, stringify(bootstrap));
    const loaded = loadRunConfigFile(file, dir);
    const describe = (c: { url: URL; tls?: unknown }) => ({ url: c.url.href, tls: c.tls });
    expect([...loaded.clusters.values()].map(describe)).toEqual([...sidecar.clusters.values()].map(describe));
  });

  it('run: an upstream TLS context that verifies nothing is refused naming its path', () => {
    const b = structuredClone(bootstrap);
    delete clusterNamed(b, 'pinned').transport_socket.typed_config.common_tls_context.validation_context;
    const file = path.join(dir, 'no-validation.yaml');
    writeFileSync(file, stringify(b));
    expect(() => loadRunConfigFile(file, dir)).toThrow(/static_resources\.clusters\[3\]\.transport_socket\.typed_config\.common_tls_context\.validation_context\.trusted_ca: not implemented by deployer run \(absent: Envoy would accept any upstream certificate/);
  });
});
