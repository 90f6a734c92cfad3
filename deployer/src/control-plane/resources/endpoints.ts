import { labelsMatch } from '../node-identity.js';
import type { MeshModel, MeshService, ServicePort, WorkloadEndpoint } from '../mesh-model.js';
import type { ResourceSpec } from '../snapshot.js';
import { TypeUrl } from '../types.js';
import { socketAddress } from './names.js';

/** The workloads behind a service: its inline endpoints, or the WorkloadEntries its workloadSelector picks in its namespace. */
export function serviceWorkloads(model: MeshModel, service: MeshService): WorkloadEndpoint[] {
  if (!service.workloadSelector) return [...service.endpoints];
  return model.workloadEntries.filter((we) => we.namespace === service.namespace && labelsMatch(service.workloadSelector, we.labels));
}

/** The port a workload listens on for a service port: WorkloadEntry.ports[name], else targetPort, else the port. */
export function workloadPort(workload: WorkloadEndpoint, port: ServicePort): number {
  return workload.ports[port.name] ?? port.targetPort ?? port.number;
}

function locality(text: string): Record<string, string> {
  const [region = '', zone = '', subZone = ''] = text.split('/');
  return { region, zone, sub_zone: subZone };
}

/**
 * ClusterLoadAssignment for one (sub)cluster, endpoints grouped in localities. Every locality gets
 * a `locality` and a `load_balancing_weight` (the sum of its endpoints' weights): gRPC's xDS
 * client ignores localities without a weight (gRFC A27; istio grpcgen relies on the same).
 */
export function clusterLoadAssignment(clusterName: string, workloads: readonly WorkloadEndpoint[], port: ServicePort, subsetLabels?: Readonly<Record<string, string>>): ResourceSpec {
  const byLocality = new Map<string, WorkloadEndpoint[]>();
  for (const workload of workloads) {
    if (subsetLabels && !labelsMatch(subsetLabels, workload.labels)) continue;
    byLocality.set(workload.locality, [...(byLocality.get(workload.locality) ?? []), workload]);
  }
  const endpoints = [...byLocality.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, members]) => ({
    locality: locality(name),
    load_balancing_weight: { value: members.reduce((sum, w) => sum + w.weight, 0) },
    lb_endpoints: members
      .sort((a, b) => a.address.localeCompare(b.address) || workloadPort(a, port) - workloadPort(b, port))
      .map((w) => ({ endpoint: { address: socketAddress(w.address, workloadPort(w, port)) }, health_status: 'HEALTHY', load_balancing_weight: { value: w.weight } })),
  }));
  return { typeUrl: TypeUrl.endpoint, name: clusterName, message: { cluster_name: clusterName, endpoints } };
}
