// The task-hint placer on a fake cgroup tree (directories with cgroup.threads files) and a fake
// of the adapter's functions that keeps a TID → hint map like scx_layered's.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CgroupHintSummary, GetResult, SetResult } from '../adapters/hints/hints.ts';
import type { Logger } from '../adapters/log.ts';
import type { ProcReader } from '../adapters/proc.ts';
import { parsePolicy } from '../core/config.ts';
import { podCgroupPath } from '../core/layers.ts';
import type { Plan, PlacedPod } from '../core/plan.ts';
import { plan } from '../core/plan.ts';
import { TASK_HINTS } from '../core/hints.ts';
import { parseProfileFiles } from '../core/profiles.ts';
import { PROFILE_HINTS } from '../core/profiles-render.ts';
import type { QosClass, TierName } from '../core/types.ts';
import { node, pod as podInfo, uidOf } from '../test/builders.ts';
import type { HintWriter, PlacerOptions } from './hints.ts';
import { Placer, cgroupThreads, readProfileThreads } from './hints.ts';

const PIN = '/sys/fs/bpf/temper/hints';
let root: string;

beforeEach(() => { root = mkdtempSync(join(tmpdir(), 'temper-hints-')); });
afterEach(() => { rmSync(root, { recursive: true, force: true }); });

/** scx_layered's map plus the calls made; `alive` TIDs answer, others are ESRCH; `refuse` answers EPERM. */
class FakeWriter implements HintWriter {
  readonly map = new Map<number, number>();
  readonly calls: string[] = [];
  readonly alive = new Set<number>();
  readonly refuse = new Set<number>();

  setHints(_pin: string, hint: number, tids: readonly number[]): Promise<SetResult[]> {
    this.calls.push(`set ${hint} ${tids.join(',')}`);
    return Promise.resolve(tids.map((tid): SetResult => {
      if (!this.alive.has(tid)) return { tid, ok: false, errno: 'ESRCH', message: 'pidfd_open: No such process' };
      if (this.refuse.has(tid)) return { tid, ok: false, errno: 'EPERM', message: 'bpf: Operation not permitted' };
      this.map.set(tid, hint);
      return { tid, ok: true };
    }));
  }

  getHints(_pin: string, tids: readonly number[]): Promise<GetResult[]> {
    this.calls.push(`get ${tids.join(',')}`);
    return Promise.resolve(tids.map((tid): GetResult => (this.alive.has(tid)
      ? { tid, ok: true, hint: this.map.get(tid) ?? null }
      : { tid, ok: false, errno: 'ESRCH', message: 'pidfd_open: No such process' })));
  }

  hintCgroup(_pin: string, hint: number, dir: string): Promise<CgroupHintSummary> {
    this.calls.push(`cgroup ${hint} ${dir}`);
    let hinted = 0;
    for (const tid of cgroupThreads(dir)) {
      if (!this.alive.has(tid) || this.refuse.has(tid)) continue;
      this.map.set(tid, hint);
      hinted++;
    }
    return Promise.resolve({ hinted, vanished: 0, failed: 0, failures: [] });
  }
}

interface Logged { level: string; msg: string; fields: Record<string, unknown> | undefined }
function recordingLogger(): Logger & { lines: Logged[] } {
  const lines: Logged[] = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>): void => { lines.push({ level, msg, fields }); };
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

function pod(name: string, uid: string, tier: TierName, qosClass: QosClass, hint: number | null): PlacedPod {
  return {
    pod: { namespace: 'shop', name, uid } as PlacedPod['pod'],
    assignment: { tier, layer: tier, priority: 0, qosClass, rule: 'priority-threshold', reason: '', hint, placedBy: hint === null ? 'qos-fallback' : 'task-hint' },
    requestMillis: 0, limitMillis: null,
  };
}

/** Writes the pod's cgroup tree: `containers` maps a container cgroup name to its TIDs. */
function threads(p: PlacedPod, containers: Record<string, number[]>, w: FakeWriter): void {
  const dir = join(root, podCgroupPath('systemd', p.assignment.qosClass, p.pod.uid));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cgroup.threads'), '');
  for (const [c, tids] of Object.entries(containers)) {
    mkdirSync(join(dir, c), { recursive: true });
    writeFileSync(join(dir, c, 'cgroup.threads'), tids.map((t) => `${t}\n`).join(''));
    for (const t of tids) w.alive.add(t);
  }
}

