// Isolation benchmark on a real sched_ext kernel (bpf/vm.ts, one qemu boot, real scx_layered).
// The node is bpf/node-load.ts's: a Critical pod (Burstable, requests 1 CPU, no limit), both
// Background populations (BestEffort hogs; Burstable hogs of the Background PriorityClass whose
// requests fill the rest of the node, more threads than requested), kubelet's cpu.weight on every
// cgroup. Arms, interleaved in each of ≥ 3 rounds:
//   alone          the Critical pod only, default scheduler (EEVDF): the denominator
//   default-<pop>  + Background population <pop> (be | bgb), EEVDF with kubelet's weights
//   idle-<pop>     the same with cpu.idle=1 on every Background pod cgroup: the most the default
//                  scheduler offers (a non-idle wake-up always preempts an idle group)
//   temper-<pop>   the same load under scx_layered with the config core's plan() renders
// Each arm measures, in guest time (the emulator's speed cancels out):
//   1. the Critical probe: 1 ms sleeps, overshoot p50/p99/p99.9 (bpf/workload.c probe);
//   2. the Critical pod's CPU while it bursts above its request: N busy threads for --burst-s,
//      its guest CPU time / wall = CPUs it got (request: 1);
//   3. Background's CPU time on the CPUs Temper fences for Critical (the Critical layer's CPUs
//      per scx_layered's stats), from per-CPU cgroup-v1 cpuacct accounting, during the probe;
//      in the default arms the same CPUs, unfenced, for comparison.
// Reported, not asserted; targets (issue 10) printed met / NOT met. Results as JSON + SVG in
// bench/results/. Headline: 2 vCPUs (= host cores) with multi-threaded TCG; 3 and 4 vCPUs
// oversubscribe the 2-core host and are flagged so.
//
//   node bench/isolation.bench.ts [--vcpus N] [--rounds N] [--samples N] [--burst-s S] [--tcg multi|single] [--out DIR] [--tag T]
//   node bench/isolation.bench.ts --from RESULT.json     (redraws that result's SVG)
import { cpus as hostCpus } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { GUEST_LIB, fieldsOf, linesAfter } from '../bpf/guest.ts';
import { BACKGROUND_GROUPS, acctSnapshot, cpuShares, layerCpus, loadNode } from '../bpf/node-load.ts';
import { readVersions, runInVmRetrying, vmAvailability } from '../bpf/vm.ts';

const { values: opts } = parseArgs({
  options: {
    vcpus: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
    samples: { type: 'string', default: '10000' },
    'burst-s': { type: 'string', default: '8' },
    tcg: { type: 'string', default: process.env.TEMPER_VM_TCG_THREAD ?? 'multi' },
    out: { type: 'string', default: join(import.meta.dirname, 'results') },
    tag: { type: 'string', default: '' },
    from: { type: 'string' },
  },
});

const POPS = ['be', 'bgb'] as const;
type Pop = (typeof POPS)[number];
const POP_TEXT: Record<Pop, string> = { be: 'BestEffort hogs', bgb: 'Burstable Background-class hogs filling the node' };
const ARMS = ['alone', ...POPS.flatMap((p) => [`default-${p}`, `idle-${p}`, `temper-${p}`])];

interface ArmRound {
  arm: string;
  round: number;
  scheduler: 'scx_layered' | 'default (EEVDF)';
  p50_us: number; p99_us: number; p999_us: number; max_us: number; samples: number;
  /** CPUs the Critical burst got (guest CPU time / wall) */
  crit_burst_cpus: number;
  /** Background CPUs during the burst */
  background_cpus_in_burst: number;
  /** Background CPUs during the probe */
  background_cpus: number;
  /** Background's share of the fenced CPUs' time during the probe */
  background_on_fenced: number | null;
  valid: boolean;
}

interface Summary {
  arm: string;
  median: Record<'p50_us' | 'p99_us' | 'p999_us' | 'crit_burst_cpus' | 'background_on_fenced' | 'background_cpus' | 'p99_ratio', number | null>;
  spread: Record<'p99_us' | 'crit_burst_cpus' | 'background_on_fenced' | 'p99_ratio', [number, number] | null>;
  valid_rounds: number;
}

