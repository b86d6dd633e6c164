// Guest driver of test/placement-vm.test.ts, run by the guest's Node (bpf/vm.ts `node`): the
// agent's real hint placement (agent/hints.ts's Placer over adapters/hints/, so the real
// /bin/temper-hints) on a 2-CPU node planned by core plan() with `placement = "hints"`, while pod
// cgroups come and go as kubelet makes them. Three phases, one process each:
//
//   config   prints the config plan() renders for the baseline pods (stdout) after checking
//            that every pod set of the schedule renders the same bytes (CONFIG-CHECK on stderr)
//   run      starts the baseline pods, then 60 pods over ~30 s (a new one every 380 ms, each
//            living 7 s; every third gets SIGUSR1, a new thread, 5 s after it started), feeds
//            the Placer the plan's pods after every event and records per thread when its hint
//            read back right and when its live layer was its tier's (PLACEMENT-RUN {json});
//            leaves the baseline pods running and exits: the agent stops
//   restart  a new process: the baseline pods' hints must still read back, a thread born while
//            no placer ran must be hinted by the new Placer, and every thread placed
//            (PLACEMENT-RESTART {json})
//
// Times are ms from the event (container started, or SIGUSR1 sent) to the first sample that saw
// the state: a served `scx-matches tasks -s` asked every POLL_MS for every thread not yet
// placed, each TID's state stamped when it was read (an upper bound of when it became so).
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { getHints, hintCgroup, setHints } from '../adapters/hints/hints.ts';
import { jsonLogger } from '../adapters/log.ts';
import { DEFAULT_TASK_HINT_MAP, Placer, type HintWriter } from '../agent/hints.ts';
import { defaultPolicy, type Policy } from '../core/config.ts';
import { podCgroupPath } from '../core/layers.ts';
import { nodeFromObject, podFromObject } from '../core/objects.ts';
import { plan, type Plan } from '../core/plan.ts';
import type { PodInfo } from '../core/types.ts';
import { containerCgroupName, parseLayerStats } from './guest.ts';
import { BASELINE_KINDS, CHURN_KINDS, podObject, type PodKind } from './placement-pods.ts';

const PIN = DEFAULT_TASK_HINT_MAP;
const CG = '/sys/fs/cgroup';
const STATE = '/tmp/placement-state.json';
const VCPUS = 2;
const CHURN = 60;
const EVERY_MS = 380;
// a thread born at USR1_AFTER_MS has LIFE_MS - USR1_AFTER_MS = 2 s, past the test's 1.5 s ceiling, to be seen placed
const LIFE_MS = 7000;
const USR1_AFTER_MS = 5000;
const POLL_MS = 20;
/** The Placer's loop, as the agent runs it by default. */
const SCAN_MS = 100;
const VERIFY_MS = 1000;

const base = defaultPolicy();
const policy: Policy = { ...base, node: { ...base.node, placement: 'hints' } };
const node = nodeFromObject({ kind: 'Node', metadata: { name: 'vm' }, status: { capacity: { cpu: String(VCPUS) }, allocatable: { cpu: String(VCPUS) } } }, 'placement-driver');

function podOf(name: string, n: number, k: PodKind): PodInfo {
  const obj = podObject(policy, k, { name, namespace: 'churn', nodeName: 'vm', uid: `91ace000-0000-4000-8000-${n.toString(16).padStart(12, '0')}` }, true);
  return podFromObject({ ...obj, status: { phase: 'Running' } }, 'placement-driver');
}

// the baseline pods are also the hinted pods of the agent-restart phase
const baselinePods = BASELINE_KINDS.map((b, i) => ({ kind: b.kind, pod: podOf(b.kind, 1000 + i, b) }));
const churnPods = Array.from({ length: CHURN }, (_, i) => {
  const k = CHURN_KINDS[i % CHURN_KINDS.length]!;
  return { kind: k.kind, pod: podOf(`${k.kind}-${i}`, i + 1, k) };
});

