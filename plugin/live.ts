/** The plugin against a live cluster: kubeconfig handling, reads, and kubectl-like errors. */
import type { KubeConfig } from '@kubernetes/client-node';
import { ApiException, CoreV1Api } from '@kubernetes/client-node';
import { KubeConfigError, loadKubeConfig } from '../adapters/kubeconfig.ts';
import { defaultPolicy, parsePolicy } from '../core/config.ts';
import type { Policy } from '../core/config.ts';
import { OBJECT_NAMES } from '../core/names.ts';
import { nodeFromObject, podFromObject } from '../core/objects.ts';
import type { NodeInfo, PodInfo } from '../core/types.ts';

/** kubectl's generic connection flags. */
export interface ClusterFlags {
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly requestTimeout?: string;
}

/** A cluster problem reported as one line, like kubectl's `error: …`. */
export class ClusterError extends Error {
  override name = 'ClusterError';
}

/** Parses kubectl's --request-timeout: "0" (none), "30" (seconds), "500ms", "5s", "2m", "1h". */
export function parseTimeout(text: string | undefined): number {
  if (text === undefined || text === '0') return 0;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (m === null) throw new ClusterError(`invalid --request-timeout ${JSON.stringify(text)}: use e.g. 0, 30, 5s, 500ms, 2m`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * unit);
}

export interface Cluster {
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly server: string;
  /** The kubeconfig context's namespace, or "default". */
  readonly namespace: string;
  readonly timeoutMs: number;
}

/** The cluster of the kubeconfig (and context) the flags name, with kubectl-like errors; nothing is requested yet. */
export function connect(flags: ClusterFlags): Cluster {
  let kc: KubeConfig;
  try {
    kc = loadKubeConfig(flags);
  } catch (err) {
    if (err instanceof KubeConfigError) throw new ClusterError(err.message, { cause: err });
    throw err;
  }
  const server = kc.getCurrentCluster()?.server;
  if (server === undefined) throw new ClusterError('no cluster configured: pass --kubeconfig or set KUBECONFIG (or use --from-file for manifests)');
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    server,
    namespace: kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default',
    timeoutMs: parseTimeout(flags.requestTimeout),
  };
}

function statusMessage(body: unknown): string | null {
  try {
    const status = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: unknown };
    return typeof status.message === 'string' ? status.message : null;
  } catch {
    return null;
  }
}

/**
 * Runs one API call with the request timeout, turning failures into one clear line: the
 * server's own message (401 and 403 say so first), or why the server could not be reached.
 * Every command that talks to the cluster goes through here.
 */
export async function clusterCall<T>(cluster: Cluster, what: string, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = cluster.timeoutMs > 0
    ? new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new ClusterError(`${what}: request timed out after ${cluster.timeoutMs}ms (${cluster.server})`)), cluster.timeoutMs); })
    : null;
  try {
    return await (timeout === null ? fn() : Promise.race([fn(), timeout]));
  } catch (err) {
    if (err instanceof ClusterError) throw err;
    if (err instanceof ApiException) {
      const message = statusMessage(err.body) ?? `HTTP ${err.code}`;
      if (err.code === 401) throw new ClusterError(`unauthorized: the server rejected the credentials (${message})`, { cause: err });
      if (err.code === 403) throw new ClusterError(`forbidden: ${message}`, { cause: err });
      throw new ClusterError(message, { cause: err });
    }
    const e = err as { code?: string; message?: string; cause?: { code?: string } };
    const code = e.code ?? e.cause?.code;
    throw new ClusterError(`cannot reach the cluster at ${cluster.server}: ${code ?? e.message ?? String(err)}`, { cause: err });
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/** Pods in one namespace (or all with `namespace` null), optionally only those on one node or matching a label selector. */
export async function listPods(cluster: Cluster, namespace: string | null, node?: string, labelSelector?: string): Promise<PodInfo[]> {
  const fieldSelector = node === undefined ? undefined : `spec.nodeName=${node}`;
  const list = await clusterCall(cluster, 'list pods', () => (namespace === null
    ? cluster.core.listPodForAllNamespaces({ fieldSelector, labelSelector })
    : cluster.core.listNamespacedPod({ namespace, fieldSelector, labelSelector })));
  return list.items.map((p, i) => podFromObject(p, `pod ${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? String(i)}`));
}

export async function getPod(cluster: Cluster, namespace: string, name: string): Promise<PodInfo> {
  const p = await clusterCall(cluster, `get pod ${namespace}/${name}`, () => cluster.core.readNamespacedPod({ namespace, name }));
  return podFromObject(p, `pod ${namespace}/${name}`);
}

export async function getNode(cluster: Cluster, name: string): Promise<NodeInfo> {
  const n = await clusterCall(cluster, `get node ${name}`, () => cluster.core.readNode({ name }));
  return nodeFromObject({ ...n, kind: 'Node' }, `node ${name}`);
}

/**
 * The policy the cluster runs: `--config` when given, else the `config.toml` key of the
 * `temper-config` ConfigMap in Temper's namespace, else the defaults (no ConfigMap, or no access).
 */
export async function clusterPolicy(cluster: Cluster, fromFlag: Policy | null): Promise<Policy> {
  if (fromFlag !== null) return fromFlag;
  const defaults = defaultPolicy();
  try {
    const { configMap, configMapKey } = OBJECT_NAMES;
    const cm = await clusterCall(cluster, 'get configmap', () => cluster.core.readNamespacedConfigMap({ namespace: defaults.naming.namespace, name: configMap }));
    const text = cm.data?.[configMapKey];
    return text === undefined ? defaults : parsePolicy(text, `configmap ${defaults.naming.namespace}/${configMap}`);
  } catch (err) {
    if (err instanceof ClusterError && /not found|forbidden/.test(err.message)) return defaults;
    throw err;
  }
}