if (opts.from !== undefined) {
  const saved = JSON.parse(readFileSync(opts.from, 'utf8')) as { summary: Summary[]; title: string };
  const svg = opts.from.replace(/\.json$/, '.svg');
  writeFileSync(svg, svgChart(saved.summary, saved.title));
  console.log(`wrote ${svg}`);
  process.exit(0);
}

const vcpus = Number(opts.vcpus);
const rounds = Number(opts.rounds);
const samples = Number(opts.samples);
const burstS = Number(opts['burst-s']);
const tcg = opts.tcg === 'single' ? 'single' : 'multi';
for (const [k, v, min] of [['vcpus', vcpus, 2], ['rounds', rounds, 1], ['samples', samples, 100], ['burst-s', burstS, 1]] as const) {
  if (!Number.isInteger(v) || v < min) {
    console.error(`isolation bench: --${k} must be an integer ≥ ${min} (got ${JSON.stringify(opts[k])})`);
    process.exit(2);
  }
}
const avail = vmAvailability();
if (!avail.ok) {
  console.error(`isolation bench: VM unavailable: ${avail.reason}`);
  process.exit(2);
}
const oversubscribed = vcpus > hostCpus().length;

const load = loadNode(vcpus);
const critLayer = load.plan.layers.find((l) => l.name === 'critical')!;

const armScript = (arm: string, round: number): string => {
  const label = `${arm}.${round}`;
  const pop = arm === 'alone' ? null : arm.split('-')[1];
  const lines = [
    pop ? `start_pop ${pop}; sleep 2` : '',
    arm.startsWith('temper-') ? `layer_stats ${label}-begin` : '',
    `echo "ARM-BEGIN ${label} seq=$(cat $SCXFS/enable_seq) state=$(cat $SCXFS/state)"`,
    `acct_snap ${label}-p0`,
    `workload probe -c $CG/${load.pods.find((p) => p.group === 'crit')!.ctr} -a $ACCT/crit -l ${label} -w 200 1000 ${samples}`,
    `acct_snap ${label}-p1`,
    `burst_crit ${label} ${burstS} ${vcpus}`,
    `acct_snap ${label}-b1`,
    arm.startsWith('temper-') ? `layer_stats ${label}-end` : '',
    `echo "ARM-END ${label} seq=$(cat $SCXFS/enable_seq) state=$(cat $SCXFS/state)"`,
    pop ? `stop_pop ${pop}` : '',
  ];
  return lines.filter(Boolean).join('\n');
};

const roundScript = (round: number): string => [
  armScript('alone', round),
  ...POPS.flatMap((p) => [armScript(`default-${p}`, round), `bg_idle 1`, armScript(`idle-${p}`, round), `bg_idle 0`]),
  `scx_start r${round} /cfg/temper.json`,
  `if scx_wait_enabled r${round} 300; then`,
  ...POPS.map((p) => armScript(`temper-${p}`, round)),
  `[ "$(cat $SCXFS/state)" = enabled ] || { dmesg | grep -v -E 'audit|random' | tail -n 40 | sed "s/^/DMESG r${round} /"; scx_log r${round} 40; }`,
  `scx_stop r${round} INT`,
  'fi',
].join('\n');

const script = `${GUEST_LIB}\n${load.setup}\n${Array.from({ length: rounds }, (_, i) => roundScript(i + 1)).join('\n')}\nexit 0\n`;

