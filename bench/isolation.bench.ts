// Isolation benchmark on a real sched_ext kernel (bpf/vm.ts, one qemu TCG boot): a wakeup-latency
// probe in the Critical pod's container cgroup (bpf/workload.c: 1 ms sleeps, records the
// overshoot) while Background-tier CPU hogs saturate every vCPU. Arms, back to back in the same
// boot, each a fixed number of samples:
//   alone    probe only, default scheduler (EEVDF), kubelet-style cpu.weight on the pod cgroups
//   default  probe + hogs, default scheduler, the same weights
//   default-idle  the same with cpu.idle=1 on kubepods-besteffort.slice: the strongest isolation
//            the default scheduler offers (a non-idle wakeup always preempts an idle group), so
//            its inflation is what the emulator itself adds when hogs share the probe's vCPU
//   temper   probe + hogs under scx_layered with the config core's plan() renders for these pods
//   temper-r0  only when the default policy demotes Critical (fewer than 3 vCPUs): the same with
//            node.reserved_cpus = 0, which fences a Critical core on 2 CPUs
//   default-2, alone-2  the first two again after the scheduler stopped (drift check)
// Reports p50/p99/p99.9 per arm and each arm's ratio to "alone"; writes
// bench/results/isolation-<date>.json and .svg. Reported, not asserted. Under TCG absolute times
// mean nothing; the ratios are the result.
// Multi-threaded TCG by default: with one host thread for all vCPUs (thread=single) a probe
// whose vCPU shares the host thread with busy vCPUs waits ~3 ms per wakeup whatever the guest
// scheduler does (measured: even with nice-19 hogs), which would fake a "default is bad" result.
//
//   node bench/isolation.bench.ts [--vcpus N] [--samples N] [--period-us N] [--hogs-per-cpu N] [--tcg single|multi] [--out DIR] [--tag T]
// (results go to <out>/isolation-<date>[-T].{json,svg}); --from RESULT.json only redraws that
// result's SVG.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { GUEST_LIB, containerCgroupName, fieldsOf, kubeletCpuWeight, linesAfter, parseLayerStats } from '../bpf/guest.ts';
import { readVersions, runInVm, vmAvailability } from '../bpf/vm.ts';
import { defaultPolicy, parsePolicy } from '../core/config.ts';
import { podCgroupPath } from '../core/layers.ts';
import { nodeFromObject, podFromObject } from '../core/objects.ts';
import { plan } from '../core/plan.ts';

const { values: opts } = parseArgs({
  options: {
    vcpus: { type: 'string', default: '4' },
    samples: { type: 'string', default: '10000' },
    'period-us': { type: 'string', default: '1000' },
    'hogs-per-cpu': { type: 'string', default: '1' },
    tcg: { type: 'string', default: process.env.TEMPER_VM_TCG_THREAD ?? 'multi' },
    out: { type: 'string', default: join(import.meta.dirname, 'results') },
    tag: { type: 'string', default: '' },
    from: { type: 'string' },
  },
});
if (opts.from !== undefined) {
  const saved = JSON.parse(readFileSync(opts.from, 'utf8')) as { vm: { vcpus: number; accel: string }; probe: { period_us: number; samples_per_arm: number }; arms: Parameters<typeof svgChart>[0] };
  const svg = opts.from.replace(/\.json$/, '.svg');
  writeFileSync(svg, svgChart(saved.arms, `${saved.vm.vcpus} vCPUs, ${saved.vm.accel}; ${saved.probe.samples_per_arm} × ${saved.probe.period_us} µs sleeps per arm${saved.arms.some((a) => a.arm === 'temper-r0') ? '; temper-r0 = reserved_cpus 0' : ''}`));
  console.log(`wrote ${svg}`);
  process.exit(0);
}
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

// ---- the node, its pods and the configs Temper renders for them ----------------------------------

