// Workload profiles on a real kernel (issue 12): the pinned scx_layered in the pinned sched_ext
// kernel (bpf/vm.ts, qemu TCG, 4 vCPUs: the smallest node on which every group of the test
// profile is applied, see bpf/profile-node.ts) runs the config plan() renders for a Critical pod
// annotated with the test profile `vm-app` and a second Critical pod without one. Both pods run
// `workload threads` (bpf/workload.c): two hot loops, an I/O-chain pair and a housekeeping
// thread, each named. Each thread of the profiled pod must be seen in its group's layer
// (critical-exclusive, critical-latency, background or yield) and every thread of the other pod
// in its tier's, by scx_layered's live per-task layer (bpf/scx-matches.c `tasks`), while sched_ext
// stays enabled without a restart.
//
// One boot, two placements:
//   hints   scx_layered --task-hint-map; first only the pod's hint on every thread (what an agent
//           without profiles writes): the check must FAIL for the profiled pod's grouped threads
//           (the control: it can fail); then each thread's hint from threadHint: it must pass;
//   cgroup  the `placement = "cgroup"` config (CgroupPrefix + CommPrefix blocks), no hints, the
//           same processes (stopped during the scheduler's start, continued once enabled).
// Skips (saying why) only when the VM prerequisites are missing and TEMPER_REQUIRE_VM != 1.
import { beforeAll, describe, expect, it } from 'vitest';
import { GUEST_LIB, fieldsOf, linesAfter, parseLayerStats } from '../bpf/guest.ts';
import { expectedLayer, hintFunction, profileNode, threadNames, type NodePod, type ProfileNode } from '../bpf/profile-node.ts';
import { runInVmRetrying, vmAvailability, vmRequired, type RunInVmResult } from '../bpf/vm.ts';

const avail = vmAvailability();
const required = vmRequired();
if (!avail.ok && !required) console.warn(`profiles-vm.test.ts skipped: ${avail.reason} (TEMPER_REQUIRE_VM=1 makes this a failure)`);

describe.runIf(!avail.ok && required)('sched_ext VM prerequisites (profiles)', () => {
  it('are installed (TEMPER_REQUIRE_VM=1)', () => {
    expect.fail(`the kernel suite must run but cannot: ${avail.ok ? '' : avail.reason}`);
  });
});

const VCPUS = 4;
const HOT = 2;
const HOUSEKEEP = 1;
/** Samples of every thread's live layer per phase, this far apart: a thread must be in its layer in all of them. */
const SAMPLES = 3;
const SAMPLE_GAP_S = 1;
/** After the hints are written (or the processes continued) and before the first sample. */
const SETTLE_S = 1.5;
const PIN = '/sys/fs/bpf/temper/hints';
const COMMS = threadNames(HOT, HOUSEKEEP);

const nodes = {
  hints: profileNode({ vcpus: VCPUS, placement: 'hints', profiled: true }),
  cgroup: profileNode({ vcpus: VCPUS, placement: 'cgroup', profiled: true }),
};
type Placement = keyof typeof nodes;
/** Phases whose samples are checked: [name, node, whether every thread must be in its expected layer]. */
const PHASES = [['hints-pod', 'hints'], ['hints-threads', 'hints'], ['cgroup', 'cgroup']] as const;
type Phase = (typeof PHASES)[number][0];

// ---- the guest script ------------------------------------------------------------------------

const h = nodes.hints;
const sample = (phase: Phase): string => Array.from({ length: SAMPLES }, (_, i) => `${i === 0 ? '' : `sleep ${SAMPLE_GAP_S}\n`}scx-matches tasks -m ${PIN} $TIDS | sed "s/^/S ${phase} ${i} /"`).join('\n');
const phaseEnd = (phase: Phase): string => `echo "PHASE ${phase} state=$(cat $SCXFS/state) seq=$(cat $SCXFS/enable_seq)"\necho "STATS ${phase} $(scx-stats -n 2 -i 1 | tail -1)"`;
const startWorkload = (pod: NodePod, v: string): string => `workload threads -c $CG/${pod.ctr} -n ${HOT} -k ${HOUSEKEEP} & ${v}=$!`;
const podHint = (pod: NodePod): number => pod.placed.assignment.hint ?? 0;

