// A kubelet-shaped node saturated by Background work, for the kernel tests and the isolation
// benchmark: the pods, the config core's plan() renders for them, and the guest shell that builds
// their cgroups (cpu.weight and cpu.max as kubelet sets them), starts their tasks and measures
// them. Used by test/fence-vm.test.ts and bench/isolation.bench.ts, with bpf/guest.ts's GUEST_LIB.
//
// The node (allocatable = capacity = N CPUs, every request summing to exactly N):
//   crit-0     Critical (PriorityClass infera-critical), Burstable: requests 1 CPU, no limit, so
//              it may burst above its request; runs the wake-up probe or a CPU-bound burst
//   agent-0    Temper's own pod (its namespace, so the system layer), requests 50m; its task's
//              comm is "temper-agent", as the agent's is
//   normal-0   Normal (no class, Burstable), requests 250m, one busy loop
//   be-i       Background population "be": BestEffort pods (kubelet gives them cpu.weight 1),
//              ceil(N/2) pods × 2 busy threads, so at least one thread per CPU
//   bg-i       Background population "bgb": Burstable pods of PriorityClass infera-background
//              whose requests fill the rest of the node (≤ 1 CPU each, as Kubernetes would place
//              them), each running one busy thread more than it requested whole CPUs. kubelet's
//              weights treat them as ordinary tenants; only Temper knows they are Background.
//   kubelet    a task with comm "kubelet" in system.slice/kubelet.service (the catch-all)
//
// Per-CPU accounting without BPF: a cgroup-v1 hierarchy with only the cpuacct controller is
// mounted beside cgroup v2 at /tmp/acct (cpuacct is not a v2 controller, so both coexist), with
// one group per population; each hog is moved into its groups (its pod's container cgroup and its
// accounting group) by the guest shell while it is stopped, before its first thread starts
// (`workload -P` and `adopt`). cpuacct.usage_percpu is the exact CPU time (ns) the group's tasks ran on each
// CPU, charged by the kernel's common runtime accounting, which sched_ext uses too.
import { parsePolicy, type Policy } from '../core/config.ts';
import { podCgroupPath } from '../core/layers.ts';
import { nodeFromObject, podFromObject } from '../core/objects.ts';
import { plan, type Plan, type PlacedPod } from '../core/plan.ts';
import { containerCgroupName, kubeletCpuWeight, linesAfter, parseLayerStats } from './guest.ts';

/** The accounting groups: one per population, plus the probes' tasks. */
export const ACCT_GROUPS = ['crit', 'agent', 'kubelet', 'normal', 'be', 'bgb'] as const;
export type AcctGroup = (typeof ACCT_GROUPS)[number];
/** The Background populations. */
export const BACKGROUND_GROUPS = ['be', 'bgb'] as const satisfies readonly AcctGroup[];

/** A pod of the scenario, with where its cgroups are and what runs in it. */
export interface LoadPod {
  readonly placed: PlacedPod;
  /** Pod cgroup, relative to /sys/fs/cgroup, no trailing slash. */
  readonly dir: string;
  /** Its one container's cgroup. */
  readonly ctr: string;
  readonly group: AcctGroup;
  /** Busy threads it runs when its population is started (0: it runs a probe instead). */
  readonly threads: number;
}

export interface LoadNode {
  readonly vcpus: number;
  readonly policy: Policy;
  readonly plan: Plan;
  readonly pods: readonly LoadPod[];
  /**
   * Guest shell (after GUEST_LIB): builds the cgroup tree with kubelet's weights, mounts the
   * cpuacct hierarchy and defines
   *   start_pop GROUP | stop_pop GROUP   busy threads of normal, be or bgb ($HOGS: all running)
   *   probe_bg LABEL crit|kubelet|agent SECONDS   a 1 ms wake-up probe in the background
   *   probes_wait                        waits for the probes and prints their PROBE lines
   *   burst_crit LABEL SECONDS THREADS   CPU-bound threads in the Critical pod for SECONDS
   *   acct_snap LABEL                    "ACCT LABEL GROUP UPTIME ns…" per group, "PSTAT LABEL cpuN …"
   *   layer_stats LABEL                  "LSTATS LABEL {stats json}" (scx_layered must run)
   *   bg_idle 0|1                        cpu.idle on every Background pod cgroup (both populations)
   */
  readonly setup: string;
}

const NAMESPACE = 'load';

function podObject(name: string, namespace: string, uid: string, cls: { name: string; priority: number } | null, requests: string | null): unknown {
  return {
    kind: 'Pod',
    metadata: { name, namespace, uid },
    spec: {
      nodeName: 'load-node',
      ...(cls ? { priorityClassName: cls.name, priority: cls.priority } : {}),
      containers: [{ name: 'main', image: 'x', resources: requests === null ? {} : { requests: { cpu: requests, memory: '64Mi' } } }],
    },
    status: { phase: 'Running' },
  };
}

