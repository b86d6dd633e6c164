// Workload-profile benchmark on a real sched_ext kernel (issue 12): one qemu boot, the real
// scx_layered, the node of bpf/profile-node.ts (default placement, hints): a Critical pod `app`
// (Guaranteed, 2 CPUs) running `workload threads` (bpf/workload.c): CPU-bound hot loops, an
// I/O-chain pair (short bursts, woken over an eventfd) and noisy housekeeping threads (CPU bursts),
// beside a second Critical pod (100m, napping) and BestEffort Background pods whose hogs fill the
// other CPUs. Two arms, interleaved in each of ≥ 3 rounds (the order alternates per round):
//   no-profile  the config plan() renders without the pod's annotation; every thread gets the
//               pod's hint (Critical's layer, 3 whole cores);
//   profile     the pod annotated `infera.io/workload-profile: vm-app`: hot loops exclusive,
//               the I/O chain latency, housekeeping yield; each thread's hint from threadHint.
// Each arm starts scx_layered with its config and the task-hint map, starts the Background hogs,
// then the app's process, writes its threads' hints, and measures after a warm-up (guest time):
//   - the hot loops' iterations per second and their CPUs (thread CPU time / wall);
//   - the I/O chain's wake-up latency (waker's write → wakee running): p50, p99;
//   - the housekeeping threads' CPUs (the price: yield runs them on idle time only);
// and reads every thread's live layer after the warm-up and near the end: a round whose arm had a
// thread outside its layer (or whose scheduler did not stay enabled) is left out of the ratios.
// Iterations/s are reported beside iterations per hot-loop CPU-second (the emulator's speed, which
// differs between arms with different numbers of busy vCPUs on an oversubscribed host).
// Reported as ratios profile / no-profile within each round (the emulator's speed cancels out),
// median and min–max over rounds; absolute values beside them. Nothing asserted; the design's
// claims are printed met / NOT met. Results as JSON + SVG in bench/results/profiles-<date>.json.
//
// vCPUs: the profile applies in full only from 4 (bpf/profile-node.ts says why), which
// oversubscribes this 2-core host under TCG: flagged in the output and the JSON.
//
//   flock /tmp/temper-vm.lock npm run bench:profiles [-- --vcpus N --rounds N --seconds S --warmup S
//     --hot N --housekeep N --burst-us U --hk-period-us U --io-period-us U --io-work-us U --bg-pods N
//     --tcg multi|single --out DIR --tag T]
import { cpus as hostCpus } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { GUEST_LIB, fieldsOf, linesAfter } from '../bpf/guest.ts';
import { expectedLayer, hintFunction, profileNode, threadNames, type ProfileNode } from '../bpf/profile-node.ts';
import { readVersions, runInVmRetrying, vmAvailability } from '../bpf/vm.ts';

const { values: opts } = parseArgs({
  options: {
    vcpus: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '3' },
    hot: { type: 'string' },
    housekeep: { type: 'string' },
    'burst-us': { type: 'string', default: '20000' },
    'hk-period-us': { type: 'string', default: '25000' },
    'io-period-us': { type: 'string', default: '1000' },
    'io-work-us': { type: 'string', default: '50' },
    'bg-pods': { type: 'string', default: '2' },
    tcg: { type: 'string', default: process.env.TEMPER_VM_TCG_THREAD ?? 'multi' },
    out: { type: 'string', default: join(import.meta.dirname, 'results') },
    tag: { type: 'string', default: '' },
    from: { type: 'string' },
  },
});

const f = (v: number | null | undefined, d = 2): string => (v === null || v === undefined ? '—' : v.toFixed(d));
const sp = (s: readonly [number, number] | null, d = 2): string => (s === null ? '—' : `${s[0].toFixed(d)}–${s[1].toFixed(d)}`);

const ARMS = ['no-profile', 'profile'] as const;
type Arm = (typeof ARMS)[number];
const PIN = '/sys/fs/bpf/temper/hints';

if (opts.from !== undefined) {
  const saved = JSON.parse(readFileSync(opts.from, 'utf8')) as SavedResult;
  const svg = opts.from.replace(/\.json$/, '.svg');
  writeFileSync(svg, svgChart(saved.summary, saved.title));
  printResult(saved);
  console.log(`wrote ${svg}`);
  process.exit(0);
}

