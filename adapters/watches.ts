/**
 * The cluster-wide watches the programs share, each a resilient informer (informer.ts) over one
 * kind: pods, nodes, PriorityClasses. `onObject` sees every add, update and delete with its
 * object (a re-list after a restart replays the differences), for callers that keep their own
 * index instead of re-reading the whole list.
 */
import type { KubeConfig, KubernetesObject, V1Node, V1Pod, V1PriorityClass } from '@kubernetes/client-node';
import { CoreV1Api, ListWatch, SchedulingV1Api, Watch } from '@kubernetes/client-node';
import type { ResilienceOptions, ResilientInformer } from './informer.ts';
import { resilientInformer } from './informer.ts';
import type { Logger } from './log.ts';

export type WatchVerb = 'add' | 'update' | 'delete';

export interface WatchOptions<T> {
  /** A field selector (`spec.nodeName=n1`, `metadata.name=n1`); everything when absent. */
  readonly fieldSelector?: string;
  readonly onObject?: (verb: WatchVerb, obj: T) => void;
  readonly resilience?: ResilienceOptions;
}

function watchKind<T extends KubernetesObject>(
  name: string, path: string, kc: KubeConfig, list: (fieldSelector: string | undefined) => Promise<{ items: T[] }>,
  log: Logger, onChange: () => void, o: WatchOptions<T>,
): ResilientInformer<T> {
  const lw = new ListWatch<T>(path, new Watch(kc), () => list(o.fieldSelector) as never, false, undefined, o.fieldSelector);
  const onObject = o.onObject;
  if (onObject !== undefined) {
    for (const verb of ['add', 'update', 'delete'] as const) lw.on(verb, (obj: T) => onObject(verb, obj));
  }
  return resilientInformer(name, lw, log, onChange, o.resilience);
}

/** Pods in every namespace (optionally only those a field selector picks). */
export function watchPods(kc: KubeConfig, log: Logger, onChange: () => void, o: WatchOptions<V1Pod> = {}): ResilientInformer<V1Pod> {
  const core = kc.makeApiClient(CoreV1Api);
  return watchKind('pods', '/api/v1/pods', kc, (fieldSelector) => core.listPodForAllNamespaces(fieldSelector === undefined ? {} : { fieldSelector }), log, onChange, o);
}

/** Nodes (optionally one, by `metadata.name=`). */
export function watchNodes(kc: KubeConfig, log: Logger, onChange: () => void, o: WatchOptions<V1Node> = {}): ResilientInformer<V1Node> {
  const core = kc.makeApiClient(CoreV1Api);
  return watchKind('node', '/api/v1/nodes', kc, (fieldSelector) => core.listNode(fieldSelector === undefined ? {} : { fieldSelector }), log, onChange, o);
}

/** scheduling.k8s.io/v1 PriorityClasses: to resolve pods that name a class but carry no spec.priority. */
export function watchPriorityClasses(kc: KubeConfig, log: Logger, onChange: () => void, o: WatchOptions<V1PriorityClass> = {}): ResilientInformer<V1PriorityClass> {
  const api = kc.makeApiClient(SchedulingV1Api);
  return watchKind('priorityclasses', '/apis/scheduling.k8s.io/v1/priorityclasses', kc, () => api.listPriorityClass(), log, onChange, o);
}
