import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { authorityIsValid, stripTrailingHostDot } from '../../../deployer/src/sidecar/hcm/authority.js';
import { rejectionForParserError } from '../../../deployer/src/sidecar/hcm/codec-errors.js';
import { DEFAULT_HCM, pathNormalizationForMesh, type MeshPathNormalization } from '../../../deployer/src/sidecar/hcm/config.js';
import { normalizeRequestPath } from '../../../deployer/src/sidecar/hcm/path.js';
import { decodeRequestHeaders } from '../../../deployer/src/sidecar/hcm/request-checks.js';

const fixtures = path.join(import.meta.dirname, 'fixtures');
const table = JSON.parse(readFileSync(path.join(fixtures, 'path-normalization.json'), 'utf8')) as Record<string, [string, string][]>;
const modes = (['NONE', 'BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES'] as const);
const pathCases = modes.flatMap((mode) => table[mode]!.map(([input, expected]) => [mode, input, expected] as const));

describe('hcm: path normalization', () => {
  it.each(pathCases)('%s: %s → %s', (mode: MeshPathNormalization, input, expected) => {
    const verdict = normalizeRequestPath(input, pathNormalizationForMesh(mode));
    if (expected === '400') expect(verdict.action).toBe('reject');
    else expect(verdict).toEqual({ action: 'continue', path: expected });
  });

  it.each([
    ['REJECT_REQUEST', '/a%2Fb', { action: 'reject' }],
    ['UNESCAPE_AND_REDIRECT', '/a%2Fb/../c', { action: 'redirect', path: '/a/c' }],
    ['UNESCAPE_AND_FORWARD', '/a%5cb', { action: 'continue', path: '/a/b' }],
    ['KEEP_UNCHANGED', '/a%2Fb', { action: 'continue', path: '/a%2Fb' }],
  ] as const)('path_with_escaped_slashes_action %s: %s', (action, input, expected) => {
    expect(normalizeRequestPath(input, { normalizePath: true, mergeSlashes: false, escapedSlashesAction: action })).toEqual(expected);
  });
});

describe('hcm: MeshConfig pathNormalization as istiod maps it', () => {
  it.each([
    ['NONE', { normalizePath: false, mergeSlashes: false, escapedSlashesAction: 'KEEP_UNCHANGED' }],
    ['BASE', { normalizePath: true, mergeSlashes: false, escapedSlashesAction: 'KEEP_UNCHANGED' }],
    ['MERGE_SLASHES', { normalizePath: true, mergeSlashes: true, escapedSlashesAction: 'KEEP_UNCHANGED' }],
    ['DECODE_AND_MERGE_SLASHES', { normalizePath: true, mergeSlashes: true, escapedSlashesAction: 'UNESCAPE_AND_FORWARD' }],
  ] as const)('%s', (mode, expected) => {
    expect(pathNormalizationForMesh(mode)).toEqual(expected);
  });

  it('defaults to what an Istio sidecar gets (BASE)', () => {
    expect(DEFAULT_HCM).toMatchObject(pathNormalizationForMesh('BASE'));
  });
});

describe('hcm: authority', () => {
  it.each([
    ['internal.example.com', true], ['internal.example.com:8080', true], ['[::1]:80', true],
    // Valid for Envoy's HeaderUtility::authorityIsValid: '@' (HTTP/1 user-info), ',' and dots.
    ['x@internal.example.com', true], ['internal.example.com..', true], ['internal.example.com,a', true],
    ['internal.example.com/x', false], ['a b', false], ['a\\b', false], ['a?b', false], ['a#b', false], ['a"b', false],
    ['a{b', false], ['a|b', false], ['é.example', false],
  ])('%s valid: %s', (authority, valid) => {
    expect(authorityIsValid(authority)).toBe(valid);
  });

  it.each([['example.com.', 'example.com'], ['example.com.:80', 'example.com:80'], ['example.com', 'example.com'], ['a.b', 'a.b']])(
    'strip_trailing_host_dot %s → %s', (host, expected) => { expect(stripTrailingHostDot(host)).toBe(expected); });
});

describe('hcm: request header checks', () => {
  const request = (extra: [string, string][], protocol: 'HTTP/1.1' | 'HTTP/1.0' | 'HTTP/2' = 'HTTP/1.1') => {
    const headers: [string, string][] = [[':authority', 'app'], [':path', '/x/../y'], [':method', 'GET'], [':scheme', 'http'], ...extra];
    const raw = ['Host', 'app', ...extra.flat()];
    return { headers, rejection: decodeRequestHeaders(headers, raw, protocol, DEFAULT_HCM) };
  };

  it('rewrites :path in place and passes', () => {
    const { headers, rejection } = request([]);
    expect(rejection).toBeUndefined();
    expect(headers[1]).toEqual([':path', '/y']);
  });

  it.each([
    ['101 headers', Array.from({ length: 100 }, (_, i): [string, string] => [`x-h${i}`, 'v']), 431, 'http1.too_many_headers'],
    ['61 KiB of headers', [['x-big', 'a'.repeat(61 * 1024)]], 431, 'http1.headers_too_large'],
    ['transfer-encoding gzip', [['transfer-encoding', 'gzip, chunked']], 501, 'http1.invalid_transfer_encoding'],
  ] as [string, [string, string][], number, string][])('%s → %i %s', (_name, extra, status, details) => {
    expect(request(extra).rejection).toMatchObject({ status, details, codec: true });
  });

  it('accepts a 30 KB header (under the 60 KiB default)', () => {
    expect(request([['x-big', 'a'.repeat(30_000)]]).rejection).toBeUndefined();
  });

  it('answers HTTP/1.0 with 426 (accept_http_10 off, as istiod leaves it)', () => {
    expect(request([], 'HTTP/1.0').rejection).toMatchObject({ status: 426, details: 'low_version' });
  });
});

describe('hcm: HTTP/1 parser errors', () => {
  it.each([
    [{ code: 'HPE_HEADER_OVERFLOW' }, 431, 'http1.headers_too_large'],
    [{ code: 'HPE_UNEXPECTED_CONTENT_LENGTH', reason: 'Content-Length can\'t be present with Transfer-Encoding' }, 400, 'http1.content_length_and_chunked_not_allowed'],
    [{ code: 'HPE_INVALID_TRANSFER_ENCODING', reason: 'Transfer-Encoding can\'t be present with Content-Length' }, 400, 'http1.content_length_and_chunked_not_allowed'],
    [{ code: 'HPE_UNEXPECTED_CONTENT_LENGTH', reason: 'Duplicate Content-Length' }, 400, 'http1.codec_error'],
    [{ code: 'HPE_INVALID_TRANSFER_ENCODING' }, 501, 'http1.invalid_transfer_encoding'],
    [{ code: 'HPE_INVALID_HEADER_TOKEN', reason: 'Invalid header value char' }, 400, 'http1.invalid_characters'],
    [{ code: 'HPE_INVALID_METHOD' }, 400, 'http1.codec_error'],
  ])('%o → %i %s', (error, status, details) => {
    expect(rejectionForParserError(error)).toMatchObject({ status, details });
  });

  it('a socket error is not a protocol error', () => {
    expect(rejectionForParserError({ code: 'ECONNRESET' })).toBeUndefined();
  });
});
