/**
 * A loaded plugin: `workers` VMs (Envoy's one VM per worker thread), streams assigned
 * round-robin. Loading runs _initialize, the root context, proxy_on_vm_start and
 * proxy_on_configure on every VM; a refusal rejects with an error naming the plugin.
 * Envoy's failure policy (FAIL_RELOAD): a VM that trapped is replaced by a fresh instance
 * (vm_start + configure with the last good configuration) when the next stream needs it; the
 * reloads are counted in the `wasm.<plugin>.vm_reloads` counter.
 */
import type { PluginSpec, WasmPluginHandle } from './api.js';
import type { Stat } from './abi/metrics.js';
import { PluginVm } from './plugin-vm.js';
import type { HostServices } from './services.js';
import { WasmLoadError } from './vm.js';
import { compiledByDigest } from './compiled-modules.js';
import { checkEnvoyModule, type AbiVersion } from './abi/envoy-abi.js';
import type { ModuleImport } from './abi/wasm-binary.js';

const encoder = new TextEncoder();

export class PluginLoadError extends Error {
  constructor(readonly plugin: string, message: string) {
    super(`wasm plugin "${plugin}": ${message}`);
    this.name = 'PluginLoadError';
  }
}

function validateSpec(spec: PluginSpec): void {
  const bad = (field: string, value: unknown, expected: string): never => {
    throw new PluginLoadError(typeof spec.name === 'string' && spec.name !== '' ? spec.name : '(unnamed)', `${field} is ${JSON.stringify(value)}; expected ${expected}`);
  };
  if (typeof spec.name !== 'string' || spec.name === '') bad('name', spec.name, 'a non-empty string');
  if (typeof spec.rootId !== 'string') bad('rootId', spec.rootId, 'a string');
  if (!(spec.wasm instanceof Uint8Array) || spec.wasm.length === 0) bad('wasm', spec.wasm instanceof Uint8Array ? `${spec.wasm.length} bytes` : typeof spec.wasm, 'the bytes of a wasm module');
  if (typeof spec.configuration !== 'string') bad('configuration', spec.configuration, 'a string');
  if (spec.workers !== undefined && (!Number.isInteger(spec.workers) || spec.workers < 1 || spec.workers > 256)) bad('workers', spec.workers, 'an integer from 1 to 256');
}

/**
 * The module's ABI version, or WasmLoadError with every reason Envoy would refuse it: the same
 * verdict `deployer inspect` prints (abi/envoy-abi.ts checkEnvoyModule), so the two agree.
 */
export function envoyAbiVersion(wasm: Uint8Array): { readonly abi: AbiVersion; readonly engineImports: readonly ModuleImport[] } {
  const verdict = checkEnvoyModule(wasm);
  if (verdict.problems.length > 0 || verdict.abiVersion === undefined) throw new WasmLoadError(verdict.problems.join('; '));
  return { abi: verdict.abiVersion, engineImports: verdict.imports.filter((i) => i.kind === 'memory' || i.kind === 'table') };
}

export class WasmPlugin implements WasmPluginHandle {
  private vms: PluginVm[] = [];
  private next = 0;
  private configuration: Uint8Array;
  private readonly reloads: Stat;

  private constructor(
    readonly spec: PluginSpec,
    private readonly services: HostServices,
    private readonly module: WebAssembly.Module,
    readonly abiVersion: AbiVersion,
    private readonly engineImports: readonly ModuleImport[],
  ) {
    this.configuration = encoder.encode(spec.configuration);
    this.reloads = services.stats.stat(`wasm.${spec.name}.vm_reloads`, 'counter');
  }

  static async load(spec: PluginSpec, services: HostServices): Promise<WasmPlugin> {
    validateSpec(spec);
    let module: WebAssembly.Module;
    let linked: ReturnType<typeof envoyAbiVersion>;
    try {
      // Compiled and checked once per module (compiled-modules.ts): a config-only update instantiates only.
      ({ module, linked } = await compiledByDigest(spec.wasm, async () => ({ module: await WebAssembly.compile(new Uint8Array(spec.wasm)), linked: envoyAbiVersion(spec.wasm) })));
    } catch (error) {
      throw new PluginLoadError(spec.name, error instanceof Error ? error.message : String(error));
    }
    const plugin = new WasmPlugin(spec, services, module, linked.abi, linked.engineImports);
    const workers = spec.workers ?? 1;
    for (let i = 0; i < workers; i++) plugin.vms.push(plugin.startVm(plugin.configuration));
    return plugin;
  }

  /** Creates, starts and configures one VM; throws PluginLoadError naming the plugin. */
  private startVm(configuration: Uint8Array): PluginVm {
    let vm: PluginVm;
    try {
      vm = new PluginVm(this.spec, this.services, this.module, this.abiVersion, this.engineImports);
    } catch (error) {
      const message = error instanceof WasmLoadError || error instanceof Error ? error.message : String(error);
      throw new PluginLoadError(this.spec.name, message);
    }
    const startError = vm.start(configuration);
    if (startError !== undefined) throw new PluginLoadError(this.spec.name, startError);
    const configureError = vm.configure(configuration);
    if (configureError !== undefined) {
      vm.shutdown();
      throw new PluginLoadError(this.spec.name, configureError);
    }
    return vm;
  }

  /** The VM for a new stream (round-robin); a failed VM is reloaded first. */
  pick(): PluginVm {
    const index = this.next;
    this.next = (this.next + 1) % this.vms.length;
    const vm = this.vms[index]!;
    if (!vm.failed) return vm;
    try {
      const fresh = this.startVm(this.configuration);
      vm.shutdown();
      this.vms[index] = fresh;
      this.reloads.add(1n);
      return fresh;
    } catch {
      // The reload failed too: streams on this VM keep getting the failure policy until one works.
      return vm;
    }
  }

  /** VMs currently in service (tests and benchmarks read their memory). */
  get instances(): readonly PluginVm[] {
    return this.vms;
  }

  get reloadCount(): number {
    return this.reloads.numeric;
  }

  /**
   * New configuration: probed on a fresh VM first, as Envoy builds a new plugin for a config
   * update; a refusal rejects and the previous configuration stays in force on the old VMs.
   */
  async reconfigure(configuration: string): Promise<void> {
    const bytes = encoder.encode(configuration);
    const fresh: PluginVm[] = [];
    try {
      for (let i = 0; i < this.vms.length; i++) fresh.push(this.startVm(bytes));
    } catch (error) {
      for (const vm of fresh) vm.shutdown();
      throw error;
    }
    const old = this.vms;
    this.vms = fresh;
    this.configuration = bytes;
    for (const vm of old) vm.shutdown();
  }

  shutdown(): void {
    for (const vm of this.vms) vm.shutdown();
  }
}
