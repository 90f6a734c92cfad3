import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type AuthChallenge, parseAuthChallenge } from '../../deployer/src/oci/challenge.js';
import { ociFixture } from './support/fixtures.js';

const cases = JSON.parse(readFileSync(ociFixture('www-authenticate.json'), 'utf8')) as readonly { readonly header: string; readonly expected: AuthChallenge | null }[];

describe('parseAuthChallenge', () => {
  it.each(cases)('parses $header', ({ header, expected }) => {
    expect(parseAuthChallenge(header) ?? null).toEqual(expected);
  });
});
