import type { SidecarConfig } from '../config/types.js';
import { pathNormalizationForMesh, type MeshPathNormalization } from './config.js';

/**
 * `--mesh-config`: MeshConfig pathNormalization sets the HCM's normalize_path, merge_slashes and
 * path_with_escaped_slashes_action exactly as istiod writes them into every sidecar listener,
 * replacing what sidecar.yaml said (the mesh is what the sidecar would run with in the cluster).
 * Absent, the sidecar keeps its own settings (Istio's default, BASE, unless sidecar.yaml says
 * otherwise).
 */
export function withMeshPathNormalization(config: SidecarConfig, mode: MeshPathNormalization | undefined): SidecarConfig {
  if (mode === undefined) return config;
  return { ...config, hcm: { ...config.hcm, ...pathNormalizationForMesh(mode) } };
}
