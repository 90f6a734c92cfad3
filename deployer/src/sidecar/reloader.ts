import type { SidecarConfig } from './config/types.js';
import { watchInputs, type InputWatcher } from './config/watch.js';
import type { RunningSidecar } from './sidecar.js';

/** A configuration and the files it was built from (what a reload must watch). */
export interface LoadedConfig {
  readonly config: SidecarConfig;
  readonly inputs: readonly string[];
}

export interface ConfigReloader {
  close(): void;
}

/**
 * What a reload goes to: the sidecar itself, or (`deployer run --xds --config`) an adapter that
 * merges the filters xDS gave into each file-derived configuration (xds/xds-run.ts).
 */
export type ReloadTarget = Pick<RunningSidecar, 'reload' | 'version'>;

export interface ReloaderOptions {
  /** One line per reload applied or refused. */
  readonly note: (line: string) => void;
  readonly debounceMs?: number;
}

/**
 * Live reload for `deployer run`: watches the inputs of the running configuration; after each
 * burst of changes it loads them again and hands the result to `sidecar.reload`. A configuration
 * that cannot load (bad YAML, a field out of range, a missing module, a filter refusing its
 * configuration) is refused with the file and field named, and the running one keeps serving.
 */
export function startConfigReloader(sidecar: ReloadTarget, load: () => LoadedConfig, inputs: readonly string[], options: ReloaderOptions): ConfigReloader {
  const { note } = options;
  let chain: Promise<void> = Promise.resolve();
  const reloadAfter = (changed: readonly string[]) => {
    chain = chain.then(async () => {
      const what = changed.map((file) => relative(file)).join(', ');
      let loaded: LoadedConfig;
      try {
        loaded = load();
      } catch (error) {
        note(`reload refused after a change to ${what}: ${message(error)}; still serving version ${sidecar.version}`);
        return;
      }
      watcher.update(loaded.inputs);
      try {
        const result = await sidecar.reload(loaded.config);
        const filters = loaded.config.filters.map((f) => `${f.name}${result.reusedFilters.includes(f.name) ? ' (unchanged)' : ' (new VMs)'}`).join(' → ') || '(none)';
        // Listener-level settings apply to new connections and requests; open ones finish under the old.
        const listener = result.listenerChanges.length > 0 ? `; for new connections and requests: ${result.listenerChanges.join(', ')}` : '';
        note(`reloaded after a change to ${what}: version ${result.version}; filters: ${filters}; routes: ${loaded.config.routes.length}; clusters: ${[...loaded.config.clusters.keys()].join(', ')}${listener}`);
      } catch (error) {
        note(`reload refused after a change to ${what}: ${message(error)}; still serving version ${sidecar.version}`);
      }
    });
  };
  const watcher: InputWatcher = watchInputs(inputs, reloadAfter, options.debounceMs);
  return { close: () => watcher.close() };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function relative(file: string): string {
  const cwd = process.cwd() + '/';
  return file.startsWith(cwd) ? file.slice(cwd.length) : file;
}
