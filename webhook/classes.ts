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
 * Watches scheduling.k8s.io/v1 PriorityClasses with the shared resilient informer and resolves
 * once the first list arrived; rejects (and stops watching) when that first list fails, so the
 * webhook does not start without its cache.
 */
export async function watchClasses(kc: KubeConfig, log: Logger, options: ResilienceOptions = {}): Promise<WatchedClasses> {
  const api = kc.makeApiClient(SchedulingV1Api);
  const listWatch = new ListWatch<V1PriorityClass>('/apis/scheduling.k8s.io/v1/priorityclasses', new Watch(kc), () => api.listPriorityClass(), false);
  const informer = resilientInformer('priorityclasses', listWatch, log, () => undefined, options);
  try {
    await informer.firstList;
  } catch (err) {
    await informer.stop();
    throw err;
  }
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