/**
 * The per-pod clauses of `placement = "cgroup"`: the guest script below places every process by
 * its cgroup and writes no task hints, so the fence test and the isolation benchmark measure
 * this layout. The default, hints, sizes and fences the tiers the same way but matches by task
 * hint, orders Low before Normal, fixes the weights and adds the `nodecritical` layer; a fence
 * run on it needs hints written in the guest and is still to do (decisions §58).
 */
export const LOAD_POLICY: Policy = parsePolicy('[node]\nplacement = "cgroup"\n', 'node-load');

/** The scenario for a node of `vcpus` CPUs, planned with `policy` (default: Temper's defaults with per-pod clauses). */
export function loadNode(vcpus: number, policy: Policy = LOAD_POLICY): LoadNode {
  if (!Number.isInteger(vcpus) || vcpus < 2) throw new Error(`loadNode: vcpus must be an integer ≥ 2 (got ${vcpus})`);
  const node = nodeFromObject({ kind: 'Node', metadata: { name: 'load-node' }, status: { capacity: { cpu: String(vcpus) }, allocatable: { cpu: String(vcpus) } } }, 'node-load');
  const classes = policy.naming.priorityClasses;
  let n = 0;
  const uid = (): string => `10ad0000-0000-4000-8000-${(++n).toString(16).padStart(12, '0')}`;
  const specs: { obj: unknown; group: AcctGroup; threads: number }[] = [
    { obj: podObject('crit-0', NAMESPACE, uid(), { name: classes.critical, priority: policy.priorityMapping.critical }, '1'), group: 'crit', threads: 0 },
    { obj: podObject('agent-0', policy.naming.namespace, uid(), null, '50m'), group: 'agent', threads: 0 },
    { obj: podObject('normal-0', NAMESPACE, uid(), null, '250m'), group: 'normal', threads: 1 },
  ];
  for (let i = 0; i < Math.ceil(vcpus / 2); i++) specs.push({ obj: podObject(`be-${i}`, NAMESPACE, uid(), null, null), group: 'be', threads: 2 });
  let rest = vcpus * 1000 - 1000 - 50 - 250;
  for (let i = 0; rest > 0; i++) {
    const m = Math.min(1000, rest);
    rest -= m;
    specs.push({ obj: podObject(`bg-${i}`, NAMESPACE, uid(), { name: classes.background, priority: policy.priorityMapping.low - 1 }, `${m}m`), group: 'bgb', threads: Math.ceil(m / 1000) + 1 });
  }
  const pods = specs.map((s) => ({ ...s, pod: podFromObject(s.obj, 'node-load') }));
  const p = plan(policy, node, pods.map((x) => x.pod));
  const driver = policy.node.cgroupDriver;
  const loadPods: LoadPod[] = pods.map((x) => {
    const placed = p.pods.find((q) => q.pod.uid === x.pod.uid);
    if (placed === undefined) throw new Error(`loadNode: plan() left out pod ${x.pod.name}`);
    const dir = podCgroupPath(driver, placed.assignment.qosClass, placed.pod.uid).replace(/\/$/, '');
    return { placed, dir, ctr: `${dir}/${containerCgroupName(driver, placed.pod.uid, 'main')}`, group: x.group, threads: x.threads };
  });
  // the tier each population stands for; its layer is the tier's, or `shared` on nodes where a tier
  // above Low owns no core (core/layers.ts)
  const want: Record<AcctGroup, string> = { crit: 'critical', agent: 'system', kubelet: 'catchall', normal: 'normal', be: 'background', bgb: 'background' };
  for (const lp of loadPods) {
    const tierLayer = lp.placed.assignment.layer === 'shared' ? lp.placed.assignment.tier : lp.placed.assignment.layer;
    if (tierLayer !== want[lp.group]) throw new Error(`loadNode: pod ${lp.placed.pod.name} landed in layer ${lp.placed.assignment.layer}, not ${want[lp.group]}`);
  }
  return { vcpus, policy, plan: p, pods: loadPods, setup: setupScript(vcpus, loadPods) };
}

