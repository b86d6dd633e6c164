/** A watched cache of PriorityClasses (never fetched per request), as the webhook's ClassCatalog. */
import type { KubeConfig } from '@kubernetes/client-node';
import type { ResilienceOptions } from '../adapters/informer.ts';
import type { Logger } from '../adapters/log.ts';
import { watchPriorityClasses } from '../adapters/watches.ts';
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
  const informer = watchPriorityClasses(kc, log, () => undefined, { resilience: options });
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
