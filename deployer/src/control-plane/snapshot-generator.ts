import { createHash } from 'node:crypto';
import { appliesToWorkload } from '../sidecar/istio-chain.js';
import { placementFor } from '../suite.js';
import { translateResources, TRANSLATORS } from '../translate/index.js';
import { labelsMatch } from './node-identity.js';
import { sortFilters, type FilterAttachment, type MeshModel, type MeshService, type ServicePort } from './mesh-model.js';
import { edsCluster, inboundCluster, moduleServerCluster, passthroughCluster } from './resources/clusters.js';
import { clusterLoadAssignment, serviceWorkloads, workloadPort } from './resources/endpoints.js';
import { wasmExtensionConfig } from './resources/extension-configs.js';
import { grpcApiListener, outboundListener, virtualInboundListener, virtualOutboundListener } from './resources/listeners.js';
import { outboundClusterName } from './resources/names.js';
import { virtualHostFor } from './resources/routes.js';
import { buildResource, createSnapshot, type ResourceSpec } from './snapshot.js';
import { TypeUrl, type NodeIdentity, type Snapshot, type SnapshotSource, type XdsResource } from './types.js';

export interface GeneratorOptions {
  readonly model: MeshModel;
  /** `http://host:port` of the module server, as proxies reach it. */
  readonly moduleBaseUrl: string;
  /** Built suite filters (jwt-auth, rbac, …) by name → sha256 in the module store, for translated policies. */
  readonly builtModules: ReadonlyMap<string, string>;
}

/**
 * Turns the mesh model into one snapshot per node group, as istiod's generators do: Envoy
 * sidecars get inbound/outbound listeners with the wasm chain over ECDS; proxyless gRPC clients
 * get what pilot/pkg/networking/grpcgen serves. Resources are encoded once per snapshot; the
 * snapshot is checked for consistency before it can be served (snapshot.ts).
 */
export class SnapshotGenerator implements SnapshotSource {
  private readonly encoded = new Map<string, XdsResource>();
  /** Each stream's node object → its group, for this configuration (a push asks once per stream). */
  private readonly groups = new WeakMap<NodeIdentity, string>();

  constructor(private readonly options: GeneratorOptions) {}

  /**
   * Proxies whose snapshots would be identical share one: proxyless gRPC clients all see every
   * service the same way; a sidecar's snapshot depends on its namespace and on what selects it —
   * WasmPlugins and attachments, policies, the services whose inbound ports it serves (with its
   * own WorkloadEntry's target ports) — not on its other labels or its name, so 1,000 pods with
   * per-pod labels and the same selection are built and encoded once.
   */
  groupOf(node: NodeIdentity): string {
    if (node.generator === 'grpc') return 'grpc';
    let group = this.groups.get(node);
    if (group === undefined) this.groups.set(node, (group = this.sidecarGroup(node)));
    return group;
  }

  private sidecarGroup(node: NodeIdentity): string {
    const { model } = this.options;
    const filters: number[] = [];
    model.filters.forEach((f, i) => { if (this.selectsFilter(f, node)) filters.push(i); });
    const policies: number[] = [];
    model.policies.forEach((p, i) => { if (appliesToWorkload(p, node.namespace, node.labels, model.rootNamespace)) policies.push(i); });
    const inbound = this.inboundServices(node).flatMap((s) => this.inboundPorts(s, node).map((p) => `${p.number}>${p.targetPort ?? p.number}`));
    return `sidecar|${node.namespace}|f${filters.join(',')}|p${policies.join(',')}|i${inbound.join(',')}`;
  }

  private selectsFilter(filter: FilterAttachment, node: NodeIdentity): boolean {
    return (filter.namespace === node.namespace || filter.namespace === this.options.model.rootNamespace) && labelsMatch(filter.selector, node.labels);
  }

  /** ServiceEntries in the node's namespace whose workloadSelector picks it: the node serves their ports. */
  private inboundServices(node: NodeIdentity): MeshService[] {
    return this.options.model.services.filter((s) => s.namespace === node.namespace && s.workloadSelector && Object.keys(s.workloadSelector).length > 0 && labelsMatch(s.workloadSelector, node.labels));
  }

  snapshotFor(node: NodeIdentity): Snapshot {
    const group = this.groupOf(node);
    const specs = node.generator === 'grpc' ? this.grpcResources() : this.sidecarResources(node);
    return createSnapshot(group, specs.map((spec) => this.encode(spec)));
  }

  /** Identical specs across groups are encoded once (most resources are shared). */
  private encode(spec: ResourceSpec): XdsResource {
    const key = createHash('sha256').update(`${spec.typeUrl}\0${spec.name}\0${JSON.stringify(spec.message)}\0${JSON.stringify(spec.references ?? [])}\0${(spec.modules ?? []).join(',')}`).digest('hex');
    let resource = this.encoded.get(key);
    if (!resource) {
      resource = buildResource(spec);
      this.encoded.set(key, resource);
    }
    return resource;
  }

