/**
 * The task-hint placer (`node.placement = "hints"`, docs/agent.md "Hints placement"): writes
 * each hinted pod's value (core/hints.ts) for every one of its threads through the native
 * helper (adapters/hints/), and keeps it so. Hints are per thread and not inherited (decisions
 * §30), so it follows thread creation: every `scanMs` it lists each pod's threads (cgroup.threads
 * of the pod cgroup and every cgroup below it) and hints the ones it has not seen; every
 * `verifyMs` it reads back every hinted thread's value and rewrites the ones that drifted.
 * A pod with a workload profile (docs/profiles.md) is followed even without a hint of its own:
 * each of its threads gets its group's value (core threadHint, from the thread's comm, its
 * leader's comm and, for title groups, the process title), and since threads rename themselves
 * the names are read again every verify round and a thread whose value changed is rewritten.
 * Nothing here throws into the agent: failures are logged once per pod and cause, and retried.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../adapters/log.ts';
import type { CgroupHintSummary, GetResult, SetResult } from '../adapters/hints/hints.ts';
import type { ProcReader } from '../adapters/proc.ts';
import { procReader } from '../adapters/proc.ts';
import { podCgroupPath } from '../core/layers.ts';
import type { PlacedPod, PlanProfiles } from '../core/plan.ts';
import type { Profile } from '../core/profiles.ts';
import { groupOfThread } from '../core/profiles.ts';
import type { PodProfilePlacement } from '../core/profiles-render.ts';
import { threadHint } from '../core/profiles-render.ts';
import type { CgroupDriver, TierName } from '../core/types.ts';

/** Where the agent has scx_layered pin its task-hint map; the directory is the agent's (0700), the pin itself is 0666. */
export const DEFAULT_TASK_HINT_MAP = '/sys/fs/bpf/temper/hints';

/** The adapter functions the placer calls (adapters/hints/hints.ts), injected so tests can fake them. */
export interface HintWriter {
  setHints(mapPin: string, hint: number, tids: readonly number[]): Promise<SetResult[]>;
  getHints(mapPin: string, tids: readonly number[]): Promise<GetResult[]>;
  hintCgroup(mapPin: string, hint: number, cgroupDir: string): Promise<CgroupHintSummary>;
}

/** What the placer reports, in the agent's status (fixed key order; `misplacedThreads` lists only tiers with some). */
export interface PlacementSummary {
  readonly mode: 'hints';
  readonly hintedPods: number;
  readonly hintedThreads: number;
  readonly misplacedThreads: Readonly<Partial<Record<TierName, number>>>;
}

/** Why it measured a time to hinted: a pod seen (or its tier changed), or a new thread of a known pod. */
export type HintTrigger = 'pod' | 'thread';

export interface PlacerOptions {
  /** scx_layered's pinned task-hint map (`--task-hint-map`). */
  readonly mapPin: string;
  /** The cgroup v2 mount (default /sys/fs/cgroup). */
  readonly cgroupRoot: string;
  readonly driver: CgroupDriver;
  readonly writer: HintWriter;
  readonly log: Logger;
  /** How often new threads are looked for (default 100 ms). */
  readonly scanMs?: number;
  /** How often every hinted thread is read back (default 1 s). */
  readonly verifyMs?: number;
  /** Whether the map exists yet (default: its pin exists): before scx_layered first starts, nothing is written. */
  readonly mapReady?: () => boolean;
  /** How profiled pods' threads are read (default procfs at /proc). */
  readonly proc?: ProcReader;
  /** Monotonic milliseconds (default performance.now). */
  readonly now?: () => number;
  /** Seconds from the pod (or thread) seen to its threads hinted. */
  readonly onHinted?: (trigger: HintTrigger, seconds: number) => void;
  /** Hints written successfully, by tier. */
  readonly onWritten?: (tier: TierName, count: number) => void;
  /** Called when the summary's pods or misplaced counts change (not on thread counts alone). */
  readonly onChange?: () => void;
}

/** A profiled pod's profile and where its groups go. */
interface Profiled {
  readonly profile: Profile;
  readonly placement: PodProfilePlacement;
  /** Some group matches process titles: cmdline is read too. */
  readonly titles: boolean;
}