const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`isolation bench: ${vcpus} vCPUs (TCG ${tcg})${oversubscribed ? ` — OVERSUBSCRIBED: ${vcpus} vCPUs on ${hostCpus().length} host CPUs, tails are the emulator's` : ''}; ${rounds} rounds × ${ARMS.length} arms; ${samples} probe samples + ${burstS} s Critical burst per arm`);
console.log(`  layout: ${load.plan.layers.map((l) => `${l.name}:${l.kind}${l.cpusRange ? `[${l.cpusRange.join(',')}]` : ''}${l.preempt ? '+preempt' : ''}${l.exclusive ? '+excl' : ''}${l.protected ? '+prot' : ''}`).join(' ')}${critLayer.demoted ? ' (Critical DEMOTED: no fence)' : ''}`);
console.log(`  pods: ${load.pods.map((p) => `${p.placed.pod.name}(${p.placed.assignment.tier}, ${p.placed.assignment.qosClass}, ${p.placed.requestMillis}m${p.threads ? `, ${p.threads} thr` : ''})`).join(' ')}`);
const hostLoadBefore = loadavg();
const r = await runInVmRetrying({ files: { '/cfg/temper.json': load.plan.configJson }, script, timeoutMs: 3_600_000, smp: vcpus, tcgThread: tcg, logName: `isolation-bench-${vcpus}` });
const hostLoadAfter = loadavg();
if (r.exitCode !== 0) {
  console.error(r.output.slice(-6000));
  console.error(`isolation bench: the VM run failed (exit ${r.exitCode}, timed out ${r.timedOut}, retried: ${r.retries.join('; ') || 'no'})`);
  process.exit(1);
}
const out = r.output;

// ---- parse ------------------------------------------------------------------------------------

interface ProbeLine { label: string; n: number; p50_us: number; p99_us: number; p999_us: number; max_us: number }
const probes = new Map(linesAfter(out, 'PROBE').map((l) => JSON.parse(l) as ProbeLine).map((p) => [p.label, p]));
const fencedByRound = new Map<number, number[]>();
for (let round = 1; round <= rounds; round++) {
  const cpus = new Set<number>();
  for (const p of POPS) for (const e of ['begin', 'end']) for (const c of layerCpus(out, `temper-${p}.${round}-${e}`, 'critical') ?? []) cpus.add(c);
  fencedByRound.set(round, [...cpus].sort((a, b) => a - b));
}
const sumBg = (share: Record<string, number[]>, cpus: readonly number[] | null): number => BACKGROUND_GROUPS.reduce((acc, g) => acc + (cpus ?? share[g]!.map((_, i) => i)).reduce((s, c) => s + (share[g]?.[c] ?? 0), 0), 0);
const rows: ArmRound[] = [];
for (let round = 1; round <= rounds; round++) {
  for (const arm of ARMS) {
    const label = `${arm}.${round}`;
    const pr = probes.get(label);
    if (!pr) continue;
    const probeWin = cpuShares(acctSnapshot(out, `${label}-p0`), acctSnapshot(out, `${label}-p1`));
    const burstWin = cpuShares(acctSnapshot(out, `${label}-p1`), acctSnapshot(out, `${label}-b1`));
    const fenced = fencedByRound.get(round) ?? [];
    const begin = fieldsOf(linesAfter(out, 'ARM-BEGIN').find((l) => l.startsWith(`${label} `)) ?? '');
    const end = fieldsOf(linesAfter(out, 'ARM-END').find((l) => l.startsWith(`${label} `)) ?? '');
    const temper = arm.startsWith('temper-');
    rows.push({
      arm, round, scheduler: end.state === 'enabled' ? 'scx_layered' : 'default (EEVDF)',
      p50_us: pr.p50_us, p99_us: pr.p99_us, p999_us: pr.p999_us, max_us: pr.max_us, samples: pr.n,
      crit_burst_cpus: round2((burstWin.share.critburst ?? []).reduce((a, b) => a + b, 0)),
      background_cpus_in_burst: round2(sumBg(burstWin.share, null)),
      background_cpus: round2(sumBg(probeWin.share, null)),
      background_on_fenced: fenced.length ? round4(sumBg(probeWin.share, fenced) / fenced.length) : null,
      valid: !temper || (begin.state === 'enabled' && end.state === 'enabled' && begin.seq === end.seq),
    });
  }
}

function round2(x: number): number { return Math.round(x * 100) / 100; }
function round4(x: number): number { return Math.round(x * 10000) / 10000; }
function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}
const range = (xs: number[]): [number, number] | null => (xs.length ? [Math.min(...xs), Math.max(...xs)] : null);
const aloneP99 = (round: number): number | undefined => rows.find((x) => x.arm === 'alone' && x.round === round)?.p99_us;
const ratioOf = (x: ArmRound): number | null => { const a = aloneP99(x.round); return a ? round2(x.p99_us / a) : null; };

