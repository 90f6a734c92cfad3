import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';

/** Where to find the cluster: kubeconfig file and context (defaults follow kubectl: $KUBECONFIG, ~/.kube/config, current-context). */
export interface KubeTarget {
  readonly kubeconfig?: string;
  readonly context?: string;
}

export function loadKubeConfig(target: KubeTarget = {}): KubeConfig {
  const kc = new KubeConfig();
  if (target.kubeconfig) {
    if (!existsSync(target.kubeconfig)) throw new Error(`kubeconfig "${target.kubeconfig}" does not exist: expected a kubeconfig file (--kubeconfig or DEPLOYER_KUBECONFIG)`);
    kc.loadFromFile(target.kubeconfig);
  } else {
    kc.loadFromDefault();
  }
  if (target.context) {
    const names = kc.getContexts().map((c) => c.name);
    if (!names.includes(target.context)) {
      throw new Error(`kube context "${target.context}" not found: expected one of ${names.join(', ') || '(no contexts in the kubeconfig)'}`);
    }
    kc.setCurrentContext(target.context);
  }
  if (!kc.getCurrentCluster()) {
    throw new Error(`no cluster in kubeconfig context "${kc.getCurrentContext() || '(none)'}": expected --kubeconfig/--kube-context to name a context with a cluster`);
  }
  return kc;
}
