// End-to-end check of the pinned scx_layered on the pinned kernel, in one qemu VM:
//   A. kubelet-like cgroup tree + CgroupPrefix layer: state enabled, ops layered, stats show tasks
//   B. CgroupRegex (pod-UID alternation, absolute path) + Confined exclusive/protected [1,1] layer,
//      including a pod cgroup created after the scheduler started (inotify watcher)
//   C. invalid configs (33 OR blocks; last layer not [[]]) are rejected with the expected errors
// Usage: node bpf/prove-scx.ts   (after bpf/install-scx.sh and bpf/install-kernel.sh)

import { runInVm } from "./vm.ts";

const podUid = (n: number) => `1b2c3d4e_5f60_4a7b_8c9d_0e1f2a3b4c5${n}`;
const burstablePod = (n: number) =>
  `kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${podUid(n)}.slice`;
const besteffortPod = (n: number) =>
  `kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${podUid(n)}.slice`;
const guaranteedPod = (n: number) => `kubepods.slice/kubepods-pod${podUid(n)}.slice`;

const configA = [
  { name: "system", matches: [[{ PcommPrefix: "scx_layered" }]],
    kind: { Grouped: { util_range: [0.0, 0.5], cpus_range: [1, 1], preempt: true, slice_us: 5000 } } },
  { name: "normal", matches: [[{ CgroupPrefix: `${burstablePod(1)}/` }]],
    kind: { Grouped: { util_range: [0.6, 0.9], cpus_range: [1, 2], slice_us: 20000 } } },
  { name: "catchall", matches: [[]], kind: { Open: { slice_us: 20000 } } },
];

// UID alternation; pods 4 and 5 are created only after the scheduler is running.
const uidRe = [1, 2, 4, 5].map(podUid).join("|");
const regex = `^/sys/fs/cgroup/kubepods\\.slice/(?:[^/]+/)?kubepods-(?:burstable-|besteffort-)?pod(?:${uidRe})\\.slice(?:/.*)?$`;
const configB = [
  { name: "guaranteed", matches: [[{ CgroupRegex: regex }]],
    kind: { Confined: { util_range: [0.5, 0.9], cpus_range: [1, 1], exclusive: true, protected: true } } },
  { name: "burstable", matches: [[{ CgroupPrefix: "kubepods.slice/kubepods-burstable.slice/" }]],
    kind: { Grouped: { util_range: [0.6, 0.9], cpus_range: [1, 2] } } },
  { name: "catchall", matches: [[]], kind: { Open: {} } },
];

const tooManyOrs = [
  { name: "wide", matches: Array.from({ length: 33 }, (_, i) => [{ CgroupPrefix: `p${i}/` }]),
    kind: { Grouped: { util_range: [0.1, 0.9] } } },
  { name: "catchall", matches: [[]], kind: { Open: {} } },
];
// D. how long may a CgroupRegex UID alternation get? (no length check in scx_layered itself;
// the regex crate's default compiled-size limit applies)
const bigRegex = (n: number) => [
  { name: "many", matches: [[{ CgroupRegex: `^/sys/fs/cgroup/kubepods\\.slice/(?:[^/]+/)?kubepods-(?:burstable-|besteffort-)?pod(?:${
    Array.from({ length: n }, (_, i) => `${i.toString(16).padStart(8, "0")}_5f60_4a7b_8c9d_0e1f2a3b4c5d`).join("|")})\\.slice(?:/.*)?$` }]],
    kind: { Grouped: { util_range: [0.5, 0.9] } } },
  { name: "catchall", matches: [[]], kind: { Open: {} } },
];
const noCatchall = [
  { name: "a", matches: [[{ CommPrefix: "a" }]], kind: { Open: {} } },
  { name: "b", matches: [[{ CommPrefix: "b" }]], kind: { Open: {} } },
];