const summary: Summary[] = ARMS.map((arm) => {
  const rs = rows.filter((x) => x.arm === arm && x.valid);
  const nums = (f: (x: ArmRound) => number | null): number[] => rs.map(f).filter((v): v is number => v !== null);
  const med = (f: (x: ArmRound) => number | null): number | null => { const m = median(nums(f)); return m === null ? null : round4(m); };
  return {
    arm,
    median: {
      p50_us: med((x) => x.p50_us), p99_us: med((x) => x.p99_us), p999_us: med((x) => x.p999_us),
      crit_burst_cpus: med((x) => x.crit_burst_cpus), background_on_fenced: med((x) => x.background_on_fenced),
      background_cpus: med((x) => x.background_cpus), p99_ratio: med(ratioOf),
    },
    spread: { p99_us: range(nums((x) => x.p99_us)), crit_burst_cpus: range(nums((x) => x.crit_burst_cpus)), background_on_fenced: range(nums((x) => x.background_on_fenced)), p99_ratio: range(nums(ratioOf)) },
    valid_rounds: rs.length,
  };
});

// ---- targets (issue 10) --------------------------------------------------------------------------

const S = (arm: string): Summary => summary.find((s) => s.arm === arm)!;
const critRequest = load.pods.find((p) => p.group === 'crit')!.placed.requestMillis / 1000;
const targets = POPS.flatMap((p) => {
  const t = S(`temper-${p}`);
  const d = S(`default-${p}`);
  const alone = S('alone');
  const worstFenced = t.spread.background_on_fenced?.[1] ?? null;
  return [
    { pop: p, target: 'Background CPU on fenced CPUs ≤ 1% of their time (every round)', value: worstFenced === null ? 'no fenced CPU' : `${(worstFenced * 100).toFixed(2)}% worst round`, met: worstFenced !== null && worstFenced <= 0.01 },
    { pop: p, target: "Temper's Critical p99 ≤ 1.5× alone", value: `${t.median.p99_ratio ?? '—'}× (rounds ${JSON.stringify(t.spread.p99_ratio)})`, met: t.median.p99_ratio !== null && t.median.p99_ratio <= 1.5 },
    { pop: p, target: "the default scheduler's Critical p99 ≥ 3× alone (else the benchmark is too easy)", value: `${d.median.p99_ratio ?? '—'}×`, met: d.median.p99_ratio !== null && d.median.p99_ratio >= 3 },
    { pop: p, target: `Critical gets its whole request (${critRequest} CPU) while bursting`, value: `${t.median.crit_burst_cpus ?? '—'} CPUs (rounds ${JSON.stringify(t.spread.crit_burst_cpus)})`, met: (t.spread.crit_burst_cpus?.[0] ?? 0) >= critRequest * 0.95 },
    { pop: p, target: 'Critical gets spare CPU before Background does (burst ≥ 95% of alone)', value: `${t.median.crit_burst_cpus ?? '—'} vs alone ${alone.median.crit_burst_cpus ?? '—'} CPUs (default ${d.median.crit_burst_cpus ?? '—'})`, met: (t.median.crit_burst_cpus ?? 0) >= 0.95 * (alone.median.crit_burst_cpus ?? Infinity) },
  ];
});

// ---- write ---------------------------------------------------------------------------------------

