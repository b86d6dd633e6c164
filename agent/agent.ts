/**
 * The node agent's loop: pod and Node events → (debounced) core.plan → a new generation only
 * when the config bytes change → the supervisor runs it → the Node's annotations are patched
 * when their values change. Safe mode and config reloads come in through the same loop.
 */
import { readFileSync, watchFile, unwatchFile } from 'node:fs';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { getHints, hintCgroup, setHints } from '../adapters/hints/hints.ts';
import type { ResilienceOptions } from '../adapters/informer.ts';
import type { Logger } from '../adapters/log.ts';
import { classInfos } from '../adapters/priority-classes.ts';
import type { ProcReader } from '../adapters/proc.ts';
import { procReader } from '../adapters/proc.ts';
import type { Policy } from '../core/config.ts';
import { parsePolicy } from '../core/config.ts';
import { ConfigError, InputError, formatProblem, problemAt } from '../core/errors.ts';
import { publishedAnnotations, safeModeRequested, temperKeys } from '../core/names.ts';
import { podCgroupPath } from '../core/layers.ts';
import { nodeFromObject, podFromObject } from '../core/objects.ts';
import type { Plan } from '../core/plan.ts';
import { nodeReportContent, nodeReportOf, serializeNodeReport } from '../core/node-report.ts';
import { plan, tierRowOf } from '../core/plan.ts';
import { builtinProfileCatalog } from '../core/profiles.ts';
import type { PodInfo } from '../core/types.ts';
import { ENFORCEMENT_STATES, TIERS } from '../core/types.ts';
import { GenerationStore } from './generations.ts';
import type { NodeWatch } from './kube.ts';
import { patchNodeAnnotations, watchNode } from './kube.ts';
import type { SupervisorOptions, SupervisorStatus } from './supervisor.ts';
import { Supervisor } from './supervisor.ts';
import type { HintWriter, ProfileThread } from './hints.ts';
import { DEFAULT_TASK_HINT_MAP, Placer, readProfileThreads } from './hints.ts';
import { ProfileDirectory } from './profile-files.ts';
import type { AgentStatus, PodRowView } from './views.ts';
import { placementView, podRowView } from './views.ts';

export interface AgentOptions {
  readonly kc: KubeConfig;
  readonly nodeName: string;
  readonly policy: Policy;
  /** The config file, re-read when it changes (a ConfigMap update); bad versions are rejected. */
  readonly policyPath?: string;
  /**
   * The workload-profile directory (`--profiles-dir`): every `*.toml` in it, re-read when it
   * changes; a bad set is rejected and the last good one kept. Without it, the built-ins only.
   */
  readonly profilesDir?: string;
  /** How often the profile directory is read for changes (default 1 s, as the config file is). */
  readonly profilesPollMs?: number;
  readonly scheduler: Omit<SupervisorOptions, 'log' | 'onChange' | 'onRestart'>;
  readonly log: Logger;
  /** Quiet time that ends a burst of events, and the longest a burst may delay a recompute. */
  readonly debounceMs?: number;
  readonly maxDelayMs?: number;
  /** Minimum time between two Node patches (default 10 s: at most one patch per 10 s under churn). */
  readonly publishIntervalMs?: number;
  /**
   * How often the distribution's `at` is refreshed when nothing else changed (default 5 min), so
   * a scheduler can tell a live agent from a dead one.
   */
  readonly heartbeatMs?: number;
  readonly resilience?: ResilienceOptions;
  readonly registry?: Registry;
  /**
   * Where and how task hints are written (`placement = "hints"` only); in `cgroup` placement only
   * `cgroupRoot` and `proc`/`procRoot` are used, to list profiled pods' threads for the API.
   */
  readonly hints?: HintsPlacementOptions;
}

