import { runsOn, type FilterAttachment, type ServicePort } from '../mesh-model.js';
import type { ResourceReference } from '../types.js';
import type { ResourceSpec } from '../snapshot.js';
import { TypeUrl } from '../types.js';
import { ecdsFilterReference } from './extension-configs.js';
import { ADS_CONFIG_SOURCE, HCM_TYPE, inboundClusterName, PASSTHROUGH_CLUSTER, ROUTER_FILTER, socketAddress } from './names.js';

/**
 * Proxyless gRPC: one api_listener per `host:port`, an HCM whose route config comes over RDS as
 * `outbound|<port>||<host>` and whose last filter is the router — the shape istiod's gRPC
 * generator serves (istio/istio pilot/pkg/networking/grpcgen/lds.go buildOutboundListeners;
 * rds.go names the route config like the cluster).
 */
export function grpcApiListener(listenerName: string, address: string, port: number, routeConfigName: string): ResourceSpec {
  return {
    typeUrl: TypeUrl.listener,
    name: listenerName,
    references: [{ typeUrl: TypeUrl.route, name: routeConfigName }],
    message: {
      name: listenerName,
      address: socketAddress(address, port),
      api_listener: {
        api_listener: {
          '@type': HCM_TYPE,
          rds: { config_source: ADS_CONFIG_SOURCE, route_config_name: routeConfigName },
          http_filters: [ROUTER_FILTER],
        },
      },
    },
  };
}

function hcmFilter(hcm: Record<string, unknown>): Record<string, unknown> {
  return { name: 'envoy.filters.network.http_connection_manager', typed_config: { '@type': HCM_TYPE, ...hcm } };
}

/**
 * Sidecar outbound listener per port (`0.0.0.0_<port>`), reached through virtualOutbound, routes
 * over RDS named by port. Its HCM runs, as ECDS references in chain order, the filters whose
 * WasmPlugin.match selects CLIENT traffic on this (service) port (mesh-model.ts runsOn).
 */
export function outboundListener(port: number, filters: readonly FilterAttachment[] = []): ResourceSpec {
  const name = `0.0.0.0_${port}`;
  const client = filters.filter((f) => runsOn(f, 'CLIENT', port));
  return {
    typeUrl: TypeUrl.listener, name,
    references: [{ typeUrl: TypeUrl.route, name: String(port) }, ...client.map((f) => ({ typeUrl: TypeUrl.extensionConfig, name: f.name }))],
    message: {
      name, address: socketAddress('0.0.0.0', port), bind_to_port: { value: false }, traffic_direction: 'OUTBOUND',
      filter_chains: [{ filters: [hcmFilter({ stat_prefix: `outbound_0.0.0.0_${port}`, rds: { config_source: ADS_CONFIG_SOURCE, route_config_name: String(port) }, http_filters: [...client.map(ecdsFilterReference), ROUTER_FILTER] })] }],
    },
  };
}

/** Istio's virtualOutbound (15001): hands connections to the per-port listener, else passes them through. */
export function virtualOutboundListener(): ResourceSpec {
  return {
    typeUrl: TypeUrl.listener, name: 'virtualOutbound',
    references: [{ typeUrl: TypeUrl.cluster, name: PASSTHROUGH_CLUSTER }],
    message: {
      name: 'virtualOutbound', address: socketAddress('0.0.0.0', 15001), use_original_dst: { value: true }, traffic_direction: 'OUTBOUND',
      filter_chains: [{
        name: 'PassthroughFilterChain',
        filters: [{ name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', stat_prefix: PASSTHROUGH_CLUSTER, cluster: PASSTHROUGH_CLUSTER } }],
      }],
    },
  };
}

/**
 * Istio's virtualInbound (15006): one filter chain per application port, whose HCM runs the wasm
 * filters as ECDS references in chain order, then the router to `inbound|<port>||`. A filter swap
 * is then an ECDS update only: the listener does not change, so connections are not drained.
 */
export function virtualInboundListener(ports: readonly ServicePort[], filters: readonly FilterAttachment[]): ResourceSpec {
  // SERVER traffic: each application port's chain runs the filters selecting it (mesh-model.ts runsOn).
  // The chain of an unknown port (no ServiceEntry) keeps every filter that selects SERVER traffic on some port.
  const anyPort = filters.filter((f) => (f.traffic ?? []).length === 0 || f.traffic!.some((t) => t.mode !== 'CLIENT'));
  const references: ResourceReference[] = anyPort.map((f) => ({ typeUrl: TypeUrl.extensionConfig, name: f.name }));
  const targetPorts = [...new Set(ports.map((p) => p.targetPort ?? p.number))].sort((a, b) => a - b);
  const httpFilters = [...anyPort.map(ecdsFilterReference), ROUTER_FILTER];
  const chains = targetPorts.map((port) => {
    const httpFilters = [...filters.filter((f) => runsOn(f, 'SERVER', port)).map(ecdsFilterReference), ROUTER_FILTER];
    references.push({ typeUrl: TypeUrl.cluster, name: inboundClusterName(port) });
    return {
      name: `0.0.0.0_${port}`,
      filter_chain_match: { destination_port: { value: port } },
      filters: [hcmFilter({
        stat_prefix: `inbound_0.0.0.0_${port}`,
        route_config: { name: inboundClusterName(port), virtual_hosts: [{ name: `inbound|http|${port}`, domains: ['*'], routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster: inboundClusterName(port), timeout: { seconds: 0 } } }] }] },
        http_filters: httpFilters,
      })],
    };
  });
  // No application port known (no ServiceEntry selects this workload): every request is answered 503 after the filters.
  if (chains.length === 0) {
    chains.push({
      name: 'inbound-no-service', filter_chain_match: undefined as never,
      filters: [hcmFilter({
        stat_prefix: 'inbound_no_service',
        route_config: { name: 'inbound-no-service', virtual_hosts: [{ name: 'inbound|no-service', domains: ['*'], routes: [{ match: { prefix: '/' }, direct_response: { status: 503, body: { inline_string: 'no ServiceEntry selects this workload: no inbound port known\n' } } }] }] },
        http_filters: httpFilters,
      })],
    });
  }
  return {
    typeUrl: TypeUrl.listener, name: 'virtualInbound', references,
    message: {
      name: 'virtualInbound', address: socketAddress('0.0.0.0', 15006), traffic_direction: 'INBOUND',
      listener_filters: [{ name: 'envoy.filters.listener.original_dst', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst' } }],
      filter_chains: chains.map((c) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined))),
    },
  };
}
