// Host side of the hint-placement VM run (issue 11), shared by test/placement-vm.test.ts (which
// asserts on it) and bench/agent.bench.ts (which reports its latencies): one boot of the pinned
// sched_ext kernel (bpf/vm.ts) running scx_layered with the config core plan() renders for
// `placement = "hints"`, and bpf/placement-driver.ts's three phases (config, run, restart) in
// the guest's Node. Callers hold /tmp/temper-vm.lock when other VMs may run (bpf/vm.ts does not).
import { DEFAULT_TASK_HINT_MAP as PIN } from '../agent/hints.ts';
import { GUEST_LIB, linesAfter } from './guest.ts';
import { GUEST_REPO, runInVmRetrying, type RunInVmResult } from './vm.ts';

const script = String.raw`${GUEST_LIB}
mkdir -p /sys/fs/bpf/temper && chmod 0700 /sys/fs/bpf/temper
cd ${GUEST_REPO}
mkdir -p $CG/kubepods.slice && mkdir -p $CG/kubepods.slice/kubepods-burstable.slice $CG/kubepods.slice/kubepods-besteffort.slice
T=$(now); node bpf/placement-driver.ts config > /tmp/cfg.json || exit 1
echo "NODE-START config took=$(since $T)"
scx_start main /tmp/cfg.json --enable-match-debug --task-hint-map ${PIN}
scx_wait_enabled main 120 || { scx_log main 20; exit 1; }
echo "SEQ start $(cat $SCXFS/enable_seq)"
node bpf/placement-driver.ts run || echo "PHASE-FAIL run rc=$?"
echo "SEQ run $(cat $SCXFS/enable_seq)"
node bpf/placement-driver.ts restart || echo "PHASE-FAIL restart rc=$?"
echo "SEQ restart $(cat $SCXFS/enable_seq)"
echo "SCX-ALIVE $(kill -0 $SCX && echo yes || echo no)"
scx_log main 5
exit 0
`;

/** One thread, as the driver records it; `hinted`: its pod's threads get a hint (else a static QoS match places them). */
export type PlacementRow = [pod: string, tier: string, layer: string, trigger: 'start' | 'thread', hintMs: number | null, placedMs: number | null, hinted: boolean];

/** The driver's `run` phase (PLACEMENT-RUN): the baseline pods and 60 churned pods over ~30 s. */
export interface PlacementRun {
  seqBefore: number;
  seqAfter: number;
  shas: string[];
  churnSeconds: number;
  maxLagMs: number;
  short: unknown[];
  threads: PlacementRow[];
  placerMs: { pod: number[]; thread: number[] };
  end: { misplaced: unknown[]; layerTasks: Record<string, number>; summary: { hintedPods: number; misplacedThreads: Record<string, number> } };
}

/** The driver's `restart` phase (PLACEMENT-RESTART): a new Placer over the baseline pods' kept hints. */
export interface PlacementRestart extends Omit<PlacementRun, 'shas' | 'churnSeconds' | 'maxLagMs' | 'short'> {
  kept: [pod: string, tid: number, got: number | null | string, want: number | null][];
  born: number[];
  bornHint: (number | null | string)[];
}

export interface PlacementVmResult extends RunInVmResult {
  retries: string[];
  /** null when the phase printed no result line (see `output`). */
  run: PlacementRun | null;
  restart: PlacementRestart | null;
}

/** The first line of `output` after `prefix ` ('' when none). */
export const firstLineAfter = (output: string, prefix: string): string => linesAfter(output, prefix)[0] ?? '';

/** Boots the VM (again on an emulator failure, see runInVmRetrying) and runs the driver's phases. */
export async function runPlacementVm(): Promise<PlacementVmResult> {
  const r = await runInVmRetrying({ node: { entries: ['bpf/placement-driver.ts'] }, script, timeoutMs: 400_000, smp: 2, logName: 'placement-vm' });
  const json = <T>(prefix: string): T | null => JSON.parse(firstLineAfter(r.output, prefix) || 'null') as T | null;
  return { ...r, run: json<PlacementRun>('PLACEMENT-RUN'), restart: json<PlacementRestart>('PLACEMENT-RESTART') };
}

/** ms to placed of the rows with this trigger (and, given `hinted`, of those pods only); Infinity: never seen placed. */
export function msToPlaced(rows: readonly PlacementRow[] | undefined, trigger: PlacementRow[3], hinted?: boolean): number[] {
  return (rows ?? []).filter((t) => t[3] === trigger && (hinted === undefined || t[6] === hinted)).map((t) => t[5] ?? Infinity);
}

/** msToPlaced of the threads that were placed. */
export const placedMs = (rows: readonly PlacementRow[] | undefined, trigger: PlacementRow[3], hinted?: boolean): number[] => msToPlaced(rows, trigger, hinted).filter(Number.isFinite);

/** Nearest-rank percentile (q in (0, 1]); NaN for no samples. */
export function percentile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? NaN;
}

export const latencyStats = (xs: readonly number[]): string => `n=${xs.length} p50=${percentile(xs, 0.5)} p99=${percentile(xs, 0.99)} max=${Math.max(...xs)} ms`;