  private outboundClusters(service: MeshService, host: string, port: ServicePort, forEnvoy: boolean): ResourceSpec[] {
    const { model } = this.options;
    const rule = model.destinationRules.find((dr) => dr.host === host);
    const workloads = serviceWorkloads(model, service);
    const out: ResourceSpec[] = [];
    const name = outboundClusterName(host, port.number);
    out.push(edsCluster(name, port, rule?.lbPolicy, forEnvoy), clusterLoadAssignment(name, workloads, port));
    for (const subset of rule?.subsets ?? []) {
      const subsetName = outboundClusterName(host, port.number, subset.name);
      out.push(edsCluster(subsetName, port, subset.lbPolicy ?? rule?.lbPolicy, forEnvoy), clusterLoadAssignment(subsetName, workloads, port, subset.labels));
    }
    return out;
  }

  private grpcResources(): ResourceSpec[] {
    const { model } = this.options;
    const specs: ResourceSpec[] = [];
    for (const service of model.services) {
      for (const host of service.hosts) {
        for (const port of service.ports) {
          const routeName = outboundClusterName(host, port.number);
          specs.push(grpcApiListener(`${host}:${port.number}`, '0.0.0.0', port.number, routeName));
          const vhost = virtualHostFor(model, service, host, port);
          specs.push({ typeUrl: TypeUrl.route, name: routeName, message: { name: routeName, virtual_hosts: [vhost.message] }, references: vhost.references });
          specs.push(...this.outboundClusters(service, host, port, false));
        }
      }
    }
    return specs;
  }

  private sidecarResources(node: NodeIdentity): ResourceSpec[] {
    const { model } = this.options;
    const specs: ResourceSpec[] = [];
    const byPort = new Map<number, { service: MeshService; host: string; port: ServicePort }[]>();
    for (const service of model.services) {
      for (const host of service.hosts) {
        for (const port of service.ports) {
          byPort.set(port.number, [...(byPort.get(port.number) ?? []), { service, host, port }]);
          specs.push(...this.outboundClusters(service, host, port, true));
        }
      }
    }
    const filters = this.filtersFor(node);
    for (const [port, entries] of [...byPort].sort(([a], [b]) => a - b)) {
      const vhosts = entries.map(({ service, host, port: p }) => virtualHostFor(model, service, host, p));
      specs.push(outboundListener(port, filters));
      specs.push({ typeUrl: TypeUrl.route, name: String(port), message: { name: String(port), virtual_hosts: vhosts.map((v) => v.message) }, references: vhosts.flatMap((v) => v.references) });
    }
    specs.push(virtualOutboundListener(), passthroughCluster());
    const inboundPorts = this.inboundServices(node).flatMap((s) => this.inboundPorts(s, node));
    specs.push(virtualInboundListener(inboundPorts, filters));
    for (const port of new Set(inboundPorts.map((p) => p.targetPort ?? p.number))) specs.push(inboundCluster(port));
    for (const filter of filters) specs.push(wasmExtensionConfig(filter, this.options.moduleBaseUrl));
    const base = new URL(this.options.moduleBaseUrl);
    specs.push(moduleServerCluster(base.hostname.replace(/^\[|\]$/g, ''), Number(base.port || (base.protocol === 'https:' ? 443 : 80))));
    return specs;
  }

  /**
   * The ports this node serves for `service`, with the target port the application listens on:
   * the node's own WorkloadEntry (the one the service selects at the node's IP, preferring the one
   * named after the workload) maps port names to ports, as istiod builds inbound listeners from the
   * proxy's service targets; else the ServiceEntry's targetPort, else the port.
   */
  private inboundPorts(service: MeshService, node: NodeIdentity): ServicePort[] {
    const own = serviceWorkloads(this.options.model, service).filter((w) => w.address === node.ip);
    const self = own.find((w) => w.name === node.workloadName) ?? own[0];
    return service.ports.map((port) => (self ? { ...port, targetPort: workloadPort(self, port) } : port));
  }

  /** WasmPlugins and admin attachments selecting the node, plus the suite filters its policies configure. */
  filtersFor(node: NodeIdentity): FilterAttachment[] {
    const { model, builtModules } = this.options;
    const selected = model.filters.filter((f) => this.selectsFilter(f, node));
    const policies = model.policies.filter((p) => appliesToWorkload(p, node.namespace, node.labels, model.rootNamespace));
    const translated = policies.length === 0 ? [] : translateResources(policies, TRANSLATORS).map((t): FilterAttachment => {
      const sha256 = builtModules.get(t.filter);
      if (!sha256) throw new Error(`${t.kind} (${t.sources.join(', ')}) needs filter ${t.filter}, which is not in the module store: build it (npm run build) or push it`);
      const placement = placementFor(t.filter);
      return {
        name: `wasmesh.${t.filter}`, namespace: node.namespace, selector: {}, phase: placement.wasmPluginPhase, priority: placement.wasmPluginPriority,
        rootId: t.filter, sha256, configuration: JSON.stringify(t.config), failOpen: false, origin: `${t.kind} ${t.sources.join(', ')}`,
        // Request authentication and authorization are the server's (Istio applies them inbound only).
        traffic: [{ mode: 'SERVER', ports: [] }],
      };
    });
    return sortFilters([...translated, ...selected]);
  }
}