/** The schedule: when each churned pod starts, gets its new thread, stops. */
type Event = { at: number; what: 'start' | 'usr1' | 'stop'; i: number };
const schedule: Event[] = churnPods.flatMap((_, i): Event[] => [
  { at: i * EVERY_MS, what: 'start', i }, { at: i * EVERY_MS + LIFE_MS, what: 'stop', i },
  ...(i % 3 === 0 ? [{ at: i * EVERY_MS + USR1_AFTER_MS, what: 'usr1' as const, i }] : []),
]).sort((a, b) => a.at - b.at || a.i - b.i);

const planOf = (pods: readonly PodInfo[]): Plan => plan(policy, node, pods);

/** Where a pod's threads must be: its hint (null: none written) and its layer's index in the config. */
function wantOf(p: Plan, pod: PodInfo): { hint: number | null; layer: number; layerName: string; tier: string } {
  const placed = p.pods.find((q) => q.pod.uid === pod.uid);
  if (placed === undefined) throw new Error(`plan left out ${pod.name}`);
  const layer = p.config.findIndex((l) => l.name === placed.assignment.layer);
  return { hint: placed.assignment.hint, layer, layerName: placed.assignment.layer, tier: placed.assignment.tier };
}

const out = (line: string): void => { writeSync(1, `${line}\n`); };
/** CLOCK_MONOTONIC ms, the clock scx-matches -s stamps its samples with. */
const now = (): number => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));
const enableSeq = (): number => Number(readFileSync('/sys/kernel/sched_ext/enable_seq', 'utf8'));
const tidsOf = (pid: number): number[] => { try { return readdirSync(`/proc/${pid}/task`).map(Number).sort((a, b) => a - b); } catch { return []; } };

const writer: HintWriter = { setHints, getHints, hintCgroup };
/** The Placer's own measure (onHinted): ms from a pod (or a new thread) seen to its threads hinted and read back. */
const placerMs: Record<'pod' | 'thread', number[]> = { pod: [], thread: [] };
const newPlacer = (): Placer => new Placer({
  mapPin: PIN, cgroupRoot: CG, driver: policy.node.cgroupDriver, writer, log: jsonLogger('placer'), scanMs: SCAN_MS, verifyMs: VERIFY_MS,
  onHinted: (trigger, seconds) => placerMs[trigger].push(Math.round(seconds * 1000)),
});

// ---- pods in the guest ------------------------------------------------------------------------

interface Running {
  readonly name: string;
  readonly kind: string;
  readonly pod: PodInfo;
  readonly dir: string;
  readonly ctr: string;
  readonly pid: number;
  readonly want: ReturnType<typeof wantOf>;
  startedAt: number;
  usr1At: number | null;
  expect: number;
  /** tid -> its record */
  readonly threads: Map<number, ThreadRecord>;
}

interface ThreadRecord {
  readonly tid: number;
  readonly trigger: 'start' | 'thread';
  readonly t0: number;
  hintMs: number | null;
  placedMs: number | null;
}

/** Pod and container cgroups (two mkdirs, as kubelet and containerd make them), then `workload nap -P` moved in while stopped, as runc does. */
async function startPod(pod: PodInfo, kind: string, p: Plan, beforeStart: () => void): Promise<Running> {
  const want = wantOf(p, pod);
  const placed = p.pods.find((q) => q.pod.uid === pod.uid)!;
  const dir = join(CG, podCgroupPath(policy.node.cgroupDriver, placed.assignment.qosClass, pod.uid).replace(/\/$/, ''));
  const ctr = join(dir, containerCgroupName(policy.node.cgroupDriver, pod.uid, 'main'));
  mkdirSync(dir);
  mkdirSync(ctr);
  beforeStart();
  const child = spawn('workload', ['nap', '-P', '-n', '2', '5000'], { stdio: 'ignore' });
  child.unref();
  const pid = child.pid!;
  for (let i = 0; i < 500 && !/^State:\s+T/m.test(readFileSync(`/proc/${pid}/status`, 'utf8')); i++) await sleep(2);
  writeFileSync(join(ctr, 'cgroup.procs'), String(pid));
  process.kill(pid, 'SIGCONT');
  return { name: pod.name, kind, pod, dir, ctr, pid, want, startedAt: now(), usr1At: null, expect: 2, threads: new Map() };
}

