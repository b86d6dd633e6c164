/**
 * The extender process minus its flags: the Node, Pod and PriorityClass watches feeding the
 * cluster view, the in-flight placements, and the HTTP server. main.ts, the tests and the
 * benchmark start it the same way.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { ResilienceOptions } from '../adapters/informer.ts';
import type { Logger } from '../adapters/log.ts';
import { watchNodes, watchPods, watchPriorityClasses } from '../adapters/watches.ts';
import type { Policy } from '../core/config.ts';
import { ClusterView } from './cluster.ts';
import type { RunningExtender } from './extender.ts';
import { listenExtender } from './extender.ts';
import { Placements } from './placements.ts';

export interface ExtenderOptions {
  readonly kc: KubeConfig;
  readonly policy: Policy;
  readonly log: Logger;
  readonly host: string;
  readonly port: number;
  /** A node whose report is this old cannot take Critical pods (default 15 min: 3 agent heartbeats). */
  readonly staleAfterMs?: number;
  /** How long a pod passed by the filter counts as placed while it is not seen bound (default 5 s). */
  readonly marginTtlMs?: number;
  readonly resilience?: ResilienceOptions;
  readonly registry?: Registry;
  /** The clock (tests make reports stale without waiting). */
  readonly clock?: () => number;
}

export const DEFAULT_STALE_AFTER_MS = 15 * 60_000;
export const DEFAULT_MARGIN_TTL_MS = 5000;

export interface Extender extends RunningExtender {
  readonly view: ClusterView;
  readonly placements: Placements;
  /** All three caches have listed once. */
  ready(): boolean;
}

export async function startExtender(o: ExtenderOptions): Promise<Extender> {
  const clock = o.clock ?? Date.now;
  const placements = new Placements(o.marginTtlMs ?? DEFAULT_MARGIN_TTL_MS, clock);
  const view = new ClusterView(o.policy, clock, (uid) => placements.settled(uid));
  const resilience = o.resilience ?? {};
  const classes = watchPriorityClasses(o.kc, o.log, () => view.setClasses(classes.list()), { resilience });
  const nodes = watchNodes(o.kc, o.log, () => {}, { resilience, onObject: (verb, obj) => view.nodeEvent(verb, obj) });
  const pods = watchPods(o.kc, o.log, () => {}, { resilience, onObject: (verb, obj) => view.podEvent(verb, obj) });
  const ready = (): boolean => classes.synced() && nodes.synced() && pods.synced();
  const running = await listenExtender({
    view, placements, settings: { staleAfterMs: o.staleAfterMs ?? DEFAULT_STALE_AFTER_MS }, ready, log: o.log,
    ...(o.registry === undefined ? {} : { registry: o.registry }),
  }, o.host, o.port);
  return {
    ...running, view, placements, ready,
    close: async () => {
      await Promise.all([running.close(), classes.stop(), nodes.stop(), pods.stop()]);
    },
  };
}
