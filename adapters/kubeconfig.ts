/** Loading a kubeconfig the way kubectl does, for every program: a file, else $KUBECONFIG / ~/.kube/config / in-cluster. */
import { KubeConfig } from '@kubernetes/client-node';

/** A kubeconfig that cannot be loaded, or names a context it does not have; the message says which. */
export class KubeConfigError extends Error {
  override name = 'KubeConfigError';
}

export interface KubeConfigSource {
  /** A kubeconfig file; otherwise client-node's default lookup. */
  readonly kubeconfig?: string;
  /** The context to use instead of the file's current one. */
  readonly context?: string;
}

export function loadKubeConfig(source: KubeConfigSource = {}): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (source.kubeconfig !== undefined) kc.loadFromFile(source.kubeconfig);
    else kc.loadFromDefault();
  } catch (err) {
    throw new KubeConfigError(`cannot load kubeconfig ${source.kubeconfig ?? '(default)'}: ${(err as Error).message}`, { cause: err });
  }
  if (source.context !== undefined) {
    if (kc.getContextObject(source.context) === null) throw new KubeConfigError(`context "${source.context}" does not exist in the kubeconfig`);
    kc.setCurrentContext(source.context);
  }
  return kc;
}
