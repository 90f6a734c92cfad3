import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import binaryen from 'binaryen';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileEntry, profilePacksStaticData } from '../../deployer/src/build/filters.js';
import { clusterSegments, packStaticData } from '../../deployer/src/build/pack-static-data.js';
import { decodeStaticData, encodeStaticData } from '../../deployer/src/build/static-data-codec.js';
import { inspectModule } from '../../deployer/src/inspect/inspect.js';
import { repoRoot } from '../setup/paths.js';

interface CodecCase {
  readonly name: string;
  readonly hex?: string;
  readonly utf16?: string;
  readonly repeat?: { readonly hex: string; readonly times: number };
  /** A run of bytes 0, 1, 2, … (mod 256). */
  readonly counter?: number;
  readonly encodedBytes: number;
}

const codecCases = JSON.parse(readFileSync(path.join(repoRoot, 'test', 'fixtures', 'build', 'static-data-cases.json'), 'utf8')) as readonly CodecCase[];

function caseBytes(c: CodecCase): Uint8Array {
  if (c.utf16 !== undefined) return new Uint8Array(Buffer.from(c.utf16, 'utf16le'));
  if (c.repeat !== undefined) return new Uint8Array(Buffer.from(c.repeat.hex.repeat(c.repeat.times), 'hex'));
  if (c.counter !== undefined) return Uint8Array.from({ length: c.counter }, (_, i) => i & 0xff);
  return new Uint8Array(Buffer.from(c.hex ?? '', 'hex'));
}

describe('build: static data codec', () => {
  it.each(codecCases)('build: codec round-trips $name in $encodedBytes bytes', (c) => {
    const data = caseBytes(c);
    const encoded = encodeStaticData(data);
    const decoded = new Uint8Array(data.length);
    expect(decodeStaticData(encoded, decoded)).toBe(data.length);
    expect(Buffer.from(decoded).equals(Buffer.from(data))).toBe(true);
    expect(encoded.length).toBe(c.encodedBytes);
  });

  it('build: codec decoder rejects a literal running past the stream, naming where', () => {
    expect(() => decodeStaticData(Uint8Array.of(0x05, 1, 2), new Uint8Array(16))).toThrow(/literal of 6 bytes at 0/);
  });

  it('build: clusterSegments splits at gaps over 1 KB and rejects overlapping segments', () => {
    const seg = (offset: number, length: number) => ({ offset, data: new Uint8Array(length) });
    expect(clusterSegments([seg(5000, 4), seg(1024, 8), seg(1040, 8)]).map((c) => c.map((s) => s.offset))).toEqual([[1024, 1040], [5000]]);
    expect(() => clusterSegments([seg(1024, 16), seg(1030, 4)])).toThrow(/data segment at 1030 overlaps the previous one \(ends at 1040\)/);
  });
});

/** Stub imports: every imported function returns 0; enough to run an AS start function. */
function stubImports(module: WebAssembly.Module): WebAssembly.Imports {
  const imports: Record<string, Record<string, () => number>> = {};
  for (const entry of WebAssembly.Module.imports(module)) {
    if (entry.kind !== 'function') throw new Error(`unexpected ${entry.kind} import ${entry.module}.${entry.name}`);
    (imports[entry.module] ??= {})[entry.name] = () => 0;
  }
  return imports;
}

/** Linear memory right after `_initialize` (called `calls` times). */
function memoryAfterInitialize(bytes: Uint8Array, calls = 1): Uint8Array {
  // Copied into a plain ArrayBuffer-backed view: the WebAssembly API wants a BufferSource.
  const module = new WebAssembly.Module(new Uint8Array(bytes));
  const instance = new WebAssembly.Instance(module, stubImports(module));
  const initialize = instance.exports._initialize as () => void;
  for (let i = 0; i < calls; i++) initialize();
  return new Uint8Array((instance.exports.memory as WebAssembly.Memory).buffer).slice();
}

/** A module with `count` active string-like segments and an `_initialize` that sums memory into a global. */
function syntheticModule(count: number, options: { readonly passive?: boolean; readonly start?: string } = {}): Uint8Array {
  const module = new binaryen.Module();
  try {
    const segments = Array.from({ length: count }, (_, i) => ({
      offset: options.passive === true && i === 0 ? 0 : module.i32.const(1024 + i * 48),
      data: new Uint8Array(Buffer.concat([Buffer.from([0x1c, 0, 0, 0, i & 0xff, 0xff, 0, 0]), Buffer.from(`segment ${i} text`, 'utf16le')])),
      passive: options.passive === true && i === 0,
    }));
    module.setMemory(1, -1, 'memory', segments);
    module.addFunction('start', binaryen.none, binaryen.none, [], module.nop());
    module.addFunctionExport('start', options.start ?? '_initialize');
    module.setFeatures(binaryen.Features.BulkMemory);
    if (!module.validate()) throw new Error('synthetic module does not validate');
    return module.emitBinary();
  } finally {
    module.dispose();
  }
}

