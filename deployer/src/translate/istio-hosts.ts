/**
 * Istio's service naming for VirtualService/DestinationRule translation: short names resolved
 * against the resource's namespace (pilot ResolveShortnameToFQDN: a name without dots becomes
 * `<name>.<namespace>.svc.<domain>`), the domains a sidecar's virtual host answers to, and the
 * outbound cluster names Istio gives subsets (`outbound|<port>|<subset>|<FQDN>`).
 */

export const CLUSTER_DOMAIN = 'cluster.local';

/** `reviews` in `default` → `reviews.default.svc.cluster.local`; names with dots and wildcards stay. */
export function resolveHost(host: string, namespace: string): string {
  if (host === '*' || host.startsWith('*') || host.includes('.')) return host.toLowerCase();
  return `${host}.${namespace}.svc.${CLUSTER_DOMAIN}`.toLowerCase();
}

/**
 * The authorities a VirtualService host answers to, ports aside (the filter ignores the port):
 * for a Kubernetes service FQDN the short forms Istio's sidecar virtual hosts list
 * (`name`, `name.ns`, `name.ns.svc`, FQDN); other hosts (external names, `*.example.com`) as is.
 */
export function hostDomains(host: string, namespace: string): string[] {
  const fqdn = resolveHost(host, namespace);
  const suffix = `.svc.${CLUSTER_DOMAIN}`;
  if (!fqdn.endsWith(suffix) || fqdn.startsWith('*')) return [fqdn];
  const [name, ns] = fqdn.slice(0, -suffix.length).split('.');
  if (name === undefined || ns === undefined) return [fqdn];
  return [name, `${name}.${ns}`, `${name}.${ns}.svc`, fqdn];
}

/** Istio's outbound cluster name for a destination. */
export function outboundCluster(port: number, subset: string, fqdn: string): string {
  return `outbound|${port}|${subset}|${fqdn}`;
}