const vcpus = Number(opts.vcpus);
const nodes: Record<Arm, ProfileNode> = {
  'no-profile': profileNode({ vcpus, placement: 'hints', profiled: false, backgroundPods: Number(opts['bg-pods']) }),
  profile: profileNode({ vcpus, placement: 'hints', profiled: true, backgroundPods: Number(opts['bg-pods']) }),
};
const groups = nodes.profile.plan.profiles.rendering.pods.find((p) => p.name === 'app')?.groups ?? [];
const cpusOf = (layer: string, n: ProfileNode): number => {
  const k = n.plan.config.find((l) => l.name === layer)?.kind;
  const f = k === undefined ? undefined : 'Confined' in k ? k.Confined : 'Grouped' in k ? k.Grouped : undefined;
  return f?.cpus_range[0] ?? 0;
};
// Defaults: as many hot loops as CPUs the profile gives them (one thread per exclusive CPU), and
// as many housekeeping threads as Critical's layer has CPUs without the profile, so that
// housekeeping alone could keep the pod's CPUs busy.
const hotDefault = Math.max(1, (groups.find((g) => g.group === 'hot')?.cores ?? 1) * nodes.profile.policy.node.threadsPerCore);
const params = {
  hot: Number(opts.hot ?? hotDefault),
  housekeep: Number(opts.housekeep ?? Math.max(1, cpusOf('critical', nodes['no-profile']))),
  rounds: Number(opts.rounds), seconds: Number(opts.seconds), warmup: Number(opts.warmup),
  burstUs: Number(opts['burst-us']), hkPeriodUs: Number(opts['hk-period-us']), ioPeriodUs: Number(opts['io-period-us']), ioWorkUs: Number(opts['io-work-us']),
  bgPods: Number(opts['bg-pods']),
};
for (const [k, v, min] of [['vcpus', vcpus, 2], ['rounds', params.rounds, 1], ['seconds', params.seconds, 1], ['warmup', params.warmup, 1], ['hot', params.hot, 1], ['housekeep', params.housekeep, 1], ['bg-pods', params.bgPods, 0], ['io-period-us', params.ioPeriodUs, 100]] as const) {
  if (!Number.isInteger(v) || v < min) {
    console.error(`profiles bench: --${k} must be an integer ≥ ${min} (got ${v})`);
    process.exit(2);
  }
}
if (!(params.burstUs >= 0 && params.hkPeriodUs > params.burstUs && params.ioWorkUs >= 0)) {
  console.error('profiles bench: need 0 ≤ --burst-us < --hk-period-us and --io-work-us ≥ 0');
  process.exit(2);
}
const avail = vmAvailability();
if (!avail.ok) {
  console.error(`profiles bench: VM unavailable: ${avail.reason}`);
  process.exit(2);
}
const tcg = opts.tcg === 'single' ? 'single' : 'multi';
const oversubscribed = vcpus > hostCpus().length;
const degraded = groups.filter((g) => g.status !== 'applied');
const comms = threadNames(params.hot, params.housekeep);
/** Hog threads per Background pod: together at least one per vCPU. */
const hogThreads = params.bgPods === 0 ? 0 : Math.ceil(vcpus / params.bgPods);

// ---- the guest script ----------------------------------------------------------------------