const script = String.raw`
CG=/sys/fs/cgroup
now() { cut -d' ' -f1 /proc/uptime; }
# spin_in POD CTR: pure CPU spinner (never sleeps); nap_in POD CTR: burns CPU, then sleeps 20 ms, forever
spin_in() { mkdir -p "$CG/$1/cri-containerd-$2.scope"; sh -c "echo \$\$ > $CG/$1/cri-containerd-$2.scope/cgroup.procs; while :; do :; done" & }
nap_in() { mkdir -p "$CG/$1/cri-containerd-$2.scope"; sh -c "echo \$\$ > $CG/$1/cri-containerd-$2.scope/cgroup.procs; while :; do i=0; while [ \$i -lt 3000 ]; do i=\$((i+1)); done; usleep 20000; done" & }
wait_enabled() { # $1 = scx pid; prints seconds waited
  t0=$(now); s=
  for i in $(seq 1 1800); do
    s=$(cat /sys/kernel/sched_ext/state)
    [ "$s" = enabled ] && break
    kill -0 $1 2>/dev/null || break
    sleep 0.1
  done
  echo "STATE=$s waited=$(awk -v a=$t0 -v b=$(now) 'BEGIN{printf "%.2f", b-a}')s uptime=$(now)"
}
stop_scx() { t0=$(now); kill -INT $1; wait $1; rc=$?; echo "SCX-STOP rc=$rc took=$(awk -v a=$t0 -v b=$(now) 'BEGIN{printf "%.2f", b-a}')s state=$(cat /sys/kernel/sched_ext/state)"; }

echo "=== A: CgroupPrefix config"
spin_in ${burstablePod(1)} a1; A1SPIN=$!
scx_layered f:/configA.json > /tmp/scxA.log 2>&1 &
SCX=$!
echo "SCX-START uptime=$(now)"
wait_enabled $SCX
echo "OPS=$(cat /sys/kernel/sched_ext/root/ops 2>&1)"
ls /sys/kernel/sched_ext/root/ 2>&1 | tr '\n' ' '; echo
echo "nr_rejected=$(cat /sys/kernel/sched_ext/nr_rejected) enable_seq=$(cat /sys/kernel/sched_ext/enable_seq)"
echo "STATS-A $(scx-stats -n 2 -i 3 | tail -1)"
stop_scx $SCX
echo "--- scx_layered A log"; cat /tmp/scxA.log
echo "--- dmesg (sched_ext/bpf)"; dmesg | grep -i -E 'sched_ext|scx|bpf|layered' | tail -20

echo "=== B: CgroupRegex + Confined exclusive/protected"
nap_in ${burstablePod(1)} a1nap; A1NAP=$!
nap_in ${guaranteedPod(2)} g2nap; G2NAP=$!
spin_in ${guaranteedPod(2)} g2spin; SPIN=$!
nap_in ${burstablePod(3)} b3nap; B3NAP=$!
mkdir -p $CG/kubepods.slice/kubepods-besteffort.slice   # QoS slices exist before any pod, as on a node
# a log level containing "trace" turns on the BPF side's bpf_printk("MATCH comm-pid -> layer");
# the userspace filter stays at info
echo 16384 > /sys/kernel/tracing/buffer_size_kb
echo 'bpf_string ~ "*MATCH*"' > /sys/kernel/tracing/events/bpf_trace/bpf_trace_printk/filter || echo "no trace filter"
echo > /sys/kernel/tracing/trace
scx_layered --log-level info,temper=trace f:/configB.json > /tmp/scxB.log 2>&1 &
SCX=$!
echo "SCX-START uptime=$(now)"
wait_enabled $SCX
echo "OPS=$(cat /sys/kernel/sched_ext/root/ops 2>&1)"
echo "STATS-B1 $(scx-stats -n 2 -i 3 | tail -1)"
echo "after start: pod 4 slice first, container 1 s later (kubelet-like); pod 5 slice+container in one mkdir -p"
mkdir $CG/${besteffortPod(4)}; sleep 1
nap_in ${besteffortPod(4)} e4nap; E4NAP=$!
nap_in ${besteffortPod(5)} e5nap; E5NAP=$!
sleep 2
echo "STATS-B2 $(scx-stats -n 2 -i 3 | tail -1)"
echo "SIGSTOP/SIGCONT the spinner in pod 2 (forces a wakeup, hence a rematch)"
kill -STOP $SPIN; sleep 0.2; kill -CONT $SPIN; sleep 1
echo "STATS-B3 $(scx-stats -n 2 -i 3 | tail -1)"
echo "last BPF MATCH per workload task (pods: 1 burstable+regex, 2 guaranteed+regex, 3 burstable, 4/5 besteffort+regex created after start):"
for t in A1SPIN:$A1SPIN A1NAP:$A1NAP G2NAP:$G2NAP G2SPIN:$SPIN B3NAP:$B3NAP E4NAP:$E4NAP E5NAP:$E5NAP; do
  pid=$(echo $t | cut -d: -f2)
  echo "  $(echo $t | cut -d: -f1) pid=$pid matches=$(grep -c "MATCH sh-$pid -> " /sys/kernel/tracing/trace) last=$(grep "MATCH sh-$pid -> " /sys/kernel/tracing/trace | tail -1 | sed 's/.*-> //')"
done
stop_scx $SCX
echo "--- scx_layered B log"; cat /tmp/scxB.log
echo "--- dmesg (sched_ext/bpf)"; dmesg | grep -i -E 'sched_ext|scx|bpf|layered' | tail -20

echo "=== C: invalid configs"
for f in tooManyOrs noCatchall; do
  scx_layered f:/$f.json > /tmp/$f.log 2>&1
  echo "INVALID-$f rc=$? state=$(cat /sys/kernel/sched_ext/state)"
  grep -v '^$' /tmp/$f.log | tail -4
done

echo "=== D: long CgroupRegex alternations"
for n in 1000 20000; do
  scx_layered f:/regex$n.json > /tmp/regex$n.log 2>&1 &
  SCX=$!
  wait_enabled $SCX
  if kill -0 $SCX 2>/dev/null; then stop_scx $SCX; else wait $SCX; echo "REGEX-$n exited rc=$?"; fi
  echo "REGEX-$n size=$(wc -c < /regex$n.json)"; grep -i -E 'error|regex|caused' /tmp/regex$n.log | cut -c1-300 | tail -4
done
kill $(jobs -p) 2>/dev/null
exit 0
`;

