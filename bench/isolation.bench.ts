// Isolation benchmark on a real sched_ext kernel (bpf/vm.ts, one qemu TCG boot): a wakeup-latency
// probe in the Critical pod's container cgroup (bpf/workload.c: 1 ms sleeps, records the
// overshoot) while Background-tier CPU hogs saturate every vCPU. Arms, back to back in the same
// boot, each a fixed number of samples:
//   alone    probe only, default scheduler (EEVDF), kubelet-style cpu.weight on the pod cgroups
//   default  probe + hogs, default scheduler, the same weights
//   temper   probe + hogs under scx_layered with the config core's plan() renders for these pods
//   default-2, alone-2  the first two again after the scheduler stopped (drift check)
// Reports p50/p99/p99.9 per arm and each arm's ratio to "alone"; writes
// bench/results/isolation-<date>.json and .svg. Reported, not asserted. Under TCG absolute times
// mean nothing; the ratios are the result.
//
//   node bench/isolation.bench.ts [--vcpus N] [--samples N] [--period-us N] [--hogs-per-cpu N] [--tcg single|multi] [--out DIR]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { GUEST_LIB, containerCgroupName, fieldsOf, kubeletCpuWeight, linesAfter, parseLayerStats } from '../bpf/guest.ts';
import { readVersions, runInVm, vmAvailability } from '../bpf/vm.ts';
import { defaultPolicy } from '../core/config.ts';
import { podCgroupPath } from '../core/layers.ts';
import { nodeFromObject, podFromObject } from '../core/objects.ts';
import { plan } from '../core/plan.ts';

const { values: opts } = parseArgs({
  options: {
    vcpus: { type: 'string', default: '2' },
    samples: { type: 'string', default: '10000' },
    'period-us': { type: 'string', default: '1000' },
    'hogs-per-cpu': { type: 'string', default: '1' },
    tcg: { type: 'string', default: process.env.TEMPER_VM_TCG_THREAD ?? 'single' },
    out: { type: 'string', default: join(import.meta.dirname, 'results') },
  },
});
const vcpus = Number(opts.vcpus);
const samples = Number(opts.samples);
const periodUs = Number(opts['period-us']);
const hogs = vcpus * Number(opts['hogs-per-cpu']);
const tcg = opts.tcg === 'multi' ? 'multi' : 'single';

const avail = vmAvailability();
if (!avail.ok) {
  console.error(`isolation bench: VM unavailable: ${avail.reason}`);
  process.exit(2);
}

// ---- the node, its pods and the config Temper renders for them ---------------------------------

const policy = defaultPolicy();
const nodeName = 'bench-vm';
const node = nodeFromObject({ kind: 'Node', metadata: { name: nodeName }, status: { capacity: { cpu: String(vcpus) } } }, 'bench');
const podObj = (name: string, uid: string, extra: Record<string, unknown>, resources: Record<string, unknown>): Record<string, unknown> => ({
  kind: 'Pod',
  metadata: { name, namespace: 'bench', uid },
  spec: { nodeName, ...extra, containers: [{ name: 'main', image: 'x', resources }] },
  status: { phase: 'Running' },
});
const criticalPod = podFromObject(podObj('probe-0', 'c0000000-0000-4000-8000-000000000001',
  { priorityClassName: 'infera-critical', priority: 1_000_000 },
  { requests: { cpu: '1', memory: '256Mi' }, limits: { cpu: '1', memory: '256Mi' } }), 'bench');
const hogPods = Array.from({ length: hogs }, (_, i) => podFromObject(podObj(`batch-${i}`, `b0000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`, {}, {}), 'bench'));
const p = plan(policy, node, [criticalPod, ...hogPods]);
const placed = (name: string) => p.pods.find((x) => x.pod.name === name)!;
if (placed('probe-0').assignment.layer !== 'critical' || hogPods.some((h) => placed(h.name).assignment.layer !== 'background')) {
  throw new Error('bench pods did not land in the Critical / Background tiers');
}
const critLayer = p.layers.find((l) => l.name === 'critical')!;

