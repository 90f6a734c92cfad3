import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectModule } from '../../deployer/src/inspect/inspect.js';
import { builtFilter, loadWasmFixture, wasmFixtureDir } from './support.js';

interface InspectCase {
  readonly name: string;
  readonly file: string;
  readonly maxBytes?: number;
  readonly ok: boolean;
  readonly abiVersion?: string;
  /** The detected version as printed (`0.1.0`). */
  readonly abi?: string;
  readonly callbacks?: readonly string[];
  /** Each expected problem must be contained in one reported problem, and the counts must match. */
  readonly problems: readonly string[];
  readonly warnings?: readonly string[];
}

const cases = JSON.parse(readFileSync(join(wasmFixtureDir, 'cases.json'), 'utf8')) as readonly InspectCase[];

describe('inspectModule', () => {
  it.each(cases)('$name ($file)', ({ file, maxBytes, ok, abiVersion, abi, callbacks, problems, warnings }) => {
    const bytes = loadWasmFixture(file);
    const report = inspectModule(bytes, maxBytes !== undefined ? { maxBytes } : {});
    expect(report.ok).toBe(ok);
    expect(report.size).toBe(bytes.byteLength);
    expect(report.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(report.problems).toHaveLength(problems.length);
    problems.forEach((expected, index) => expect(report.problems[index]).toContain(expected));
    if (abiVersion !== undefined) expect(report.abiVersion).toBe(abiVersion);
    if (abi !== undefined) expect(report.abi).toBe(abi);
    // Only a module Envoy loads is credited with the Envoy releases that load it.
    if (ok) expect(report.envoy).toMatch(/^Envoy ≥ 1\.17\.0/);
    else expect(report.envoy).toBeUndefined();
    if (callbacks !== undefined) expect(report.callbacks).toEqual(callbacks);
    if (warnings !== undefined) expect(report.warnings).toEqual(warnings);
  });

  it('accepts the built example filter and lists what it links against', () => {
    const report = inspectModule(builtFilter('example'));
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.abiVersion).toBe('proxy_abi_version_0_2_1');
    expect(report.imports.every((name) => name.startsWith('env.proxy_') || name.startsWith('wasi_snapshot_preview1.'))).toBe(true);
    expect(report.callbacks).toEqual(expect.arrayContaining(['proxy_on_context_create', 'proxy_on_request_headers', 'proxy_on_response_headers', 'proxy_on_configure']));
  });

  it('rejects a non-positive size limit naming the value', () => {
    expect(() => inspectModule(new Uint8Array(8), { maxBytes: 0 })).toThrow('maxBytes must be a positive integer number of bytes, got 0');
  });
});
