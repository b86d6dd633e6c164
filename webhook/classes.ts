/** A watched cache of PriorityClasses (never fetched per request), as the webhook's ClassCatalog. */
import type { KubeConfig, V1PriorityClass } from '@kubernetes/client-node';
import { ListWatch, SchedulingV1Api, Watch } from '@kubernetes/client-node';
import type { ResilienceOptions } from '../adapters/informer.ts';
import { resilientInformer } from '../adapters/informer.ts';
import type { Logger } from '../adapters/log.ts';
import { classInfo, classInfos } from '../adapters/priority-classes.ts';
import type { ClassCatalog } from '../core/admission.ts';
import { globalDefaultClass } from '../core/admission.ts';

export interface WatchedClasses extends ClassCatalog {
  /** True once the first list has arrived. */
  readonly synced: () => boolean;
  stop(): Promise<void>;
}

/**
 * Watches scheduling.k8s.io/v1 PriorityClasses with the shared resilient informer. The cache
 * fills in the background and keeps retrying while the API server is unreachable; `synced()`
 * (the webhook's readiness) turns true once a list has arrived.
 */
export function watchClasses(kc: KubeConfig, log: Logger, options: ResilienceOptions = {}): WatchedClasses {
  const api = kc.makeApiClient(SchedulingV1Api);
  const listWatch = new ListWatch<V1PriorityClass>('/apis/scheduling.k8s.io/v1/priorityclasses', new Watch(kc), () => api.listPriorityClass(), false);
  const informer = resilientInformer('priorityclasses', listWatch, log, () => undefined, options);
  return {
    get: (name) => {
      const pc = informer.get(name);
      return pc === undefined ? undefined : classInfo(pc);
    },
    globalDefault: () => globalDefaultClass(classInfos(informer.list())),
    synced: informer.synced,
    stop: informer.stop,
  };
}
