/**
 * An informer that survives apiserver outages, shared by every program that watches Kubernetes.
 * client-node 1.x informers stop on any error except 410 Gone (which re-lists), and can hang
 * silently on a half-open connection: this one restarts with exponential backoff after errors,
 * and a watchdog restarts a watch that has shown no activity for too long.
 */
import type { KubernetesObject, ListWatch } from '@kubernetes/client-node';
import type { Logger } from './log.ts';

export interface ResilienceOptions {
  /** First restart delay after an error; doubles up to maxBackoffMs. */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Restart a watch that has shown no activity for this long. */
  readonly staleAfterMs?: number;
}

const DEFAULT_RESILIENCE: Required<ResilienceOptions> = { backoffMs: 1000, maxBackoffMs: 30_000, staleAfterMs: 300_000 };

export interface ResilientInformer<T extends KubernetesObject> {
  list(): readonly T[];
  /** The cached object by name (and namespace for namespaced kinds). */
  get(name: string, namespace?: string): T | undefined;
  /** True once a list has arrived (a start whose list failed does not count). */
  synced(): boolean;
  /** Milliseconds since the last event or (re)connect. */
  idleMs(): number;
  restarts(): number;
  stop(): Promise<void>;
}

/**
 * Starts `informer` and keeps it running: `onChange` is called after every add, update and
 * delete, and after every (re)start once its list arrived. `name` labels the log lines.
 */
export function resilientInformer<T extends KubernetesObject>(
  name: string, informer: ListWatch<T>, log: Logger, onChange: () => void, options: ResilienceOptions = {},
): ResilientInformer<T> {
  const o: Required<ResilienceOptions> = { ...DEFAULT_RESILIENCE, ...options };
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
  informer.on('connect', touch);

  // client-node's start() resolves even when its list failed (it only emits 'error'): a start
  // counts as done only when no error came with it.
  const startOnce = async (): Promise<void> => {
    let failure: unknown = null;
    const onError = (err: unknown): void => { failure ??= err; };
    informer.on('error', onError);
    try {
      await informer.start();
    } finally {
      informer.off('error', onError);
    }
    if (failure !== null) throw failure;
  };
  // The backoff resets only when a list arrived: 'connect' comes before the list, also in an outage.
  const listed = (): void => { synced = true; backoff = o.backoffMs; touch(); onChange(); };

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
        .then(() => { restarting = false; return startOnce(); })
        .then(listed)
        .catch((err: unknown) => { restarting = false; restart(`start failed: ${String((err as Error)?.message ?? err)}`); });
    }, wait);
  };
  informer.on('error', (err: unknown) => {
    if (!stopped && !restarting) restart(String((err as Error)?.message ?? err));
  });
  const watchdog = setInterval(() => {
    if (Date.now() - lastActivity > o.staleAfterMs) restart(`no watch activity for ${o.staleAfterMs} ms`);
  }, Math.min(o.staleAfterMs, 30_000));
  watchdog.unref();

  startOnce().then(listed, (err: unknown) => restart(`initial list failed: ${String((err as Error)?.message ?? err)}`));
  return {
    list: () => informer.list(),
    get: (key, namespace) => informer.get(key, namespace),
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