const driver = policy.node.cgroupDriver;
const dirOf = (x: (typeof p.pods)[number]) => podCgroupPath(driver, x.assignment.qosClass, x.pod.uid).replace(/\/$/, '');
const ctrOf = (x: (typeof p.pods)[number]) => `${dirOf(x)}/${containerCgroupName(driver, x.pod.uid, 'main')}`;
const crit = placed('probe-0');
const hogPlaced = hogPods.map((h) => placed(h.name));

// kubelet's cgroup weights (shares from requests, runc's conversion), cpu.max from limits
const allocatableMillis = vcpus * 1000;
const weightLines = [
  `echo ${kubeletCpuWeight(allocatableMillis)} > $CG/kubepods.slice/cpu.weight`,
  `echo ${kubeletCpuWeight(0)} > $CG/kubepods.slice/kubepods-besteffort.slice/cpu.weight`,
  `echo ${kubeletCpuWeight(crit.requestMillis)} > $CG/${dirOf(crit)}/cpu.weight`,
  `echo "${(crit.limitMillis ?? 0) * 100} 100000" > $CG/${dirOf(crit)}/cpu.max`,
  `echo ${kubeletCpuWeight(crit.requestMillis)} > $CG/${ctrOf(crit)}/cpu.weight`,
  `echo "${(crit.limitMillis ?? 0) * 100} 100000" > $CG/${ctrOf(crit)}/cpu.max`,
  ...hogPlaced.flatMap((h) => [`echo ${kubeletCpuWeight(h.requestMillis)} > $CG/${dirOf(h)}/cpu.weight`, `echo ${kubeletCpuWeight(h.requestMillis)} > $CG/${ctrOf(h)}/cpu.weight`]),
];

const script = String.raw`${GUEST_LIB}
echo 0 > /proc/sys/kernel/sched_autogroup_enabled
: > /tmp/tracked
# kubelet-shaped tree; cpu controller delegated down to the container cgroups
mkdir -p $CG/kubepods.slice/kubepods-besteffort.slice $CG/system.slice/kubelet.service
${[crit, ...hogPlaced].map((x) => `mkdir -p $CG/${dirOf(x)} && mkdir -p $CG/${ctrOf(x)}`).join('\n')}
echo +cpu > $CG/cgroup.subtree_control
echo +cpu > $CG/kubepods.slice/cgroup.subtree_control
echo +cpu > $CG/kubepods.slice/kubepods-besteffort.slice/cgroup.subtree_control
echo +cpu > $CG/system.slice/cgroup.subtree_control
${[crit, ...hogPlaced].map((x) => `echo +cpu > $CG/${dirOf(x)}/cgroup.subtree_control`).join('\n')}
${weightLines.join('\n')}
kubelet nap -c $CG/system.slice/kubelet.service 100000 &
echo "$!" >> /tmp/tracked
echo "ENV nproc=$(nproc) preempt=$(cat /sys/kernel/debug/sched/preempt 2>/dev/null | tr ' ' ',') crit_weight=$(cat $CG/${dirOf(crit)}/cpu.weight) crit_max=$(cat $CG/${dirOf(crit)}/cpu.max | tr ' ' '/') be_weight=$(cat $CG/kubepods.slice/kubepods-besteffort.slice/cpu.weight)"
HOGS=
hogcpu() { _s=0; for _p in $HOGS; do read _a _b _c < /proc/$_p/schedstat; _s=$((_s+_a)); done; echo $_s; }
arm() {
  _t0=$(now); _h0=$(hogcpu)
  workload probe -c $CG/${ctrOf(crit)} -l $1 -w 200 ${periodUs} ${samples} > /tmp/probe-$1.out &
  _pp=$!
  echo "$_pp" >> /tmp/tracked
  if [ "$1" = temper ]; then sleep 3; scx_report temper; echo "PROBE-PID temper $_pp"; fi
  wait $_pp
  cat /tmp/probe-$1.out
  echo "ARM $1 t0=$_t0 t1=$(now) hogcpu_ns=$(( $(hogcpu) - _h0 )) state=$(cat $SCXFS/state) seq=$(cat $SCXFS/enable_seq)"
}
start_hogs() {
${hogPlaced.map((h) => `  workload hog -c $CG/${ctrOf(h)} & HOGS="$HOGS $!"; echo "$!" >> /tmp/tracked`).join('\n')}
  sleep 1
}

arm alone
start_hogs
arm default
scx_start temper /cfg/temper.json --enable-match-debug
scx_wait_enabled temper 240
sleep 2
echo "WINDOW-BEGIN seq=$(cat $SCXFS/enable_seq) state=$(cat $SCXFS/state)"
arm temper
echo "WINDOW-END seq=$(cat $SCXFS/enable_seq) state=$(cat $SCXFS/state)"
scx_stop temper INT
sleep 1
arm default-2
kill $HOGS; HOGS=
sleep 1
arm alone-2
exit 0
`;

