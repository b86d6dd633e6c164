// The node of the workload-profile kernel test and benchmark (issue 12): a Critical pod running
// `workload threads` (bpf/workload.c: hot loops, an I/O-chain pair, noisy housekeeping, each
// thread named) with or without the test profile `vm-app`, a second Critical pod without a
// profile, and optionally BestEffort Background pods. Everything placement needs comes from the
// core: plan() renders the profile layers, threadHint gives each thread's hint, groupOfThread its
// group. Used by test/profiles-vm.test.ts and bench/profiles.bench.ts with bpf/guest.ts's
// GUEST_LIB.
//
// Why 4 CPUs (checked with plan() offline, test/profiles-vm.test.ts asserts it): every group of
// vm-app is applied only when Critical's fenced layer holds 3 whole cores: one for the latency
// group (never the pod's last), one for the exclusive group, one that the tier keeps for the
// pod's other threads and its other pods (core/profiles-render.ts carveCores); with one CPU
// reserved for the system layer that is 4 CPUs. At 3 CPUs the latency group stays in `critical`
// (code `cores`), at 2 both the exclusive and the latency group do; only yield applies there.
import { parsePolicy, type Policy } from '../core/config.ts';
import { podCgroupPath } from '../core/layers.ts';
import { nodeFromObject, podFromObject } from '../core/objects.ts';
import { plan, type PlacedPod, type Plan } from '../core/plan.ts';
import { groupOfThread, parseProfileFiles, type Profile, type ProfileCatalog } from '../core/profiles.ts';
import { threadHint, type PodProfilePlacement } from '../core/profiles-render.ts';
import { containerCgroupName } from './guest.ts';

/** The test profile: the thread names bpf/workload.c's `threads` mode gives its threads. */
export const VM_APP_PROFILE_TOML = `
[[profile]]
name = "vm-app"
description = "bpf/workload.c threads: hot loops, an I/O chain, housekeeping"

  [[profile.group]]
  name = "hot"
  treatment = "exclusive"
  threads = ["hot_loop"]

  [[profile.group]]
  name = "io"
  treatment = "latency"
  threads = ["io_chain"]

  [[profile.group]]
  name = "housekeeping"
  treatment = "yield"
  threads = ["housekeep"]
`;

export const PROFILE_NAME = 'vm-app';
/** The comm of `workload`'s main thread, the thread-group leader (what `process` would match). */
export const LEADER_COMM = 'workload';
const NAMESPACE = 'vm';
const ANNOTATION = 'infera.io/workload-profile';

/** The thread names of `workload threads -n HOT -k HOUSEKEEP`, the leader first. */
export function threadNames(hot: number, housekeep: number): string[] {
  return [LEADER_COMM, ...Array.from({ length: hot }, (_, i) => `hot_loop-${i}`), 'io_chain-a', 'io_chain-b', ...Array.from({ length: housekeep }, (_, i) => `housekeep-${i}`)];
}

export type NodePodRole = 'app' | 'plain' | 'bg';

/** A pod of the node, with its cgroups (relative to /sys/fs/cgroup, no trailing slash). */
export interface NodePod {
  readonly role: NodePodRole;
  readonly placed: PlacedPod;
  readonly dir: string;
  readonly ctr: string;
}

export interface ProfileNodeOptions {
  readonly vcpus: number;
  readonly placement: 'hints' | 'cgroup';
  /** Whether the app pod carries the `vm-app` annotation (the benchmark's two arms). */
  readonly profiled: boolean;
  /** BestEffort Background pods (the benchmark's load); default 0. */
  readonly backgroundPods?: number;
}

export interface ProfileNode {
  readonly policy: Policy;
  readonly catalog: ProfileCatalog;
  readonly plan: Plan;
  readonly pods: readonly NodePod[];
  readonly app: NodePod;
  readonly plain: NodePod;
}

export const APP_UID = '7e570000-0000-4000-8000-000000000001';
export const PLAIN_UID = '7e570000-0000-4000-8000-000000000002';
const bgUid = (i: number): string => `7e570000-0000-4000-8000-${(0x100 + i).toString(16).padStart(12, '0')}`;

function podObject(name: string, uid: string, cpu: string | null, critical: boolean, annotations: Record<string, string>): unknown {
  const res = cpu === null ? {} : { requests: { cpu, memory: '64Mi' }, limits: { cpu, memory: '64Mi' } };
  return {
    kind: 'Pod',
    metadata: { name, namespace: NAMESPACE, uid, annotations },
    spec: {
      nodeName: 'profile-node',
      ...(critical ? { priorityClassName: 'infera-critical', priority: 1_000_000 } : {}),
      containers: [{ name: 'main', image: 'temper/workload:test', resources: res }],
    },
    status: { phase: 'Running' },
  };
}

