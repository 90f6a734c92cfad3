/** Istio's cluster naming (pilot/pkg/model/service.go BuildSubsetKey): `outbound|<port>|<subset>|<host>`. */
export function outboundClusterName(host: string, port: number, subset = ''): string {
  return `outbound|${port}|${subset}|${host}`;
}

export function inboundClusterName(port: number): string {
  return `inbound|${port}||`;
}

/** The static cluster through which Envoy downloads modules from this control plane's module server. */
export const MODULE_SERVER_CLUSTER = 'wasmesh-control-plane';
export const PASSTHROUGH_CLUSTER = 'PassthroughCluster';

export const ADS_CONFIG_SOURCE = { ads: {}, resource_api_version: 'V3' } as const;

export const ROUTER_FILTER = {
  name: 'envoy.filters.http.router',
  typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
} as const;

export const HCM_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
export const WASM_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm';

export function socketAddress(address: string, port: number): Record<string, unknown> {
  return { socket_address: { address, port_value: port } };
}
