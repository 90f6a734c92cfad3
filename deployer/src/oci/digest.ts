import { createHash } from 'node:crypto';

const DIGEST_PATTERN = /^sha256:[a-f0-9]{64}$/;

/** Content digest in the OCI form `sha256:<hex>` (OCI image-spec descriptor.md#digests). */
export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${sha256Hex(bytes)}`;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function isSha256Digest(value: string): boolean {
  return DIGEST_PATTERN.test(value);
}