/** One thread of a profiled pod as last read: its names, its group and the value it should carry. */
interface ThreadState {
  readonly tgid: number;
  comm: string;
  group: string | null;
  want: number;
}

/** A thread of a profiled pod as the agent last saw it, for the API. */
export interface ProfileThread {
  readonly tid: number;
  readonly comm: string;
}

interface Tracked {
  readonly uid: string;
  /** namespace/name, for logs. */
  readonly pod: string;
  tier: TierName;
  /** The pod's own hint; null only for a profiled pod the static matches place (its ungrouped threads get 0). */
  hint: number | null;
  profiled: Profiled | null;
  /** What setPods last saw of hint and profile: a change rewrites every thread. */
  key: string;
  readonly dir: string;
  /** Profiled pods: each listed thread's names and wanted value, as last read. */
  readonly threads: Map<number, ThreadState>;
  /** The pod's threads that carry their wanted value (as far as the placer knows). */
  readonly known: Set<number>;
  /** Threads whose last write failed or whose read-back differed and could not be fixed. */
  readonly misplaced: Set<number>;
  /** When the pod (or its new hint) was seen; null once its threads are hinted. */
  seenAt: number | null;
  /** Causes already logged for this pod. */
  readonly logged: Set<string>;
}

// argv stays well under the kernel's limits even for pods with many threads
const CHUNK = 2000;

function chunks<T>(xs: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += CHUNK) out.push(xs.slice(i, i + CHUNK));
  return out;
}

/** The TIDs in `dir`'s cgroup.threads and in every cgroup below it; [] when the cgroup does not exist (yet, or any more). */
export function cgroupThreads(dir: string): number[] {
  const out: number[] = [];
  // ENOENT: a pod not started yet, or a container cgroup removed while walking
  const gone = (err: unknown): boolean => (err as NodeJS.ErrnoException).code === 'ENOENT';
  const walk = (d: string): void => {
    let text = '';
    try {
      text = readFileSync(join(d, 'cgroup.threads'), 'utf8');
    } catch (err) {
      if (!gone(err)) throw err;
    }
    for (const line of text.split('\n')) {
      const tid = Number(line);
      if (line !== '' && Number.isInteger(tid) && tid > 0) out.push(tid);
    }
    let entries: string[];
    try {
      entries = readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    } catch (err) {
      if (gone(err)) return;
      throw err;
    }
    for (const e of entries) walk(join(d, e));
  };
  walk(dir);
  return out;
}

/**
 * The threads of a pod's cgroup tree by group of `profile`, read once (TIDs ascending; threads
 * in no group, or gone while read, left out): what `cgroup` placement shows, where no placer
 * follows them. null when no thread is listed: the cgroup does not exist (yet), or the agent
 * is outside the host's PID namespace, where cgroup.threads lists none of the pod's.
 */
export function readProfileThreads(profile: Profile, dir: string, proc: ProcReader): Map<string, ProfileThread[]> | null {
  const listed = [...new Set(cgroupThreads(dir))].sort((a, b) => a - b);
  if (listed.length === 0) return null;
  const out = new Map<string, ProfileThread[]>(profile.groups.map((g) => [g.name, []]));
  const titles = profile.groups.some((g) => g.titles.length > 0);
  const processes = new Map<number, { pcomm: string; title: string | null }>();
  for (const tid of listed) {
    const comm = proc.comm(tid);
    const tgid = proc.tgid(tid);
    if (comm === null || tgid === null) continue;
    let p = processes.get(tgid);
    if (p === undefined) {
      p = { pcomm: (tgid === tid ? comm : proc.comm(tgid)) ?? '', title: titles ? proc.title(tgid) : null };
      processes.set(tgid, p);
    }
    const group = groupOfThread(profile, { comm, pcomm: p.pcomm, title: p.title });
    if (group !== null) out.get(group.name)?.push({ tid, comm });
  }
  return out;
}

/** A cause for "log once": digits (TIDs, counts) left out, so one failure mode is one cause. */
const causeOf = (err: unknown): string => (err instanceof Error ? err.message : String(err)).replace(/\d+/g, '#');

// 0 is mapped by no layer: the thread goes back to the config's static matches (decisions §30)
const UNHINTED = 0;

