// The fence check on a real sched_ext kernel (one qemu boot per node size): a node saturated by
// both Background populations plus a busy Normal pod (bpf/node-load.ts), first under the default
// scheduler with kubelet's cgroup weights, then under scx_layered with the config core's plan()
// renders for that node, then under the default scheduler again (so the host's load drift over
// the boot shows in the baseline). It measures, in the same boot:
//   - sched_ext's state and enable_seq across the Temper window (polled every 5 ms in the guest);
//   - 1 ms wake-up probes of a kubelet-like task (catch-all), an agent-like task (system layer)
//     and the Critical pod: p50/p99/p99.9 and the longest gap, in each arm;
//   - per-CPU CPU time of every population (cgroup-v1 cpuacct), and which CPUs the Critical layer
//     held (scx_layered's stats, at the start, middle and end of the window): the Background CPU
//     time on the fenced CPUs.
// test/fence-vm.test.ts asserts on the result. As a command it prints the numbers:
//   node bpf/fence-check.ts [--vcpus N] [--window S] [--default S] [--config FILE.json] [--tcg multi|single]
// --config replaces the rendered config with a hand-edited one (to try a layout lever).
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { GUEST_LIB, fieldsOf, linesAfter } from './guest.ts';
import { ACCT_GROUPS, BACKGROUND_GROUPS, acctSnapshot, cpuShares, layerCpus, loadNode, type LoadNode } from './node-load.ts';
import { runInVmRetrying } from './vm.ts';

export interface ProbeStats {
  readonly label: string;
  readonly n: number;
  readonly p50_us: number;
  readonly p99_us: number;
  readonly p999_us: number;
  readonly max_us: number;
}

export interface ArmShares {
  readonly seconds: number;
  /** group -> per-CPU share of time (0..1) */
  readonly share: Record<string, number[]>;
  /** per-CPU busy share from /proc/stat */
  readonly busy: number[];
}

export type Arm = 'default' | 'temper' | 'after';

export interface FenceCheckResult {
  readonly vcpus: number;
  readonly load: LoadNode;
  readonly configJson: string;
  readonly output: string;
  readonly exitCode: number | null;
  readonly retries: readonly string[];
  readonly wallMs: number;
  /** the longest host-side stall of a qemu thread in this boot, ms (RunInVmResult.hostStallMs) */
  readonly hostStallMs: number;
  readonly env: Record<string, string>;
  readonly enabled: Record<string, string>;
  readonly window: { readonly beginSeq: number; readonly endSeq: number; readonly endState: string; readonly stateChanges: readonly string[] } | null;
  /** why the kernel disabled the scheduler, when it did */
  readonly ejected: string | null;
  /** per arm: `default` before Temper's window, `temper`, and `after` (the default scheduler again) */
  readonly probes: Record<Arm, Partial<Record<'kubelet' | 'agent' | 'crit', ProbeStats>>>;
  readonly shares: Record<'default' | 'temper', ArmShares | null>;
  /** the Critical layer's CPUs per stats at window begin / mid / end (null: not readable) */
  readonly critCpus: readonly (number[] | null)[];
  /** union of critCpus */
  readonly fenced: readonly number[];
  /** Background (both populations) CPU time on the fenced CPUs, as a share of their time */
  readonly backgroundOnFenced: number | null;
  /** every group's share of the fenced CPUs' time */
  readonly onFenced: Record<string, number> | null;
}

export interface FenceCheckOptions {
  readonly vcpus: number;
  /** seconds of the Temper window (≥ 120 for the kernel test) */
  readonly windowS?: number;
  /** seconds of the default-scheduler arm */
  readonly defaultS?: number;
  /** replaces the rendered config (a hand-edited layout) */
  readonly configJson?: string;
  readonly tcgThread?: 'single' | 'multi';
  readonly logName?: string;
}