/**
 * The node: `app` (Critical, Guaranteed, 2 CPUs, annotated vm-app when `profiled`), `plain`
 * (Critical, Guaranteed, 100m, no profile: Critical then needs 3 whole cores) and
 * `backgroundPods` BestEffort pods, planned with Temper's defaults and the given placement.
 */
export function profileNode(o: ProfileNodeOptions): ProfileNode {
  const policy = parsePolicy(`[node]\nplacement = "${o.placement}"\n`, 'profile-node');
  const catalog = parseProfileFiles([{ name: 'vm-app.toml', text: VM_APP_PROFILE_TOML }]);
  const node = nodeFromObject({ kind: 'Node', metadata: { name: 'profile-node' }, status: { capacity: { cpu: String(o.vcpus) }, allocatable: { cpu: String(o.vcpus) } } }, 'profile-node');
  const specs: { role: NodePodRole; obj: unknown }[] = [
    { role: 'app', obj: podObject('app', APP_UID, '2', true, o.profiled ? { [ANNOTATION]: PROFILE_NAME } : {}) },
    { role: 'plain', obj: podObject('plain', PLAIN_UID, '100m', true, {}) },
    ...Array.from({ length: o.backgroundPods ?? 0 }, (_, i) => ({ role: 'bg' as const, obj: podObject(`bg-${i}`, bgUid(i), null, false, {}) })),
  ];
  const pods = specs.map((s) => ({ role: s.role, pod: podFromObject(s.obj, 'profile-node') }));
  const p = plan(policy, node, pods.map((x) => x.pod), [], catalog);
  const driver = policy.node.cgroupDriver;
  const nodePods: NodePod[] = pods.map((x) => {
    const placed = p.pods.find((q) => q.pod.uid === x.pod.uid);
    if (placed === undefined) throw new Error(`profileNode: plan() left out pod ${x.pod.name}`);
    const dir = podCgroupPath(driver, placed.assignment.qosClass, placed.pod.uid).replace(/\/$/, '');
    return { role: x.role, placed, dir, ctr: `${dir}/${containerCgroupName(driver, placed.pod.uid, 'main')}` };
  });
  const app = nodePods.find((x) => x.role === 'app')!;
  const plain = nodePods.find((x) => x.role === 'plain')!;
  return { policy, catalog, plan: p, pods: nodePods, app, plain };
}

/** The pod's profile and its rendered groups, or null when it has none on this node. */
export function profileOf(n: ProfileNode, pod: NodePod): { profile: Profile; placement: PodProfilePlacement } | null {
  const uid = pod.placed.pod.uid;
  const profile = n.plan.profiles.selections.find((s) => s.uid === uid)?.selection.profile?.profile ?? null;
  const placement = n.plan.profiles.rendering.pods.find((x) => x.uid === uid) ?? null;
  return profile === null || placement === null ? null : { profile, placement };
}

/**
 * The task hint the agent writes on a thread of `pod` named `comm` (threadHint for a profiled
 * pod, the pod's own otherwise); 0 when the config's static matches place it (no layer maps 0).
 */
export function hintOf(n: ProfileNode, pod: NodePod, comm: string): number {
  const p = profileOf(n, pod);
  const podHint = pod.placed.assignment.hint;
  const h = p === null ? podHint : threadHint(p.profile, p.placement, podHint, { comm, pcomm: LEADER_COMM, title: null });
  return h ?? 0;
}

/** The layer a thread of `pod` named `comm` must be seen in: its group's, else its pod's tier layer. */
export function expectedLayer(n: ProfileNode, pod: NodePod, comm: string): string {
  const p = profileOf(n, pod);
  if (p === null) return pod.placed.assignment.layer;
  const group = groupOfThread(p.profile, { comm, pcomm: LEADER_COMM, title: null });
  if (group === null) return p.placement.tierLayer;
  return p.placement.groups.find((g) => g.group === group.name)?.layer ?? p.placement.tierLayer;
}

/**
 * A shell function `NAME PIN PID LABEL` that writes, on every thread of process PID, the hint
 * hintOf gives its comm (a `case` over `comms`), one `temper-hints set` per thread, printing
 * "HINTSET LABEL <temper-hints line> <comm>"; a thread with another comm is reported as
 * "HINT-UNKNOWN LABEL TID COMM" and left alone.
 */
export function hintFunction(name: string, n: ProfileNode, pod: NodePod, comms: readonly string[]): string {
  const arms = comms.map((c) => `    ${c}) _h=${hintOf(n, pod, c)} ;;`).join('\n');
  return String.raw`${name}() {
  for _t in $(ls /proc/$2/task); do
    _c=$(cat /proc/$2/task/$_t/comm 2>/dev/null) || continue
    case "$_c" in
${arms}
    *) echo "HINT-UNKNOWN $3 $_t $_c"; continue ;;
    esac
    echo "HINTSET $3 $(temper-hints set $1 $_h $_t) $_c"
  done
}`;
}