const nodeName = 'bench-vm';
const node = nodeFromObject({ kind: 'Node', metadata: { name: nodeName }, status: { capacity: { cpu: String(vcpus) } } }, 'bench');
const podObj = (name: string, uid: string, extra: Record<string, unknown>, resources: Record<string, unknown>): Record<string, unknown> => ({
  kind: 'Pod',
  metadata: { name, namespace: 'bench', uid },
  spec: { nodeName, ...extra, containers: [{ name: 'main', image: 'x', resources }] },
  status: { phase: 'Running' },
});
const pods = [
  podFromObject(podObj('probe-0', 'c0000000-0000-4000-8000-000000000001', { priorityClassName: 'infera-critical', priority: 1_000_000 },
    { requests: { cpu: '1', memory: '256Mi' }, limits: { cpu: '1', memory: '256Mi' } }), 'bench'),
  ...Array.from({ length: hogs }, (_, i) => podFromObject(podObj(`batch-${i}`, `b0000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`, {}, {}), 'bench')),
];

/**
 * The Temper arms: the default policy, and the same with node.reserved_cpus = 0. On a 2-CPU node
 * the default reserve leaves no whole core to fence, so Critical is demoted and every CPU is
 * owned by a Grouped layer; the second arm shows the Confined/exclusive layout on the same VM.
 */
const temperArms = [
  { arm: 'temper', policyText: '' },
  { arm: 'temper-r0', policyText: '[node]\nreserved_cpus = 0\n' },
].map(({ arm, policyText }) => {
  const policy = policyText ? parsePolicy(policyText, `bench ${arm}`) : defaultPolicy();
  const pl = plan(policy, node, pods);
  return { arm, policyText: policyText.trim().replace(/\n/g, ' '), plan: pl, critical: pl.layers.find((l) => l.name === 'critical')! };
}).filter((t, i, all) => i === 0 || all[0]!.critical.demoted);
const p = temperArms[0]!.plan; // pod placement and cgroup paths are the same in every arm
const placed = (name: string) => p.pods.find((x) => x.pod.name === name)!;
for (const t of temperArms) {
  for (const x of t.plan.pods) {
    const want = x.pod.name === 'probe-0' ? 'critical' : 'background';
    if (x.assignment.layer !== want) throw new Error(`${t.arm}: bench pod ${x.pod.name} landed in ${x.assignment.layer}, not ${want}`);
  }
}

const driver = defaultPolicy().node.cgroupDriver;
const dirOf = (x: (typeof p.pods)[number]) => podCgroupPath(driver, x.assignment.qosClass, x.pod.uid).replace(/\/$/, '');
const ctrOf = (x: (typeof p.pods)[number]) => `${dirOf(x)}/${containerCgroupName(driver, x.pod.uid, 'main')}`;
const crit = placed('probe-0');
const hogPlaced = p.pods.filter((x) => x.pod.name !== 'probe-0');

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
echo "ENV nproc=$(nproc) preempt=$(sed -n 's/.*(\([a-z]*\)).*/\1/p' /sys/kernel/debug/sched/preempt 2>/dev/null) crit_weight=$(cat $CG/${dirOf(crit)}/cpu.weight) crit_max=$(cat $CG/${dirOf(crit)}/cpu.max | tr ' ' '/') be_weight=$(cat $CG/kubepods.slice/kubepods-besteffort.slice/cpu.weight)"
HOGS=
hogcpu() { _s=0; for _p in $HOGS; do read _a _b _c < /proc/$_p/schedstat; _s=$((_s+_a)); done; echo $_s; }
arm() {
  _t0=$(now); _h0=$(hogcpu)
  workload probe -c $CG/${ctrOf(crit)} -l $1 -w 200 ${periodUs} ${samples} > /tmp/probe-$1.out &
  _pp=$!
  echo "$_pp" >> /tmp/tracked
  # placement, read while the probe runs (this perturbs only the Temper arms)
  if [ -n "$2" ]; then sleep 3; scx_report $1; echo "PROBE-PID $1 $_pp"; fi
  wait $_pp
  cat /tmp/probe-$1.out
  echo "ARM $1 t0=$_t0 t1=$(now) hogcpu_ns=$(( $(hogcpu) - _h0 )) state=$(cat $SCXFS/state) seq=$(cat $SCXFS/enable_seq)"
}
# A Temper arm. The hogs are stopped while scx_layered loads (it would otherwise take 2-3x as
# long to verify its BPF under full load); they resume, wake, and are matched before the window.
temper_arm() {
  kill -STOP $HOGS
  scx_start $1 /cfg/$1.json --enable-match-debug
  scx_wait_enabled $1 240
  kill -CONT $HOGS
  sleep 2
  echo "WINDOW-BEGIN $1 seq=$(cat $SCXFS/enable_seq) state=$(cat $SCXFS/state)"
  arm $1 report
  echo "WINDOW-END $1 seq=$(cat $SCXFS/enable_seq) state=$(cat $SCXFS/state)"
  # the kernel ejected the scheduler (watchdog, error): keep its reason and dump
  [ "$(cat $SCXFS/state)" = enabled ] || { dmesg | grep -v -E 'audit|random' | tail -n 60 | sed "s/^/DMESG $1 /"; scx_log $1 400; }
  scx_stop $1 INT
  sleep 1
}