async function stopPod(r: Running): Promise<void> {
  process.kill(r.pid, 'SIGKILL');
  for (let i = 0; i < 500 && readFileSync(join(r.ctr, 'cgroup.procs'), 'utf8').trim() !== ''; i++) await sleep(5);
  for (const d of [r.ctr, r.dir]) {
    for (let i = 0; ; i++) {
      try { rmdirSync(d); break; } catch (err) { if (i > 200) throw err; await sleep(5); }
    }
  }
}

// ---- observing ---------------------------------------------------------------------------------

/** A served `scx-matches tasks -s`: one process for the whole phase, asked one batch of TIDs at a time. */
type Sample = Map<number, { at: number; hint: string; live: string }>;
function matcher(): { ask: (tids: readonly number[]) => Promise<Sample>; close: () => void } {
  const child = spawn('scx-matches', ['tasks', '-s', '-m', PIN], { stdio: ['pipe', 'pipe', 'inherit'] });
  let buf = '';
  let waiting: ((m: Sample) => void) | null = null;
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (c: string) => {
    buf += c;
    const end = buf.indexOf('END\n');
    if (end < 0 || waiting === null) return;
    const m: Sample = new Map();
    for (const l of buf.slice(0, end).split('\n')) {
      const f = /^T (\S+) (\d+) hint=(\S+) live=(\S+)/.exec(l); // "gone" TIDs are left out
      if (f) m.set(Number(f[2]), { at: Number(f[1]), hint: f[3]!, live: f[4]! });
    }
    buf = buf.slice(end + 4);
    const w = waiting;
    waiting = null;
    w(m);
  });
  return {
    ask: (tids) => new Promise((resolve) => { waiting = resolve; child.stdin.write(`${tids.join(' ')}\n`); }),
    close: () => { child.stdin.end(); },
  };
}
let served: ReturnType<typeof matcher> | null = null;
const sampler = { ask: (tids: readonly number[]): Promise<Sample> => (served ??= matcher()).ask(tids), close: (): void => served?.close() };
const matches = (tids: readonly number[]): Promise<Sample> => sampler.ask(tids);

const placedRight = (r: Running, s: { hint: string; live: string }): { hint: boolean; placed: boolean } => {
  const hint = s.hint === (r.want.hint === null ? 'none' : String(r.want.hint));
  return { hint, placed: hint && s.live === String(r.want.layer) };
};

/** Samples every unplaced thread of the watched pods until stopped. */
function monitor(watched: Map<string, Running>): { stop: () => Promise<void> } {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const pending: { r: Running; t: ThreadRecord }[] = [];
      for (const r of watched.values()) {
        for (const tid of tidsOf(r.pid)) {
          if (!r.threads.has(tid)) {
            const late = r.usr1At !== null;
            r.threads.set(tid, { tid, trigger: late ? 'thread' : 'start', t0: late ? r.usr1At! : r.startedAt, hintMs: null, placedMs: null });
          }
        }
        for (const t of r.threads.values()) if (t.placedMs === null) pending.push({ r, t });
      }
      if (pending.length > 0) {
        const m = await matches(pending.map((x) => x.t.tid));
        for (const { r, t } of pending) {
          const s = m.get(t.tid);
          if (s === undefined) continue;
          const ok = placedRight(r, s);
          if (ok.hint && t.hintMs === null) t.hintMs = Math.round(s.at - t.t0);
          if (ok.placed) t.placedMs = Math.round(s.at - t.t0);
        }
      }
      await sleep(POLL_MS);
    }
  })();
  return { stop: async () => { stopped = true; await loop; } };
}