function placer(w: FakeWriter, extra: Partial<PlacerOptions> = {}): { p: Placer; log: ReturnType<typeof recordingLogger>; hinted: [string, number][]; clock: { t: number } } {
  const log = recordingLogger();
  const hinted: [string, number][] = [];
  const clock = { t: 0 };
  const p = new Placer({
    mapPin: PIN, cgroupRoot: root, driver: 'systemd', writer: w, log, mapReady: () => true, now: () => clock.t,
    onHinted: (trigger, s) => hinted.push([trigger, s]), ...extra,
  });
  return { p, log, hinted, clock };
}

const high = (uid = 'aaaa-1') => pod('api', uid, 'high', 'Burstable', TASK_HINTS.high);

describe('Placer', () => {
  it('hints every thread of a hinted pod, in every container cgroup, with its pod\'s value', async () => {
    const w = new FakeWriter();
    const a = high();
    const c = pod('db', 'cccc-3', 'critical', 'Guaranteed', TASK_HINTS.critical);
    threads(a, { c1: [101, 102], 'c2/sub': [103] }, w);
    threads(c, { c1: [301] }, w);
    const { p, hinted, clock } = placer(w);
    p.setPods([a, c]);
    clock.t = 40;
    await p.step();
    expect(Object.fromEntries(w.map)).toEqual({ 101: 3, 102: 3, 103: 3, 301: 2 });
    expect(w.calls.filter((c) => c.startsWith('cgroup'))).toEqual([
      `cgroup 3 ${join(root, 'kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podaaaa_1.slice/')}`,
      `cgroup 2 ${join(root, 'kubepods.slice/kubepods-podcccc_3.slice/')}`,
    ]);
    expect(hinted).toEqual([['pod', 0.04], ['pod', 0.04]]);
    expect(p.summary()).toEqual({ mode: 'hints', hintedPods: 2, hintedThreads: 4, misplacedThreads: {} });
  });

  it('hints new threads on the next loop, and only them; exited threads are dropped quietly', async () => {
    const w = new FakeWriter();
    const a = high();
    threads(a, { c1: [101] }, w);
    const { p, log, hinted } = placer(w);
    p.setPods([a]);
    await p.step();
    w.calls.length = 0;
    threads(a, { c1: [101, 104, 105] }, w);
    w.alive.delete(105); // exits between the listing and the write
    await p.step();
    expect(w.calls).toEqual(['set 3 104,105']);
    expect(w.map.get(104)).toBe(3);
    expect(p.summary()).toMatchObject({ hintedThreads: 2, misplacedThreads: {} });
    expect(hinted.at(-1)?.[0]).toBe('pod'); // 105's ESRCH: not every new thread was written
    threads(a, { c1: [101, 104] }, w); // and it is gone from the cgroup
    await p.step();
    expect(w.calls).toEqual(['set 3 104,105']); // steady: listing only, no helper call
    expect(log.lines).toEqual([]);
  });

  it('reads back every hinted thread each verify period: drifted ones are rewritten, misplaced until fixed', async () => {
    const w = new FakeWriter();
    const a = high();
    threads(a, { c1: [101, 102] }, w);
    const { p, log, clock } = placer(w, { verifyMs: 1000 });
    p.setPods([a]);
    await p.step();
    w.map.set(102, 6); // someone else wrote it (or a fresh map after a scheduler restart lost it)
    w.map.delete(101);
    w.refuse.add(102);
    clock.t = 500;
    await p.step();
    expect(p.misplacedByTier().high).toBe(0); // not yet read back
    clock.t = 1000;
    await p.step();
    expect(w.map.get(101)).toBe(3);
    expect(p.misplacedByTier().high).toBe(1);
    expect(p.summary().misplacedThreads).toEqual({ high: 1 });
    clock.t = 2000;
    await p.step(); // retried each verify period
    expect(p.summary().misplacedThreads).toEqual({ high: 1 });
    w.refuse.delete(102);
    clock.t = 2500;
    await p.step();
    expect(p.summary().misplacedThreads).toEqual({ high: 1 }); // not before the next period
    clock.t = 3000;
    await p.step();
    expect(w.map.get(102)).toBe(3);
    expect(p.summary()).toMatchObject({ hintedThreads: 2, misplacedThreads: {} });
    const warnings = log.lines.filter((l) => l.level === 'warn');
    // each cause once, the pod named
    expect(warnings.map((l) => [l.msg, l.fields?.pod])).toEqual([['task hints drifted; rewriting', 'shop/api'], ['task hint not written', 'shop/api']]);
    expect(warnings[1]?.fields).toMatchObject({ tid: 102, errno: 'EPERM' });
  });

  it('a pod whose tier changes gets the new value on every thread', async () => {
    const w = new FakeWriter();
    const a = high();
    threads(a, { c1: [101, 102] }, w);
    const { p } = placer(w);
    p.setPods([a]);
    await p.step();
    p.setPods([pod('api', 'aaaa-1', 'critical', 'Burstable', TASK_HINTS.critical)]);
    await p.step();
    expect(Object.fromEntries(w.map)).toEqual({ 101: 2, 102: 2 });
  });

  it('a pod whose tier becomes its QoS default is written 0 (no layer maps it) once and forgotten', async () => {
    const w = new FakeWriter();
    const a = high();
    threads(a, { c1: [101] }, w);
    const { p } = placer(w);
    p.setPods([a]);
    await p.step();
    p.setPods([pod('api', 'aaaa-1', 'normal', 'Burstable', null)]);
    await p.step();
    await p.step();
    expect(w.map.get(101)).toBe(0);
    expect(w.calls.filter((c) => c.startsWith('cgroup 0'))).toHaveLength(1);
    expect(p.summary().hintedPods).toBe(0);
  });

  it('a departed pod is forgotten: no more listing, writing or reading back', async () => {
    const w = new FakeWriter();
    const a = high();
    threads(a, { c1: [101] }, w);
    const { p, clock } = placer(w);
    p.setPods([a]);
    await p.step();
    p.setPods([]);
    w.calls.length = 0;
    threads(a, { c1: [101, 107] }, w);
    clock.t = 5000;
    await p.step();
    expect(w.calls).toEqual([]);
    expect(p.summary()).toEqual({ mode: 'hints', hintedPods: 0, hintedThreads: 0, misplacedThreads: {} });
  });

  it('never touches pods without a hint (QoS fallback or cgroup placement)', async () => {
    const w = new FakeWriter();
    const fallback = pod('web', 'bbbb-2', 'normal', 'Burstable', null);
    const cgroup: PlacedPod = { ...pod('old', 'dddd-4', 'high', 'Burstable', null), assignment: { ...pod('old', 'dddd-4', 'high', 'Burstable', null).assignment, placedBy: 'pod-cgroup' } };
    threads(fallback, { c1: [201] }, w);
    threads(cgroup, { c1: [401] }, w);
    const { p } = placer(w);
    p.setPods([fallback, cgroup]);
    await p.step();
    expect(w.calls).toEqual([]);
    expect(w.map.size).toBe(0);
  });

  it('waits for a pod\'s cgroup and for the map; a failing helper is logged once and never thrown', async () => {
    const w = new FakeWriter();
    const a = high();
    let ready = false;
    const { p, log } = placer(w, { mapReady: () => ready });
    p.setPods([a]);
    await p.step(); // no map yet
    ready = true;
    await p.step(); // no cgroup yet
    expect(w.calls).toEqual([]);
    threads(a, { c1: [101] }, w);
    w.hintCgroup = () => Promise.reject(new Error('temper-hints set-cgroup: exit status 2: cannot open map'));
    await p.step();
    await p.step();
    expect(log.lines.filter((l) => l.level === 'warn').map((l) => [l.msg, l.fields?.pod])).toEqual([['pod cgroup not hinted', 'shop/api']]);
    expect(p.summary().hintedThreads).toBe(0);
  });

  it('the loop runs on its own every scanMs and stops cleanly', async () => {
    const w = new FakeWriter();
    const a = high();
    threads(a, { c1: [101] }, w);
    const p = new Placer({ mapPin: PIN, cgroupRoot: root, driver: 'systemd', writer: w, log: recordingLogger(), mapReady: () => true, scanMs: 10 });
    p.setPods([a]);
    p.start();
    await new Promise((r) => setTimeout(r, 100));
    threads(a, { c1: [101, 108] }, w);
    await new Promise((r) => setTimeout(r, 100));
    await p.stop();
    expect(w.map.get(108)).toBe(3);
  });
});

