import { ENVOY_FILTER_API_VERSION } from '../render/envoyfilter.js';
import { WASM_PLUGIN_API_VERSION } from '../render/wasmplugin.js';

/** The Kubernetes resources wasmesh writes, with their REST names. */
export interface ManagedResourceType {
  readonly apiVersion: string;
  readonly kind: 'EnvoyFilter' | 'WasmPlugin';
  readonly plural: string;
}

export const MANAGED_RESOURCE_TYPES: readonly ManagedResourceType[] = [
  { apiVersion: ENVOY_FILTER_API_VERSION, kind: 'EnvoyFilter', plural: 'envoyfilters' },
  { apiVersion: WASM_PLUGIN_API_VERSION, kind: 'WasmPlugin', plural: 'wasmplugins' },
];