const n0 = nodes.profile;
const bgPods = n0.pods.filter((p) => p.role === 'bg');
const fn = (arm: Arm): string => `hint_${arm.replace('-', '_')}`;
const armScript = (arm: Arm, round: number): string => {
  const label = `${arm}.${round}`;
  const n = nodes[arm];
  return String.raw`
echo "ARM-START ${label} t=$(now)"
scx_start ${label} /cfg/${arm}.json --enable-match-debug --task-hint-map ${PIN}
if scx_wait_enabled ${label} 300; then
  temper-hints set-cgroup ${PIN} ${n.plain.placed.assignment.hint ?? 0} $CG/${n.plain.dir} > /dev/null
  BG=
${bgPods.map((p) => `  workload hog -P -n ${hogThreads} & _x=$!; adopt $_x $CG/${p.ctr}; BG="$BG $_x"`).join('\n')}
  workload threads -c $CG/${n.app.ctr} -l ${label} -n ${params.hot} -k ${params.housekeep} -b ${params.burstUs} -p ${params.hkPeriodUs} -i ${params.ioPeriodUs} -s ${params.ioWorkUs} -W ${params.warmup} -d ${params.seconds} > /tmp/thr-${label}.out &
  APP=$!
  _i=0
  until [ $(cat /proc/$APP/task/*/comm 2>/dev/null | grep -c -E '^(hot_loop|io_chain|housekeep)') -eq ${comms.length - 1} ] || [ $_i -ge 200 ]; do sleep 0.05; _i=$((_i+1)); done
  ${fn(arm)} ${PIN} $APP ${label} > /tmp/hints-${label}.log
  echo "HINTED ${label} $(grep -c ' ok ' /tmp/hints-${label}.log) of $(ls /proc/$APP/task | wc -l)"
  echo "ARM-BEGIN ${label} seq=$(cat $SCXFS/enable_seq) state=$(cat $SCXFS/state)"
  sleep ${Math.max(1, params.warmup - 1)}
  for _t in $(ls /proc/$APP/task); do echo "PLACED ${label} $(cat /proc/$APP/task/$_t/comm) $(scx-matches tasks -m ${PIN} $_t)"; done
  sleep ${Math.max(1, params.seconds - 2)}
  for _t in $(ls /proc/$APP/task); do echo "PLACED ${label} $(cat /proc/$APP/task/$_t/comm) $(scx-matches tasks -m ${PIN} $_t)"; done
  wait $APP
  cat /tmp/thr-${label}.out
  echo "ARM-END ${label} seq=$(cat $SCXFS/enable_seq) state=$(cat $SCXFS/state)"
  kill $BG 2>/dev/null; for _x in $BG; do wait $_x 2>/dev/null; done
else
  scx_log ${label} 20
fi
scx_stop ${label} INT`;
};

const order = (round: number): readonly Arm[] => (round % 2 === 1 ? ARMS : [...ARMS].reverse());
const script = String.raw`${GUEST_LIB}
echo 0 > /proc/sys/kernel/sched_autogroup_enabled
grep -q ' /sys/fs/bpf bpf ' /proc/mounts || mount -t bpf bpf /sys/fs/bpf
mkdir -p /sys/fs/bpf/temper && chmod 0700 /sys/fs/bpf/temper
${n0.pods.map((p) => `mkdir -p $CG/${p.dir} && mkdir -p $CG/${p.ctr}`).join('\n')}
# adopt PID CGROUP: waits until PID has stopped itself (workload -P), moves it, continues it
adopt() {
  _j=0
  until grep -q '^State:.*stopped' /proc/$1/status 2>/dev/null || [ $_j -ge 500 ]; do sleep 0.01; _j=$((_j+1)); done
  echo $1 > $2/cgroup.procs || echo "ADOPT-FAIL $1 $2"
  kill -CONT $1
}
${ARMS.map((a) => hintFunction(fn(a), nodes[a], nodes[a].app, comms)).join('\n')}
workload nap -c $CG/${n0.plain.ctr} 100000 &
echo "ENV nproc=$(nproc)"
${Array.from({ length: params.rounds }, (_, i) => order(i + 1).map((a) => armScript(a, i + 1)).join('\n')).join('\n')}
exit 0
`;

const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const layout = (n: ProfileNode): string => n.plan.config.map((l) => {
  const k = l.kind;
  const f = 'Confined' in k ? k.Confined : 'Grouped' in k ? k.Grouped : null;
  return `${l.name}:${Object.keys(k)[0]}${f ? `[${f.cpus_range.join(',')}]` : ''}`;
}).join(' ');
console.log(`profiles bench: ${vcpus} vCPUs (TCG ${tcg})${oversubscribed ? ` — OVERSUBSCRIBED: ${vcpus} vCPUs on ${hostCpus().length} host CPUs (the profile applies in full only from 4 vCPUs)` : ''}; ${params.rounds} rounds × ${ARMS.length} arms, ${params.warmup} s warm-up + ${params.seconds} s measured each`);
console.log(`  app: ${params.hot} hot loops, I/O chain every ${params.ioPeriodUs} µs (${params.ioWorkUs} µs bursts), ${params.housekeep} housekeeping threads (${params.burstUs} µs burst every ${params.hkPeriodUs} µs); ${params.bgPods} BestEffort pods × ${hogThreads} hogs`);
for (const a of ARMS) console.log(`  ${a}: ${layout(nodes[a])}`);
console.log(`  profile groups: ${groups.map((g) => `${g.group} → ${g.layer} (${g.status}${g.code ? `, ${g.code}` : ''})`).join('; ')}`);
if (degraded.length > 0) console.log(`  WARNING: at ${vcpus} vCPUs ${degraded.map((g) => g.group).join(', ')} cannot be treated: the profile is only partly in effect`);

