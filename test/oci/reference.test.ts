import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatImageReference, parseImageReference, registryBaseUrl } from '../../deployer/src/oci/reference.js';
import type { ImageReference } from '../../deployer/src/oci/reference.js';
import { ociFixture } from './support/fixtures.js';

interface ReferenceFixtures {
  readonly valid: readonly { readonly input: string; readonly expected: ImageReference }[];
  readonly invalid: readonly { readonly input: string; readonly error: string }[];
}

const fixtures = JSON.parse(readFileSync(ociFixture('references.json'), 'utf8')) as ReferenceFixtures;

describe('parseImageReference', () => {
  it.each(fixtures.valid)('parses $input', ({ input, expected }) => {
    expect(parseImageReference(input)).toEqual(expected);
  });

  it.each(fixtures.invalid)('rejects "$input" naming the bad part', ({ input, error }) => {
    expect(() => parseImageReference(input)).toThrow(error);
  });

  it.each([
    { input: 'oci://127.0.0.1:5000/a/b:v1', url: 'http://127.0.0.1:5000', text: '127.0.0.1:5000/a/b:v1' },
    { input: 'ghcr.io/a/b@sha256:' + 'a'.repeat(64), url: 'https://ghcr.io', text: 'ghcr.io/a/b@sha256:' + 'a'.repeat(64) },
    { input: 'nginx:1', url: 'https://registry-1.docker.io', text: 'docker.io/library/nginx:1' },
  ])('formats $input and talks to $url', ({ input, url, text }) => {
    const reference = parseImageReference(input);
    expect(registryBaseUrl(reference)).toBe(url);
    expect(formatImageReference(reference)).toBe(text);
  });
});
