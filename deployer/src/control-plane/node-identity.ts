import type { NodeIdentity } from './types.js';
import { structToJson, type StructMessage } from './xds-protos.js';

/** envoy.config.core.v3.Node as protobufjs decodes it (keepCase). */
export interface NodeMessage {
  readonly id?: string;
  readonly cluster?: string;
  readonly metadata?: StructMessage | null;
}

export class NodeIdentityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NodeIdentityError';
  }
}

/**
 * Who a proxy is, the way istiod reads it (pilot/pkg/model/context.go ParseServiceNodeWithMetadata):
 * id `<type>~<ip>~<pod>.<namespace>~<namespace>.svc.<domain>`, metadata NAMESPACE, LABELS,
 * WORKLOAD_NAME; proxyless gRPC says so with metadata GENERATOR: grpc
 * (pilot/pkg/xds/discovery.go picks the grpc generator from it). Metadata wins over the id.
 */
export function nodeIdentity(node: NodeMessage | null | undefined): NodeIdentity {
  const id = node?.id ?? '';
  if (id === '') throw new NodeIdentityError('the first request of a stream carries no node id: expected Node.id like sidecar~10.0.0.1~pod.ns~ns.svc.cluster.local');
  const metadata = structToJson(node?.metadata ?? undefined);
  const parts = id.split('~');
  const istioForm = parts.length === 4;
  const podPart = istioForm ? parts[2]! : '';
  const idNamespace = podPart.includes('.') ? podPart.slice(podPart.indexOf('.') + 1) : '';
  const namespace = stringField(metadata, 'NAMESPACE') ?? (idNamespace || 'default');
  const labels: Record<string, string> = {};
  const rawLabels = metadata.LABELS;
  if (rawLabels !== undefined) {
    if (typeof rawLabels !== 'object' || rawLabels === null || Array.isArray(rawLabels)) {
      throw new NodeIdentityError(`node ${id}: metadata LABELS is ${JSON.stringify(rawLabels)}: expected a map of strings`);
    }
    for (const [key, value] of Object.entries(rawLabels)) {
      if (typeof value !== 'string') throw new NodeIdentityError(`node ${id}: metadata LABELS.${key} is ${JSON.stringify(value)}: expected a string`);
      labels[key] = value;
    }
  }
  const generator = stringField(metadata, 'GENERATOR') === 'grpc' ? 'grpc' : 'sidecar';
  return {
    id,
    cluster: node?.cluster ?? '',
    generator,
    ip: istioForm && parts[1] ? parts[1] : undefined,
    namespace,
    workloadName: stringField(metadata, 'WORKLOAD_NAME') ?? (podPart ? podPart.split('.')[0] : undefined),
    labels,
    dnsDomain: istioForm && parts[3] ? parts[3] : `${namespace}.svc.cluster.local`,
  };
}

function stringField(metadata: Record<string, unknown>, key: string): string | undefined {
  const value = metadata[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Istio's workload selector: every wanted label present with the same value (empty selector = all). */
export function labelsMatch(wanted: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>>): boolean {
  return Object.entries(wanted ?? {}).every(([key, value]) => labels[key] === value);
}
