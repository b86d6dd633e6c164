// Task hints on a real kernel: the pinned scx_layered in the pinned sched_ext kernel (bpf/vm.ts,
// qemu TCG, 2 vCPUs) started with --task-hint-map, and bpf/temper-hints writing and reading the
// hints. A BestEffort pod's container runs a 3-thread napping process; it starts in the pod's
// static fallback layer, and `temper-hints set-cgroup` on the pod cgroup moves every thread
// (leader and non-leaders) into the HintEquals layer without a scheduler restart. A thread born
// after the write starts unhinted and moves once hinted; a dead TID fails cleanly; the hints and
// the placement survive a scheduler restart with the same pin path.
//
// Placement is read two ways (bpf/scx-matches.c `tasks`): the live layer (task_ctx.layer_id,
// which the hint switches at the task's next wake-up) and the --enable-match-debug record
// (written only by a full rematch, which the workload forces every RENAME_EVERY wake-ups by
// re-asserting its comm). Skips (saying why) only when the VM prerequisites are missing and
// TEMPER_REQUIRE_VM != 1.
import { beforeAll, describe, expect, it } from 'vitest';
import { GUEST_LIB, containerCgroupName, fieldsOf, linesAfter, parseLayerStats } from '../bpf/guest.ts';
import { runInVmRetrying, vmAvailability, vmRequired, type RunInVmResult } from '../bpf/vm.ts';

const avail = vmAvailability();
const required = vmRequired();
if (!avail.ok && !required) console.warn(`hints-vm.test.ts skipped: ${avail.reason} (TEMPER_REQUIRE_VM=1 makes this a failure)`);

describe.runIf(!avail.ok && required)('sched_ext VM prerequisites (hints)', () => {
  it('are installed (TEMPER_REQUIRE_VM=1)', () => {
    expect.fail(`the kernel suite must run but cannot: ${avail.ok ? '' : avail.reason}`);
  });
});

const HINT = 2;
/** Layer indexes in config order (what scx-matches prints). */
const HINTED = 0;
const FALLBACK = 1;
/** The bound the agent relies on: a written hint takes effect within this long. */
const MOVE_WITHIN_MS = 250;
const NAP_US = 5000;
/** Full rematch (and match record refresh) every this many wake-ups: ~100 ms. */
const RENAME_EVERY = 20;
const POLL_MS = 10;

const PIN = '/sys/fs/bpf/temper/hints';
const uid = '5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d';
const podDir = `kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${uid.replace(/-/g, '_')}.slice`;
const ctrDir = `${podDir}/${containerCgroupName('systemd', uid, 'app')}`;

const config = [
  { name: 'hinted', matches: [[{ HintEquals: HINT }]], kind: { Open: { slice_us: 5000 } } },
  { name: 'besteffort', matches: [[{ CgroupPrefix: 'kubepods.slice/kubepods-besteffort.slice/' }]], kind: { Open: { slice_us: 20000 } } },
  { name: 'catchall', matches: [[]], kind: { Open: { slice_us: 20000 } } },
];

const watch = (tids: string, timeoutMs: number): string => `scx-matches tasks -m ${PIN} -w ${HINTED} -t ${timeoutMs} -i ${POLL_MS} ${tids}`;