/** /proc as the placer reads it: each TID's comm and process, each process's title; reads counted. */
class FakeProc implements ProcReader {
  readonly threads = new Map<number, { comm: string; tgid: number }>();
  readonly titles = new Map<number, string>();
  titleReads = 0;

  /** Threads of one process: the first TID is its leader. */
  process(title: string, threads: [number, string][]): void {
    const tgid = threads[0]![0];
    for (const [tid, comm] of threads) this.threads.set(tid, { comm, tgid });
    this.titles.set(tgid, title);
  }

  comm(tid: number): string | null { return this.threads.get(tid)?.comm ?? null; }
  tgid(tid: number): number | null { return this.threads.get(tid)?.tgid ?? null; }
  title(tgid: number): string | null {
    this.titleReads++;
    return this.titles.get(tgid) ?? null;
  }
}

// A profile with every kind of group: latency, exclusive (Critical's only), yield by name and by title.
const APP_PROFILE = `
[[profile]]
name = "app"
images = ["example/app"]
  [[profile.group]]
  name = "hot"
  treatment = "latency"
  threads = ["hot"]
  [[profile.group]]
  name = "spin"
  treatment = "exclusive"
  threads = ["spin"]
  [[profile.group]]
  name = "chores"
  treatment = "yield"
  threads = ["chore"]
`;
const TITLE_GROUP = `
  [[profile.group]]
  name = "ckpt"
  treatment = "yield"
  titles = ["checkpointer"]
`;
const hintsPolicy = parsePolicy('[node]\nplacement = "hints"\n', 'config.toml');