const versions = readVersions();
const date = new Date().toISOString().slice(0, 10);
const title = `${vcpus} vCPUs, tcg,thread=${tcg}${oversubscribed ? ' (OVERSUBSCRIBED host)' : ''}; ${rounds} rounds; medians, whiskers = min–max over rounds`;
const result = {
  date, kernel: versions.KERNEL_ABI, scx_layered: versions.SCX_LAYERED_VERSION,
  vm: { accel: `tcg,thread=${tcg}`, vcpus, host_cpus: hostCpus().length, oversubscribed, boots: r.retries.length + 1, retried: r.retries, host_loadavg: { before: hostLoadBefore, after: hostLoadAfter }, wall_s: round2(r.wallMs / 1000), note: 'qemu TCG on a shared 2-core host: absolute latencies mean little; compare arms of the same boot' },
  probe: { period_us: 1000, samples_per_arm: samples, warmup_discarded: 200 },
  burst: { seconds: burstS, threads: vcpus, metric: 'Critical pod guest CPU time / wall time (CPUs)' },
  layout: load.plan.layers.map((l) => ({ name: l.name, kind: l.kind, cpus_range: l.cpusRange, preempt: l.preempt, exclusive: l.exclusive, protected: l.protected, demoted: l.demoted })),
  config_sha256: load.plan.configSha256,
  pods: load.pods.map((p) => ({ name: p.placed.pod.name, tier: p.placed.assignment.tier, qos: p.placed.assignment.qosClass, request_m: p.placed.requestMillis, threads: p.threads })),
  populations: POP_TEXT,
  fenced_cpus_by_round: Object.fromEntries(fencedByRound),
  rows, summary, targets, title,
};
mkdirSync(opts.out, { recursive: true });
const base = join(opts.out, `isolation-${date}-${vcpus}vcpu${opts.tag ? `-${opts.tag}` : ''}`);
writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(`${base}.svg`, svgChart(summary, title));

const f = (v: number | null, d = 2): string => (v === null ? '—' : v.toFixed(d));
console.log('arm          p50 µs   p99 µs  p99.9 µs  p99×alone [min–max]   burst CPUs [min–max]   bg CPUs  bg on fenced [min–max]  rounds');
for (const s of summary) {
  console.log(`${s.arm.padEnd(12)} ${f(s.median.p50_us, 0).padStart(7)} ${f(s.median.p99_us, 0).padStart(8)} ${f(s.median.p999_us, 0).padStart(9)}  ${f(s.median.p99_ratio).padStart(6)} [${s.spread.p99_ratio?.map((v) => v.toFixed(2)).join('–') ?? '—'}]`.padEnd(64) +
    `${f(s.median.crit_burst_cpus).padStart(5)} [${s.spread.crit_burst_cpus?.map((v) => v.toFixed(2)).join('–') ?? '—'}]`.padEnd(23) +
    `${f(s.median.background_cpus).padStart(7)}  ${s.median.background_on_fenced === null ? '—' : `${(s.median.background_on_fenced * 100).toFixed(2)}%`} [${s.spread.background_on_fenced?.map((v) => `${(v * 100).toFixed(2)}%`).join('–') ?? '—'}]`.padEnd(26) + `${s.valid_rounds}/${rounds}`);
}
const invalid = rows.filter((x) => !x.valid);
if (invalid.length) console.log(`INVALID Temper arms (scheduler not enabled for the whole arm): ${invalid.map((x) => `${x.arm}.${x.round}`).join(', ')}; ${linesAfter(out, 'DMESG').map((l) => /sched_ext: .*disabled \((.*)\)/.exec(l)?.[1]).filter(Boolean).join('; ')}`);
console.log(`fenced CPUs (Critical layer per scx_layered stats) by round: ${JSON.stringify(result.fenced_cpus_by_round)}`);
console.log('ratios: ' + POPS.map((p) => `${p}: temper p99 ${f(S(`temper-${p}`).median.p99_ratio)}× / default ${f(S(`default-${p}`).median.p99_ratio)}× / idle ${f(S(`idle-${p}`).median.p99_ratio)}× alone; burst temper/default ${f((S(`temper-${p}`).median.crit_burst_cpus ?? 0) / (S(`default-${p}`).median.crit_burst_cpus || 1))}`).join('; '));
for (const t of targets) console.log(`  [${t.met ? 'met' : 'NOT met'}] ${t.pop}: ${t.target}: ${t.value}`);
console.log(`host load average ${hostLoadBefore} → ${hostLoadAfter}; VM ${result.vm.wall_s} s, ${result.vm.boots} boot(s); wrote ${base}.json and ${base}.svg`);

