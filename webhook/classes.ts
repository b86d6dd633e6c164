/** A watched cache of PriorityClasses (never fetched per request), as the webhook's ClassCatalog. */
import type { KubeConfig } from '@kubernetes/client-node';
import type { ResilienceOptions } from '../adapters/informer.ts';
import type { Logger } from '../adapters/log.ts';
import { watchPriorityClasses } from '../adapters/watches.ts';
import { classInfos } from '../adapters/priority-classes.ts';
import type { ClassCatalog } from '../core/admission.ts';
import { globalDefaultClass } from '../core/admission.ts';
import type { PriorityClassInfo } from '../core/types.ts';

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
  // Parsed once per change, not per admission: lookups are a Map read.
  let byName = new Map<string, PriorityClassInfo>();
  let globalDefault: PriorityClassInfo | undefined;
  const refresh = (): void => {
    const infos = classInfos(informer.list());
    byName = new Map(infos.map((c) => [c.name, c]));
    globalDefault = globalDefaultClass(infos);
  };
  const informer = watchPriorityClasses(kc, log, refresh, { resilience: options });
  return {
    get: (name) => byName.get(name),
    globalDefault: () => globalDefault,
    synced: informer.synced,
    stop: informer.stop,
  };
}
