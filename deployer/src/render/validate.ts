import { PATCH_VALUE_MESSAGE } from '../envoy/documents.js';
import { EnvoyConfigError, validateEnvoyMessage } from '../envoy/validate.js';
import { validateIstioResource } from '../istio/validate.js';
import type { KubernetesManifest } from './types.js';

interface ConfigPatch { readonly applyTo?: string; readonly patch?: { readonly value?: unknown } }

/**
 * Everything rendered must pass the CRD schema of its kind and, for EnvoyFilter, the Envoy
 * protos of each patch value (unknown fields rejected): istiod would otherwise drop or NACK it
 * at runtime, long after `deployer push` said it succeeded.
 */
export function validateManifest(manifest: KubernetesManifest): void {
  validateIstioResource(manifest);
  if (manifest.kind !== 'EnvoyFilter') return;
  const patches = (manifest.spec.configPatches ?? []) as readonly ConfigPatch[];
  patches.forEach((patch, index) => {
    const message = PATCH_VALUE_MESSAGE[patch.applyTo ?? ''];
    if (!message) return;
    const path = `spec.configPatches[${index}].patch.value`;
    try {
      validateEnvoyMessage(message, patch.patch?.value, path);
    } catch (error) {
      if (error instanceof EnvoyConfigError) {
        throw new Error(`EnvoyFilter "${manifest.metadata.name}": ${error.message} (Envoy message ${message})`, { cause: error });
      }
      throw error;
    }
  });
}

export function validateManifests(manifests: readonly KubernetesManifest[]): void {
  for (const manifest of manifests) validateManifest(manifest);
}
