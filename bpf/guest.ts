// Building blocks for scripts that run inside the bpf/vm.ts guest: a shell library that creates
// kubelet-shaped pod cgroups with tasks in them and starts/stops scx_layered while timing it,
// and parsers for what those scripts print. Used by test/scx-*.test.ts and
// bench/isolation.bench.ts. Knows nothing of Temper's policy: callers pass cgroup paths in.

import { createHash } from "node:crypto";

/**
 * Shell functions (busybox ash). Times are guest uptime seconds. Each function prints one
 * keyword line the host parses:
 *   pod_task KEY POD_DIR CTR_NAME PERIOD_US  -> "TASK KEY PID" (a napping task in POD_DIR/CTR_NAME;
 *                                              it re-asserts its comm every 10 wake-ups so the
 *                                              per-task layer record stays current)
 *   scx_start NAME CONFIG [ARGS…]           -> starts scx_layered in the background; sets $SCX
 *   scx_wait_enabled NAME TIMEOUT_S         -> "ENABLED NAME state=… ops=… seq=… took=…"
 *   scx_stop NAME SIGNAL                    -> "STOPPED NAME rc=… took=… state=…"
 *   scx_report NAME                         -> "STATS NAME {json}", "SCXTIDS NAME tid…", "M NAME tid layer_index"…
 * The pod cgroup and the container cgroup are made by two separate mkdirs, as kubelet does;
 * scx_layered's CgroupRegex watcher misses a child created in the same burst as its parent.
 */
export const GUEST_LIB = String.raw`
CG=/sys/fs/cgroup
SCXFS=/sys/kernel/sched_ext
now() { cut -d' ' -f1 /proc/uptime; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'; }
pod_task() {
  mkdir -p "$CG/$2" && mkdir -p "$CG/$2/$3" || { echo "TASK-FAIL $1 mkdir"; return 0; }
  workload nap -r 10 -c "$CG/$2/$3" "$4" &
  echo "$!" >> /tmp/tracked
  echo "TASK $1 $!"
}
scx_start() {
  _n=$1; _c=$2; shift 2
  SCX_T0=$(now)
  scx_layered "$@" f:$_c > /tmp/scx-$_n.log 2>&1 &
  SCX=$!
}
scx_wait_enabled() {
  _s=; _i=0
  while [ $_i -lt $(( $2 * 20 )) ]; do
    _s=$(cat $SCXFS/state)
    [ "$_s" = enabled ] && break
    kill -0 $SCX 2>/dev/null || break
    sleep 0.05; _i=$((_i+1))
  done
  echo "ENABLED $1 state=$_s ops=$(cat $SCXFS/root/ops 2>/dev/null) seq=$(cat $SCXFS/enable_seq) took=$(since $SCX_T0)"
  [ "$_s" = enabled ]
}
scx_stop() {
  _t0=$(now)
  kill -$2 $SCX 2>/dev/null
  ( sleep 20; kill -KILL $SCX 2>/dev/null ) & _w=$!
  wait $SCX; _rc=$?
  kill $_w 2>/dev/null
  _i=0
  while [ "$(cat $SCXFS/state)" != disabled ] && [ $_i -lt 200 ]; do sleep 0.05; _i=$((_i+1)); done
  echo "STOPPED $1 rc=$_rc took=$(since $_t0) state=$(cat $SCXFS/state)"
}
scx_report() {
  echo "STATS $1 $(scx-stats -n 2 -i 1 | tail -1)"
  echo "SCXTIDS $1 $(ls /proc/$SCX/task 2>/dev/null | tr '\n' ' ')"
  ls /proc/$SCX/task > /tmp/scxtids 2>/dev/null
  scx-matches > /tmp/matches || echo "MATCHES-FAIL $1"
  echo "MATCHES $1 $(head -1 /tmp/matches | cut -d' ' -f2)"
  awk -v n="$1" 'FILENAME!="/tmp/matches"{w[$1]=1;next} FNR>1 && ($1 in w){print "M " n " " $1 " " $2}' /tmp/tracked /tmp/scxtids /tmp/matches
}
scx_log() { _k=$2; [ -n "$_k" ] || _k=8; grep -v '^$' /tmp/scx-$1.log | tail -n $_k | sed "s/^/LOG $1 /"; }
`;

/** Name of a container's cgroup under its pod cgroup, as containerd's CRI plugin makes it. */
export function containerCgroupName(driver: "systemd" | "cgroupfs", podUid: string, container: string): string {
  const id = createHash("sha256").update(`${podUid}/${container}`).digest("hex");
  return driver === "systemd" ? `cri-containerd-${id}.scope` : id;
}

/** Per-layer numbers from scx_layered's stats ("top" target). */
export interface LayerStats {
  readonly tasks: number;
  readonly cur_nr_cpus: number;
  readonly is_excl: number;
  readonly util: number;
}

/** Parses one stats response line (the `args.resp.layers` part); throws with the text on junk. */
export function parseLayerStats(line: string): Record<string, LayerStats> {
  let resp: { errno?: number; args?: { resp?: { layers?: Record<string, LayerStats> } } };
  try {
    resp = JSON.parse(line) as typeof resp;
  } catch {
    throw new Error(`unparseable scx_layered stats response: ${line.slice(0, 300) || "(empty)"}`);
  }
  const layers = resp.args?.resp?.layers;
  if (resp.errno !== 0 || layers === undefined) throw new Error(`scx_layered stats error: ${line.slice(0, 300)}`);
  return layers;
}

/** Every `PREFIX rest` line of a guest's output, as `rest`. */
export function linesAfter(output: string, prefix: string): string[] {
  const out: string[] = [];
  for (const line of output.split("\n")) if (line.startsWith(`${prefix} `)) out.push(line.slice(prefix.length + 1));
  return out;
}

/** `key=value` fields of a keyword line (`ENABLED x state=enabled took=6.51` → {state, took}). */
export function fieldsOf(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of line.matchAll(/(\w+)=(\S*)/g)) out[m[1]!] = m[2]!;
  return out;
}

/**
 * cgroup v2 cpu.weight for a CPU request, as a kubelet node applies it: shares =
 * max(2, millicores·1024/1000), converted by the OCI runtime. `quadratic` is the conversion of
 * runc ≥ 1.3.2 / crun ≥ 1.23 (1 CPU → 100, BestEffort → 1); `linear` is the older KEP-2254 one
 * (1 CPU → 39).
 */
export function kubeletCpuWeight(requestMillis: number, conversion: "quadratic" | "linear" = "quadratic"): number {
  const shares = Math.max(2, Math.min(262144, Math.floor((requestMillis * 1024) / 1000)));
  if (conversion === "linear") return 1 + Math.floor(((shares - 2) * 9999) / 262142);
  if (shares <= 2) return 1;
  const l = Math.log2(shares);
  return Math.min(10000, Math.max(1, Math.ceil(10 ** ((l * l + 125 * l) / 612 - 7 / 34))));
}