/** Three panels: Critical p99 / alone, Critical burst CPUs, Background % on fenced CPUs; whiskers = spread. */
function svgChart(rows: readonly Summary[], subtitle: string): string {
  const W = 1000, H = 330, top = 60, plotH = 180, gap = 30;
  const panels: { title: string; key: 'p99_ratio' | 'crit_burst_cpus' | 'background_on_fenced'; scale: number; unit: string; lines: { v: number; label: string }[] }[] = [
    { title: 'Critical p99 wake-up ÷ alone (lower is better)', key: 'p99_ratio', scale: 1, unit: '×', lines: [{ v: 1.5, label: '1.5×' }, { v: 3, label: '3×' }] },
    { title: 'Critical burst: CPUs got (higher is better)', key: 'crit_burst_cpus', scale: 1, unit: '', lines: [{ v: 1, label: 'request' }] },
    { title: 'Background on fenced CPUs, % (lower is better)', key: 'background_on_fenced', scale: 100, unit: '%', lines: [{ v: 1, label: '1%' }] },
  ];
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const color = (arm: string): string => (arm === 'alone' ? '#888' : arm.startsWith('temper') ? '#2f6db3' : arm.startsWith('idle') ? '#d9a441' : '#c0392b');
  const pw = (W - 40 - gap * (panels.length - 1)) / panels.length;
  const o: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`, `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="20" y="20" font-size="15" font-weight="bold">Temper isolation benchmark</text>`, `<text x="20" y="38" fill="#555">${esc(subtitle)}</text>`];
  panels.forEach((p, pi) => {
    const x0 = 20 + pi * (pw + gap);
    const vals = rows.flatMap((s) => [s.median[p.key], ...(s.spread[p.key] ?? [])]).filter((v): v is number => v !== null).map((v) => v * p.scale);
    const max = Math.max(...vals, ...p.lines.map((l) => l.v), 0.1) * 1.15;
    const y = (v: number): number => top + plotH - (v / max) * plotH;
    o.push(`<text x="${x0}" y="${top - 8}" font-weight="bold">${esc(p.title)}</text>`, `<line x1="${x0}" x2="${x0 + pw}" y1="${top + plotH}" y2="${top + plotH}" stroke="#888"/>`);
    for (const l of p.lines) o.push(`<line x1="${x0}" x2="${x0 + pw}" y1="${y(l.v).toFixed(1)}" y2="${y(l.v).toFixed(1)}" stroke="#c0392b" stroke-dasharray="4,3"/><text x="${x0 + pw - 2}" y="${(y(l.v) - 3).toFixed(1)}" text-anchor="end" fill="#c0392b">${esc(l.label)}</text>`);
    const bw = pw / rows.length;
    rows.forEach((s, i) => {
      const m = s.median[p.key];
      const bx = x0 + i * bw + 3;
      if (m !== null) {
        const v = m * p.scale;
        o.push(`<rect x="${bx.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(bw - 6).toFixed(1)}" height="${(top + plotH - y(v)).toFixed(1)}" fill="${color(s.arm)}"><title>${esc(s.arm)}: ${v.toFixed(2)}${p.unit}</title></rect>`);
        o.push(`<text x="${(bx + (bw - 6) / 2).toFixed(1)}" y="${(y(v) - 3).toFixed(1)}" text-anchor="middle" font-size="9">${v.toFixed(v >= 10 ? 0 : 2)}</text>`);
        const sp = s.spread[p.key];
        if (sp) {
          const cx = (bx + (bw - 6) / 2).toFixed(1);
          o.push(`<line x1="${cx}" x2="${cx}" y1="${y(sp[0] * p.scale).toFixed(1)}" y2="${y(sp[1] * p.scale).toFixed(1)}" stroke="black"/>`);
        }
      } else {
        o.push(`<text x="${(bx + (bw - 6) / 2).toFixed(1)}" y="${top + plotH - 4}" text-anchor="middle" font-size="9" fill="#999">n/a</text>`);
      }
      o.push(`<text transform="translate(${(bx + (bw - 6) / 2).toFixed(1)},${top + plotH + 8}) rotate(50)" font-size="10">${esc(s.arm)}${s.valid_rounds === 0 ? ' (invalid)' : ''}</text>`);
    });
  });
  o.push('</svg>');
  return `${o.join('\n')}\n`;
}