/** Tasks per layer by scx_layered's own stats. */
function layerTasks(): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    execFile('scx-stats', ['-n', '2', '-i', '1'], { encoding: 'utf8' }, (err, stdout) => {
      if (err) return reject(err);
      const layers = parseLayerStats(stdout.trim().split('\n').at(-1) ?? '');
      resolve(Object.fromEntries(Object.entries(layers).map(([k, v]) => [k, v.tasks])));
    });
  });
}

/** [pod, tier, layer, trigger, hint ms, placed ms, hinted] per thread; hinted: the Placer writes its pod's threads a hint (else a static QoS match places them). */
const threadRows = (pods: readonly Running[]): unknown[] => pods.flatMap((r) => [...r.threads.values()].map((t) => [r.name, r.want.tier, r.want.layerName, t.trigger, t.hintMs, t.placedMs, r.want.hint !== null]));

/** Every thread of the pods, read once: [pod, tid, hint, live] of the ones not where they must be. */
async function misplaced(pods: readonly Running[]): Promise<unknown[]> {
  const tids = pods.flatMap((r) => tidsOf(r.pid).map((tid) => ({ r, tid })));
  const m = await matches(tids.map((x) => x.tid));
  return tids.filter(({ r, tid }) => { const s = m.get(tid); return s === undefined || !placedRight(r, s).placed; })
    .map(({ r, tid }) => [r.name, tid, m.get(tid)?.hint, m.get(tid)?.live]);
}

// ---- phases ------------------------------------------------------------------------------------

function configPhase(): void {
  const shas = new Set<string>();
  const alive = new Set<number>();
  const baseline = baselinePods.map((b) => b.pod);
  const first = planOf(baseline);
  shas.add(first.configSha256);
  for (const e of schedule) {
    if (e.what === 'start') alive.add(e.i);
    if (e.what === 'stop') alive.delete(e.i);
    shas.add(planOf([...baseline, ...[...alive].map((i) => churnPods[i]!.pod)]).configSha256);
  }
  process.stderr.write(`CONFIG-CHECK ${JSON.stringify({ sets: schedule.length + 1, distinct: shas.size, sha: first.configSha256, layers: first.config.map((l) => l.name) })}\n`);
  process.stdout.write(first.configJson);
}

async function runPhase(): Promise<void> {
  const seqBefore = enableSeq();
  const placer = newPlacer();
  const alive = new Map<string, Running>();
  const all: Running[] = [];
  const shas = new Set<string>();
  const setPods = (extra: PodInfo[] = []): void => {
    const p = planOf([...[...alive.values()].map((r) => r.pod), ...extra]);
    shas.add(p.configSha256);
    placer.setPods(p.pods);
  };
  await matches([]); // the sampler runs before anything is timed
  placer.start();
  const mon = monitor(alive);
  // the agent sees the baseline pods bound to the node (the config scx_layered runs), then their containers start
  const first = planOf(baselinePods.map((b) => b.pod));
  shas.add(first.configSha256);
  placer.setPods(first.pods);
  for (const b of baselinePods) {
    const r = await startPod(b.pod, b.kind, first, () => {});
    alive.set(r.pod.uid, r);
  }
  await sleep(1000);
  const lag: number[] = [];
  const t0 = now();
  const churn = new Map<number, Running>();
  for (const e of schedule) {
    await sleep(t0 + e.at - now());
    lag.push(now() - t0 - e.at);
    const c = churnPods[e.i]!;
    if (e.what === 'start') {
      const r = await startPod(c.pod, c.kind, planOf([...[...alive.values()].map((x) => x.pod), c.pod]), () => setPods([c.pod]));
      alive.set(r.pod.uid, r);
      churn.set(e.i, r);
      all.push(r);
    } else if (e.what === 'usr1') {
      const r = churn.get(e.i)!;
      r.usr1At = now();
      r.expect = 3;
      process.kill(r.pid, 'SIGUSR1');
    } else {
      const r = churn.get(e.i)!;
      alive.delete(r.pod.uid);
      await stopPod(r);
      setPods();
    }
  }
  const churnSeconds = (now() - t0) / 1000;
  await sleep(1500);
  await mon.stop();
  const baseline = [...alive.values()];
  const end = { misplaced: await misplaced(baseline), layerTasks: await layerTasks(), summary: placer.summary() };
  await placer.stop();
  writeFileSync(STATE, JSON.stringify(baseline.map((r) => ({ uid: r.pod.uid, pid: r.pid }))));
  const short = all.filter((r) => r.threads.size < r.expect).map((r) => [r.name, r.threads.size, r.expect]);
  out(`PLACEMENT-RUN ${JSON.stringify({
    seqBefore, seqAfter: enableSeq(), shas: [...shas], churnSeconds, maxLagMs: Math.round(Math.max(...lag)), short,
    threads: threadRows([...baseline, ...all]), end, placerMs,
  })}`);
  sampler.close();
}

