// Media types of the two Wasm image variants Istio reads (istio/istio pkg/wasm/imagefetcher.go,
// solo-io/wasm spec/spec.md and spec/spec-compat.md) plus the manifest types we exchange with registries.

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST_V2 = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

export const OCI_IMAGE_CONFIG = 'application/vnd.oci.image.config.v1+json';
/** compat variant layer under an OCI manifest. */
export const OCI_LAYER_TAR_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
/** compat variant layer under a Docker schema-2 manifest. */
export const DOCKER_LAYER_TAR_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

/** oci variant: runtime config (used both as manifest config and as a layer, as wasme does). */
export const WASM_CONFIG = 'application/vnd.module.wasm.config.v1+json';
/** oci variant: the raw Wasm module. */
export const WASM_CONTENT_LAYER = 'application/vnd.module.wasm.content.layer.v1+wasm';

/** spec-compat.md: an OCI-typed compat image carries this annotation. */
export const COMPAT_VARIANT_ANNOTATION = 'module.wasm.image/variant';
export const IMAGE_TITLE_ANNOTATION = 'org.opencontainers.image.title';

/** File name Istio looks for inside the compat layer. */
export const COMPAT_PLUGIN_FILE = 'plugin.wasm';

export const MANIFEST_ACCEPT = [OCI_MANIFEST, DOCKER_MANIFEST_V2, OCI_INDEX, DOCKER_MANIFEST_LIST].join(', ');
