// Hint placement end to end on a real kernel (issue 11): the pinned scx_layered in the pinned
// sched_ext kernel (bpf/vm.ts, qemu TCG, 2 vCPUs) runs the config core plan() renders with
// `placement = "hints"`, and the agent's own Placer (agent/hints.ts over adapters/hints/ and the
// real /bin/temper-hints) runs in the guest's Node (bpf/placement-driver.ts) while 60 pod
// cgroups are created and removed over ~30 s: priority-0 pods of every QoS class, and High,
// Low, Background and explicit-Normal pods, none crossing a whole-CPU boundary. Asserts: the
// config bytes never change and sched_ext is never re-enabled; every thread, including a
// thread a pod starts 5 s in, reads back its hint and runs in its tier's layer (median within
// 250 ms; every thread within a ceiling set by the emulator, see TCG_CEILING_MS);
// scx_layered's own per-layer task counts agree; an agent restart keeps the hints (pinned map)
// and converges without a scheduler restart. Skips (saying why) only when the VM prerequisites
// are missing and TEMPER_REQUIRE_VM != 1.
import { beforeAll, describe, expect, it } from 'vitest';
import { fieldsOf, linesAfter } from '../bpf/guest.ts';
import { firstLineAfter, latencyStats as stats, percentile as pct, placedMs as placed, runPlacementVm, type PlacementRestart, type PlacementRun, type PlacementVmResult } from '../bpf/placement-vm.ts';
import { vmAvailability, vmRequired } from '../bpf/vm.ts';

const avail = vmAvailability();
const required = vmRequired();
if (!avail.ok && !required) console.warn(`placement-vm.test.ts skipped: ${avail.reason} (TEMPER_REQUIRE_VM=1 makes this a failure)`);

describe.runIf(!avail.ok && required)('sched_ext VM prerequisites (placement)', () => {
  it('are installed (TEMPER_REQUIRE_VM=1)', () => {
    expect.fail(`the kernel suite must run but cannot: ${avail.ok ? '' : avail.reason}`);
  });
});

/** The bound the agent promises: a thread is in its tier's layer this long after it appeared (asserted on the median here). */
const PLACED_WITHIN_MS = 250;
/**
 * What every thread must meet in this guest. Under single-threaded TCG both vCPUs share one host
 * thread and the guest's Node (driver, Placer, its helper spawns) is many times slower than
 * natively: in 2026-12-03 runs, threads of pods the Placer never touches (static QoS matches,
 * placed at their first wake-up) took up to 413 ms to be seen placed, and hinted ones up to
 * 824 ms (medians 49 and 229 ms), so the tail measures the emulator, not the Placer. Multi-threaded
 * TCG is no way out: V8 aborted there ("Check failed: it->second.Size() > offset").
 */
const TCG_CEILING_MS = 1500;