const hostLoadBefore = loadavg();
const r = await runInVmRetrying({
  files: { '/cfg/no-profile.json': nodes['no-profile'].plan.configJson, '/cfg/profile.json': nodes.profile.plan.configJson },
  script, timeoutMs: 3_600_000, smp: vcpus, tcgThread: tcg, logName: `profiles-bench-${vcpus}`,
});
const hostLoadAfter = loadavg();
if (r.exitCode !== 0) {
  console.error(r.output.slice(-6000));
  console.error(`profiles bench: the VM run failed (exit ${r.exitCode}, timed out ${r.timedOut}, retried: ${r.retries.join('; ') || 'no'})`);
  process.exit(1);
}
const out = r.output;

// ---- parse ---------------------------------------------------------------------------------

interface ThreadsLine {
  label: string; seconds: number; hot_iters: number; hot_cpu_s: number; housekeep_cpu_s: number; io_cpu_s: number;
  io: { n: number; p50_us?: number; p99_us?: number; p999_us?: number; max_us?: number };
}
const reports = new Map(linesAfter(out, 'THREADS').map((l) => JSON.parse(l) as ThreadsLine).map((t) => [t.label, t]));

interface ArmRound {
  arm: Arm; round: number; valid: boolean; misplaced: string[];
  hot_iters_per_s: number | null; hot_cpus: number | null; hot_iters_per_cpu_s: number | null; housekeep_cpus: number | null;
  io_p50_us: number | null; io_p99_us: number | null; io_samples: number;
}
const rows: ArmRound[] = [];
for (let round = 1; round <= params.rounds; round++) {
  for (const arm of ARMS) {
    const label = `${arm}.${round}`;
    const t = reports.get(label);
    const begin = fieldsOf(linesAfter(out, 'ARM-BEGIN').find((l) => l.startsWith(`${label} `)) ?? '');
    const end = fieldsOf(linesAfter(out, 'ARM-END').find((l) => l.startsWith(`${label} `)) ?? '');
    // each thread's live layer after the warm-up and near the end: where the arm's plan wants it?
    const n = nodes[arm];
    const names = n.plan.config.map((l) => l.name);
    const misplaced = linesAfter(out, 'PLACED').filter((l) => l.startsWith(`${label} `)).flatMap((l) => {
      const [, comm, ...rest] = l.split(' ');
      const live = / live=(\S+)/.exec(rest.join(' '))?.[1];
      const seen = live === undefined ? 'gone' : names[Number(live)] ?? live;
      const want = expectedLayer(n, n.app, comm ?? '');
      return seen === want ? [] : [`${comm} in ${seen} (wants ${want})`];
    }).filter((x, i, all) => all.indexOf(x) === i);
    const s = t?.seconds ?? 0;
    rows.push({
      arm, round, misplaced,
      valid: t !== undefined && begin.state === 'enabled' && end.state === 'enabled' && begin.seq === end.seq,
      hot_iters_per_s: t && s > 0 ? Math.round(t.hot_iters / s) : null,
      hot_cpus: t && s > 0 ? round3(t.hot_cpu_s / s) : null,
      hot_iters_per_cpu_s: t && t.hot_cpu_s > 0 ? Math.round(t.hot_iters / t.hot_cpu_s) : null,
      housekeep_cpus: t && s > 0 ? round3(t.housekeep_cpu_s / s) : null,
      io_p50_us: t?.io.p50_us ?? null, io_p99_us: t?.io.p99_us ?? null, io_samples: t?.io.n ?? 0,
    });
  }
}

function round3(x: number): number { return Math.round(x * 1000) / 1000; }
function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}
const range = (xs: readonly number[]): [number, number] | null => (xs.length ? [Math.min(...xs), Math.max(...xs)] : null);

const METRICS = [
  { key: 'hot_iters_per_s', text: 'hot loops: iterations/s', better: 'higher' },
  { key: 'hot_cpus', text: 'hot loops: CPUs', better: 'higher' },
  { key: 'hot_iters_per_cpu_s', text: 'emulator speed: iterations per hot CPU-s', better: 'either' },
  { key: 'io_p50_us', text: 'I/O chain wake-up p50', better: 'lower' },
  { key: 'io_p99_us', text: 'I/O chain wake-up p99', better: 'lower' },
  { key: 'housekeep_cpus', text: 'housekeeping: CPUs (the price)', better: 'either' },
] as const;
type Metric = (typeof METRICS)[number]['key'];