// ---- run ---------------------------------------------------------------------------------------

interface ProbeResult { label: string; n: number; period_us: number; mean_us: number; p50_us: number; p90_us: number; p99_us: number; p999_us: number; max_us: number }

console.log(`isolation bench: ${vcpus} vCPUs (TCG ${tcg}), ${hogs} Background hogs, ${samples} samples of ${periodUs} µs sleeps per arm; Critical layer ${critLayer.kind} cpus_range ${JSON.stringify(critLayer.cpusRange)}${critLayer.demoted ? ' (demoted)' : ''}`);
const r = await runInVm({ files: { '/cfg/temper.json': p.configJson }, script, timeoutMs: 1_800_000, smp: vcpus, tcgThread: tcg, logName: 'isolation-bench' });
if (r.exitCode !== 0) {
  console.error(r.output.slice(-6000));
  console.error(`isolation bench: the VM run failed (exit ${r.exitCode}, timed out ${r.timedOut})`);
  process.exit(1);
}

const probes = new Map<string, ProbeResult>();
for (const l of linesAfter(r.output, 'PROBE')) {
  const pr = JSON.parse(l) as ProbeResult;
  probes.set(pr.label, pr);
}
const armLines = new Map(linesAfter(r.output, 'ARM').map((l) => [l.split(' ')[0]!, fieldsOf(l)]));
const env = fieldsOf(linesAfter(r.output, 'ENV')[0] ?? '');
const enabled = fieldsOf(linesAfter(r.output, 'ENABLED').find((l) => l.startsWith('temper ')) ?? '');
const winBegin = fieldsOf(linesAfter(r.output, 'WINDOW-BEGIN')[0] ?? '');
const winEnd = fieldsOf(linesAfter(r.output, 'WINDOW-END')[0] ?? '');
const statsLine = linesAfter(r.output, 'STATS').find((l) => l.startsWith('temper '))?.slice('temper '.length);
const layers = statsLine ? parseLayerStats(statsLine) : {};
const probePid = Number(linesAfter(r.output, 'PROBE-PID')[0]?.split(' ')[1] ?? -1);
const matchOf = new Map(linesAfter(r.output, 'M').map((l) => l.split(' ')).filter((f) => f[0] === 'temper').map((f) => [Number(f[1]), Number(f[2])]));
const layerNames = p.config.map((l) => l.name);
const probeLayer = layerNames[matchOf.get(probePid) ?? -1] ?? 'unknown';