arm alone
${hogPlaced.map((h) => `workload hog -c $CG/${ctrOf(h)} & HOGS="$HOGS $!"; echo "$!" >> /tmp/tracked`).join('\n')}
echo "HOGPIDS $HOGS"
sleep 1
arm default
echo 1 > $CG/kubepods.slice/kubepods-besteffort.slice/cpu.idle
arm default-idle
echo 0 > $CG/kubepods.slice/kubepods-besteffort.slice/cpu.idle
${temperArms.map((t) => `temper_arm ${t.arm}`).join('\n')}
arm default-2
kill $HOGS; HOGS=
sleep 1
arm alone-2
exit 0
`;

// ---- run ---------------------------------------------------------------------------------------

interface ProbeResult { label: string; n: number; period_us: number; mean_us: number; p50_us: number; p90_us: number; p99_us: number; p999_us: number; max_us: number }

const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`isolation bench: ${vcpus} vCPUs (TCG ${tcg}), ${hogs} Background hogs, ${samples} samples of ${periodUs} µs sleeps per arm`);
for (const t of temperArms) console.log(`  ${t.arm}: ${t.policyText || 'default policy'}: Critical ${t.critical.kind} cpus_range ${JSON.stringify(t.critical.cpusRange)}${t.critical.demoted ? ' (demoted)' : ''}${t.critical.exclusive ? ' exclusive' : ''}`);
const files = Object.fromEntries(temperArms.map((t) => [`/cfg/${t.arm}.json`, t.plan.configJson]));
const hostLoadBefore = loadavg();
let r = await runInVm({ files, script, timeoutMs: 1_800_000, smp: vcpus, tcgThread: tcg, logName: 'isolation-bench' });
let retries = 0;
// Multi-threaded TCG can hit a stale-int3 kernel panic when sched_ext flips static keys (see
// bpf/vm.ts); that is the emulator, not the scheduler, so the boot is retried.
while (r.exitCode === null && !r.timedOut && /Kernel panic|Oops: int3/.test(r.output) && retries < 2) {
  retries++;
  console.log(`  guest kernel panicked under multi-threaded TCG (emulator code-patching race); retry ${retries}`);
  r = await runInVm({ files, script, timeoutMs: 1_800_000, smp: vcpus, tcgThread: tcg, logName: 'isolation-bench' });
}
const hostLoadAfter = loadavg();
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
const one = (prefix: string, name: string): Record<string, string> => fieldsOf(linesAfter(r.output, prefix).find((l) => l.startsWith(`${name} `)) ?? '');
const armLines = new Map(linesAfter(r.output, 'ARM').map((l) => [l.split(' ')[0]!, fieldsOf(l)]));
const env = fieldsOf(linesAfter(r.output, 'ENV')[0] ?? '');

const temperResults = temperArms.map((t) => {
  const statsLine = linesAfter(r.output, 'STATS').find((l) => l.startsWith(`${t.arm} `))?.slice(t.arm.length + 1);
  const layers = statsLine ? parseLayerStats(statsLine) : {};
  const probePid = Number(linesAfter(r.output, 'PROBE-PID').find((l) => l.startsWith(`${t.arm} `))?.split(' ')[1] ?? -1);
  const matchOf = new Map(linesAfter(r.output, 'M').map((l) => l.split(' ')).filter((f) => f[0] === t.arm).map((f) => [Number(f[1]), Number(f[2])]));
  const names = t.plan.config.map((l) => l.name);
  const hogPids = (linesAfter(r.output, 'HOGPIDS')[0] ?? '').split(' ').filter(Boolean).map(Number);
  const begin = one('WINDOW-BEGIN', t.arm);
  const end = one('WINDOW-END', t.arm);
  // why the kernel disabled the scheduler mid-window, when it did (e.g. "runnable task stall")
  const ejected = linesAfter(r.output, 'DMESG').filter((l) => l.startsWith(`${t.arm} `)).map((l) => /sched_ext: .*disabled \((.*)\)/.exec(l)?.[1]).find((x) => x !== undefined);
  const stallLine = linesAfter(r.output, 'LOG').filter((l) => l.startsWith(`${t.arm} `)).map((l) => l.slice(t.arm.length + 1)).find((l) => /^Error: EXIT:/.test(l));
  return {
    arm: t.arm,
    policy: t.policyText || 'default',
    config_sha256: t.plan.configSha256,
    critical_layer: { kind: t.critical.kind, cpus_range: t.critical.cpusRange, exclusive: t.critical.exclusive, protected: t.critical.protected, demoted: t.critical.demoted },
    scheduler_start_s: Number(one('ENABLED', t.arm).took),
    enable_seq: { window_begin: Number(begin.seq), window_end: Number(end.seq), unchanged: begin.seq !== undefined && begin.seq === end.seq && end.state === 'enabled' },
    ...(ejected !== undefined ? { ejected_by_kernel: ejected, scx_layered_exit: stallLine ?? null } : {}),
    probe_task_layer: names[matchOf.get(probePid) ?? -1] ?? 'unknown',
    hog_task_layers: hogPids.map((pid) => names[matchOf.get(pid) ?? -1] ?? 'unknown'),
    layers: Object.fromEntries(Object.entries(layers).map(([k, v]) => [k, { tasks: v.tasks, cur_nr_cpus: v.cur_nr_cpus, is_excl: v.is_excl, util_pct: round(v.util) }])),
  };
});

const alone = probes.get('alone');
if (!alone) throw new Error('no "alone" probe result');
const alone2 = probes.get('alone-2') ?? alone;
const arms = ['alone', 'default', 'default-idle', ...temperArms.map((t) => t.arm), 'default-2', 'alone-2'].map((name) => {
  const pr = probes.get(name);
  const a = armLines.get(name) ?? {};
  const wallS = Number(a.t1) - Number(a.t0);
  return pr && {
    arm: name, samples: pr.n, p50_us: pr.p50_us, p90_us: pr.p90_us, p99_us: pr.p99_us, p999_us: pr.p999_us, max_us: pr.max_us, mean_us: pr.mean_us,
    ratio: { p50: round(pr.p50_us / alone.p50_us), p99: round(pr.p99_us / alone.p99_us), p999: round(pr.p999_us / alone.p999_us) },
    // the same against the second "alone" run: how much the denominator itself drifts
    ratio_vs_alone_2: { p50: round(pr.p50_us / alone2.p50_us), p99: round(pr.p99_us / alone2.p99_us), p999: round(pr.p999_us / alone2.p999_us) },
    wall_s: round(wallS),
    // CPU the hogs got during the arm, in vCPUs' worth (work conservation)
    background_cpus: a.hogcpu_ns && wallS > 0 ? round(Number(a.hogcpu_ns) / 1e9 / wallS) : 0,
    scheduler: a.state === 'enabled' ? 'scx_layered' : 'default (EEVDF)',
    // a Temper arm whose scheduler was not enabled for the whole window measured something else
    valid: !temperArms.some((t) => t.arm === name) || temperResults.find((t) => t.arm === name)?.enable_seq.unchanged === true,
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
  vm: { accel: `tcg,thread=${tcg}`, vcpus, preempt: env.preempt ?? '?', boots: retries + 1, host_loadavg: { before: hostLoadBefore, after: hostLoadAfter }, note: 'qemu TCG on a shared 2-core host: absolute latencies are meaningless; compare ratios' },
  probe: { period_us: periodUs, samples_per_arm: samples, warmup_discarded: 200, metric: 'overshoot of clock_nanosleep(CLOCK_MONOTONIC, period) in µs' },
  pods: { critical: { name: 'bench/probe-0', qos: crit.assignment.qosClass, request: '1', limit: '1', cpu_weight: Number(env.crit_weight), cpu_max: env.crit_max }, background: { pods: hogs, qos: 'BestEffort', hogs_per_pod: 1, qos_slice_cpu_weight: Number(env.be_weight) } },
  temper: temperResults,
  arms,
  goal: 'temper p99 <= 1.1x alone while default p99 >= 3x',
  vm_wall_s: round(r.wallMs / 1000),
};

mkdirSync(opts.out, { recursive: true });
const base = join(opts.out, `isolation-${date}${opts.tag ? `-${opts.tag}` : ''}`);
writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(`${base}.svg`, svgChart(result.arms, `${vcpus} vCPUs, tcg,thread=${tcg}; ${samples} × ${periodUs} µs sleeps per arm${temperArms.length > 1 ? '; temper-r0 = reserved_cpus 0' : ''}`));

console.log('arm          sched            p50 µs   p99 µs  p99.9 µs   max µs   p50×  p99×  p99.9×  bg CPUs  (p99× vs alone-2)');
for (const a of arms) {
  console.log(`${(a.valid ? a.arm : `${a.arm}!`).padEnd(12)} ${a.scheduler.padEnd(15)} ${a.p50_us.toFixed(1).padStart(8)} ${a.p99_us.toFixed(1).padStart(8)} ${a.p999_us.toFixed(1).padStart(9)} ${a.max_us.toFixed(1).padStart(8)} ${a.ratio.p50.toFixed(2).padStart(6)} ${a.ratio.p99.toFixed(2).padStart(5)} ${a.ratio.p999.toFixed(2).padStart(7)} ${a.background_cpus.toFixed(2).padStart(8)}  (${a.ratio_vs_alone_2.p99.toFixed(2)})`);
}
for (const t of temperResults) {
  if (t.ejected_by_kernel) console.log(`${t.arm}! INVALID: the kernel disabled scx_layered during the window (${t.ejected_by_kernel}); ${t.scx_layered_exit ?? ''}`);
  console.log(`${t.arm} window: enable_seq ${t.enable_seq.window_begin} → ${t.enable_seq.window_end} (${t.enable_seq.unchanged ? 'unchanged' : 'CHANGED: window invalid'}); probe in ${t.probe_task_layer}, hogs in ${t.hog_task_layers.join(',')}; layers ${Object.entries(t.layers).map(([k, v]) => `${k}=${v.tasks}t/${v.cur_nr_cpus}cpu${v.is_excl ? '/excl' : ''}/${v.util_pct}%`).join(' ')}; scheduler start ${t.scheduler_start_s}s`);
}
console.log(`host load average ${hostLoadBefore} → ${hostLoadAfter}; goal: ${result.goal}; wrote ${base}.json and ${base}.svg (VM ${result.vm_wall_s}s, ${result.vm.boots} boot${result.vm.boots > 1 ? 's' : ''})`);

/** A grouped bar chart of each arm's p50/p99/p99.9 as a multiple of "alone", log scale. */
function svgChart(rows: typeof arms, subtitle: string): string {
  const left = 60, right = 70, top = 56, bottom = 96;
  const W = Math.max(760, left + right + rows.length * 120), H = 420;
  const plotW = W - left - right, plotH = H - top - bottom;
  const maxRatio = Math.max(4, ...rows.flatMap((a) => [a.ratio.p50, a.ratio.p99, a.ratio.p999]));
  const logMax = Math.log10(maxRatio * 1.3);
  const minRatio = Math.min(0.5, ...rows.flatMap((a) => [a.ratio.p50, a.ratio.p99, a.ratio.p999].map((v) => v * 0.8)));
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
  for (const g of [0.1, 0.2, 0.5, 1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000].filter((v) => v >= minRatio && v <= maxRatio * 1.3)) {
    out.push(`<line x1="${left}" x2="${W - right}" y1="${y(g).toFixed(1)}" y2="${y(g).toFixed(1)}" stroke="${g === 1 ? '#888' : '#e3e3e3'}"/>`);
    out.push(`<text x="${left - 6}" y="${(y(g) + 4).toFixed(1)}" text-anchor="end" fill="#555">${g}×</text>`);
  }
  for (const [v, label] of [[1.1, 'goal 1.1×'], [3, '3×']] as const) { // labels in the right margin
    out.push(`<line x1="${left}" x2="${W - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#c0392b" stroke-dasharray="5,4"/>`);
    out.push(`<text x="${W - right + 4}" y="${(y(v) + 4).toFixed(1)}" fill="#c0392b">${label}</text>`);
  }
  rows.forEach((a, i) => {
    const x0 = left + i * groupW + (groupW - 3 * barW) / 2;
    (['p50', 'p99', 'p999'] as const).forEach((k, j) => {
      const v = a.ratio[k];
      const yTop = y(v), yBase = y(minRatio);
      out.push(`<rect x="${(x0 + j * barW).toFixed(1)}" y="${yTop.toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${Math.max(0, yBase - yTop).toFixed(1)}" fill="${a.valid === false ? '#bbbbbb' : colors[k]}"><title>${a.arm} ${k}: ${v}× (${a[`${k}_us`]} µs)</title></rect>`);
      out.push(`<text x="${(x0 + j * barW + barW / 2 - 1).toFixed(1)}" y="${(yTop - 3).toFixed(1)}" text-anchor="middle" font-size="10">${v}</text>`);
    });
    out.push(`<text x="${(left + i * groupW + groupW / 2).toFixed(1)}" y="${H - bottom + 18}" text-anchor="middle" font-weight="bold">${esc(a.arm)}</text>`);
    const cx = (left + i * groupW + groupW / 2).toFixed(1);
    out.push(`<text x="${cx}" y="${H - bottom + 32}" text-anchor="middle" fill="${a.valid === false ? '#c0392b' : '#555'}">${a.valid === false ? 'INVALID: ejected' : a.scheduler === 'scx_layered' ? 'scx_layered' : 'EEVDF'}</text>`);
    out.push(`<text x="${cx}" y="${H - bottom + 46}" text-anchor="middle" fill="#555">p99 ${Math.round(a.p99_us)} µs</text>`);
    out.push(`<text x="${cx}" y="${H - bottom + 60}" text-anchor="middle" fill="#555">hogs got ${a.background_cpus} vCPU</text>`);
  });
  (['p50', 'p99', 'p999'] as const).forEach((k, j) => {
    out.push(`<rect x="${left + j * 90}" y="${H - 18}" width="12" height="12" fill="${colors[k]}"/><text x="${left + j * 90 + 16}" y="${H - 8}">${k === 'p999' ? 'p99.9' : k}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