/** The value a thread should carry: its group's (profiled pods, once read), else its pod's. */
function wantOf(t: Tracked, tid: number): number {
  return t.threads.get(tid)?.want ?? t.hint ?? UNHINTED;
}

/** A read-back value is right when it is the wanted one; no entry at all is as good as 0 (no layer maps either). */
const holds = (want: number, read: number | null): boolean => read === want || (want === UNHINTED && read === null);

/** Groups TIDs by the value they should carry, values ascending. */
function byValue(t: Tracked, tids: readonly number[]): [number, number[]][] {
  const out = new Map<number, number[]>();
  for (const tid of tids) {
    const v = wantOf(t, tid);
    const same = out.get(v);
    if (same === undefined) out.set(v, [tid]);
    else same.push(tid);
  }
  return [...out].sort((a, b) => a[0] - b[0]);
}

export class Placer {
  private readonly o: Required<Omit<PlacerOptions, 'onHinted' | 'onWritten' | 'onChange'>> & Pick<PlacerOptions, 'onHinted' | 'onWritten' | 'onChange'>;
  private readonly pods = new Map<string, Tracked>();
  /** Pods whose hint went away while they run: written 0 (no layer maps it) once, then forgotten. */
  private readonly releases = new Map<string, { pod: string; dir: string }>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private lastVerify = -Infinity;
  private stopped = false;
  private lastShape = '';

  constructor(options: PlacerOptions) {
    this.o = {
      scanMs: 100, verifyMs: 1000, mapReady: () => existsSync(options.mapPin), now: () => performance.now(), proc: procReader(), ...options,
    };
  }

  /**
   * The plan's pods: those with a hint or a profile placement (`profiles`, the plan's) are
   * followed, the others (and departed ones) forgotten.
   */
  setPods(placed: readonly PlacedPod[], profiles?: PlanProfiles): void {
    const now = this.o.now();
    const seen = new Set<string>();
    const profiledPods = profiles === undefined ? new Map<string, Profiled>() : profiledByUid(profiles);
    for (const p of placed) {
      const uid = p.pod.uid;
      const prev = this.pods.get(uid);
      const hint = p.assignment.hint;
      const profiled = profiledPods.get(uid) ?? null;
      if (hint === null && profiled === null) {
        // its tier became its QoS default (a reload), or its profile went: its threads still carry the old value
        if (prev !== undefined) this.releases.set(uid, { pod: prev.pod, dir: prev.dir });
        continue;
      }
      if (uid === '') continue;
      seen.add(uid);
      const key = JSON.stringify([hint, profiled === null ? null : [profiled.profile.source, profiled.placement.groups.map((g) => [g.group, g.hint])]]);
      if (prev === undefined) {
        this.releases.delete(uid);
        this.pods.set(uid, {
          uid, pod: `${p.pod.namespace}/${p.pod.name}`, tier: p.assignment.tier, hint, profiled, key,
          dir: join(this.o.cgroupRoot, podCgroupPath(this.o.driver, p.assignment.qosClass, uid)),
          threads: new Map(), known: new Set(), misplaced: new Set(), seenAt: now, logged: new Set(),
        });
      } else if (prev.key !== key) {
        // a new tier or profile: every thread is written again
        prev.hint = hint;
        prev.profiled = profiled;
        prev.key = key;
        prev.tier = p.assignment.tier;
        prev.threads.clear();
        prev.known.clear();
        prev.misplaced.clear();
        prev.seenAt = now;
      } else {
        // the same values; the placement object is the new plan's (its reasons may differ)
        prev.profiled = profiled;
        prev.tier = p.assignment.tier;
      }
    }
    for (const uid of [...this.pods.keys()]) {
      if (!seen.has(uid)) this.pods.delete(uid);
    }
    const present = new Set(placed.map((p) => p.pod.uid));
    for (const uid of [...this.releases.keys()]) {
      if (!present.has(uid)) this.releases.delete(uid);
    }
    this.changed();
  }

  /** Starts the loop (one step at a time, never overlapping; the timer does not hold the process). */
  start(): void {
    this.stopped = false;
    this.arm(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private arm(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.step().finally(() => { this.running = null; this.arm(this.o.scanMs); });
    }, ms);
    this.timer.unref();
  }

