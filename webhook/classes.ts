/** A watched cache of PriorityClasses (never fetched per request), as the webhook's ClassCatalog. */
import type { KubeConfig, V1PriorityClass } from '@kubernetes/client-node';
import { SchedulingV1Api, makeInformer } from '@kubernetes/client-node';
import type { ClassCatalog } from '../core/admission.ts';
import type { PriorityClassInfo } from '../core/types.ts';
import type { Logger } from './log.ts';

export interface WatchedClasses extends ClassCatalog {
  /** True once the first list has arrived. */
  readonly synced: () => boolean;
  stop(): Promise<void>;
}

function toInfo(pc: V1PriorityClass): PriorityClassInfo | undefined {
  const name = pc.metadata?.name;
  if (name === undefined || typeof pc.value !== 'number') return undefined;
  return { name, value: pc.value, preemptionPolicy: pc.preemptionPolicy ?? 'PreemptLowerPriority', globalDefault: pc.globalDefault === true };
}

/** The catalog over a fixed list (tests, benchmarks). */
export function staticClasses(classes: readonly PriorityClassInfo[]): ClassCatalog {
  const byName = new Map(classes.map((c) => [c.name, c]));
  return {
    get: (name) => byName.get(name),
    globalDefault: () => lowestGlobalDefault(classes),
  };
}

/** The Priority plugin uses the globalDefault class with the lowest value when several exist. */
function lowestGlobalDefault(classes: readonly PriorityClassInfo[]): PriorityClassInfo | undefined {
  return classes.filter((c) => c.globalDefault).sort((a, b) => a.value - b.value || (a.name < b.name ? -1 : 1))[0];
}

/**
 * Starts watching scheduling.k8s.io/v1 PriorityClasses. The informer restarts itself with
 * backoff after errors (client-node 1.x stops an informer on any error other than 410 Gone).
 */
export async function watchClasses(kc: KubeConfig, log: Logger): Promise<WatchedClasses> {
  const api = kc.makeApiClient(SchedulingV1Api);
  const informer = makeInformer<V1PriorityClass>(kc, '/apis/scheduling.k8s.io/v1/priorityclasses', () => api.listPriorityClass());
  let synced = false;
  let stopped = false;
  let backoffMs = 1000;
  let timer: NodeJS.Timeout | undefined;
  const current = (): PriorityClassInfo[] => informer.list().map(toInfo).filter((c): c is PriorityClassInfo => c !== undefined);
  informer.on('connect', () => { backoffMs = 1000; });
  informer.on('error', (err: unknown) => {
    if (stopped) return;
    log.warn('priorityclass watch failed; restarting', { error: String(err), retryInMs: backoffMs });
    timer = setTimeout(() => { informer.start().catch(() => undefined); }, backoffMs);
    backoffMs = Math.min(backoffMs * 2, 30_000);
  });
  await informer.start();
  synced = true;
  return {
    get: (name) => {
      const pc = informer.get(name);
      return pc === undefined ? undefined : toInfo(pc);
    },
    globalDefault: () => lowestGlobalDefault(current()),
    synced: () => synced,
    stop: async () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await informer.stop();
    },
  };
}