const script = String.raw`${GUEST_LIB}
PIN=${PIN}
grep -q ' /sys/fs/bpf bpf ' /proc/mounts || mount -t bpf bpf /sys/fs/bpf
mkdir -p /sys/fs/bpf/temper && chmod 0700 /sys/fs/bpf/temper
mkdir -p $CG/${podDir} && mkdir -p $CG/${ctrDir}
scx_start main /cfg.json --enable-match-debug --task-hint-map $PIN
scx_wait_enabled main 120 || { scx_log main 20; exit 1; }
echo "MODES $(stat -c '%a' /sys/fs/bpf/temper) $(stat -c '%a' $PIN)"
workload nap -n 3 -r ${RENAME_EVERY} -c $CG/${ctrDir} ${NAP_US} &
P=$!
sleep 1
TIDS=$(ls /proc/$P/task | sort -n | tr '\n' ' ')
echo "LEADER $P"
echo "TIDS $TIDS"
SEQ0=$(cat $SCXFS/enable_seq)

# before: unhinted, in the BestEffort fallback layer
temper-hints get $PIN $TIDS | sed 's/^/GET0 /'
scx-matches tasks -m $PIN $TIDS | sed 's/^/BEFORE /'

# hint the pod: every thread of every cgroup under it
${watch('$TIDS', 5000)} > /tmp/w1 &
W=$!
sleep 0.3
temper-hints set-cgroup $PIN ${HINT} $CG/${podDir} > /tmp/setcg; echo "SETCG rc=$? $(cat /tmp/setcg | tr '\n' '|')"
wait $W; echo "WATCH1 rc=$?"
sed 's/^/W1 /' /tmp/w1
temper-hints get $PIN $TIDS | sed 's/^/GET1 /'

# a thread born after the write: unhinted until hinted itself
kill -USR1 $P
sleep 0.5
NEW=$(ls /proc/$P/task | sort -n | awk -v old=" $TIDS" 'index(old, " " $1 " ") == 0' | tr '\n' ' ')
echo "NEW $NEW"
temper-hints get $PIN $NEW | sed 's/^/GET2 /'
scx-matches tasks -m $PIN $NEW | sed 's/^/NEWBEFORE /'
sh -c 'exit 0' & DEAD=$!; wait $DEAD
echo "DEAD $DEAD"
${watch('$NEW', 5000)} > /tmp/w2 &
W=$!
sleep 0.3
temper-hints set $PIN ${HINT} $NEW $DEAD > /tmp/set; echo "SET rc=$?"
sed 's/^/SETOUT /' /tmp/set
wait $W; echo "WATCH2 rc=$?"
sed 's/^/W2 /' /tmp/w2
temper-hints get $PIN $DEAD > /tmp/getdead; echo "GETDEAD rc=$? $(cat /tmp/getdead)"
temper-hints set $PIN 1025 $P 2> /tmp/bad; echo "BADHINT rc=$? $(head -1 /tmp/bad)"
echo "STATS $(scx-stats -n 2 -i 1 | tail -1)"
echo "SEQ before=$SEQ0 after=$(cat $SCXFS/enable_seq)"

# restart with the same pin path: the hints and the placement survive
ALL="$TIDS$NEW"
scx_stop main INT
echo "PINNED $(ls $PIN 2>&1)"
temper-hints get $PIN $ALL | sed 's/^/GET3 /'
scx_start again /cfg.json --enable-match-debug --task-hint-map $PIN
scx_wait_enabled again 120 || { scx_log again 20; exit 1; }
${watch('$ALL', 10000)} > /tmp/w3; echo "WATCH3 rc=$?"
sed 's/^/W3 /' /tmp/w3
temper-hints get $PIN $ALL | sed 's/^/GET4 /'
scx_stop again INT
kill $P
exit 0
`;

// ---- parsing -------------------------------------------------------------------------------

/** One line of `scx-matches tasks`: the state of one TID at `ms` (the previous poll at `after`). */
interface TaskSample {
  readonly ms: number;
  readonly after: number;
  readonly tid: number;
  readonly hint: string;
  readonly live: string;
  readonly rec: string;
}

function samplesOf(lines: string[]): TaskSample[] {
  const out: TaskSample[] = [];
  for (const l of lines) {
    const m = /^T (\S+) (\d+) (.*)$/.exec(l);
    if (!m) continue;
    const f = fieldsOf(m[3]!);
    out.push({ ms: Number(m[1]), after: Number(f.after ?? -1), tid: Number(m[2]), hint: f.hint ?? 'gone', live: f.live ?? 'gone', rec: f.rec ?? 'gone' });
  }
  return out;
}

/** Per TID, from a `-w` watch: when the hint became visible and when each placement followed. */
interface Move {
  readonly tid: number;
  /** Poll at which hint=HINT was first seen, and the one before (the write lies between). */
  readonly hintAt: number;
  readonly hintAfter: number;
  readonly liveAt: number | null;
  readonly recAt: number | null;
  /** Upper bound of write → live layer change: first poll with live=HINTED minus the last poll without the hint. */
  readonly liveWithinMs: number | null;
  readonly recWithinMs: number | null;
}