  /** One loop step: hints new pods and threads, and reads back every thread when the verify period is due. */
  async step(): Promise<void> {
    try {
      if (!this.o.mapReady()) return;
      await this.release();
      for (const t of [...this.pods.values()]) await this.scan(t);
      const now = this.o.now();
      if (now - this.lastVerify >= this.o.verifyMs) {
        this.lastVerify = now;
        await this.verify();
      }
    } catch (err) {
      // a bug, not a failure of one pod: still never the agent's crash
      this.o.log.error('hint placement step failed', { error: causeOf(err) });
    } finally {
      this.changed();
    }
  }

  /**
   * A followed profiled pod's threads by group, as last read (TIDs ascending; threads in no
   * group are left out), or null when the placer does not follow the pod as a profiled one or
   * has read none of its threads' names yet.
   */
  profileThreads(uid: string): ReadonlyMap<string, readonly ProfileThread[]> | null {
    const t = this.pods.get(uid);
    const p = t?.profiled ?? null;
    if (t === undefined || p === null || t.threads.size === 0) return null;
    const out = new Map<string, ProfileThread[]>(p.profile.groups.map((g) => [g.name, []]));
    for (const [tid, s] of [...t.threads].sort((a, b) => a[0] - b[0])) {
      if (s.group !== null) out.get(s.group)?.push({ tid, comm: s.comm });
    }
    return out;
  }

  summary(): PlacementSummary {
    let threads = 0;
    const misplaced = new Map<TierName, number>();
    for (const t of this.pods.values()) {
      // a retry in flight can leave a thread in both sets for a moment: misplaced is what it is
      for (const tid of t.known) if (!t.misplaced.has(tid)) threads++;
      if (t.misplaced.size > 0) misplaced.set(t.tier, (misplaced.get(t.tier) ?? 0) + t.misplaced.size);
    }
    const order: readonly TierName[] = ['system', 'critical', 'high', 'normal', 'low', 'background'];
    const byTier: Partial<Record<TierName, number>> = {};
    for (const tier of order) {
      const n = misplaced.get(tier);
      if (n !== undefined) byTier[tier] = n;
    }
    return { mode: 'hints', hintedPods: this.pods.size, hintedThreads: threads, misplacedThreads: byTier };
  }

  /** Misplaced threads per tier, every tier present (for the gauge). */
  misplacedByTier(): Record<TierName, number> {
    const out: Record<TierName, number> = { system: 0, critical: 0, high: 0, normal: 0, low: 0, background: 0 };
    for (const t of this.pods.values()) out[t.tier] += t.misplaced.size;
    return out;
  }

  private changed(): void {
    const s = this.summary();
    const shape = JSON.stringify([s.hintedPods, s.misplacedThreads]);
    if (shape === this.lastShape) return;
    this.lastShape = shape;
    this.o.onChange?.();
  }

  private logOnce(pod: string, logged: Set<string>, cause: string, msg: string, fields: Record<string, unknown>): void {
    if (logged.has(cause)) return;
    logged.add(cause);
    this.o.log.warn(msg, { pod, ...fields });
  }

  private async release(): Promise<void> {
    for (const [uid, r] of [...this.releases]) {
      this.releases.delete(uid);
      try {
        await this.o.writer.hintCgroup(this.o.mapPin, UNHINTED, r.dir);
      } catch (err) {
        this.o.log.warn('task hints not cleared', { pod: r.pod, error: causeOf(err) });
      }
    }
  }