interface MetricSummary {
  metric: Metric; text: string; better: string;
  no_profile: { median: number | null; spread: [number, number] | null };
  profile: { median: number | null; spread: [number, number] | null };
  /** profile / no-profile of the same round, per valid round pair */
  ratio: { median: number | null; spread: [number, number] | null; rounds: number[] };
}
/** A row counts when its scheduler stayed enabled and every thread was in its layer at both samples. */
const counts = (x: ArmRound): boolean => x.valid && x.misplaced.length === 0;
const rowOf = (arm: Arm, round: number): ArmRound | undefined => rows.find((x) => x.arm === arm && x.round === round && counts(x));
const summary: MetricSummary[] = METRICS.map((m) => {
  const vals = (arm: Arm): number[] => rows.filter((x) => x.arm === arm && counts(x)).map((x) => x[m.key]).filter((v): v is number => v !== null);
  const ratios: number[] = [];
  for (let round = 1; round <= params.rounds; round++) {
    const a = rowOf('profile', round)?.[m.key];
    const b = rowOf('no-profile', round)?.[m.key];
    if (a !== undefined && a !== null && b !== undefined && b !== null && b > 0) ratios.push(round3(a / b));
  }
  const arm = (a: Arm): MetricSummary['profile'] => ({ median: median(vals(a)), spread: range(vals(a)) });
  return { metric: m.key, text: m.text, better: m.better, no_profile: arm('no-profile'), profile: arm('profile'), ratio: { median: median(ratios), spread: range(ratios), rounds: ratios } };
});

const S = (m: Metric): MetricSummary => summary.find((s) => s.metric === m)!;
const claims = [
  { claim: 'the hot loops lose nothing to their own pod\'s housekeeping: CPUs profile ÷ no-profile ≥ 0.95 (guest time; iterations/s also carry the emulator\'s speed, see the emulator-speed row)', value: S('hot_cpus').ratio, met: (S('hot_cpus').ratio.median ?? 0) >= 0.95 },
  { claim: 'the I/O chain wakes faster with the profile: p99 profile ÷ no-profile < 1', value: S('io_p99_us').ratio, met: (S('io_p99_us').ratio.median ?? Infinity) < 1 },
  { claim: 'every thread was in its arm\'s layer after the warm-up and near the end, every arm valid (rounds where not are left out of the ratios)', value: rows.filter((x) => !x.valid || x.misplaced.length > 0).map((x) => `${x.arm}.${x.round}: ${x.valid ? '' : 'INVALID '}${x.misplaced.join(', ')}`), met: rows.every((x) => x.valid && x.misplaced.length === 0) },
];

// ---- write ---------------------------------------------------------------------------------

const versions = readVersions();
const date = new Date().toISOString().slice(0, 10);
const title = `${vcpus} vCPUs, tcg,thread=${tcg}${oversubscribed ? ' (OVERSUBSCRIBED host)' : ''}; ${params.rounds} rounds; profile ÷ no-profile of the same round, median, whiskers = min–max`;
const result = {
  date, kernel: versions.KERNEL_ABI, scx_layered: versions.SCX_LAYERED_VERSION,
  vm: { accel: `tcg,thread=${tcg}`, vcpus, host_cpus: hostCpus().length, oversubscribed, boots: r.retries.length + 1, retried: r.retries, host_loadavg: { before: hostLoadBefore, after: hostLoadAfter }, wall_s: Math.round(r.wallMs / 100) / 10, note: 'qemu TCG on a shared 2-core host: absolute values mean little; compare the arms of the same round' },
  workload: { ...params, hog_threads_per_bg_pod: hogThreads, threads: comms },
  profile_groups: groups.map((g) => ({ group: g.group, layer: g.layer, hint: g.hint, cores: g.cores, status: g.status, code: g.code })),
  layouts: Object.fromEntries(ARMS.map((a) => [a, layout(nodes[a])])),
  config_sha256: Object.fromEntries(ARMS.map((a) => [a, nodes[a].plan.configSha256])),
  rows, summary, claims, title,
};
mkdirSync(opts.out, { recursive: true });
const base = join(opts.out, `profiles-${date}${opts.tag ? `-${opts.tag}` : ''}`);
writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(`${base}.svg`, svgChart(summary, title));

printResult(result);
console.log(`host load average ${hostLoadBefore} → ${hostLoadAfter}; VM ${result.vm.wall_s} s, ${result.vm.boots} boot(s); wrote ${base}.json and ${base}.svg`);


interface SavedResult { summary: MetricSummary[]; rows: ArmRound[]; claims: { claim: string; value: unknown; met: boolean }[]; title: string }