function setupScript(vcpus: number, pods: readonly LoadPod[]): string {
  const of = (g: AcctGroup): LoadPod[] => pods.filter((x) => x.group === g);
  const crit = of('crit')[0]!;
  const agent = of('agent')[0]!;
  const qosSlice = (q: string): string => `kubepods.slice/kubepods-${q.toLowerCase()}.slice`;
  const burstableMillis = pods.filter((x) => x.placed.assignment.qosClass === 'Burstable').reduce((s, x) => s + x.placed.requestMillis, 0);
  // kubelet: kubepods = allocatable's shares, the Burstable slice = the sum of its pods'
  // requests, the BestEffort slice = 2 shares (weight 1), each pod and container its request
  // (BestEffort: 2 shares); cpu.max only from limits (none here). runc's current conversion.
  const weights = [
    `echo ${kubeletCpuWeight(vcpus * 1000)} > $CG/kubepods.slice/cpu.weight`,
    `echo ${kubeletCpuWeight(burstableMillis)} > $CG/${qosSlice('Burstable')}/cpu.weight`,
    `echo ${kubeletCpuWeight(0)} > $CG/${qosSlice('BestEffort')}/cpu.weight`,
    ...pods.flatMap((x) => [`echo ${kubeletCpuWeight(x.placed.requestMillis)} > $CG/${x.dir}/cpu.weight`, `echo ${kubeletCpuWeight(x.placed.requestMillis)} > $CG/${x.ctr}/cpu.weight`]),
  ];
  const bgPods = pods.filter((x) => (BACKGROUND_GROUPS as readonly string[]).includes(x.group));
  // each hog starts as a container's first process does: stopped until its parent has moved it
  // into the container's cgroup (and its accounting group), then continued (workload -P)
  const startPop = (g: AcctGroup): string => of(g).map((x) => `  workload hog -P -n ${x.threads} & _x=$!; adopt $_x $CG/${x.ctr} $ACCT/${g}; _p="$_p $_x"`).join('\n');
  return String.raw`
echo 0 > /proc/sys/kernel/sched_autogroup_enabled
: > /tmp/tracked
mkdir -p $CG/kubepods.slice/${qosSlice('Burstable').split('/')[1]} $CG/kubepods.slice/${qosSlice('BestEffort').split('/')[1]} $CG/system.slice/kubelet.service
${pods.map((x) => `mkdir -p $CG/${x.dir} && mkdir -p $CG/${x.ctr}`).join('\n')}
for d in "" kubepods.slice kubepods.slice/kubepods-burstable.slice kubepods.slice/kubepods-besteffort.slice system.slice ${pods.map((x) => x.dir).join(' ')}; do echo +cpu > $CG/$d/cgroup.subtree_control; done
${weights.join('\n')}
ACCT=/tmp/acct
mkdir -p $ACCT
mount -t cgroup -o cpuacct cpuacct $ACCT || echo "ACCT-FAIL cpuacct (cgroup v1) could not be mounted"
for g in ${ACCT_GROUPS.join(' ')} critburst; do mkdir -p $ACCT/$g; done
HOGS=
POP_normal=; POP_be=; POP_bgb=
# adopt PID CGROUP ACCT_GROUP: waits until PID has stopped itself (workload -P), moves it into
# both groups while it is blocked, as runc's parent moves a container's init process, and
# continues it; scx_layered matches it at that wake-up
adopt() {
  _i=0
  until grep -q '^State:.*stopped' /proc/$1/status 2>/dev/null || [ $_i -ge 500 ]; do sleep 0.01; _i=$((_i+1)); done
  echo $1 > $2/cgroup.procs && echo $1 > $3/cgroup.procs || echo "ADOPT-FAIL $1 $2"
  kill -CONT $1
}
start_pop() {
  _p=
  case $1 in
${(['normal', 'be', 'bgb'] as const).map((g) => `  ${g})\n${startPop(g)}\n  ;;`).join('\n')}
  esac
  eval "POP_$1=\"\$_p\""
  HOGS="$HOGS $_p"
  for _x in $_p; do echo "$_x" >> /tmp/tracked; done
}
stop_pop() {
  eval "_p=\$POP_$1"
  [ -n "$_p" ] && kill $_p 2>/dev/null
  for _x in $_p; do wait $_x 2>/dev/null; HOGS=$(echo " $HOGS " | sed "s/ $_x / /"); done
  eval "POP_$1="
}
PROBES=
probe_bg() {
  case $2 in
  crit) workload probe -c $CG/${crit.ctr} -a $ACCT/crit -l $1-crit -w 200 -d $3 1000 $(( $3 * 1000 + 1000 )) > /tmp/probe-$1-crit.out & ;;
  kubelet) kubelet probe -c $CG/system.slice/kubelet.service -a $ACCT/kubelet -l $1-kubelet -w 200 -d $3 1000 $(( $3 * 1000 + 1000 )) > /tmp/probe-$1-kubelet.out & ;;
  agent) temper-agent probe -c $CG/${agent.ctr} -a $ACCT/agent -l $1-agent -w 200 -d $3 1000 $(( $3 * 1000 + 1000 )) > /tmp/probe-$1-agent.out & ;;
  esac
  PROBES="$PROBES $!:$1-$2"
}
probes_wait() {
  for _e in $PROBES; do wait $(echo $_e | cut -d: -f1); cat /tmp/probe-$(echo $_e | cut -d: -f2).out; done
  PROBES=
}
burst_crit() {
  workload hog -c $CG/${crit.ctr} -a $ACCT/critburst -n $3 & _b=$!
  sleep $2
  kill $_b; wait $_b 2>/dev/null
}
acct_snap() {
  _t=$(now)
  for g in ${ACCT_GROUPS.join(' ')} critburst; do echo "ACCT $1 $g $_t $(cat $ACCT/$g/cpuacct.usage_percpu)"; done
  grep '^cpu[0-9]' /proc/stat | sed "s/^/PSTAT $1 $_t /"
}
layer_stats() { echo "LSTATS $1 $(scx-stats -n 2 -i 1 | tail -1)"; }
bg_idle() {
  for d in ${bgPods.map((x) => x.dir).join(' ')}; do echo $1 > $CG/$d/cpu.idle; done
}
echo "ENV nproc=$(nproc) preempt=$(sed -n 's/.*(\([a-z]*\)).*/\1/p' /sys/kernel/debug/sched/preempt 2>/dev/null) clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource) crit_weight=$(cat $CG/${crit.dir}/cpu.weight) be_weight=$(cat $CG/${qosSlice('BestEffort')}/cpu.weight) burstable_weight=$(cat $CG/${qosSlice('Burstable')}/cpu.weight)"
`;
}