/** A 16-CPU node's plan with the app profile: db Critical (4 CPUs), api High, web Normal (Burstable, no hint). */
function profiledPlan(titles = false, names: readonly string[] = ['db', 'api', 'web']): Plan {
  const catalog = parseProfileFiles([{ name: 'app.toml', text: APP_PROFILE + (titles ? TITLE_GROUP : '') }]);
  const burstable = [{ name: 'app', image: 'example/app:1', resources: { requests: { cpu: '2' } } }];
  const all = [
    podInfo({ name: 'db', namespace: 'shop', uid: uidOf(1), className: 'infera-critical', priority: 1_000_000, qos: 'Guaranteed', containers: [{ name: 'app', image: 'example/app:1', resources: { requests: { cpu: '4', memory: '1Gi' }, limits: { cpu: '4', memory: '1Gi' } } }] }),
    podInfo({ name: 'api', namespace: 'shop', uid: uidOf(2), className: 'infera-high', priority: 100_000, qos: 'Burstable', containers: burstable }),
    podInfo({ name: 'web', namespace: 'shop', uid: uidOf(3), qos: 'Burstable', containers: burstable }),
  ];
  return plan(hintsPolicy, node('node-1', '16'), all.filter((p) => names.includes(p.name)), [], catalog);
}

const placedOf = (p: Plan, name: string): PlacedPod => p.pods.find((x) => x.pod.name === name)!;