const alone = probes.get('alone');
if (!alone) throw new Error('no "alone" probe result');
const arms = ['alone', 'default', 'temper', 'default-2', 'alone-2'].map((name) => {
  const pr = probes.get(name);
  const a = armLines.get(name) ?? {};
  const wallS = Number(a.t1) - Number(a.t0);
  return pr && {
    arm: name, samples: pr.n, p50_us: pr.p50_us, p90_us: pr.p90_us, p99_us: pr.p99_us, p999_us: pr.p999_us, max_us: pr.max_us, mean_us: pr.mean_us,
    ratio: { p50: round(pr.p50_us / alone.p50_us), p99: round(pr.p99_us / alone.p99_us), p999: round(pr.p999_us / alone.p999_us) },
    wall_s: round(wallS),
    // CPU the hogs got during the arm, in vCPUs' worth (work conservation)
    background_cpus: a.hogcpu_ns && wallS > 0 ? round(Number(a.hogcpu_ns) / 1e9 / wallS) : 0,
    scheduler: a.state === 'enabled' ? 'scx_layered' : 'default (EEVDF)',
  };
}).filter((x) => x !== undefined);

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

const versions = readVersions();
const date = new Date().toISOString().slice(0, 10);
const result = {
  date,
  kernel: versions.KERNEL_ABI,
  scx_layered: versions.SCX_LAYERED_VERSION,
  vm: { accel: `tcg,thread=${tcg}`, vcpus, preempt: env.preempt ?? '?', note: 'qemu TCG: absolute latencies are meaningless; compare ratios' },
  probe: { period_us: periodUs, samples_per_arm: samples, warmup_discarded: 200, metric: 'overshoot of clock_nanosleep(CLOCK_MONOTONIC, period) in µs' },
  pods: { critical: { name: 'bench/probe-0', qos: crit.assignment.qosClass, request: '1', limit: '1', cpu_weight: Number(env.crit_weight), cpu_max: env.crit_max }, background: { pods: hogs, qos: 'BestEffort', hogs_per_pod: 1, qos_slice_cpu_weight: Number(env.be_weight) } },
  temper: {
    config_sha256: p.configSha256,
    critical_layer: { kind: critLayer.kind, cpus_range: critLayer.cpusRange, exclusive: critLayer.exclusive, protected: critLayer.protected, demoted: critLayer.demoted },
    scheduler_start_s: Number(enabled.took),
    enable_seq: { window_begin: Number(winBegin.seq), window_end: Number(winEnd.seq), unchanged: winBegin.seq !== undefined && winBegin.seq === winEnd.seq && winEnd.state === 'enabled' },
    probe_task_layer: probeLayer,
    layer_tasks: Object.fromEntries(Object.entries(layers).map(([k, v]) => [k, { tasks: v.tasks, cur_nr_cpus: v.cur_nr_cpus, is_excl: v.is_excl }])),
  },
  arms,
  goal: 'temper p99 <= 1.1x alone while default p99 >= 3x',
  vm_wall_s: round(r.wallMs / 1000),
};

mkdirSync(opts.out, { recursive: true });
const base = join(opts.out, `isolation-${date}`);
writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(`${base}.svg`, svgChart(result.arms, `${vcpus} vCPUs, TCG; ${samples} × ${periodUs} µs sleeps per arm`));

console.log('arm         sched            p50 µs   p99 µs  p99.9 µs   max µs   p50×  p99×  p99.9×  bg CPUs');
for (const a of arms) {
  console.log(`${a.arm.padEnd(11)} ${a.scheduler.padEnd(15)} ${a.p50_us.toFixed(1).padStart(8)} ${a.p99_us.toFixed(1).padStart(8)} ${a.p999_us.toFixed(1).padStart(9)} ${a.max_us.toFixed(1).padStart(8)} ${a.ratio.p50.toFixed(2).padStart(6)} ${a.ratio.p99.toFixed(2).padStart(5)} ${a.ratio.p999.toFixed(2).padStart(7)} ${a.background_cpus.toFixed(2).padStart(8)}`);
}
console.log(`temper window: enable_seq ${winBegin.seq} → ${winEnd.seq} (${result.temper.enable_seq.unchanged ? 'unchanged' : 'CHANGED: window invalid'}); probe task in layer ${probeLayer}; layers ${Object.entries(result.temper.layer_tasks).map(([k, v]) => `${k}=${v.tasks}t/${v.cur_nr_cpus}cpu${v.is_excl ? '/excl' : ''}`).join(' ')}; scheduler start ${enabled.took}s`);
console.log(`goal: ${result.goal}; wrote ${base}.json and ${base}.svg (VM ${result.vm_wall_s}s)`);