function movesOf(lines: string[], tids: number[]): Move[] {
  const samples = samplesOf(lines);
  return tids.map((tid) => {
    const mine = samples.filter((s) => s.tid === tid);
    const hinted = mine.find((s) => s.hint === String(HINT));
    const live = mine.find((s) => s.live === String(HINTED));
    const rec = mine.find((s) => s.rec === String(HINTED));
    const hintAt = hinted?.ms ?? NaN;
    const hintAfter = hinted?.after ?? NaN;
    const within = (s: TaskSample | undefined): number | null => (s === undefined ? null : Math.round((s.ms - Math.max(0, hintAfter)) * 10) / 10);
    return { tid, hintAt, hintAfter, liveAt: live?.ms ?? null, recAt: rec?.ms ?? null, liveWithinMs: within(live), recWithinMs: within(rec) };
  });
}

const tidsOf = (s: string | undefined): number[] => (s ?? '').trim().split(/\s+/).filter(Boolean).map(Number);

// ---- checks --------------------------------------------------------------------------------

describe.skipIf(!avail.ok)('task hints with scx_layered in a sched_ext VM', () => {
  let r: RunInVmResult & { retries: string[] };
  let out: string;
  const one = (prefix: string): string => linesAfter(out, prefix)[0] ?? '';
  let tids: number[];
  let fresh: number[];

  beforeAll(async () => {
    r = await runInVmRetrying({ files: { '/cfg.json': JSON.stringify(config) }, script, timeoutMs: 240_000, smp: 2, logName: 'hints-vm' });
    out = r.output;
    tids = tidsOf(one('TIDS'));
    fresh = tidsOf(one('NEW'));
    if (r.exitCode !== 0) console.error(out.slice(-6000));
    const report = (lines: string[], who: number[]): string =>
      movesOf(lines, who).map((m) => `tid ${m.tid}: live layer ≤${m.liveWithinMs} ms, match record ≤${m.recWithinMs} ms after the write`).join('; ');
    console.log(`hints-vm: wall ${(r.wallMs / 1000).toFixed(1)} s, boot ${r.bootWallMs} ms, retried: ${r.retries.join('; ') || 'no'}, longest host stall ${r.hostStallMs} ms`);
    console.log(`hints-vm: set-cgroup → ${report(linesAfter(out, 'W1'), tids)}`);
    console.log(`hints-vm: late thread → ${report(linesAfter(out, 'W2'), fresh)}`);
    console.log(`hints-vm: after restart (${fieldsOf(one('ENABLED again')).took ?? '?'} s to enable) → ${linesAfter(out, 'W3').at(-1) ?? 'no watch output'}`);
  }, 750_000); // up to three boots (runInVmRetrying)

  it('boots, enables scx_layered with the hint map and runs the script to the end', () => {
    expect(r.timedOut).toBe(false);
    expect(r.exitCode, out.slice(-3000)).toBe(0);
    expect(fieldsOf(one('ENABLED main')).state).toBe('enabled');
  });

  it('pins the map world-writable (scx_layered chmods it 0666) inside the 0700 directory', () => {
    expect(one('MODES')).toBe('700 666');
  });

  it('starts every thread unhinted, in the BestEffort fallback layer', () => {
    expect(tids).toHaveLength(3);
    expect(tids).toContain(Number(one('LEADER')));
    expect(linesAfter(out, 'GET0')).toEqual(tids.map((t) => `${t} none`));
    const before = samplesOf(linesAfter(out, 'BEFORE'));
    expect(before.map((s) => [s.tid, s.hint, s.live, s.rec])).toEqual(tids.map((t) => [t, 'none', String(FALLBACK), String(FALLBACK)]));
  });

  it('set-cgroup on the pod hints every thread, the leader and the non-leaders, and each reads back the hint', () => {
    expect(one('SETCG'), 'set-cgroup exit status and summary').toBe('rc=0 hinted 3 vanished 0 failed 0|');
    expect(linesAfter(out, 'GET1'), `temper-hints get after set-cgroup ${HINT}`).toEqual(tids.map((t) => `${t} ${HINT}`));
  });

  it(`after set-cgroup every thread is in the hinted layer within ${MOVE_WITHIN_MS} ms`, () => {
    const w1 = linesAfter(out, 'W1');
    for (const m of movesOf(w1, tids)) {
      expect(m.liveWithinMs, `tid ${m.tid} never reached the hinted layer (live); scx-matches tasks said:\n${w1.join('\n')}`).not.toBeNull();
      expect(m.liveWithinMs!, `tid ${m.tid}: ms from the hint write to its live layer change`).toBeLessThanOrEqual(MOVE_WITHIN_MS);
      expect(m.recWithinMs, `tid ${m.tid} never reached the hinted layer (match record); scx-matches tasks said:\n${w1.join('\n')}`).not.toBeNull();
      expect(m.recWithinMs!, `tid ${m.tid}: ms from the hint write to its match record change`).toBeLessThanOrEqual(MOVE_WITHIN_MS);
    }
    expect(one('WATCH1'), w1.join('\n')).toBe('rc=0');
  });

  it('the hint itself moves a task (the live layer changes before any rematch refreshes the record)', () => {
    const moves = [...movesOf(linesAfter(out, 'W1'), tids), ...movesOf(linesAfter(out, 'W2'), fresh)];
    const fastPath = moves.filter((m) => m.liveAt !== null && m.recAt !== null && m.liveAt < m.recAt);
    expect(fastPath.length, `moves: ${JSON.stringify(moves)}`).toBeGreaterThan(0);
  });

  it('a thread born after the write starts unhinted in the fallback layer, and moves once hinted', () => {
    expect(fresh).toHaveLength(1);
    expect(linesAfter(out, 'GET2')).toEqual([`${fresh[0]} none`]);
    const before = samplesOf(linesAfter(out, 'NEWBEFORE'));
    expect(before.map((s) => [s.hint, s.live, s.rec])).toEqual([['none', String(FALLBACK), String(FALLBACK)]]);
    const w2 = linesAfter(out, 'W2');
    const [m] = movesOf(w2, fresh);
    expect(m?.liveWithinMs, `the late thread never reached the hinted layer; scx-matches tasks said:\n${w2.join('\n')}`).not.toBeNull();
    expect(m!.liveWithinMs!, 'ms from the hint write to the late thread\'s live layer change').toBeLessThanOrEqual(MOVE_WITHIN_MS);
    expect(one('WATCH2'), w2.join('\n')).toBe('rc=0');
  });

  it('a dead TID fails cleanly (ESRCH) without stopping the others, on set and on get', () => {
    const dead = one('DEAD');
    expect(one('SET')).toBe('rc=1');
    expect(linesAfter(out, 'SETOUT')).toEqual([`ok ${fresh[0]}`, `err ${dead} ESRCH pidfd_open: no such thread`]);
    expect(one('GETDEAD')).toBe(`rc=1 err ${dead} ESRCH pidfd_open: no such thread`);
  });

  it('rejects an out-of-range hint before touching the map', () => {
    expect(one('BADHINT')).toBe('rc=2 temper-hints: HINT must be a decimal 0..1024, got "1025"');
  });

  it('moves without a scheduler restart (enable_seq unchanged), and the stats count the tasks in the hinted layer', () => {
    const seq = fieldsOf(one('SEQ'));
    expect(seq.after, 'sched_ext enable_seq after the hints (a change means the scheduler was restarted)').toBe(seq.before);
    const layers = parseLayerStats(one('STATS'));
    expect(layers.hinted?.tasks, 'tasks in the hinted layer by scx_layered\'s own stats').toBeGreaterThanOrEqual(4);
  });

  it('the hints survive a scheduler restart with the same pin path, and the tasks are back in the hinted layer', () => {
    expect(fieldsOf(one('STOPPED main')).rc).toBe('0');
    expect(one('PINNED')).toBe(PIN);
    const all = [...tids, ...fresh];
    expect(linesAfter(out, 'GET3'), 'hints read back with the scheduler stopped').toEqual(all.map((t) => `${t} ${HINT}`));
    expect(fieldsOf(one('ENABLED again')).state).toBe('enabled');
    const w3 = linesAfter(out, 'W3');
    expect(one('WATCH3'), w3.join('\n')).toBe('rc=0');
    const done = Number(/^TASKS-DONE (\S+)$/.exec(w3.at(-1) ?? '')?.[1]);
    expect(done, `ms after the restarted scheduler was enabled until every thread was in the hinted layer:\n${w3.join('\n')}`).toBeLessThanOrEqual(MOVE_WITHIN_MS);
    expect(linesAfter(out, 'GET4'), 'hints read back after the restart').toEqual(all.map((t) => `${t} ${HINT}`));
  });
});