describe('build: packStaticData', () => {
  let outDir: string;
  let plain: Uint8Array;
  beforeAll(async () => {
    outDir = await mkdtemp(path.join(os.tmpdir(), 'wasmesh-pack-'));
    const built = await compileEntry({
      root: repoRoot, name: 'example', entry: path.join('filters', 'example', 'assembly', 'index.ts'),
      outFile: path.join(outDir, 'example.wasm'), profile: 'release', packStaticData: false,
    });
    plain = new Uint8Array(await readFile(built.path));
  }, 120_000);
  afterAll(async () => { await rm(outDir, { recursive: true, force: true }); });

  it('build: packing the example filter leaves memory after _initialize identical and the module smaller', () => {
    const result = packStaticData(plain);
    if (!result.packed) throw new Error(`not packed: ${result.reason}`);
    expect(result.stats.segmentsBefore).toBeGreaterThan(100);
    expect(result.stats.segmentsAfter).toBeLessThanOrEqual(2);
    expect(result.bytes.length).toBeLessThan(plain.length);
    expect(WebAssembly.validate(new Uint8Array(result.bytes))).toBe(true);
    expect(Buffer.from(memoryAfterInitialize(result.bytes)).equals(Buffer.from(memoryAfterInitialize(plain)))).toBe(true);
  });

  it('build: a packed module passes deployer inspect with the same imports and exports', () => {
    const result = packStaticData(plain);
    const report = inspectModule(result.bytes);
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    const names = (bytes: Uint8Array) => {
      const module = new WebAssembly.Module(new Uint8Array(bytes));
      return [WebAssembly.Module.imports(module), WebAssembly.Module.exports(module)];
    };
    expect(names(result.bytes)).toEqual(names(plain));
  });

  it('build: a packed module uses no feature beyond what validates without SIMD and bulk memory', () => {
    const module = binaryen.readBinary(packStaticData(syntheticModule(300)).bytes);
    try {
      // MVP plus mutable globals: what every engine Envoy embeds (V8, wasmtime, WAMR) runs.
      module.setFeatures(binaryen.Features.MutableGlobals);
      expect(module.validate()).toBe(1);
    } finally {
      module.dispose();
    }
  });

  it('build: a second _initialize call does not unpack again (memory unchanged)', () => {
    const packed = packStaticData(syntheticModule(300)).bytes;
    expect(Buffer.from(memoryAfterInitialize(packed, 2)).equals(Buffer.from(memoryAfterInitialize(syntheticModule(300))))).toBe(true);
  });

  it.each([
    { name: 'a module with a passive segment', bytes: () => syntheticModule(50, { passive: true }), reason: /passive data segments/ },
    { name: 'a module without _initialize', bytes: () => syntheticModule(50, { start: '_start' }), reason: /exports no _initialize/ },
    { name: 'a module with one segment', bytes: () => syntheticModule(1), reason: /fewer than two data segments/ },
  ])('build: packStaticData leaves $name unchanged, saying why', ({ bytes, reason }) => {
    const input = bytes();
    const result = packStaticData(input);
    expect(result.packed).toBe(false);
    if (!result.packed) expect(result.reason).toMatch(reason);
    expect(result.bytes).toBe(input);
  });

  it('build: compileEntry packs release builds by default', async () => {
    const built = await compileEntry({
      root: repoRoot, name: 'example', entry: path.join('filters', 'example', 'assembly', 'index.ts'),
      outFile: path.join(outDir, 'example.packed.wasm'), profile: 'release',
    });
    expect(built.size).toBeLessThan(plain.length);
    expect(built.abiVersion).toBe('0_2_1');
  }, 120_000);
});

describe('build: packStaticData in asconfig.json', () => {
  it.each([
    { profile: 'release', packs: true },
    { profile: 'portable', packs: true },
    { profile: 'debug', packs: false },
  ] as const)('build: the $profile profile packs static data: $packs', async ({ profile, packs }) => {
    expect(await profilePacksStaticData(repoRoot, profile)).toBe(packs);
  });

  it('build: a packStaticData that is not a boolean is refused, naming the value', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'wasmesh-asconfig-'));
    try {
      await writeFile(path.join(root, 'asconfig.json'), JSON.stringify({ targets: { release: { packStaticData: 'yes' } } }));
      await expect(profilePacksStaticData(root, 'release')).rejects.toThrow(/targets\.release\.packStaticData is "yes", expected true or false/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