  /** Lists the pod's threads; a pod seen (or re-tiered) gets its whole cgroup hinted, then read back. */
  private async scan(t: Tracked): Promise<void> {
    let listed: number[];
    try {
      listed = cgroupThreads(t.dir);
    } catch (err) {
      this.logOnce(t.pod, t.logged, `list:${causeOf(err)}`, 'pod threads not listed', { dir: t.dir, error: causeOf(err) });
      return;
    }
    const present = new Set(listed);
    for (const tid of t.known) if (!present.has(tid)) t.known.delete(tid);
    for (const tid of t.misplaced) if (!present.has(tid)) t.misplaced.delete(tid);
    for (const tid of t.threads.keys()) if (!present.has(tid)) t.threads.delete(tid);
    if (listed.length === 0) return;
    if (t.profiled !== null) {
      await this.scanProfiled(t, listed);
      return;
    }
    if (t.seenAt !== null) {
      const seenAt = t.seenAt;
      try {
        const s = await this.o.writer.hintCgroup(this.o.mapPin, t.hint ?? UNHINTED, t.dir);
        if (s.hinted > 0) this.o.onWritten?.(t.tier, s.hinted);
        for (const f of s.failures) if (f.errno !== 'ESRCH') this.logOnce(t.pod, t.logged, `set:${f.errno}`, 'task hint not written', { tid: f.tid, errno: f.errno, error: f.message });
      } catch (err) {
        this.logOnce(t.pod, t.logged, `cgroup:${causeOf(err)}`, 'pod cgroup not hinted', { dir: t.dir, error: causeOf(err) });
        return;
      }
      // confirm what the listing showed; threads started after it are new on the next scan
      for (const tid of listed) t.known.add(tid);
      await this.readBack([t]);
      if (t.misplaced.size === 0 && t.seenAt === seenAt) {
        t.seenAt = null;
        this.o.onHinted?.('pod', (this.o.now() - seenAt) / 1000);
      }
      return;
    }
    const fresh = listed.filter((tid) => !t.known.has(tid) && !t.misplaced.has(tid));
    if (fresh.length > 0) {
      const seenAt = this.o.now();
      const ok = await this.write(t, fresh);
      if (ok === fresh.length) this.o.onHinted?.('thread', (this.o.now() - seenAt) / 1000);
    }
  }

  /**
   * A profiled pod's scan: its threads' names are read and each gets its group's value (no
   * whole-cgroup write: the values differ). A pod seen (or re-profiled) is then read back.
   */
  private async scanProfiled(t: Tracked, listed: readonly number[]): Promise<void> {
    const seenAt = t.seenAt;
    const fresh = seenAt !== null ? listed : listed.filter((tid) => !t.known.has(tid) && !t.misplaced.has(tid));
    if (fresh.length === 0) return;
    const readAt = this.o.now();
    const named = this.classify(t, fresh);
    const ok = await this.write(t, named);
    if (seenAt === null) {
      if (ok === fresh.length) this.o.onHinted?.('thread', (this.o.now() - readAt) / 1000);
      return;
    }
    await this.readBack([t]);
    // a thread whose names could not be read is not known yet: the next scan tries it as a new one
    if (t.misplaced.size === 0 && t.seenAt === seenAt) {
      t.seenAt = null;
      this.o.onHinted?.('pod', (this.o.now() - seenAt) / 1000);
    }
  }

  /**
   * Reads the names of a profiled pod's threads and records each one's group and wanted value;
   * returns the TIDs read (a thread that exited is left out). The leader's comm and the title
   * are read once per process.
   */
  private classify(t: Tracked, tids: readonly number[]): number[] {
    const p = t.profiled;
    if (p === null) return [...tids];
    const processes = new Map<number, { pcomm: string | null; title: string | null }>();
    const out: number[] = [];
    for (const tid of tids) {
      try {
        const comm = this.o.proc.comm(tid);
        const tgid = t.threads.get(tid)?.tgid ?? this.o.proc.tgid(tid);
        if (comm === null || tgid === null) {
          t.threads.delete(tid);
          continue;
        }
        let proc = processes.get(tgid);
        if (proc === undefined) {
          proc = { pcomm: tgid === tid ? comm : this.o.proc.comm(tgid), title: p.titles ? this.o.proc.title(tgid) : null };
          processes.set(tgid, proc);
        }
        // a leader gone before its threads: no process name to match, as a zombie's
        const view = { comm, pcomm: proc.pcomm ?? '', title: proc.title };
        const group = groupOfThread(p.profile, view)?.name ?? null;
        const want = threadHint(p.profile, p.placement, t.hint, view) ?? UNHINTED;
        t.threads.set(tid, { tgid, comm, group, want });
        out.push(tid);
      } catch (err) {
        this.logOnce(t.pod, t.logged, `proc:${causeOf(err)}`, 'thread names not read', { tid, error: causeOf(err) });
      }
    }
    return out;
  }