const script = String.raw`${GUEST_LIB}
echo 0 > /proc/sys/kernel/sched_autogroup_enabled
grep -q ' /sys/fs/bpf bpf ' /proc/mounts || mount -t bpf bpf /sys/fs/bpf
mkdir -p /sys/fs/bpf/temper && chmod 0700 /sys/fs/bpf/temper
${h.pods.map((p) => `mkdir -p $CG/${p.dir} && mkdir -p $CG/${p.ctr}`).join('\n')}
${hintFunction('hint_app', h, h.app, COMMS)}
${hintFunction('hint_plain', h, h.plain, COMMS)}
echo "ENV nproc=$(nproc)"

scx_start hints /cfg/hints.json --enable-match-debug --task-hint-map ${PIN}
scx_wait_enabled hints 180 || { scx_log hints 20; exit 1; }
SEQ0=$(cat $SCXFS/enable_seq)
${startWorkload(h.app, 'APP')}
${startWorkload(h.plain, 'PLAIN')}
# until both processes have named all their threads
_i=0
until [ $(cat /proc/$APP/task/*/comm /proc/$PLAIN/task/*/comm 2>/dev/null | grep -c -E '^(hot_loop|io_chain|housekeep)') -eq ${2 * (COMMS.length - 1)} ] || [ $_i -ge 200 ]; do sleep 0.05; _i=$((_i+1)); done
for _p in $APP $PLAIN; do for _t in $(ls /proc/$_p/task); do echo "THR $([ $_p = $APP ] && echo app || echo plain) $_t $(cat /proc/$_p/task/$_t/comm)"; done; done
TIDS=$(ls /proc/$APP/task /proc/$PLAIN/task | grep -E '^[0-9]+$' | tr '\n' ' ')

# phase 1: the pod's hint on every thread, as an agent without profiles writes it
echo "SETCG app $(temper-hints set-cgroup ${PIN} ${podHint(h.app)} $CG/${h.app.dir} | tail -1)"
echo "SETCG plain $(temper-hints set-cgroup ${PIN} ${podHint(h.plain)} $CG/${h.plain.dir} | tail -1)"
sleep ${SETTLE_S}
${sample('hints-pod')}
${phaseEnd('hints-pod')}

# phase 2: each thread's hint (threadHint)
hint_app ${PIN} $APP app
hint_plain ${PIN} $PLAIN plain
sleep ${SETTLE_S}
${sample('hints-threads')}
${phaseEnd('hints-threads')}
echo "SEQ hints before=$SEQ0 after=$(cat $SCXFS/enable_seq)"
scx_stop hints INT

# the cgroup placement: the same processes, stopped while the scheduler starts
kill -STOP $APP $PLAIN
scx_start cgroup /cfg/cgroup.json --enable-match-debug
scx_wait_enabled cgroup 180 || { scx_log cgroup 20; exit 1; }
SEQ0=$(cat $SCXFS/enable_seq)
kill -CONT $APP $PLAIN
sleep ${SETTLE_S}
${sample('cgroup')}
${phaseEnd('cgroup')}
echo "SEQ cgroup before=$SEQ0 after=$(cat $SCXFS/enable_seq)"
scx_stop cgroup INT
scx_log cgroup 4
kill $APP $PLAIN
exit 0
`;

// ---- parsing and the check ---------------------------------------------------------------------

/** A thread of one of the two pods, as the guest listed it. */
interface Thread {
  readonly pod: 'app' | 'plain';
  readonly tid: number;
  readonly comm: string;
}

/** Per TID, its live layer index in each sample of a phase ('none' or 'gone' when not placed). */
type Samples = Map<number, string[]>;

function threadsOf(output: string): Thread[] {
  return linesAfter(output, 'THR').map((l) => l.split(' ')).map(([pod, tid, comm]) => ({ pod: pod === 'app' ? 'app' : 'plain', tid: Number(tid), comm: comm ?? '' }));
}

function samplesOf(output: string, phase: Phase): Samples {
  const out: Samples = new Map();
  for (const l of linesAfter(output, 'S')) {
    const m = /^(\S+) (\d+) T \S+ (\d+) (.*)$/.exec(l);
    if (m === null || m[1] !== phase) continue;
    const tid = Number(m[3]);
    const live = / live=(\S+)/.exec(` ${m[4]}`)?.[1] ?? 'gone';
    out.set(tid, [...(out.get(tid) ?? []), live]);
  }
  return out;
}

/**
 * Every thread not seen in the layer it belongs in (its profile group's for the profiled pod,
 * its tier's for the other) in every sample, named by pod, comm, TID and the layers it was seen
 * in; also a thread with fewer samples than asked.
 */
