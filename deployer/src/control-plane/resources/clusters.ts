import type { LbPolicy, ServicePort } from '../mesh-model.js';
import type { ResourceSpec } from '../snapshot.js';
import { TypeUrl } from '../types.js';
import { ADS_CONFIG_SOURCE, inboundClusterName, MODULE_SERVER_CLUSTER, PASSTHROUGH_CLUSTER, socketAddress } from './names.js';

const HTTP_PROTOCOL_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

/** An EDS cluster reading its endpoints over ADS, named as istio names it (grpcgen cds.go edsCluster). */
export function edsCluster(name: string, port: ServicePort, lbPolicy: LbPolicy | undefined, forEnvoy: boolean): ResourceSpec {
  const http2 = forEnvoy && ['HTTP2', 'GRPC', 'GRPC-WEB'].includes(port.protocol);
  return {
    typeUrl: TypeUrl.cluster, name,
    references: [{ typeUrl: TypeUrl.endpoint, name }],
    message: {
      name, type: 'EDS',
      eds_cluster_config: { service_name: name, eds_config: ADS_CONFIG_SOURCE },
      connect_timeout: { seconds: 10 },
      lb_policy: lbPolicy ?? 'ROUND_ROBIN',
      ...(http2 ? { typed_extension_protocol_options: { [HTTP_PROTOCOL_OPTIONS]: { '@type': `type.googleapis.com/${HTTP_PROTOCOL_OPTIONS}`, explicit_http_config: { http2_protocol_options: {} } } } } : {}),
    },
  };
}

function staticCluster(name: string, host: string, port: number): ResourceSpec {
  const isIp = /^[\d.]+$/.test(host) || host.includes(':');
  return {
    typeUrl: TypeUrl.cluster, name,
    message: {
      name, type: isIp ? 'STATIC' : 'STRICT_DNS', connect_timeout: { seconds: 10 },
      load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress(host, port) } }] }] },
    },
  };
}

/** Where Envoy downloads wasm modules: this control plane's HTTP address. */
export function moduleServerCluster(host: string, port: number): ResourceSpec {
  return staticCluster(MODULE_SERVER_CLUSTER, host, port);
}

/** The application behind the sidecar, on loopback (Istio's inbound|<port>||). */
export function inboundCluster(port: number): ResourceSpec {
  return staticCluster(inboundClusterName(port), '127.0.0.1', port);
}

/** Istio's PassthroughCluster: traffic to unknown destinations goes where it was headed. */
export function passthroughCluster(): ResourceSpec {
  return { typeUrl: TypeUrl.cluster, name: PASSTHROUGH_CLUSTER, message: { name: PASSTHROUGH_CLUSTER, type: 'ORIGINAL_DST', lb_policy: 'CLUSTER_PROVIDED', connect_timeout: { seconds: 10 } } };
}