// ---- parsing --------------------------------------------------------------------------------

/** One accounting snapshot: guest uptime (s) and, per group, ns run on each CPU. */
export interface AcctSnapshot {
  readonly t: number;
  readonly groups: Readonly<Record<string, readonly number[]>>;
  /** /proc/stat per CPU: busy and idle ticks (USER_HZ). */
  readonly cpuTicks: readonly { busy: number; idle: number }[];
}

/** The `acct_snap LABEL` snapshot in a guest's output; throws naming the label when absent. */
export function acctSnapshot(output: string, label: string): AcctSnapshot {
  const groups: Record<string, number[]> = {};
  let t = Number.NaN;
  for (const l of linesAfter(output, 'ACCT')) {
    const f = l.split(' ');
    if (f[0] !== label) continue;
    t = Number(f[2]);
    groups[f[1]!] = f.slice(3).filter(Boolean).map(Number);
  }
  if (Number.isNaN(t)) throw new Error(`no ACCT ${label} lines in the guest output (acct_snap ${label} never ran?)`);
  const cpuTicks = linesAfter(output, 'PSTAT').map((l) => l.split(/\s+/)).filter((f) => f[0] === label).map((f) => {
    // cpuN user nice system idle iowait irq softirq steal …
    const v = f.slice(3, 11).map(Number);
    return { busy: v[0]! + v[1]! + v[2]! + v[5]! + v[6]! + v[7]!, idle: v[3]! + v[4]! };
  });
  return { t, groups, cpuTicks };
}

/** Per group and CPU: the share of that CPU's time (0..1) the group ran between two snapshots. */
export function cpuShares(a: AcctSnapshot, b: AcctSnapshot): { seconds: number; share: Record<string, number[]>; busy: number[] } {
  const seconds = b.t - a.t;
  const share: Record<string, number[]> = {};
  for (const [g, ns] of Object.entries(b.groups)) share[g] = ns.map((v, i) => (v - (a.groups[g]?.[i] ?? 0)) / 1e9 / seconds);
  const busy = b.cpuTicks.map((c, i) => {
    const d = { busy: c.busy - (a.cpuTicks[i]?.busy ?? 0), idle: c.idle - (a.cpuTicks[i]?.idle ?? 0) };
    return d.busy + d.idle > 0 ? d.busy / (d.busy + d.idle) : 0;
  });
  return { seconds, share, busy };
}

/** The CPUs a layer held per scx_layered's stats (`LSTATS LABEL`); null when the line is missing. */
export function layerCpus(output: string, label: string, layer: string): number[] | null {
  const line = linesAfter(output, 'LSTATS').find((l) => l.startsWith(`${label} `))?.slice(label.length + 1);
  if (line === undefined || line.trim() === '') return null;
  const l = parseLayerStats(line)[layer] as unknown as { cpus?: unknown } | undefined;
  if (l === undefined || !Array.isArray(l.cpus)) return null;
  const out: number[] = [];
  (l.cpus as number[]).forEach((word, w) => {
    for (let b = 0; b < 64; b++) if (Math.floor(word / 2 ** b) % 2 === 1) out.push(w * 64 + b);
  });
  return out;
}