describe.skipIf(!avail.ok)('hint placement with the agent\'s Placer and scx_layered in a sched_ext VM', () => {
  let r: PlacementVmResult;
  let out: string;
  let run: PlacementRun;
  let restart: PlacementRestart;
  const one = (prefix: string): string => firstLineAfter(out, prefix);

  beforeAll(async () => {
    r = await runPlacementVm();
    out = r.output;
    if (r.exitCode !== 0 || r.run === null || r.restart === null) console.error(out.slice(-8000));
    // a missing line (null) fails the first test below by name; the others then fail on it too
    run = r.run!;
    restart = r.restart!;
    console.log(`placement-vm: wall ${(r.wallMs / 1000).toFixed(1)} s, boot ${r.bootMs} ms guest / ${r.bootWallMs} ms host, node config phase ${fieldsOf(one('NODE-START')).took} s, retried: ${r.retries.join('; ') || 'no'}, longest host stall ${r.hostStallMs} ms`);
    console.log(`placement-vm: ${linesAfter(out, 'CONFIG-CHECK')[0] ?? 'no CONFIG-CHECK'}`);
    if (run) {
      console.log(`placement-vm: churn ${run.churnSeconds.toFixed(1)} s (schedule lag ≤${run.maxLagMs} ms); pod start → placed: ${stats(placed(run.threads, 'start'))}; SIGUSR1 → new thread placed: ${stats(placed(run.threads, 'thread'))}`);
      const hinted = run.threads.filter((t) => t[3] === 'start' && t[4] !== null).map((t) => t[4]!);
      console.log(`placement-vm: pod start → hint read back: ${stats(hinted)}; layer tasks at the end ${JSON.stringify(run.end.layerTasks)}`);
      console.log(`placement-vm: the Placer's own onHinted: pod seen → hinted and read back ${stats(run.placerMs.pod)}; new thread seen → hinted ${stats(run.placerMs.thread)}`);
    }
    if (restart) console.log(`placement-vm: agent restart → all placed ${stats(placed(restart.threads, 'start'))}; thread born with no agent ${restart.born.join(',')} hint then ${restart.bornHint.join(',')}`);
  }, 1_250_000); // up to three boots (runInVmRetrying)

  it('boots, enables scx_layered with the rendered config and runs every phase', () => {
    expect(r.timedOut).toBe(false);
    expect(r.exitCode, out.slice(-3000)).toBe(0);
    expect(linesAfter(out, 'PHASE-FAIL'), out.slice(-3000)).toEqual([]);
    expect(fieldsOf(one('ENABLED main')).state).toBe('enabled');
    expect(run, 'PLACEMENT-RUN line').not.toBeNull();
    expect(restart, 'PLACEMENT-RESTART line').not.toBeNull();
    expect(one('SCX-ALIVE')).toBe('yes');
  });

  it('every pod set of the schedule renders the same config bytes, and the run saw one sha', () => {
    const check = JSON.parse(linesAfter(out, 'CONFIG-CHECK')[0] ?? '{}') as { sets?: number; distinct?: number; sha?: string };
    expect(check.sets).toBeGreaterThan(120);
    expect(check.distinct).toBe(1);
    expect(run.shas).toEqual([check.sha]);
  });

  it('never restarts the scheduler: enable_seq is the same from start to end (churn and agent restart)', () => {
    const seq = linesAfter(out, 'SEQ').map((l) => l.split(' ')[1]);
    expect(seq).toHaveLength(3);
    expect(new Set(seq).size, `enable_seq per phase: ${linesAfter(out, 'SEQ').join(', ')}`).toBe(1);
    expect([run.seqBefore, run.seqAfter, restart.seqBefore, restart.seqAfter].map(String)).toEqual([seq[0], seq[0], seq[0], seq[0]]);
  });

  it(`every thread of the 60 pods (and the baseline) reads back its hint and is in its tier's layer (median ≤${PLACED_WITHIN_MS} ms, all ≤${TCG_CEILING_MS} ms from its container starting)`, () => {
    const rows = run.threads.filter((t) => t[3] === 'start');
    expect(rows.length).toBeGreaterThanOrEqual((60 + 4) * 2);
    expect(run.short, 'pods whose threads were never all seen').toEqual([]);
    const late = rows.filter((t) => t[4] === null || t[5] === null || t[5] > TCG_CEILING_MS);
    expect(late, 'threads [pod, tier, layer, trigger, hint ms, placed ms] not placed in time').toEqual([]);
    expect(pct(rows.map((t) => t[5]!), 0.5), 'median ms from container start to placed').toBeLessThanOrEqual(PLACED_WITHIN_MS);
    expect(new Set(rows.map((t) => t[2])), 'layers the pods landed in').toEqual(new Set(['high', 'shared']));
  });

  it(`every thread a pod starts 5 s in is hinted and in its layer (median ≤${PLACED_WITHIN_MS} ms, all ≤${TCG_CEILING_MS} ms from the SIGUSR1)`, () => {
    const rows = run.threads.filter((t) => t[3] === 'thread');
    expect(rows).toHaveLength(20);
    const late = rows.filter((t) => t[4] === null || t[5] === null || t[5] > TCG_CEILING_MS);
    expect(late, 'new threads [pod, tier, layer, trigger, hint ms, placed ms] not placed in time').toEqual([]);
    expect(pct(rows.map((t) => t[5]!), 0.5), 'median ms from SIGUSR1 to the new thread placed').toBeLessThanOrEqual(PLACED_WITHIN_MS);
  });

  it('at the end nothing is misplaced, and scx_layered\'s own task counts hold the baseline\'s threads', () => {
    expect(run.end.misplaced).toEqual([]);
    expect(run.end.summary.misplacedThreads).toEqual({});
    expect(run.end.summary.hintedPods, 'hinted baseline pods (High, Low, Background Burstable)').toBe(3);
    // base-high's 2 threads are the only tasks of the high layer; shared holds the other three pods' 6
    expect(run.end.layerTasks.high).toBe(2);
    expect(run.end.layerTasks.shared).toBeGreaterThanOrEqual(6);
  });

  it('an agent restart keeps every hint (pinned map), hints a thread born in between and places everything without a scheduler restart', () => {
    expect(restart.kept.length).toBe(8);
    expect(restart.kept.filter(([, , got, want]) => got !== want), 'hints read back before the new Placer ran [pod, tid, got, want]').toEqual([]);
    expect(restart.born).toHaveLength(1);
    expect(restart.bornHint, 'a thread born while no agent ran starts unhinted').toEqual([null]);
    const rows = restart.threads;
    expect(rows.length).toBe(9);
    expect(rows.filter((t) => t[5] === null || t[5] > TCG_CEILING_MS), 'threads not placed within the bound after the new Placer started').toEqual([]);
    expect(restart.end.misplaced).toEqual([]);
    expect(restart.end.layerTasks.high).toBe(3);
  });
});