  /**
   * Reads a profiled pod's thread names again (threads rename themselves: Cassandra's pool
   * workers, PostgreSQL's titles) and rewrites every thread whose wanted value changed.
   */
  private async rename(t: Tracked): Promise<void> {
    const tids = [...new Set([...t.known, ...t.misplaced])];
    const before = new Map(tids.map((tid) => [tid, t.threads.get(tid)?.want]));
    const moved = this.classify(t, tids).filter((tid) => t.threads.get(tid)?.want !== before.get(tid));
    if (moved.length === 0) return;
    for (const tid of moved) t.known.delete(tid);
    await this.write(t, moved);
  }

  /** Writes each thread's wanted value for `tids`; returns how many were written. Exited threads are dropped quietly. */
  private async write(t: Tracked, tids: readonly number[]): Promise<number> {
    let written = 0;
    for (const [value, group] of byValue(t, tids)) for (const part of chunks(group)) {
      let results: SetResult[];
      try {
        results = await this.o.writer.setHints(this.o.mapPin, value, part);
      } catch (err) {
        this.logOnce(t.pod, t.logged, `set:${causeOf(err)}`, 'task hints not written', { threads: part.length, error: causeOf(err) });
        for (const tid of part) t.misplaced.add(tid);
        continue;
      }
      for (const r of results) {
        if (r.ok) {
          written++;
          t.known.add(r.tid);
          t.misplaced.delete(r.tid);
        } else if (r.errno === 'ESRCH') {
          // the thread exited between listing and writing
          t.known.delete(r.tid);
          t.misplaced.delete(r.tid);
        } else {
          t.known.delete(r.tid);
          t.misplaced.add(r.tid);
          this.logOnce(t.pod, t.logged, `set:${r.errno}`, 'task hint not written', { tid: r.tid, errno: r.errno, error: r.message });
        }
      }
    }
    if (written > 0) this.o.onWritten?.(t.tier, written);
    return written;
  }

  /** Retries failed writes, then reads back every known thread of every pod; drifted ones are misplaced until rewritten. */
  private async verify(): Promise<void> {
    const settled = [...this.pods.values()].filter((t) => t.seenAt === null);
    for (const t of settled) if (t.profiled !== null) await this.rename(t);
    // once per verify period, not per scan: a thread that keeps failing must not spawn 10 helpers a second
    for (const t of settled) if (t.misplaced.size > 0) await this.write(t, [...t.misplaced]);
    await this.readBack(settled);
  }

  private async readBack(pods: readonly Tracked[]): Promise<void> {
    const owner = new Map<number, Tracked>();
    for (const t of pods) for (const tid of t.known) owner.set(tid, t);
    const drifted = new Map<Tracked, number[]>();
    for (const part of chunks([...owner.keys()])) {
      let results: GetResult[];
      try {
        results = await this.o.writer.getHints(this.o.mapPin, part);
      } catch (err) {
        const first = owner.get(part[0]!)!;
        this.logOnce(first.pod, first.logged, `get:${causeOf(err)}`, 'task hints not read back', { error: causeOf(err) });
        continue;
      }
      for (const r of results) {
        const t = owner.get(r.tid)!;
        if (!r.ok) {
          if (r.errno === 'ESRCH') t.known.delete(r.tid);
          else this.logOnce(t.pod, t.logged, `get:${r.errno}`, 'task hint not read back', { tid: r.tid, errno: r.errno, error: r.message });
          continue;
        }
        if (!holds(wantOf(t, r.tid), r.hint)) {
          t.misplaced.add(r.tid);
          t.known.delete(r.tid);
          drifted.set(t, [...(drifted.get(t) ?? []), r.tid]);
        }
      }
    }
    for (const [t, tids] of drifted) {
      this.logOnce(t.pod, t.logged, 'drift', 'task hints drifted; rewriting', { threads: tids.length, hint: t.profiled === null ? t.hint : null, profile: t.profiled?.profile.name });
      await this.write(t, tids);
    }
  }
}

/** The profiled pods of the plan's profiles, by UID: each one's profile and group placement. */
function profiledByUid(profiles: PlanProfiles): Map<string, Profiled> {
  const chosen = new Map(profiles.selections.map((s) => [s.uid, s.selection.profile?.profile]));
  const out = new Map<string, Profiled>();
  for (const placement of profiles.rendering.pods) {
    const profile = chosen.get(placement.uid);
    if (profile !== undefined) out.set(placement.uid, { profile, placement, titles: profile.groups.some((g) => g.titles.length > 0) });
  }
  return out;
}