function placementProblems(n: ProfileNode, threads: readonly Thread[], samples: Samples, want: number): string[] {
  const names = n.plan.config.map((l) => l.name);
  const problems: string[] = [];
  if (threads.length === 0) problems.push('no threads listed');
  for (const t of threads) {
    const pod = t.pod === 'app' ? n.app : n.plain;
    const expected = expectedLayer(n, pod, t.comm);
    const seen = (samples.get(t.tid) ?? []).map((i) => names[Number(i)] ?? i);
    if (seen.length < want) problems.push(`${t.pod} ${t.comm} (tid ${t.tid}): ${seen.length} of ${want} samples`);
    const wrong = seen.filter((s) => s !== expected);
    if (wrong.length > 0) problems.push(`${t.pod} ${t.comm} (tid ${t.tid}) wants ${expected}, seen in [${seen.join(', ')}]`);
  }
  return problems;
}

// ---- the tests ---------------------------------------------------------------------------------

describe('the plan and the check (no VM)', () => {
  it(`renders every group of vm-app as applied only from ${VCPUS} CPUs (Critical needs 3 whole cores besides system's)`, () => {
    for (const placement of ['hints', 'cgroup'] as const) {
      const at = (vcpus: number): string[] => profileNode({ vcpus, placement, profiled: true }).plan.profiles.rendering.pods[0]!.groups.map((g) => `${g.group}:${g.status}`);
      expect(at(VCPUS)).toEqual(['hot:applied', 'io:applied', 'housekeeping:applied']);
      expect(at(VCPUS - 1)).not.toEqual(at(VCPUS));
    }
    expect(nodes.hints.plan.profiles.rendering.pods[0]!.groups.map((g) => [g.layer, g.hint])).toEqual([['critical-exclusive', 8], ['critical-latency', 9], ['background', 6]]);
    expect(nodes.cgroup.plan.profiles.rendering.pods[0]!.groups.map((g) => g.layer)).toEqual(['critical-exclusive', 'critical-latency', 'yield']);
    expect(nodes.hints.plan.warnings).toEqual([]);
  });

  const n = nodes.hints;
  const names = n.plan.config.map((l) => l.name);
  const threads: Thread[] = (['app', 'plain'] as const).flatMap((pod, p) => COMMS.map((comm, i) => ({ pod, tid: 100 * (p + 1) + i, comm })));
  const right: Samples = new Map(threads.map((t) => [t.tid, Array<string>(SAMPLES).fill(String(names.indexOf(expectedLayer(n, t.pod === 'app' ? n.app : n.plain, t.comm))))]));

  it('accepts samples where every thread is in its layer', () => {
    expect(placementProblems(n, threads, right, SAMPLES)).toEqual([]);
  });

  it('names the thread, its layer and where it was seen when one sample is elsewhere, or a sample is missing', () => {
    const hot = threads.find((t) => t.pod === 'app' && t.comm === 'hot_loop-0')!;
    const crit = String(names.indexOf('critical'));
    const ex = String(names.indexOf('critical-exclusive'));
    const moved = new Map(right).set(hot.tid, [ex, crit, ex]);
    expect(placementProblems(n, threads, moved, SAMPLES)).toEqual([`app hot_loop-0 (tid ${hot.tid}) wants critical-exclusive, seen in [critical-exclusive, critical, critical-exclusive]`]);
    expect(placementProblems(n, threads, new Map(right).set(hot.tid, [ex]), SAMPLES)).toEqual([`app hot_loop-0 (tid ${hot.tid}): 1 of ${SAMPLES} samples`]);
  });
});