export interface HintsPlacementOptions {
  /** scx_layered's task-hint map pin (default /sys/fs/bpf/temper/hints). */
  readonly mapPin?: string;
  /** The cgroup v2 mount the pods' cgroups are under (default /sys/fs/cgroup). */
  readonly cgroupRoot?: string;
  /** The native helper's path (default `temper-hints` from PATH); unused with `writer`. */
  readonly helper?: string;
  /** The adapter's functions (default adapters/hints/ with `helper`); tests pass a fake. */
  readonly writer?: HintWriter;
  /** New threads are looked for this often (default 100 ms), and hints read back this often (default 1 s). */
  readonly scanMs?: number;
  readonly verifyMs?: number;
  /** Whether the map exists (default: its pin exists). */
  readonly mapReady?: () => boolean;
  /** How profiled pods' threads are read (comm, leader, title; default procfs at `procRoot`). */
  readonly proc?: ProcReader;
  /** The procfs mount (default /proc); unused with `proc`. */
  readonly procRoot?: string;
}

export class Agent {
  readonly store = new GenerationStore();
  readonly registry: Registry;
  private readonly o: Required<Omit<AgentOptions, 'policyPath' | 'profilesDir' | 'registry' | 'resilience' | 'hints'>> & Pick<AgentOptions, 'policyPath' | 'profilesDir' | 'resilience'>;
  private policy: Policy;
  private configError: string | null = null;
  /** The workload profiles planned with: the directory's last good set, or the built-ins. */
  private readonly profiles: ProfileDirectory | null;
  private profilesTimer: NodeJS.Timeout | null = null;
  /** Where profiled pods' threads are read from. */
  private readonly threadSource: { readonly cgroupRoot: string; readonly proc: ProcReader };
  private readonly threadErrors = new Set<string>();
  private readonly supervisor: Supervisor;
  /** The task-hint placer, with `placement = "hints"` at start (a reload cannot change the placement). */
  private readonly placer: Placer | null = null;
  private watch: NodeWatch | null = null;
  private latest: Plan | null = null;
  private pendingSince: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private published: Record<string, string | null> = {};
  /** The Node's resourceVersion in the watch when the last patch was sent. */
  private sentAtVersion: string | undefined;
  private publishTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private lastPublish = 0;
  /** The report last sent, without its time, and when it was stamped. */
  private report: { content: string; at: string; stampedAt: number } | null = null;
  private safeMode = false;
  private stopped = false;
  private readonly statusListeners = new Set<(s: AgentStatus) => void>();
  private readonly m: {
    generations: Counter; restarts: Counter; reconcile: Histogram; pods: Gauge; state: Gauge;
    applyErrors: Counter; configErrors: Counter; patches: Counter; gap: Histogram; watchRestarts: Gauge;
  };

