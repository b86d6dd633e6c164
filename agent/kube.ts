/**
 * The agent's view of Kubernetes: informers for its node's pods and its Node object that survive
 * apiserver outages, plus merge-patching the Node's annotations. client-node 1.x informers stop on
 * any error except 410 Gone (which re-lists), and can hang silently on a half-open connection;
 * each informer here restarts with backoff after errors and a watchdog restarts a silent one.
 */
import type { KubeConfig, KubernetesObject, V1Node, V1Pod, V1PriorityClass } from '@kubernetes/client-node';
import { CoreV1Api, ListWatch, PatchStrategy, SchedulingV1Api, Watch, setHeaderOptions } from '@kubernetes/client-node';
import type { Logger } from '../webhook/log.ts';

export interface ResilienceOptions {
  /** First restart delay after an error; doubles up to maxBackoffMs. */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Restart a watch that has shown no activity for this long. */
  readonly staleAfterMs?: number;
}

export interface ResilientInformer<T extends KubernetesObject> {
  list(): readonly T[];
  /** True once the first list arrived. */
  synced(): boolean;
  /** Milliseconds since the last event or (re)connect. */
  idleMs(): number;
  restarts(): number;
  stop(): Promise<void>;
}

function resilient<T extends KubernetesObject>(
  name: string, informer: ListWatch<T>, log: Logger, onChange: () => void, o: Required<ResilienceOptions>,
): ResilientInformer<T> {
  let synced = false;
  let stopped = false;
  let restarting = false;
  let backoff = o.backoffMs;
  let lastActivity = Date.now();
  let restarts = 0;
  let timer: NodeJS.Timeout | undefined;
  const touch = (): void => { lastActivity = Date.now(); };
  const changed = (): void => { touch(); onChange(); };
  for (const verb of ['add', 'update', 'delete'] as const) informer.on(verb, changed);
  informer.on('connect', () => { touch(); backoff = o.backoffMs; });

  const restart = (why: string): void => {
    if (stopped || timer !== undefined) return;
    const wait = backoff;
    backoff = Math.min(backoff * 2, o.maxBackoffMs);
    restarts++;
    log.warn('watch restarting', { informer: name, reason: why, retryInMs: wait });
    timer = setTimeout(() => {
      timer = undefined;
      restarting = true;
      void informer.stop()
        .then(() => { restarting = false; return informer.start(); })
        .then(() => { synced = true; touch(); onChange(); })
        .catch((err: unknown) => { restarting = false; restart(`start failed: ${String(err)}`); });
    }, wait);
  };
  informer.on('error', (err: unknown) => {
    if (!stopped && !restarting) restart(String((err as Error)?.message ?? err));
  });
  const watchdog = setInterval(() => {
    if (Date.now() - lastActivity > o.staleAfterMs) restart(`no watch activity for ${o.staleAfterMs} ms`);
  }, Math.min(o.staleAfterMs, 30_000));
  watchdog.unref();

  informer.start().then(() => { synced = true; touch(); onChange(); }, (err: unknown) => restart(`initial list failed: ${String(err)}`));
  return {
    list: () => informer.list(),
    synced: () => synced,
    idleMs: () => Date.now() - lastActivity,
    restarts: () => restarts,
    stop: async () => {
      stopped = true;
      clearInterval(watchdog);
      if (timer !== undefined) clearTimeout(timer);
      await informer.stop();
    },
  };
}

export interface NodeWatch {
  readonly pods: ResilientInformer<V1Pod>;
  readonly node: ResilientInformer<V1Node>;
  /** PriorityClasses: to resolve a pod that names a class but has no spec.priority. */
  readonly classes: ResilientInformer<V1PriorityClass>;
  stop(): Promise<void>;
}

/** Watches the pods scheduled to `nodeName` (field selector spec.nodeName), the Node itself and the PriorityClasses. */
export function watchNode(kc: KubeConfig, nodeName: string, log: Logger, onChange: () => void, options: ResilienceOptions = {}): NodeWatch {
  const o: Required<ResilienceOptions> = { backoffMs: 1000, maxBackoffMs: 30_000, staleAfterMs: 300_000, ...options };
  const core = kc.makeApiClient(CoreV1Api);
  const podSelector = `spec.nodeName=${nodeName}`;
  const nodeSelector = `metadata.name=${nodeName}`;
  const watch = new Watch(kc);
  const pods = resilient('pods', new ListWatch<V1Pod>('/api/v1/pods', watch, () => core.listPodForAllNamespaces({ fieldSelector: podSelector }), false, undefined, podSelector), log, onChange, o);
  const node = resilient('node', new ListWatch<V1Node>('/api/v1/nodes', watch, () => core.listNode({ fieldSelector: nodeSelector }), false, undefined, nodeSelector), log, onChange, o);
  const scheduling = kc.makeApiClient(SchedulingV1Api);
  const classes = resilient('priorityclasses', new ListWatch<V1PriorityClass>('/apis/scheduling.k8s.io/v1/priorityclasses', watch, () => scheduling.listPriorityClass(), false), log, onChange, o);
  return { pods, node, classes, stop: async () => { await Promise.all([pods.stop(), node.stop(), classes.stop()]); } };
}

/**
 * Sets (string) or removes (null) annotations on the Node with a JSON merge patch: no
 * resourceVersion, so no conflicts with the kubelet's writes.
 */
export async function patchNodeAnnotations(kc: KubeConfig, nodeName: string, annotations: Readonly<Record<string, string | null>>): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await core.patchNode({ name: nodeName, body: { metadata: { annotations } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
}
