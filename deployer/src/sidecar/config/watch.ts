import { watch, statSync, type FSWatcher } from 'node:fs';
import path from 'node:path';

export interface InputWatcher {
  /** Replaces the watched set (the inputs of the configuration now in force). */
  update(paths: readonly string[]): void;
  close(): void;
}

interface WatchedDir {
  readonly watcher: FSWatcher;
  /** File names watched in the directory; `*.yaml` matches every YAML file (an `--istio` directory). */
  names: Set<string>;
}

const ANY_YAML = '*.yaml';

/**
 * Watches files and directories and calls `onChange` once per burst of changes, `debounceMs`
 * after the last one (an editor's save is several events: write, rename, chmod; `npm run build`
 * rewrites every module). Each file is watched through its directory, so an editor that saves by
 * writing a new file and renaming it over the old one (vim, most IDEs, `kubectl ... > file`) is
 * still seen; a directory input (`--istio policies/`) reacts to any `.yaml`/`.yml` in it.
 */
export function watchInputs(initial: readonly string[], onChange: (changed: readonly string[]) => void, debounceMs = 200): InputWatcher {
  const dirs = new Map<string, WatchedDir>();
  let pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const fire = () => {
    timer = undefined;
    const changed = [...pending];
    pending = new Set();
    if (!closed && changed.length > 0) onChange(changed);
  };
  const record = (dir: string, filename: string | null) => {
    const entry = dirs.get(dir);
    if (!entry || closed) return;
    const relevant = filename === null || entry.names.has(filename) || (entry.names.has(ANY_YAML) && /\.ya?ml$/.test(filename));
    if (!relevant) return;
    pending.add(filename === null ? dir : path.join(dir, filename));
    clearTimeout(timer);
    timer = setTimeout(fire, debounceMs);
  };

  const update = (paths: readonly string[]) => {
    const wanted = new Map<string, Set<string>>();
    for (const input of paths) {
      const absolute = path.resolve(input);
      const [dir, name] = isDirectory(absolute) ? [absolute, ANY_YAML] : [path.dirname(absolute), path.basename(absolute)];
      let names = wanted.get(dir);
      if (!names) wanted.set(dir, (names = new Set()));
      names.add(name);
    }
    for (const [dir, entry] of dirs) {
      if (!wanted.has(dir)) {
        entry.watcher.close();
        dirs.delete(dir);
      }
    }
    for (const [dir, names] of wanted) {
      const existing = dirs.get(dir);
      if (existing) {
        existing.names = names;
        continue;
      }
      try {
        const watcher = watch(dir, { persistent: true }, (_event, filename) => record(dir, filename));
        // A directory that disappears (or a watch error) must not take the sidecar down.
        watcher.on('error', () => undefined);
        dirs.set(dir, { watcher, names });
      } catch {
        // A missing directory cannot be watched; the next successful load re-tries.
      }
    }
  };

  update(initial);
  return {
    update: (paths) => { if (!closed) update(paths); },
    close: () => {
      closed = true;
      clearTimeout(timer);
      for (const entry of dirs.values()) entry.watcher.close();
      dirs.clear();
    },
  };
}

function isDirectory(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}