describe.skipIf(!avail.ok)(`workload profiles with scx_layered in a sched_ext VM (${VCPUS} vCPUs)`, () => {
  let r: RunInVmResult & { retries: string[] };
  let out: string;
  let threads: Thread[];
  const problems = (phase: Phase): string[] => {
    const placement: Placement = PHASES.find(([p]) => p === phase)![1];
    return placementProblems(nodes[placement], threads, samplesOf(out, phase), SAMPLES);
  };

  beforeAll(async () => {
    r = await runInVmRetrying({
      files: { '/cfg/hints.json': nodes.hints.plan.configJson, '/cfg/cgroup.json': nodes.cgroup.plan.configJson },
      script, timeoutMs: 420_000, smp: VCPUS, tcgThread: 'multi', logName: 'profiles-vm',
    });
    out = r.output;
    threads = threadsOf(out);
    if (r.exitCode !== 0) console.error(out.slice(-6000));
    const layers = (phase: Phase): string => {
      const names = nodes[PHASES.find(([p]) => p === phase)![1]].plan.config.map((l) => l.name);
      const s = samplesOf(out, phase);
      return threads.map((t) => `${t.pod}/${t.comm}=${(s.get(t.tid) ?? []).map((i) => names[Number(i)] ?? i).at(-1) ?? '?'}`).join(' ');
    };
    console.log(`profiles-vm: wall ${(r.wallMs / 1000).toFixed(1)} s, boot ${r.bootWallMs} ms, retried: ${r.retries.join('; ') || 'no'}, longest host stall ${r.hostStallMs} ms; enable ${fieldsOf(linesAfter(out, 'ENABLED').find((l) => l.startsWith('hints ')) ?? '').took ?? '?'} s (hints), ${fieldsOf(linesAfter(out, 'ENABLED').find((l) => l.startsWith('cgroup ')) ?? '').took ?? '?'} s (cgroup)`);
    for (const [phase] of PHASES) console.log(`profiles-vm ${phase}: ${layers(phase)}`);
    console.log(`profiles-vm hints-pod (the control, must fail): ${problems('hints-pod').join('; ')}`);
  }, 1_300_000); // up to three boots (runInVmRetrying)

  it('boots 4 vCPUs, enables scx_layered with both configs and runs the script to the end', () => {
    expect(r.timedOut).toBe(false);
    expect(r.exitCode, out.slice(-3000)).toBe(0);
    expect(linesAfter(out, 'ENV')[0]).toBe(`nproc=${VCPUS}`);
    for (const c of ['hints', 'cgroup']) expect(fieldsOf(linesAfter(out, 'ENABLED').find((l) => l.startsWith(`${c} `)) ?? '').state).toBe('enabled');
  });

  it('runs both pods\' named threads: the leader, hot loops, the I/O chain, housekeeping', () => {
    for (const pod of ['app', 'plain'] as const) expect(threads.filter((t) => t.pod === pod).map((t) => t.comm).sort()).toEqual([...COMMS].sort());
  });

  it('writes every thread\'s hint from threadHint (8 hot, 9 I/O chain, 6 housekeeping, 2 the rest and the unprofiled pod)', () => {
    expect(linesAfter(out, 'SETCG')).toEqual(['app', 'plain'].map((pod) => `${pod} hinted ${COMMS.length} vanished 0 failed 0`));
    expect(linesAfter(out, 'HINT-UNKNOWN')).toEqual([]);
    const set = linesAfter(out, 'HINTSET');
    expect(set).toHaveLength(2 * COMMS.length);
    expect(set.filter((l) => !/^(app|plain) ok \d+ \S+$/.test(l))).toEqual([]);
  });

  it('the control: with only the pod\'s hint, the profiled pod\'s grouped threads are in critical and the check fails for exactly them', () => {
    const p = problems('hints-pod');
    const grouped = COMMS.filter((c) => c !== 'workload');
    expect(p.map((x) => x.split(' (tid')[0]).sort()).toEqual(grouped.map((c) => `app ${c}`).sort());
    expect(p.every((x) => /seen in \[critical(, critical)*\]$/.test(x)), p.join('\n')).toBe(true);
  });

  it('hints: each thread of the profiled pod is in its group\'s layer, every thread of the other pod in critical, in every sample', () => {
    expect(problems('hints-threads')).toEqual([]);
  });

  it('cgroup placement: the same, by CgroupPrefix + CommPrefix matches alone (housekeeping in the yield layer)', () => {
    expect(problems('cgroup')).toEqual([]);
  });

  it('sched_ext stays enabled without a restart, and scx_layered counts the threads in the profile layers', () => {
    for (const [phase] of PHASES) expect(fieldsOf(linesAfter(out, 'PHASE').find((l) => l.startsWith(`${phase} `)) ?? '').state, phase).toBe('enabled');
    for (const c of ['hints', 'cgroup']) {
      const seq = fieldsOf(linesAfter(out, 'SEQ').find((l) => l.startsWith(`${c} `)) ?? '');
      expect(seq.after, `${c}: enable_seq changed while the threads were placed`).toBe(seq.before);
      expect(fieldsOf(linesAfter(out, 'STOPPED').find((l) => l.startsWith(`${c} `)) ?? '').rc, `${c}: scx_layered exit status`).toBe('0');
    }
    const stats = (phase: Phase): Record<string, number> => Object.fromEntries(Object.entries(parseLayerStats(linesAfter(out, 'STATS').find((l) => l.startsWith(`${phase} `))?.slice(phase.length + 1) ?? '')).map(([k, v]) => [k, v.tasks]));
    expect(stats('hints-threads')).toMatchObject({ 'critical-exclusive': HOT, 'critical-latency': 2 });
    expect(stats('cgroup')).toMatchObject({ 'critical-exclusive': HOT, 'critical-latency': 2, yield: HOUSEKEEP });
  });
});