const r = await runInVm({
  files: {
    "/configA.json": JSON.stringify(configA),
    "/configB.json": JSON.stringify(configB),
    "/tooManyOrs.json": JSON.stringify(tooManyOrs),
    "/noCatchall.json": JSON.stringify(noCatchall),
    "/regex1000.json": JSON.stringify(bigRegex(1000)),
    "/regex20000.json": JSON.stringify(bigRegex(20000)),
  },
  script,
  timeoutMs: 900_000,
});

// Print the console output with the stats JSON lines summarised.
interface LayerStats { tasks: number; util: number; cur_nr_cpus: number; is_excl: number }
const summarise = (line: string): string => {
  const m = /^(STATS-\w+) (.*)$/.exec(line);
  if (!m) return line;
  try {
    const resp = JSON.parse(m[2]!) as { errno: number; args: { resp: { layers: Record<string, LayerStats> } } };
    const layers = Object.entries(resp.args.resp.layers)
      .map(([n, l]) => `${n}: tasks=${l.tasks} util=${l.util.toFixed(1)} cur_nr_cpus=${l.cur_nr_cpus} is_excl=${l.is_excl}`)
      .join("; ");
    return `${m[1]} errno=${resp.errno} ${layers}`;
  } catch {
    return `${m[1]} (unparsable) ${m[2]!.slice(0, 300)}`;
  }
};
console.log(r.output.split("\n").map(summarise).join("\n"));
console.log(`exitCode=${r.exitCode} timedOut=${r.timedOut} bootMs=${r.bootMs} bootWallMs=${r.bootWallMs} wallMs=${r.wallMs}`);
process.exit(r.exitCode === 0 ? 0 : 1);
