/** Loading a kubeconfig the way kubectl does, for every program: a file, else $KUBECONFIG / ~/.kube/config / in-cluster. */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * Whether client-node's default lookup finds anything: $KUBECONFIG, ~/.kube/config, or an
 * in-cluster service account. Without one it would silently talk to http://localhost:8080.
 */
function defaultKubeConfigExists(): boolean {
  if ((process.env.KUBECONFIG ?? '') !== '') return true;
  return existsSync(join(process.env.HOME ?? homedir(), '.kube', 'config')) || existsSync(SERVICE_ACCOUNT_TOKEN);
}

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
    else if (!defaultKubeConfigExists()) throw new KubeConfigError('no kubeconfig found (set KUBECONFIG or --kubeconfig)');
    else kc.loadFromDefault();
  } catch (err) {
    if (err instanceof KubeConfigError) throw err;
    throw new KubeConfigError(`cannot load kubeconfig ${source.kubeconfig ?? '(default)'}: ${(err as Error).message}`, { cause: err });
  }
  if (source.context !== undefined) {
    if (kc.getContextObject(source.context) === null) throw new KubeConfigError(`context "${source.context}" does not exist in the kubeconfig`);
    kc.setCurrentContext(source.context);
  }
  return kc;
}
