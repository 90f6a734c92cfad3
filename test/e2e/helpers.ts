import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';

/** Writes a sidecar.yaml into a fresh temp folder; returns its path. */
export async function writeSidecarYaml(config: Record<string, unknown>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'wasmesh-sidecar-'));
  const file = path.join(dir, 'sidecar.yaml');
  await writeFile(file, stringify(config));
  return file;
}
