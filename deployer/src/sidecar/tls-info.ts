import type { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { PeerCertificate, TlsInfo } from '../host/api.js';

/**
 * What Envoy exposes of a TLS connection as `connection.*` attributes
 * (https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/advanced/attributes#connection-attributes):
 * URI/DNS SANs and the RFC 2253 subject of the peer and local certificates.
 */
export function tlsInfoOf(socket: TLSSocket): TlsInfo {
  const peer = socket.getPeerX509Certificate();
  const local = socket.getX509Certificate();
  const localSans = local ? parseSubjectAltNames(local.subjectAltName) : undefined;
  const servername = (socket as TLSSocket & { servername?: string | false }).servername;
  return {
    peerCertificate: peer && socket.authorized ? certificateInfo(peer) : undefined,
    localUriSans: localSans?.uri,
    localDnsSans: localSans?.dns,
    localSubject: local ? rfc2253(local.subject) : undefined,
    requestedServerName: typeof servername === 'string' ? servername : undefined,
    tlsVersion: socket.getProtocol() ?? undefined,
  };
}

/**
 * The same for an upstream connection (Envoy's `upstream.*` TLS attributes), where the peer is
 * the upstream server. Its certificate is reported whenever the handshake completed: the
 * connection exists only if the certificate passed the cluster's validation (or the cluster
 * validates nothing, as Envoy's UpstreamTlsContext without a validation context), and Envoy
 * reports what the peer presented either way.
 */
export function upstreamTlsInfo(socket: TLSSocket): TlsInfo {
  const peer = socket.getPeerX509Certificate();
  const local = socket.getX509Certificate();
  const localSans = local ? parseSubjectAltNames(local.subjectAltName) : undefined;
  return {
    peerCertificate: peer ? certificateInfo(peer) : undefined,
    localUriSans: localSans?.uri,
    localDnsSans: localSans?.dns,
    localSubject: local ? rfc2253(local.subject) : undefined,
    tlsVersion: socket.getProtocol() ?? undefined,
  };
}

function certificateInfo(cert: X509Certificate): PeerCertificate {
  const sans = parseSubjectAltNames(cert.subjectAltName);
  // Envoy: lower-case hex of the SHA-256 of the DER encoding (Node prints "AB:CD:…").
  return { uriSans: sans.uri, dnsSans: sans.dns, subject: rfc2253(cert.subject), sha256Digest: cert.fingerprint256.replace(/:/g, '').toLowerCase() };
}

/**
 * Node prints the subject one RDN per line in certificate order ("C=US\nO=Acme\nCN=x");
 * RFC 2253 lists RDNs in reverse order separated by commas, which is what Envoy reports
 * (X509_NAME_print_ex with XN_FLAG_RFC2253, source/common/tls/utility.cc).
 */
export function rfc2253(nodeSubject: string): string {
  return nodeSubject
    .split('\n')
    .filter((line) => line !== '')
    .reverse()
    .map((rdn) => {
      const eq = rdn.indexOf('=');
      if (eq === -1) return rdn;
      return `${rdn.slice(0, eq)}=${escapeRdnValue(rdn.slice(eq + 1))}`;
    })
    .join(',');
}

function escapeRdnValue(value: string): string {
  return value.replace(/([,+"\\<>;])/g, '\\$1').replace(/^([ #])/, '\\$1').replace(/ $/, '\\ ');
}

/**
 * Parses Node's subjectAltName string (`DNS:a.example, URI:spiffe://td/ns/x/sa/y`). Since
 * Node 17.3 / 16.14 values that contain separators are printed as JSON strings; both forms are
 * read here.
 */
export function parseSubjectAltNames(text: string | undefined): { uri: string[]; dns: string[] } {
  const uri: string[] = [];
  const dns: string[] = [];
  if (!text) return { uri, dns };
  let i = 0;
  while (i < text.length) {
    const colon = text.indexOf(':', i);
    if (colon === -1) break;
    const type = text.slice(i, colon).trim();
    let value: string;
    let next: number;
    if (text[colon + 1] === '"') {
      let end = colon + 2;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      value = JSON.parse(text.slice(colon + 1, end + 1)) as string;
      next = text.indexOf(',', end);
    } else {
      next = text.indexOf(', ', colon);
      value = text.slice(colon + 1, next === -1 ? undefined : next);
    }
    if (type === 'URI') uri.push(value);
    else if (type === 'DNS') dns.push(value);
    if (next === -1) break;
    i = next + (text[next + 1] === ' ' ? 2 : 1);
  }
  return { uri, dns };
}