describe('Placer, profiled pods', () => {
  it('gives each thread its group\'s value and the others the pod\'s, written grouped by value', async () => {
    const w = new FakeWriter();
    const proc = new FakeProc();
    const p = profiledPlan(false, ['db']);
    const db = placedOf(p, 'db');
    expect(db.assignment.hint).toBe(TASK_HINTS.critical);
    threads(db, { c1: [101, 102, 103, 104, 105] }, w);
    proc.process('app --serve', [[101, 'app'], [102, 'hot-1'], [103, 'spin-0'], [104, 'chore'], [105, 'hot-2']]);
    const { p: placer1, hinted } = placer(w, { proc });
    placer1.setPods(p.pods, p.profiles);
    expect(placer1.profileThreads(db.pod.uid)).toBeNull(); // not read yet
    await placer1.step();
    expect(Object.fromEntries(w.map)).toEqual({
      101: TASK_HINTS.critical, 102: PROFILE_HINTS['critical-latency'], 103: PROFILE_HINTS['critical-exclusive'], 104: TASK_HINTS.background, 105: PROFILE_HINTS['critical-latency'],
    });
    // no whole-cgroup write: one helper call per value, ascending
    expect(w.calls.filter((c) => c.startsWith('set') || c.startsWith('cgroup'))).toEqual(['set 2 101', 'set 6 104', 'set 8 103', 'set 9 102,105']);
    expect(proc.titleReads).toBe(0); // no title group: cmdline is never read
    expect(hinted.map(([trigger]) => trigger)).toEqual(['pod']);
    expect(placer1.summary()).toEqual({ mode: 'hints', hintedPods: 1, hintedThreads: 5, misplacedThreads: {} });
    expect(Object.fromEntries([...placer1.profileThreads(db.pod.uid)!].map(([g, ts]) => [g, ts.map((t) => `${t.tid} ${t.comm}`)]))).toEqual({
      hot: ['102 hot-1', '105 hot-2'], spin: ['103 spin-0'], chores: ['104 chore'],
    });
  });

  it('a renamed thread moves to its new group\'s value on the next verify round; new threads get theirs at once', async () => {
    const w = new FakeWriter();
    const proc = new FakeProc();
    const p = profiledPlan(false, ['db']);
    const db = placedOf(p, 'db');
    threads(db, { c1: [101, 102] }, w);
    proc.process('app', [[101, 'app'], [102, 'worker']]);
    const { p: pl, clock } = placer(w, { proc, verifyMs: 1000 });
    pl.setPods(p.pods, p.profiles);
    await pl.step();
    expect(w.map.get(102)).toBe(TASK_HINTS.critical);
    proc.threads.set(102, { comm: 'hot-pool', tgid: 101 }); // a pool worker takes its stage's name
    threads(db, { c1: [101, 102, 103] }, w);
    proc.threads.set(103, { comm: 'chore-gc', tgid: 101 });
    clock.t = 500;
    await pl.step();
    expect(w.map.get(103)).toBe(TASK_HINTS.background); // new: at once
    expect(w.map.get(102)).toBe(TASK_HINTS.critical); // renamed: not before the verify round
    w.calls.length = 0;
    clock.t = 1000;
    await pl.step();
    expect(w.map.get(102)).toBe(PROFILE_HINTS['critical-latency']);
    expect(w.calls.filter((c) => c.startsWith('set'))).toEqual(['set 9 102']); // only the renamed one is rewritten
    expect(pl.summary().misplacedThreads).toEqual({});
    expect(pl.profileThreads(db.pod.uid)?.get('hot')).toEqual([{ tid: 102, comm: 'hot-pool' }]);
  });

  it('a pod without a hint of its own is followed for its groups: the group\'s value there, 0 on the others', async () => {
    const w = new FakeWriter();
    const proc = new FakeProc();
    const p = profiledPlan(false, ['web']);
    const web = placedOf(p, 'web');
    expect(web.assignment.hint).toBeNull(); // Normal is Burstable's default: the static match places it
    threads(web, { c1: [301, 302, 303] }, w);
    proc.process('app', [[301, 'app'], [302, 'hot'], [303, 'spin']]);
    const { p: pl } = placer(w, { proc });
    pl.setPods(p.pods, p.profiles);
    await pl.step();
    // spin is exclusive, which Normal cannot give: degraded, so the pod's own (none: 0)
    expect(Object.fromEntries(w.map)).toEqual({ 301: 0, 302: PROFILE_HINTS['normal-latency'], 303: 0 });
    expect(pl.summary()).toMatchObject({ hintedPods: 1, hintedThreads: 3, misplacedThreads: {} });
    // and once its profile goes (a new set of files), its threads are handed back to the static match
    pl.setPods(p.pods);
    await pl.step();
    expect(w.calls.at(-1)).toBe(`cgroup 0 ${join(root, podCgroupPath('systemd', 'Burstable', web.pod.uid))}`);
    expect(pl.summary().hintedPods).toBe(0);
  });

  it('a degraded group\'s threads get their pod\'s hint; read-back counts misplaced against each thread\'s own value', async () => {
    const w = new FakeWriter();
    const proc = new FakeProc();
    const p = profiledPlan(false, ['api']);
    const api = placedOf(p, 'api');
    expect(p.profiles.rendering.pods[0]?.groups.find((g) => g.group === 'spin')).toMatchObject({ status: 'degraded', code: 'treatment-unavailable', hint: null });
    threads(api, { c1: [201, 202, 203] }, w);
    proc.process('app', [[201, 'spin'], [202, 'hot'], [203, 'other']]);
    const { p: pl, clock } = placer(w, { proc, verifyMs: 1000 });
    pl.setPods(p.pods, p.profiles);
    await pl.step();
    expect(Object.fromEntries(w.map)).toEqual({ 201: TASK_HINTS.high, 202: PROFILE_HINTS['high-latency'], 203: TASK_HINTS.high });
    w.map.set(202, TASK_HINTS.high); // the pod's value, but not this thread's
    w.refuse.add(202);
    clock.t = 1000;
    await pl.step();
    expect(pl.summary().misplacedThreads).toEqual({ high: 1 });
    w.refuse.delete(202);
    clock.t = 2000;
    await pl.step();
    expect(w.map.get(202)).toBe(PROFILE_HINTS['high-latency']);
    expect(pl.summary().misplacedThreads).toEqual({});
  });

  it('reads process titles only for a profile with a title group, once per process', async () => {
    const w = new FakeWriter();
    const proc = new FakeProc();
    const p = profiledPlan(true, ['db']);
    const db = placedOf(p, 'db');
    threads(db, { c1: [101, 102, 103], c2: [201] }, w);
    proc.process('postgres: checkpointer', [[101, 'postgres'], [102, 'postgres'], [103, 'hot']]);
    proc.process('postgres: walwriter', [[201, 'postgres']]);
    const { p: pl, clock } = placer(w, { proc, verifyMs: 1000 });
    pl.setPods(p.pods, p.profiles);
    await pl.step();
    expect(Object.fromEntries(w.map)).toEqual({ 101: TASK_HINTS.background, 102: TASK_HINTS.background, 103: PROFILE_HINTS['critical-latency'], 201: TASK_HINTS.critical });
    expect(proc.titleReads).toBe(4); // the scan's and the first verify round's: once per process each
    proc.titles.set(201, 'postgres: checkpointer'); // a title rewritten: re-read every verify round
    clock.t = 1000;
    await pl.step();
    expect(w.map.get(201)).toBe(TASK_HINTS.background);
  });

  it('a thread whose names cannot be read yet is tried again as a new one; a gone leader matches no process', async () => {
    const w = new FakeWriter();
    const proc = new FakeProc();
    const p = profiledPlan(false, ['db']);
    const db = placedOf(p, 'db');
    threads(db, { c1: [101, 102] }, w);
    proc.process('app', [[101, 'app']]);
    const { p: pl } = placer(w, { proc });
    pl.setPods(p.pods, p.profiles);
    await pl.step();
    expect(w.map.has(102)).toBe(false);
    proc.threads.set(102, { comm: 'hot', tgid: 101 });
    await pl.step();
    expect(w.map.get(102)).toBe(PROFILE_HINTS['critical-latency']);
    expect(pl.summary().hintedThreads).toBe(2);
  });
});

describe('readProfileThreads (cgroup placement: read once, no placer)', () => {
  it('lists a profiled pod\'s threads by group from its cgroup tree; null when none is listed', () => {
    const w = new FakeWriter();
    const proc = new FakeProc();
    const p = profiledPlan(true, ['db']);
    const db = placedOf(p, 'db');
    const dir = join(root, podCgroupPath('systemd', 'Guaranteed', db.pod.uid));
    const profile = p.profiles.selections[0]!.selection.profile!.profile;
    expect(readProfileThreads(profile, dir, proc)).toBeNull(); // no cgroup yet
    threads(db, { c1: [105, 101, 102], c2: [201] }, w);
    proc.process('app', [[101, 'app'], [102, 'hot-1'], [105, 'spin']]);
    proc.process('postgres: checkpointer', [[201, 'postgres']]);
    expect(Object.fromEntries(readProfileThreads(profile, dir, proc)!)).toEqual({
      hot: [{ tid: 102, comm: 'hot-1' }], spin: [{ tid: 105, comm: 'spin' }], chores: [], ckpt: [{ tid: 201, comm: 'postgres' }],
    });
  });
});
