// Runs the real `inspect` command through commander in-process (test/support/cli.ts).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { register } from '../../deployer/src/cli/commands/inspect.js';
import { loadWasmFixture, wasmFixtureDir } from './support.js';
import { runCommand } from '../support/cli.js';

const deployer = (args: readonly string[]) => runCommand(register, args, { asMain: true });

describe('deployer inspect', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wasmesh-inspect-cli-'));
    await writeFile(join(dir, 'abort.wasm'), loadWasmFixture('foreign-import-abort.wat'));
    await writeFile(join(dir, 'valid.wasm'), loadWasmFixture('valid-filter.wat'));
    await writeFile(join(dir, 'abi010.wasm'), loadWasmFixture('abi010-minimal.wat'));
    await writeFile(join(dir, 'marker-order.wasm'), loadWasmFixture('marker-order.wat'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  afterEach(() => {
    delete process.env.DEPLOYER_INSPECT_MAX_BYTES;
  });

  it.each([
    { name: 'a valid module prints the report and exits 0', args: () => [join(dir, 'valid.wasm')], code: 0, stdout: 'status:     OK', stderr: '' },
    { name: 'an ABI 0.1.0 module states its ABI version', args: () => [join(dir, 'abi010.wasm')], code: 0, stdout: 'abi:        0.1.0 (proxy_abi_version_0_1_0)', stderr: '' },
    { name: 'a loadable module states which Envoy releases load it', args: () => [join(dir, 'abi010.wasm')], code: 0, stdout: 'host:       Envoy ≥ 1.17.0', stderr: '' },
    { name: 'a refused module says no Envoy release loads it', args: () => [join(dir, 'marker-order.wasm')], code: 1, stdout: 'host:       no Envoy release loads it', stderr: 'proxy_get_log_level, which Envoy does not provide to ABI 0.2.0 modules' },
    { name: 'bad magic exits 1 naming the reason', args: () => [join(wasmFixtureDir, 'bad-magic.bin')], code: 1, stdout: 'status:     INVALID', stderr: 'would not load in Envoy: not a Wasm module: magic is 74 68 69 73' },
    { name: 'a foreign import exits 1 naming it', args: () => [join(dir, 'abort.wasm'), '-o', 'yaml'], code: 1, stdout: 'ok: false', stderr: 'module imports env.abort, which Envoy does not provide' },
    { name: '--max-bytes applies the size limit', args: () => [join(dir, 'valid.wasm'), '--max-bytes', '100'], code: 1, stdout: '', stderr: 'over the 100-byte limit' },
    { name: 'a bad --max-bytes is named', args: () => [join(dir, 'valid.wasm'), '--max-bytes', '1e3x'], code: 1, stdout: '', stderr: '--max-bytes "1e3x" is invalid: expected a positive whole number of bytes' },
    { name: 'a missing file is named', args: () => [join(dir, 'missing.wasm')], code: 1, stdout: '', stderr: 'missing.wasm: ENOENT' },
    { name: 'an unknown output format is named', args: () => [join(dir, 'valid.wasm'), '-o', 'xml'], code: 1, stdout: '', stderr: 'unknown output format "xml"' },
  ])('$name', async ({ args, code, stdout, stderr }) => {
    const result = await deployer(['inspect', ...args()]);
    expect(result.stderr).toContain(stderr);
    expect(result.stdout).toContain(stdout);
    expect(result.code).toBe(code);
  });

  it('-o json prints the full report', async () => {
    const result = await deployer(['inspect', join(dir, 'valid.wasm'), '-o', 'json']);
    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(report).toMatchObject({ ok: true, abiVersion: 'proxy_abi_version_0_2_1', abi: '0.2.1', problems: [] });
    expect(report['envoy']).toMatch(/^Envoy ≥ 1\.17\.0/);
    expect(parse(result.stdout)).toEqual(report);
  });
});