async function restartPhase(): Promise<void> {
  const seqBefore = enableSeq();
  const state = JSON.parse(readFileSync(STATE, 'utf8')) as { uid: string; pid: number }[];
  const p = planOf(baselinePods.map((b) => b.pod));
  const pods: Running[] = baselinePods.map((b) => {
    const pid = state.find((s) => s.uid === b.pod.uid)!.pid;
    return { name: b.pod.name, kind: b.kind, pod: b.pod, dir: '', ctr: '', pid, want: wantOf(p, b.pod), startedAt: 0, usr1At: null, expect: 2, threads: new Map() };
  });
  // before any placer runs: the pinned map kept every hint
  const kept = [];
  for (const r of pods) {
    const tids = tidsOf(r.pid);
    const got = await getHints(PIN, tids);
    kept.push(...got.map((g) => [r.name, g.tid, g.ok ? g.hint : g.errno, r.want.hint]));
  }
  // a thread born while no agent runs
  const high = pods.find((r) => r.kind === 'base-high')!;
  const before = tidsOf(high.pid);
  process.kill(high.pid, 'SIGUSR1');
  let born: number[] = [];
  for (let i = 0; i < 500 && born.length === 0; i++) { await sleep(5); born = tidsOf(high.pid).filter((t) => !before.includes(t)); }
  const bornHint = born.length ? (await getHints(PIN, born)).map((g) => (g.ok ? g.hint : g.errno)) : [];
  await matches([]);
  const placer = newPlacer();
  const started = now();
  for (const r of pods) {
    r.usr1At = null;
    r.startedAt = started;
  }
  placer.setPods(p.pods);
  placer.start();
  const watched = new Map(pods.map((r) => [r.pod.uid, r]));
  const mon = monitor(watched);
  for (let i = 0; i < 300 && pods.some((r) => r.threads.size === 0 || [...r.threads.values()].some((t) => t.placedMs === null)); i++) await sleep(10);
  await mon.stop();
  const end = { misplaced: await misplaced(pods), layerTasks: await layerTasks(), summary: placer.summary() };
  await placer.stop();
  out(`PLACEMENT-RESTART ${JSON.stringify({ seqBefore, seqAfter: enableSeq(), kept, born, bornHint, threads: threadRows(pods), end, placerMs })}`);
  sampler.close();
}

const phase = process.argv[2];
if (phase === 'config') configPhase();
else if (phase === 'run') await runPhase();
else if (phase === 'restart') await restartPhase();
else {
  process.stderr.write('usage: node bpf/placement-driver.ts config|run|restart\n');
  process.exit(2);
}