function script(windowS: number, defaultS: number): string {
  return String.raw`
start_pop normal; start_pop be; start_pop bgb
echo "HOGPIDS $HOGS"
sleep 2
acct_snap default-begin
probe_bg default kubelet ${defaultS}; probe_bg default agent ${defaultS}; probe_bg default crit ${defaultS}
probes_wait
acct_snap default-end
# the hogs are stopped while scx_layered loads (its BPF verification would otherwise take 2-3x
# as long under full load); they resume, wake and are matched before the window opens
kill -STOP $HOGS
scx_start temper /cfg/temper.json
if scx_wait_enabled temper 300; then
  kill -CONT $HOGS
  # both Background populations restart under the running scheduler, as a pod's containers do
  # when they restart or a pod arrives: a process started after scx_layered must land in its
  # tier too (docs/kernel-testing.md, behaviour 12)
  stop_pop be; stop_pop bgb; start_pop be; start_pop bgb
  sleep 3
  workload watch -i 5000 > /tmp/watch.log & WATCH=$!
  echo "WINDOW-BEGIN temper seq=$(cat $SCXFS/enable_seq) state=$(cat $SCXFS/state)"
  layer_stats temper-begin
  acct_snap temper-begin
  probe_bg temper kubelet ${windowS}; probe_bg temper agent ${windowS}; probe_bg temper crit ${windowS}
  sleep ${Math.floor(windowS / 2)}
  layer_stats temper-mid
  probes_wait
  acct_snap temper-end
  layer_stats temper-end
  echo "WINDOW-END temper seq=$(cat $SCXFS/enable_seq) state=$(cat $SCXFS/state)"
  kill $WATCH; sed 's/^/W /' /tmp/watch.log
  [ "$(cat $SCXFS/state)" = enabled ] || { dmesg | grep -v -E 'audit|random' | tail -n 60 | sed "s/^/DMESG temper /"; }
  scx_log temper 30
  scx_stop temper INT
  # the default scheduler again, so Temper's window is bracketed by two default arms: the host's
  # own load drifts over minutes, and the test compares against the worse of the two
  probe_bg after kubelet ${defaultS}; probe_bg after agent ${defaultS}; probe_bg after crit ${defaultS}
  probes_wait
else
  kill -CONT $HOGS
  scx_log temper 60
fi
kill $HOGS
exit 0
`;
}

/** Boots the VM and measures; never throws for what the guest did (the caller asserts). */
export async function runFenceCheck(o: FenceCheckOptions): Promise<FenceCheckResult> {
  const load = loadNode(o.vcpus);
  const windowS = o.windowS ?? 120;
  const defaultS = o.defaultS ?? 40;
  const configJson = o.configJson ?? load.plan.configJson;
  const r = await runInVmRetrying({
    files: { '/cfg/temper.json': configJson },
    script: `${GUEST_LIB}\n${load.setup}\n${script(windowS, defaultS)}`,
    timeoutMs: (windowS + 2 * defaultS + 600) * 1000,
    smp: o.vcpus,
    tcgThread: o.tcgThread ?? 'multi',
    logName: o.logName ?? `fence-vm-${o.vcpus}`,
  });
  const out = r.output;
  const probes: FenceCheckResult['probes'] = { default: {}, temper: {}, after: {} };
  for (const l of linesAfter(out, 'PROBE')) {
    const p = JSON.parse(l) as ProbeStats;
    const [arm, who] = p.label.split('-') as [Arm, 'kubelet' | 'agent' | 'crit'];
    if (arm in probes) probes[arm][who] = p;
  }
  const sharesOf = (a: string, b: string): ArmShares | null => {
    try {
      return cpuShares(acctSnapshot(out, a), acctSnapshot(out, b));
    } catch {
      return null;
    }
  };
  const shares = { default: sharesOf('default-begin', 'default-end'), temper: sharesOf('temper-begin', 'temper-end') };
  const critCpus = ['temper-begin', 'temper-mid', 'temper-end'].map((l) => layerCpus(out, l, 'critical'));
  const fenced = [...new Set(critCpus.flatMap((c) => c ?? []))].sort((a, b) => a - b);
  let onFenced: Record<string, number> | null = null;
  let backgroundOnFenced: number | null = null;
  if (shares.temper && fenced.length > 0) {
    const s = shares.temper.share;
    onFenced = Object.fromEntries(Object.entries(s).map(([g, v]) => [g, fenced.reduce((acc, c) => acc + (v[c] ?? 0), 0) / fenced.length]));
    backgroundOnFenced = BACKGROUND_GROUPS.reduce((acc, g) => acc + (onFenced![g] ?? 0), 0);
  }
  const begin = linesAfter(out, 'WINDOW-BEGIN')[0];
  const end = linesAfter(out, 'WINDOW-END')[0];
  const stateChanges = linesAfter(out, 'W').slice(1);
  const ejected = linesAfter(out, 'DMESG').map((l) => /sched_ext: .*disabled \((.*)\)/.exec(l)?.[1] ?? /sched_ext: (.*stall.*)/.exec(l)?.[1]).find((x) => x !== undefined) ?? null;
  return {
    vcpus: o.vcpus, load, configJson, output: out, exitCode: r.exitCode, retries: r.retries, wallMs: r.wallMs, hostStallMs: r.hostStallMs,
    env: fieldsOf(linesAfter(out, 'ENV')[0] ?? ''),
    enabled: fieldsOf(linesAfter(out, 'ENABLED')[0] ?? ''),
    window: begin && end ? { beginSeq: Number(fieldsOf(begin).seq), endSeq: Number(fieldsOf(end).seq), endState: fieldsOf(end).state ?? '?', stateChanges } : null,
    ejected, probes, shares, critCpus, fenced, backgroundOnFenced, onFenced,
  };
}

