import { readResourcesText } from '../cli/inputs.js';
import { parseIstioResources, translatedKinds, type IstioResource } from '../translate/index.js';
import { translateVirtualServices } from '../translate/virtual-service.js';
import { placementFor } from '../suite.js';
import { ENVOY_FILTER_API_VERSION, envoyPatchContext } from './envoyfilter.js';
import { objectName, PART_LABEL, renderAnnotations, renderLabels, ROUTES_PART } from './metadata.js';
import { routeTargets, type RouteTargets, type VhostTarget } from './route-targets.js';
import type { JsonObject, KubernetesManifest, RenderOptions } from './types.js';

/**
 * Where the routes object's patches apply, as an annotation (the patches say it too; this says why):
 * `virtual hosts` when every route is placed in its VirtualService's virtual hosts, or
 * `all route configurations: <why>` when some could not be (render/route-targets.ts).
 */
export const ROUTE_SCOPE_ANNOTATION = 'wasmesh.io/route-scope';

/**
 * The routes header-router's decisions select, as an EnvoyFilter of `HTTP_ROUTE` patches
 * (`INSERT_FIRST`, so they are tried before the routes Istio generates from the same
 * VirtualService), one per destination (or per rule with route-level settings), each matching
 * the routing header exactly. Context: SIDECAR_OUTBOUND or GATEWAY — where a route table chooses
 * the upstream (at SIDECAR_INBOUND the upstream is the local app: nothing to route).
 *
 * Each route is patched into the virtual hosts of the VirtualServices that send requests to it
 * (`<host>:<port>`, route-targets.ts), one patch per virtual host. A route whose port is unknown
 * matches every route configuration, as `wasmesh.io/route-scope` says: harmless, because a route
 * only fires on a request the filter tagged with its exact key and the filter removes
 * client-sent copies, but every route table then carries it.
 * https://istio.io/latest/docs/reference/config/networking/envoy-filter/ (HTTP_ROUTE, RouteConfigurationMatch).
 */
export function renderRoutePatches(options: RenderOptions, routes: readonly JsonObject[]): KubernetesManifest {
  if (options.context === 'inbound') {
    throw new Error(`header-router routes: context inbound has no route table choosing upstreams; expected --direction outbound or gateway (or render without --istio routes)`);
  }
  const context = envoyPatchContext(options.context);
  const placement = placementFor(options.filter, options.priority);
  const selector = Object.keys(options.selector).length > 0 ? { workloadSelector: { labels: { ...options.selector } } } : {};
  const targets = options.context === 'gateway' ? options.routeTargets?.gateway : options.routeTargets?.sidecar;
  const reasons = options.routeTargets === undefined
    ? ['virtual hosts not computed (routes given without their VirtualServices)']
    : options.context === 'gateway' ? options.routeTargets.unknown.gateway : options.routeTargets.unknown.sidecar;
  const untargeted = routes.some((r) => targets?.get(String(r['name'])) === undefined);
  const routeConfiguration = (t: VhostTarget): JsonObject => options.context === 'gateway'
    ? { portNumber: t.port, vhost: { name: t.vhost } }
    : { vhost: { name: t.vhost } };
  return {
    apiVersion: ENVOY_FILTER_API_VERSION,
    kind: 'EnvoyFilter',
    metadata: {
      name: `${objectName(options.filter, options)}-routes`,
      namespace: options.namespace,
      labels: { ...renderLabels(options), [PART_LABEL]: ROUTES_PART },
      annotations: {
        ...renderAnnotations(options, placement),
        [ROUTE_SCOPE_ANNOTATION]: untargeted ? `all route configurations: ${reasons.join('; ')}` : 'virtual hosts',
      },
    },
    spec: {
      ...selector,
      priority: placement.envoyFilterPriority,
      configPatches: routes.flatMap((route) => {
        const vhosts = targets?.get(String(route['name']));
        const matches: JsonObject[] = vhosts === undefined ? [{}] : vhosts.map(routeConfiguration);
        return matches.map((match) => ({
          applyTo: 'HTTP_ROUTE',
          match: { context, routeConfiguration: match },
          patch: { operation: 'INSERT_FIRST', value: route },
        }));
      }),
    },
  };
}

/** What render/push --istio hand to header-router's route patches. */
export interface RouterRoutes {
  readonly routes: readonly JsonObject[];
  readonly routeTargets: RouteTargets;
}

/** Kinds read beside the translated ones only to place the routes: ports of hosts and gateways. */
const PLACEMENT_KINDS = ['ServiceEntry', 'Gateway'];

/**
 * The routes header-router needs, translated from the VirtualServices/DestinationRules in
 * `spec` (render/push --istio: a file or a folder; stdin is read once, by the config, so `-`
 * has no second copy to give and is refused here), with the virtual hosts they belong in.
 */
export async function routerRoutesFromIstio(spec: string): Promise<RouterRoutes> {
  if (spec === '-') throw new Error('--istio -: header-router routes cannot be read from stdin (it is consumed by the filter config); pass a file or folder');
  const text = readResourcesText(spec, [...translatedKinds(), ...PLACEMENT_KINDS], '--istio', () => {});
  const resources: readonly IstioResource[] = parseIstioResources(text, spec);
  const router = translateVirtualServices(resources.filter((r) => r.kind === 'VirtualService' || r.kind === 'DestinationRule'));
  return { routes: router.routes, routeTargets: routeTargets(router.uses, resources) };
}
