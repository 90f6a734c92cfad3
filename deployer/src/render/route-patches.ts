import { readResourcesText } from '../cli/inputs.js';
import { parseIstioResources, translateResources, translatedKinds } from '../translate/index.js';
import { placementFor } from '../suite.js';
import { ENVOY_FILTER_API_VERSION, envoyPatchContext } from './envoyfilter.js';
import { objectName, PART_LABEL, renderAnnotations, renderLabels, ROUTES_PART } from './metadata.js';
import type { JsonObject, KubernetesManifest, RenderOptions } from './types.js';

/**
 * The routes header-router's decisions select, as an EnvoyFilter of `HTTP_ROUTE` patches
 * (`INSERT_FIRST`, so they are tried before the routes Istio generates from the same
 * VirtualService), one per destination (or per rule with route-level settings), each matching
 * the routing header exactly. Context: SIDECAR_OUTBOUND or GATEWAY — where a route table chooses
 * the upstream (at SIDECAR_INBOUND the upstream is the local app: nothing to route).
 *
 * The patches match no particular route configuration or virtual host: the virtual host that
 * receives a request is the VirtualService host's, which may differ from the destination's
 * (and its port is not in the translation). A route only fires on a request the filter tagged
 * with its exact key, and the filter removes client-sent copies, so the extra routes are inert
 * everywhere else. https://istio.io/latest/docs/reference/config/networking/envoy-filter/ (HTTP_ROUTE).
 */
export function renderRoutePatches(options: RenderOptions, routes: readonly JsonObject[]): KubernetesManifest {
  if (options.context === 'inbound') {
    throw new Error(`header-router routes: context inbound has no route table choosing upstreams; expected --direction outbound or gateway (or render without --istio routes)`);
  }
  const context = envoyPatchContext(options.context);
  const placement = placementFor(options.filter, options.priority);
  const selector = Object.keys(options.selector).length > 0 ? { workloadSelector: { labels: { ...options.selector } } } : {};
  return {
    apiVersion: ENVOY_FILTER_API_VERSION,
    kind: 'EnvoyFilter',
    metadata: {
      name: `${objectName(options.filter, options)}-routes`,
      namespace: options.namespace,
      labels: { ...renderLabels(options), [PART_LABEL]: ROUTES_PART },
      annotations: renderAnnotations(options, placement),
    },
    spec: {
      ...selector,
      priority: placement.envoyFilterPriority,
      configPatches: routes.map((route) => ({
        applyTo: 'HTTP_ROUTE',
        match: { context, routeConfiguration: {} },
        patch: { operation: 'INSERT_FIRST', value: route },
      })),
    },
  };
}

/**
 * The routes header-router needs, translated from the VirtualServices/DestinationRules in
 * `spec` (render/push --istio: a file or a folder; stdin is read once, by the config, so `-`
 * has no second copy to give and is refused here).
 */
export async function routerRoutesFromIstio(spec: string): Promise<readonly JsonObject[]> {
  if (spec === '-') throw new Error('--istio -: header-router routes cannot be read from stdin (it is consumed by the filter config); pass a file or folder');
  const text = readResourcesText(spec, translatedKinds(), '--istio', () => {});
  const translation = translateResources(parseIstioResources(text, spec)).find((t) => t.filter === 'header-router');
  return translation?.routes ?? [];
}
