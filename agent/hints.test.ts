// The task-hint placer on a fake cgroup tree (directories with cgroup.threads files) and a fake
// of the adapter's functions that keeps a TID → hint map like scx_layered's.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CgroupHintSummary, GetResult, SetResult } from '../adapters/hints/hints.ts';
import type { Logger } from '../adapters/log.ts';
import { podCgroupPath } from '../core/layers.ts';
import type { PlacedPod } from '../core/plan.ts';
import { TASK_HINTS } from '../core/hints.ts';
import type { QosClass, TierName } from '../core/types.ts';
import type { HintWriter, PlacerOptions } from './hints.ts';
import { Placer, cgroupThreads } from './hints.ts';

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
