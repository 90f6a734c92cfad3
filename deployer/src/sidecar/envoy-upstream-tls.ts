import { isIP } from 'node:net';
import type { UpstreamTlsConfig } from './config/types.js';

/**
 * An https:// cluster's TLS both ways between the sidecar's settings and Envoy's
 * `envoy.transport_sockets.tls` UpstreamTlsContext (api/envoy/extensions/transport_sockets/tls/v3/tls.proto),
 * so that `deployer run` and Envoy check the same things (deployer/src/sidecar/upstream.ts):
 *  - with a CA file: the chain must reach it, and names are checked only against the listed
 *    subject alt names, as Envoy checks names only when the validation context lists them;
 *  - without: the sidecar trusts Node's default CAs and checks the host name, as any https client.
 *    Envoy has no default trust store (no validation_context = no verification at all), so the
 *    equivalent names the system bundle and the host as the one accepted SAN.
 */

type Json = Record<string, unknown>;

export const UPSTREAM_TLS_CONTEXT = 'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
/** The CA bundle of Debian/Ubuntu, the base of Envoy's official images (envoyproxy/envoy). */
export const SYSTEM_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

const bareHost = (url: URL): string => url.hostname.replace(/^\[|\]$/g, '');

/** A SAN the sidecar accepts by name: a URI (SPIFFE id) when it has a scheme, else a DNS name; addresses as IP SANs. */
function sanMatcher(name: string): Json {
  const type = name.includes('://') ? 'URI' : isIP(name) !== 0 ? 'IP_ADDRESS' : 'DNS';
  return { san_type: type, matcher: { exact: name } };
}

export function upstreamTlsSocket(url: URL, tls: UpstreamTlsConfig): Json {
  const host = bareHost(url);
  const sni = tls.sni ?? (isIP(host) === 0 ? host : undefined);
  const names = tls.caFile !== undefined ? tls.subjectAltNames : [host];
  return {
    name: 'envoy.transport_sockets.tls',
    typed_config: {
      '@type': `type.googleapis.com/${UPSTREAM_TLS_CONTEXT}`,
      ...(sni !== undefined ? { sni } : {}),
      common_tls_context: {
        ...(tls.certFile !== undefined && tls.keyFile !== undefined
          ? { tls_certificates: [{ certificate_chain: { filename: tls.certFile }, private_key: { filename: tls.keyFile } }] }
          : {}),
        validation_context: {
          trusted_ca: { filename: tls.caFile ?? SYSTEM_CA_BUNDLE },
          ...(names !== undefined ? { match_typed_subject_alt_names: names.map(sanMatcher) } : {}),
        },
      },
    },
  };
}

/** The sidecar.yaml `tls` of a cluster an UpstreamTlsContext describes (raw file names, as written). */
export interface RawClusterTls {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly sni?: string;
  readonly subject_alt_names?: readonly string[];
}

/**
 * The inverse of upstreamTlsSocket: undefined when the context is exactly what a plain https
 * client checks (system bundle, the host as the only SAN, the host as SNI, no client certificate).
 */
export function rawClusterTls(url: URL, context: {
  readonly sni?: string; readonly ca?: string; readonly cert?: string; readonly key?: string; readonly sans?: readonly string[];
}): RawClusterTls | undefined {
  const host = bareHost(url);
  const defaultSni = isIP(host) === 0 ? host : undefined;
  const plain = context.ca === SYSTEM_CA_BUNDLE && context.cert === undefined && context.key === undefined
    && context.sni === defaultSni && context.sans !== undefined && context.sans.length === 1 && context.sans[0] === host;
  if (plain) return undefined;
  return {
    ...(context.ca !== undefined ? { ca: context.ca } : {}),
    ...(context.cert !== undefined ? { cert: context.cert } : {}),
    ...(context.key !== undefined ? { key: context.key } : {}),
    ...(context.sni !== undefined && context.sni !== defaultSni ? { sni: context.sni } : {}),
    ...(context.sans !== undefined ? { subject_alt_names: context.sans } : {}),
  };
}