/** The table, the rounds left out and the claims, as printed after a run (and by --from). */
function printResult(res: SavedResult): void {
  const { summary, rows, claims } = res;
  console.log('metric                                     no-profile [min–max]          profile [min–max]             profile÷no-profile [min–max]');
  for (const s of summary) {
    const d = s.metric.startsWith('hot_iters') ? 0 : s.metric.startsWith('io') ? 1 : 3;
    console.log(`${s.text.padEnd(42)} ${`${f(s.no_profile.median, d)} [${sp(s.no_profile.spread, d)}]`.padEnd(29)} ${`${f(s.profile.median, d)} [${sp(s.profile.spread, d)}]`.padEnd(29)} ${f(s.ratio.median, 3)} [${sp(s.ratio.spread, 3)}]`);
  }
  for (const x of rows) if (!x.valid || x.misplaced.length) console.log(`  ${x.arm}.${x.round}: ${x.valid ? 'valid' : 'INVALID (scheduler not enabled for the whole arm)'}${x.misplaced.length ? `; misplaced: ${x.misplaced.join(', ')}` : ''}`);
  for (const c of claims) console.log(`  [${c.met ? 'met' : 'NOT met'}] ${c.claim}: ${JSON.stringify(c.value)}`);
}

/** One panel per metric: the profile ÷ no-profile ratio (median bar, min–max whisker), 1 marked. */
function svgChart(rows: readonly MetricSummary[], subtitle: string): string {
  const W = 900, H = 320, top = 70, plotH = 180, gap = 24;
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const pw = (W - 40 - gap * (rows.length - 1)) / rows.length;
  const o: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`, `<rect width="${W}" height="${H}" fill="white"/>`,
    '<text x="20" y="20" font-size="15" font-weight="bold">Temper workload profiles: profile ÷ no-profile</text>', `<text x="20" y="38" fill="#555">${esc(subtitle)}</text>`];
  rows.forEach((s, i) => {
    const x0 = 20 + i * (pw + gap);
    const vals = [s.ratio.median, ...(s.ratio.spread ?? [])].filter((v): v is number => v !== null);
    const max = Math.max(...vals, 1) * 1.2;
    const y = (v: number): number => top + plotH - (v / max) * plotH;
    o.push(`<text x="${x0}" y="${top - 14}" font-weight="bold">${esc(s.text)}</text>`, `<text x="${x0}" y="${top - 2}" fill="#555">${esc(s.better === 'either' ? 'reported' : `${s.better} is better`)}</text>`);
    o.push(`<line x1="${x0}" x2="${x0 + pw}" y1="${top + plotH}" y2="${top + plotH}" stroke="#888"/>`, `<line x1="${x0}" x2="${x0 + pw}" y1="${y(1).toFixed(1)}" y2="${y(1).toFixed(1)}" stroke="#c0392b" stroke-dasharray="4,3"/>`);
    const m = s.ratio.median;
    if (m === null) {
      o.push(`<text x="${x0 + pw / 2}" y="${top + plotH - 4}" text-anchor="middle" fill="#999">n/a</text>`);
      return;
    }
    const bx = x0 + pw * 0.3, bw = pw * 0.4, cx = (bx + bw / 2).toFixed(1);
    o.push(`<rect x="${bx.toFixed(1)}" y="${y(m).toFixed(1)}" width="${bw.toFixed(1)}" height="${(top + plotH - y(m)).toFixed(1)}" fill="#2f6db3"><title>${esc(s.text)}: ${m.toFixed(3)}×</title></rect>`);
    o.push(`<text x="${cx}" y="${(y(m) - 4).toFixed(1)}" text-anchor="middle">${m.toFixed(2)}×</text>`);
    if (s.ratio.spread) o.push(`<line x1="${cx}" x2="${cx}" y1="${y(s.ratio.spread[0]).toFixed(1)}" y2="${y(s.ratio.spread[1]).toFixed(1)}" stroke="black"/>`);
    o.push(`<text x="${cx}" y="${top + plotH + 16}" text-anchor="middle" fill="#555">${esc(`${f(s.no_profile.median, s.metric.startsWith('io') ? 0 : 2)} → ${f(s.profile.median, s.metric.startsWith('io') ? 0 : 2)}${s.metric.startsWith('io') ? ' µs' : ''}`)}</text>`);
  });
  o.push('</svg>');
  return `${o.join('\n')}\n`;
}