/** A grouped bar chart of each arm's p50/p99/p99.9 as a multiple of "alone", log scale. */
function svgChart(rows: typeof arms, subtitle: string): string {
  const W = 760, H = 380, left = 60, right = 20, top = 56, bottom = 64;
  const plotW = W - left - right, plotH = H - top - bottom;
  const maxRatio = Math.max(4, ...rows.flatMap((a) => [a.ratio.p50, a.ratio.p99, a.ratio.p999]));
  const logMax = Math.log10(maxRatio * 1.3);
  const minRatio = 0.5;
  const logMin = Math.log10(minRatio);
  const y = (v: number) => top + plotH - ((Math.log10(Math.max(v, minRatio)) - logMin) / (logMax - logMin)) * plotH;
  const colors = { p50: '#8fb3d9', p99: '#2f6db3', p999: '#173a63' } as const;
  const groupW = plotW / rows.length;
  const barW = Math.min(36, (groupW - 24) / 3);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${left}" y="22" font-size="15" font-weight="bold">Critical-pod wakeup latency vs. alone (lower is better)</text>`);
  out.push(`<text x="${left}" y="40" fill="#555">${esc(subtitle)}; bars are pXX(arm) / pXX(alone), log scale</text>`);
  for (const g of [0.5, 1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000].filter((v) => v <= maxRatio * 1.3)) {
    out.push(`<line x1="${left}" x2="${W - right}" y1="${y(g).toFixed(1)}" y2="${y(g).toFixed(1)}" stroke="${g === 1 ? '#888' : '#e3e3e3'}"/>`);
    out.push(`<text x="${left - 6}" y="${(y(g) + 4).toFixed(1)}" text-anchor="end" fill="#555">${g}×</text>`);
  }
  for (const [v, label] of [[1.1, 'goal 1.1×'], [3, '3×']] as const) {
    out.push(`<line x1="${left}" x2="${W - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#c0392b" stroke-dasharray="5,4"/>`);
    out.push(`<text x="${W - right - 4}" y="${(y(v) - 4).toFixed(1)}" text-anchor="end" fill="#c0392b">${label}</text>`);
  }
  rows.forEach((a, i) => {
    const x0 = left + i * groupW + (groupW - 3 * barW) / 2;
    (['p50', 'p99', 'p999'] as const).forEach((k, j) => {
      const v = a.ratio[k];
      const yTop = y(v), yBase = y(minRatio);
      out.push(`<rect x="${(x0 + j * barW).toFixed(1)}" y="${yTop.toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${Math.max(0, yBase - yTop).toFixed(1)}" fill="${colors[k]}"><title>${a.arm} ${k}: ${v}× (${a[`${k}_us`]} µs)</title></rect>`);
      out.push(`<text x="${(x0 + j * barW + barW / 2 - 1).toFixed(1)}" y="${(yTop - 3).toFixed(1)}" text-anchor="middle" font-size="10">${v}</text>`);
    });
    out.push(`<text x="${(left + i * groupW + groupW / 2).toFixed(1)}" y="${H - bottom + 18}" text-anchor="middle" font-weight="bold">${esc(a.arm)}</text>`);
    out.push(`<text x="${(left + i * groupW + groupW / 2).toFixed(1)}" y="${H - bottom + 33}" text-anchor="middle" fill="#555">${esc(a.scheduler)}, p99 ${a.p99_us} µs</text>`);
  });
  (['p50', 'p99', 'p999'] as const).forEach((k, j) => {
    out.push(`<rect x="${left + j * 90}" y="${H - 18}" width="12" height="12" fill="${colors[k]}"/><text x="${left + j * 90 + 16}" y="${H - 8}">${k === 'p999' ? 'p99.9' : k}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