  constructor(options: AgentOptions) {
    this.o = { debounceMs: 100, maxDelayMs: 1000, publishIntervalMs: 10_000, heartbeatMs: 300_000, profilesPollMs: 1000, ...options };
    this.policy = options.policy;
    this.profiles = options.profilesDir === undefined ? null : new ProfileDirectory(options.profilesDir, builtinProfileCatalog());
    this.threadSource = { cgroupRoot: options.hints?.cgroupRoot ?? '/sys/fs/cgroup', proc: options.hints?.proc ?? procReader(options.hints?.procRoot) };
    this.registry = options.registry ?? new Registry();
    // Event-loop lag sampled once a second: prom-client's 10 ms default wakes an idle agent 100×/s.
    collectDefaultMetrics({ register: this.registry, prefix: 'temper_agent_', eventLoopMonitoringPrecision: 1000 });
    const r = [this.registry];
    this.m = {
      generations: new Counter({ name: 'temper_agent_generations_total', help: 'Config generations created', registers: r }),
      restarts: new Counter({ name: 'temper_agent_scheduler_restarts_total', help: 'scx_layered (re)starts by reason', labelNames: ['reason'], registers: r }),
      reconcile: new Histogram({ name: 'temper_agent_reconcile_duration_seconds', help: 'From the first unprocessed event to the config applied', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10], registers: r }),
      pods: new Gauge({ name: 'temper_agent_pods', help: 'Pods on the node by tier', labelNames: ['tier'], registers: r }),
      state: new Gauge({ name: 'temper_agent_enforcement_state', help: '1 for the current enforcement state', labelNames: ['state'], registers: r }),
      applyErrors: new Counter({ name: 'temper_agent_apply_errors_total', help: 'Failed recomputes or applies', registers: r }),
      configErrors: new Counter({ name: 'temper_agent_config_errors_total', help: 'Rejected configuration reloads', registers: r }),
      patches: new Counter({ name: 'temper_agent_node_patches_total', help: 'Node annotation patches sent', registers: r }),
      gap: new Histogram({ name: 'temper_agent_scheduler_gap_seconds', help: 'Time sched_ext was not enabled across a restart', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10], registers: r }),
      watchRestarts: new Gauge({ name: 'temper_agent_watch_restarts', help: 'Watch restarts since start', labelNames: ['informer'], registers: r }),
    };
    if (options.policy.node.placement === 'hints') this.placer = this.hintsPlacer(options.hints ?? {}, r);
    const mapPin = options.hints?.mapPin ?? DEFAULT_TASK_HINT_MAP;
    this.supervisor = new Supervisor({
      ...options.scheduler,
      ...(this.placer === null ? {} : { taskHintMap: mapPin }),
      log: options.log,
      onChange: () => this.statusChanged(),
      onRestart: (rec) => {
        this.m.restarts.inc({ reason: rec.reason });
        if (rec.gapToEnabledMs !== null) this.m.gap.observe(rec.gapToEnabledMs / 1000);
        options.log.info('scheduler restarted', { reason: rec.reason, gapToSpawnMs: Math.round(rec.gapToSpawnMs), gapToEnabledMs: rec.gapToEnabledMs === null ? null : Math.round(rec.gapToEnabledMs) });
      },
    });
  }

  /** The placer and its metrics (registered only in this mode, so `cgroup` metrics are unchanged). */
  private hintsPlacer(h: HintsPlacementOptions, r: Registry[]): Placer {
    const mapPin = h.mapPin ?? DEFAULT_TASK_HINT_MAP;
    const helper = h.helper === undefined ? {} : { binary: h.helper };
    const writer: HintWriter = h.writer ?? {
      setHints: (pin, hint, tids) => setHints(pin, hint, tids, helper),
      getHints: (pin, tids) => getHints(pin, tids, helper),
      hintCgroup: (pin, hint, dir) => hintCgroup(pin, hint, dir, helper),
    };
    const latency = new Histogram({
      name: 'temper_agent_hint_latency_seconds', help: 'From a hinted pod (trigger="pod") or a new thread of one (trigger="thread") seen to its threads hinted',
      labelNames: ['trigger'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5], registers: r,
    });
    const written = new Counter({ name: 'temper_agent_hints_written_total', help: 'Task hints written, by tier', labelNames: ['tier'], registers: r });
    const placer = new Placer({
      mapPin, cgroupRoot: h.cgroupRoot ?? '/sys/fs/cgroup', driver: this.policy.node.cgroupDriver, writer, log: this.o.log,
      ...(h.scanMs === undefined ? {} : { scanMs: h.scanMs }), ...(h.verifyMs === undefined ? {} : { verifyMs: h.verifyMs }),
      ...(h.mapReady === undefined ? {} : { mapReady: h.mapReady }),
      proc: this.threadSource.proc,
      onHinted: (trigger, seconds) => latency.observe({ trigger }, seconds),
      onWritten: (tier, n) => written.inc({ tier }, n),
      onChange: () => this.statusChanged(),
    });
    new Gauge({
      name: 'temper_agent_misplaced_threads', help: 'Threads of hinted pods whose read-back hint is not their pod\'s (not yet or not successfully rewritten), by tier',
      labelNames: ['tier'], registers: r,
      collect() {
        for (const [tier, n] of Object.entries(placer.misplacedByTier())) this.set({ tier }, n);
      },
    });
    return placer;
  }

  /** Starts watching; the first recompute happens once pods and the Node are listed. */
  start(): void {
    this.placer?.start();
    this.watch = watchNode(this.o.kc, this.o.nodeName, this.o.log, () => this.schedule(), this.o.resilience);
    if (this.o.policyPath !== undefined) {
      watchFile(this.o.policyPath, { interval: 1000 }, () => this.reloadPolicy());
    }
    if (this.profiles !== null) {
      this.reloadProfiles();
      this.profilesTimer = setInterval(() => this.reloadProfiles(), this.o.profilesPollMs);
      this.profilesTimer.unref();
    }
    this.statusChanged();
  }

  status(): AgentStatus {
    const s: SupervisorStatus = this.supervisor.current();
    const g = this.store.current();
    const profilesError = this.profiles?.error() ?? null;
    const problems = (this.configError === null ? '' : `; ${this.configError} (running the last good config)`)
      + (profilesError === null ? '' : `; profiles rejected: ${profilesError} (running the last good profiles)`);
    const status: AgentStatus = { node: this.o.nodeName, state: s.state, message: `${s.message}${problems}`, generation: g?.number ?? null, sha256: g?.sha256 ?? null, warnings: g?.warnings ?? [] };
    if (this.placer !== null) status.placement = this.placer.summary();
    return status;
  }

  /**
   * Every pod currently on the node with its tier, including those no layer matches, and its
   * workload profile with the threads last seen in each group: the placer's (hints), else read
   * now from the pod's cgroup (`cgroup` placement, where no placer follows them).
   */
  pods(): readonly PodRowView[] {
    const p = this.latest;
    if (p === null) return [];
    const selections = new Map(p.profiles.selections.map((s) => [s.uid, s]));
    const placements = new Map(p.profiles.rendering.pods.map((s) => [s.uid, s]));
    return p.pods.map((x) => {
      const uid = x.pod.uid;
      const selection = selections.get(uid);
      const placement = placements.get(uid);
      const profile = selection?.selection.profile?.profile;
      let threads: ReadonlyMap<string, readonly ProfileThread[]> | null = null;
      if (placement !== undefined && profile !== undefined) {
        if (this.placer !== null) threads = this.placer.profileThreads(uid);
        else {
          try {
            threads = readProfileThreads(profile, join(this.threadSource.cgroupRoot, podCgroupPath(this.policy.node.cgroupDriver, x.assignment.qosClass, uid)), this.threadSource.proc);
          } catch (err) {
            // once per pod and cause: this runs per API request
            const cause = `${uid} ${(err as Error).message}`;
            if (!this.threadErrors.has(cause)) this.o.log.warn('profile threads not read', { pod: `${x.pod.namespace}/${x.pod.name}`, error: (err as Error).message });
            this.threadErrors.add(cause);
          }
        }
      }
      return podRowView(tierRowOf(x), selection, placement, threads);
    });
  }

  onStatus(listener: (s: AgentStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** A first generation exists (the watches synced and the node was planned once). */
  ready(): boolean {
    return this.store.current() !== null;
  }

  private statusChanged(): void {
    const s = this.status();
    for (const st of ENFORCEMENT_STATES) this.m.state.set({ state: st }, st === s.state ? 1 : 0);
    for (const l of this.statusListeners) l(s);
    this.schedulePublish();
  }

  /** Coalesces bursts: recompute after `debounceMs` of quiet, or `maxDelayMs` after the first event. */
  private schedule(): void {
    if (this.stopped) return;
    const now = Date.now();
    this.pendingSince ??= now;
    if (this.timer !== null) clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(this.o.debounceMs, this.pendingSince + this.o.maxDelayMs - now));
    this.timer = setTimeout(() => { this.timer = null; void this.reconcile(); }, wait);
  }

  private reloadPolicy(): void {
    if (this.o.policyPath === undefined) return;
    try {
      const next = parsePolicy(readFileSync(this.o.policyPath, 'utf8'), this.o.policyPath);
      // the scheduler's flags and the agent's privileges (chart) follow the placement: a restart changes it
      if (next.node.placement !== this.policy.node.placement) {
        throw new ConfigError([problemAt(this.o.policyPath, `node.placement: changes only with an agent restart (running "${this.policy.node.placement}", got "${next.node.placement}")`)]);
      }
      this.policy = next;
      this.configError = null;
      this.o.log.info('configuration reloaded', { path: this.o.policyPath });
    } catch (err) {
      const why = err instanceof ConfigError ? err.lines.join('; ') : (err as Error).message;
      this.configError = `config rejected: ${why}`;
      this.m.configErrors.inc();
      this.o.log.error('configuration rejected; keeping the last good one', { path: this.o.policyPath, error: why });
    }
    this.statusChanged();
    this.schedule();
  }

  /** Reads the profile directory; a changed set is planned with at once, a bad one rejected. */
  private reloadProfiles(): void {
    if (this.profiles === null) return;
    const r = this.profiles.poll();
    if (r === null) return;
    if (r.kind === 'loaded') {
      this.o.log.info('profiles loaded', { dir: this.profiles.dir, files: r.files.join(',') });
    } else {
      this.m.configErrors.inc();
      this.o.log.error('profiles rejected; keeping the last good ones', { dir: this.profiles.dir, error: r.problems.join('; ') });
    }
    this.statusChanged();
    this.schedule();
  }

  private async reconcile(): Promise<void> {
    const since = this.pendingSince ?? Date.now();
    this.pendingSince = null;
    const watch = this.watch;
    if (watch === null || !watch.pods.synced() || !watch.node.synced() || !watch.classes.synced()) return;
    this.m.watchRestarts.set({ informer: 'pods' }, watch.pods.restarts());
    this.m.watchRestarts.set({ informer: 'node' }, watch.node.restarts());
    const nodeObj = watch.node.list()[0];
    if (nodeObj === undefined) {
      this.o.log.warn('node object not found; waiting', { node: this.o.nodeName });
      return;
    }
    try {
      const node = nodeFromObject({ ...nodeObj, kind: 'Node' }, `node ${this.o.nodeName}`);
      const classes = classInfos(watch.classes.list());
      const pods: PodInfo[] = [];
      for (const p of watch.pods.list()) {
        try {
          pods.push(podFromObject(p, `pod ${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`));
        } catch (err) {
          if (!(err instanceof InputError)) throw err;
          this.o.log.warn('pod skipped: not understood', { error: err.message });
        }
      }
      const result = plan(this.policy, node, pods, classes, this.profiles?.catalog() ?? builtinProfileCatalog());
      // One pod core cannot plan (a class without spec.priority, possible only with the Priority
      // plugin off) must not stop the node's whole plan: it is left out and said so.
      for (const s of result.skipped) {
        this.o.log.warn('pod skipped: cannot be planned', { pod: `${s.pod.namespace}/${s.pod.name}`, reason: s.reason, error: formatProblem(s.problem) });
      }
      this.latest = result;
      this.placer?.setPods(result.pods, result.profiles);
      for (const tier of [...TIERS, 'system'] as const) this.m.pods.set({ tier }, result.pods.filter((p) => p.assignment.tier === tier).length);
      const annotations = nodeObj.metadata?.annotations ?? {};
      const safe = safeModeRequested(this.policy, annotations);
      if (safe !== this.safeMode) {
        this.safeMode = safe;
        this.o.log.info(safe ? 'safe mode requested' : 'safe mode lifted', { node: this.o.nodeName });
        await this.supervisor.setSafeMode(safe);
      }
      const generation = this.store.record(result, new Date());
      if (generation !== null) {
        this.m.generations.inc();
        this.o.log.info('new generation', { node: this.o.nodeName, generation: generation.number, sha256: generation.sha256.slice(0, 12), moves: generation.moves.length });
        await this.supervisor.apply(generation.configJson);
        this.m.reconcile.observe((Date.now() - since) / 1000);
      }
      this.statusChanged();
    } catch (err) {
      this.m.applyErrors.inc();
      this.o.log.error('recompute failed; keeping the last config', { error: err instanceof Error ? err.message : String(err) });
    }
  }

  /** Patches the Node's annotations when their values differ from what it carries, rate-limited. */
  private schedulePublish(): void {
    if (this.stopped || this.publishTimer !== null) return;
    const wait = Math.max(0, this.lastPublish + this.o.publishIntervalMs - Date.now());
    this.publishTimer = setTimeout(() => { this.publishTimer = null; void this.publish(); }, wait);
  }

  /** Its annotations under every prefix it writes, and removals under the others (core/names.ts). */
  private desiredAnnotations(): Record<string, string | null> {
    const s = this.status();
    const keys = temperKeys(this.policy);
    const out: Record<string, string> = {
      [keys.agentStatus]: JSON.stringify({
        state: s.state, generation: s.generation, sha256: s.sha256, message: s.message, warnings: s.warnings,
        ...(s.placement === undefined ? {} : { placement: placementView(s.placement) }),
      }),
    };
    if (this.latest !== null) {
      // `at` moves only with the content, or once the heartbeat is due: a steady node is patched
      // once per heartbeat, not once per publish.
      const now = Date.now();
      const draft = nodeReportOf(this.latest, { state: s.state, generation: s.generation, at: '' });
      const content = nodeReportContent(draft);
      if (this.report === null || this.report.content !== content || now - this.report.stampedAt >= this.o.heartbeatMs) {
        this.report = { content, at: new Date(now).toISOString(), stampedAt: now };
      }
      out[keys.qosDistribution] = serializeNodeReport({ ...draft, at: this.report.at });
    }
    return publishedAnnotations(this.policy, out);
  }

  /** Publishes again when the heartbeat is due, so `at` stays fresh on a quiet node. */
  private armHeartbeat(): void {
    if (this.stopped) return;
    if (this.heartbeatTimer !== null) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = setTimeout(() => { this.heartbeatTimer = null; this.schedulePublish(); }, this.o.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  private async publish(): Promise<void> {
    const nodeObj = this.watch?.node.list()[0];
    const current = nodeObj?.metadata?.annotations ?? {};
    const desired = this.desiredAnnotations();
    // A value just sent is not sent again while the watch still shows the Node as it was before
    // the patch (it lags). Once the Node has moved on, a different value is someone else's write,
    // repaired at once. A re-check follows a skip, and after 30 s the value is sent regardless.
    const caughtUp = nodeObj?.metadata?.resourceVersion !== this.sentAtVersion;
    const recent = Date.now() - this.lastPublish < 30_000;
    const pending = (k: string, v: string | null): boolean => recent && !caughtUp && this.published[k] === v;
    const differing = Object.entries(desired).filter(([k, v]) => (current[k] ?? null) !== v);
    if (differing.some(([k, v]) => pending(k, v))) setTimeout(() => this.schedulePublish(), this.o.publishIntervalMs).unref();
    const changed = Object.fromEntries(differing.filter(([k, v]) => !pending(k, v)));
    this.armHeartbeat();
    if (Object.keys(changed).length === 0) return;
    this.lastPublish = Date.now();
    this.sentAtVersion = nodeObj?.metadata?.resourceVersion;
    try {
      await patchNodeAnnotations(this.o.kc, this.o.nodeName, changed);
      this.published = { ...this.published, ...changed };
      this.m.patches.inc();
    } catch (err) {
      this.o.log.warn('node annotation patch failed; will retry', { error: String((err as Error).message ?? err) });
      setTimeout(() => this.schedulePublish(), this.o.publishIntervalMs).unref();
    }
  }

  /** Stops watching. The scheduler keeps running for the next agent unless `stopScheduler`. */
  async stop(stopScheduler = false): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.publishTimer !== null) clearTimeout(this.publishTimer);
    if (this.heartbeatTimer !== null) clearTimeout(this.heartbeatTimer);
    if (this.o.policyPath !== undefined) unwatchFile(this.o.policyPath);
    if (this.profilesTimer !== null) clearInterval(this.profilesTimer);
    await this.watch?.stop();
    await this.placer?.stop();
    await this.supervisor.close(stopScheduler);
  }
}