const pct = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(2)}%`);
const ms = (p: ProbeStats | undefined, k: 'p50_us' | 'p99_us' | 'p999_us' | 'max_us'): string => (p ? (p[k] / 1000).toFixed(2) : '—');

/** A few lines a human can read: layout, state, probes, where Background ran. */
export function describeFenceCheck(r: FenceCheckResult): string {
  const lines: string[] = [];
  const crit = r.load.plan.layers.find((l) => l.name === 'critical');
  lines.push(`${r.vcpus} vCPUs: layers ${r.load.plan.layers.map((l) => `${l.name}:${l.kind}${l.cpusRange ? `[${l.cpusRange.join(',')}]` : ''}${l.preempt ? '+preempt' : ''}${l.exclusive ? '+excl' : ''}${l.protected ? '+prot' : ''}`).join(' ')}${crit?.demoted ? ' (critical DEMOTED)' : ''}`);
  lines.push(`  exit ${r.exitCode}, boots ${r.retries.length + 1}${r.retries.length ? ` (retried: ${r.retries.join('; ')})` : ''}, VM ${(r.wallMs / 1000).toFixed(0)} s, longest host stall of a qemu thread ${r.hostStallMs} ms, clocksource ${r.env.clocksource ?? '?'}, scheduler start ${r.enabled.took ?? '?'} s (state ${r.enabled.state ?? '?'})`);
  lines.push(`  window: enable_seq ${r.window?.beginSeq ?? '?'} → ${r.window?.endSeq ?? '?'}, end state ${r.window?.endState ?? '?'}, state changes [${r.window?.stateChanges.join(' | ') ?? ''}]${r.ejected ? `; EJECTED: ${r.ejected}` : ''}`);
  const arm = (name: string, p: ProbeStats | undefined): string => `${name} ${ms(p, 'p50_us')}/${ms(p, 'p99_us')}/${ms(p, 'p999_us')}/${ms(p, 'max_us')} (n=${p?.n ?? 0})`;
  for (const who of ['kubelet', 'agent', 'crit'] as const) {
    lines.push(`  ${who.padEnd(7)} wake-up ms p50/p99/p99.9/max: ${arm('default', r.probes.default[who])}  ${arm('temper', r.probes.temper[who])}  ${arm('default after', r.probes.after[who])}`);
  }
  for (const arm of ['default', 'temper'] as const) {
    const s = r.shares[arm];
    if (!s) continue;
    lines.push(`  ${arm} ${s.seconds.toFixed(0)} s, per-CPU share: ${ACCT_GROUPS.map((g) => `${g}=[${(s.share[g] ?? []).map((v) => (v * 100).toFixed(1)).join(' ')}]`).join(' ')} busy=[${s.busy.map((v) => (v * 100).toFixed(1)).join(' ')}]%`);
  }
  lines.push(`  critical layer CPUs begin/mid/end ${r.critCpus.map((c) => (c ? `[${c.join(',')}]` : '?')).join(' ')}; Background on fenced CPU(s) ${pct(r.backgroundOnFenced)}${r.onFenced ? ` (${Object.entries(r.onFenced).map(([g, v]) => `${g} ${pct(v)}`).join(', ')})` : ''}`);
  return lines.join('\n');
}

if (process.argv[1] && statSync(process.argv[1], { throwIfNoEntry: false })?.ino === statSync(fileURLToPath(import.meta.url)).ino) {
  const { values } = parseArgs({ options: { vcpus: { type: 'string', default: '2' }, window: { type: 'string', default: '120' }, default: { type: 'string', default: '40' }, config: { type: 'string' }, tcg: { type: 'string', default: 'multi' } } });
  const r = await runFenceCheck({
    vcpus: Number(values.vcpus), windowS: Number(values.window), defaultS: Number(values.default),
    ...(values.config ? { configJson: readFileSync(values.config, 'utf8') } : {}),
    tcgThread: values.tcg === 'single' ? 'single' : 'multi',
  });
  if (r.exitCode !== 0) console.log(r.output.slice(-4000));
  console.log(describeFenceCheck(r));
  console.log(`host load ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
}
