import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { ClusterClient } from '../../deployer/src/apply/client.js';
import { startStandinApiServer, type StandinApiServer } from '../kube/standin-apiserver.js';

export interface StandinCluster {
  readonly server: StandinApiServer;
  /** A kubeconfig file whose context "standin" names the server. */
  readonly kubeconfig: string;
  readonly client: ClusterClient;
}

/** The test file's stand-in API server with a kubeconfig and a client: started before its tests, closed after. */
export function useStandinCluster(): StandinCluster {
  let started: StandinCluster | undefined;
  const get = (): StandinCluster => {
    if (started === undefined) throw new Error('the stand-in cluster starts in beforeAll: use it inside tests');
    return started;
  };
  beforeAll(async () => {
    const server = await startStandinApiServer();
    const kubeconfig = path.join(mkdtempSync(path.join(tmpdir(), 'wasmesh-kube-')), 'config');
    writeFileSync(kubeconfig, server.kubeconfigYaml());
    started = { server, kubeconfig, client: new ClusterClient({ kubeconfig, context: 'standin' }) };
  });
  afterAll(() => started?.server.close());
  return { get server() { return get().server; }, get kubeconfig() { return get().kubeconfig; }, get client() { return get().client; } };
}
