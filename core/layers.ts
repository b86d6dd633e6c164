/**
 * Layer sizing and rendering: how a node's tiers become scx_layered layers. The rules are
 * documented in docs/layers.md; this module is their single implementation.
 */
import type { LayerOverrides, Policy } from './config.ts';
import { formatCpuMillis } from './quantity.ts';
import type { LayerCommon, LayerKind, LayerKindName, LayerMatch, LayerSpec, SizedKindFields } from './scx.ts';
import { SCX_LIMITS, escapeRegex } from './scx.ts';
import type { CgroupDriver, LayerName, NodeInfo, QosClass, Tier } from './types.ts';

/** The spec's fixed per-tier properties plus Temper's defaults for the two system layers. */
interface LayerDefaults {
  readonly kind: LayerKindName;
  readonly protected: boolean;
  readonly preempt: boolean;
  readonly exclusive: boolean;
  readonly sliceUs: number;
  /** Target per-CPU utilisation band for layers with an allocation. */
  readonly utilRange: readonly [number, number] | null;
  /** Weight band [low, high]: a tier's weight grows with its requests inside its band only. */
  readonly weightBand: readonly [number, number];
}

export const LAYER_DEFAULTS: Readonly<Record<LayerName, LayerDefaults>> = {
  system: { kind: 'Grouped', protected: false, preempt: true, exclusive: false, sliceUs: 5000, utilRange: [0.0, 0.5], weightBand: [10000, 10000] },
  critical: { kind: 'Confined', protected: true, preempt: true, exclusive: true, sliceUs: 5000, utilRange: [0.3, 0.6], weightBand: [2000, 9999] },
  high: { kind: 'Grouped', protected: true, preempt: true, exclusive: false, sliceUs: 10000, utilRange: [0.4, 0.75], weightBand: [500, 1999] },
  normal: { kind: 'Grouped', protected: false, preempt: false, exclusive: false, sliceUs: 20000, utilRange: [0.6, 0.9], weightBand: [100, 499] },
  low: { kind: 'Open', protected: false, preempt: false, exclusive: false, sliceUs: 30000, utilRange: null, weightBand: [50, 99] },
  background: { kind: 'Open', protected: false, preempt: false, exclusive: false, sliceUs: 5000, utilRange: null, weightBand: [10, 49] },
  catchall: { kind: 'Open', protected: false, preempt: false, exclusive: false, sliceUs: 20000, utilRange: null, weightBand: [100, 100] },
};

/** scx_layered's own threads and the Temper agent process (which sets its comm to this). */
export const SYSTEM_COMMS = ['scx_layered', 'temper-agent'] as const;

/** A pod as a layer sees it: where its cgroup is and what it asks for. */
export interface LayerMember {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly qosClass: QosClass;
  readonly requestMillis: number;
  /** null when the pod has no CPU limit. */
  readonly limitMillis: number | null;
}

/** A rendered layer with the numbers and reasons behind it (what `explain` and the dashboard show). */
export interface LayerPlan {
  readonly name: LayerName;
  readonly tier: Tier | null;
  readonly kind: LayerKindName;
  readonly pods: number;
  readonly requestMillis: number;
  /** Summed limits, or null when any pod is unlimited. */
  readonly limitMillis: number | null;
  readonly cpusRange: readonly [number, number] | null;
  readonly utilRange: readonly [number, number] | null;
  readonly weight: number;
  readonly sliceUs: number;
  readonly protected: boolean;
  readonly preempt: boolean;
  readonly exclusive: boolean;
  /** How member pods are matched: per-pod cgroup prefixes, one regex, or everything. */
  readonly match: 'cgroup-prefix' | 'cgroup-regex' | 'catch-all';
  /** True when Critical could not be fenced and was rendered Grouped. */
  readonly demoted: boolean;
  /** Sizing decisions in words: demotion, clamped minima, unenforceable limits. */
  readonly notes: readonly string[];
  readonly spec: LayerSpec;
}

/**
 * The pod's cgroup directory as scx_layered's Prefix/Suffix/Contains matchers see it: relative
 * to the cgroup-v2 root, no leading slash, trailing slash (k8s.md §1.2). The systemd driver
 * escapes `-` in the UID as `_`; cgroupfs keeps the UID as is. Guaranteed pods have no QoS level.
 */
export function podCgroupPath(driver: CgroupDriver, qos: QosClass, uid: string): string {
  const [dir, leaf] = podCgroupParts(driver, qos);
  return `${dir}${driver === 'systemd' ? uid.replaceAll('-', '_') : uid}${leaf}/`;
}

/** [everything before the UID, everything after it] of a pod cgroup path. */
function podCgroupParts(driver: CgroupDriver, qos: QosClass): [string, string] {
  if (driver === 'cgroupfs') {
    return [qos === 'Guaranteed' ? 'kubepods/pod' : `kubepods/${qos.toLowerCase()}/pod`, ''];
  }
  if (qos === 'Guaranteed') return ['kubepods.slice/kubepods-pod', '.slice'];
  const level = qos.toLowerCase();
  return [`kubepods.slice/kubepods-${level}.slice/kubepods-${level}-pod`, '.slice'];
}

/**
 * One CgroupRegex covering every pod in `members` and everything below their pod cgroups.
 * scx_layered tests it against absolute paths under /sys/fs/cgroup without a trailing slash.
 */
export function podsCgroupRegex(driver: CgroupDriver, members: readonly LayerMember[]): string {
  const byQos = new Map<QosClass, string[]>();
  for (const m of members) {
    const uid = driver === 'systemd' ? m.uid.replaceAll('-', '_') : m.uid;
    byQos.set(m.qosClass, [...(byQos.get(m.qosClass) ?? []), uid]);
  }
  const groups = (['Guaranteed', 'Burstable', 'BestEffort'] as const)
    .filter((q) => byQos.has(q))
    .map((q) => {
      const [dir, leaf] = podCgroupParts(driver, q);
      return `${escapeRegex(dir)}(?:${(byQos.get(q) ?? []).map(escapeRegex).join('|')})${escapeRegex(leaf)}`;
    });
  return `^/sys/fs/cgroup/(?:${groups.join('|')})(?:/.*)?$`;
}

/**
 * Match blocks for a layer: fixed blocks plus one prefix per pod, or, when that overflows the OR
 * blocks, one regex per `maxRegexPods` pods.
 */
function matchesFor(driver: CgroupDriver, fixed: readonly LayerMatch[][], members: readonly LayerMember[]): { matches: LayerMatch[][]; match: 'cgroup-prefix' | 'cgroup-regex' } {
  if (fixed.length + members.length <= SCX_LIMITS.maxOrBlocks) {
    const perPod = members.map((m): LayerMatch[] => [{ CgroupPrefix: podCgroupPath(driver, m.qosClass, m.uid) }]);
    return { matches: [...fixed, ...perPod], match: 'cgroup-prefix' };
  }
  const chunks: LayerMember[][] = [];
  for (let i = 0; i < members.length; i += SCX_LIMITS.maxRegexPods) chunks.push(members.slice(i, i + SCX_LIMITS.maxRegexPods));
  return { matches: [...fixed, ...chunks.map((c): LayerMatch[] => [{ CgroupRegex: podsCgroupRegex(driver, c) }])], match: 'cgroup-regex' };
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** Summed limits, or null as soon as one member is unlimited. */
function summedLimits(members: readonly LayerMember[]): number | null {
  let total = 0;
  for (const m of members) {
    if (m.limitMillis === null) return null;
    total += m.limitMillis;
  }
  return total;
}

/** A weight inside the band that grows with the layer's share of the node's CPU. */
function weightIn(band: readonly [number, number], requestMillis: number, nodeMillis: number): number {
  const [lo, hi] = band;
  return lo + Math.floor(((hi - lo) * Math.min(requestMillis, nodeMillis)) / nodeMillis);
}

function describeLoad(members: readonly LayerMember[], requestMillis: number, limitMillis: number | null): string {
  const limits = limitMillis === null ? 'limits unbounded' : `limits ${formatCpuMillis(limitMillis)}`;
  return `${members.length} pod${members.length === 1 ? '' : 's'}, requests ${formatCpuMillis(requestMillis)}, ${limits}`;
}

interface Sizing {
  readonly kind: LayerKindName;
  readonly cpusRange: readonly [number, number] | null;
  readonly demoted: boolean;
  readonly notes: readonly string[];
}

function buildSpec(name: LayerName, comment: string, matches: LayerMatch[][], sizing: Sizing, d: LayerDefaults, o: LayerOverrides, weight: number): { spec: LayerSpec; common: LayerCommon; utilRange: readonly [number, number] | null; protectedFlag: boolean } {
  const exclusiveDefault = sizing.demoted ? false : d.exclusive;
  const common: LayerCommon = {
    slice_us: o.slice_us ?? d.sliceUs,
    preempt: o.preempt ?? d.preempt,
    exclusive: o.exclusive ?? exclusiveDefault,
    weight,
    ...(o.min_exec_us !== undefined ? { min_exec_us: o.min_exec_us } : {}),
    ...(o.yield_ignore !== undefined ? { yield_ignore: o.yield_ignore } : {}),
    ...(o.growth_algo !== undefined ? { growth_algo: o.growth_algo } : {}),
  };
  let kind: LayerKind;
  let utilRange: readonly [number, number] | null = null;
  const protectedFlag = sizing.kind === 'Open' ? false : (o.protected ?? d.protected);
  if (sizing.kind === 'Open' || sizing.cpusRange === null) {
    kind = { Open: common };
  } else {
    utilRange = o.util_range ?? d.utilRange ?? [0.5, 0.8];
    const fields: SizedKindFields = { util_range: utilRange, cpus_range: sizing.cpusRange, protected: protectedFlag, ...common };
    kind = sizing.kind === 'Confined' ? { Confined: fields } : { Grouped: fields };
  }
  return { spec: { name, comment, matches, kind }, common, utilRange, protectedFlag };
}

function layerPlan(
  name: LayerName, tier: Tier | null, members: readonly LayerMember[], fixed: readonly LayerMatch[][],
  sizing: Sizing, policy: Policy, nodeMillis: number, catchAll = false,
): LayerPlan {
  const d = LAYER_DEFAULTS[name];
  const o = policy.layers[name] ?? {};
  const requestMillis = sum(members.map((m) => m.requestMillis));
  const limitMillis = summedLimits(members);
  const { matches, match } = catchAll
    ? { matches: [[]] as LayerMatch[][], match: 'catch-all' as const }
    : matchesFor(policy.node.cgroupDriver, fixed, members);
  const weight = weightIn(d.weightBand, requestMillis, nodeMillis);
  const comment = catchAll
    ? 'Temper catch-all: kubelet, node daemons, node-critical pods, everything else'
    : tier === null
      ? `Temper system layer: scx_layered, temper-agent and ${members.length} pod${members.length === 1 ? '' : 's'} in Temper's namespace`
      : `tier ${tier}: ${describeLoad(members, requestMillis, limitMillis)}`;
  const { spec, common, utilRange, protectedFlag } = buildSpec(name, comment, matches, sizing, d, o, weight);
  return {
    name, tier, kind: sizing.kind, pods: members.length, requestMillis, limitMillis,
    cpusRange: sizing.kind === 'Open' ? null : sizing.cpusRange, utilRange, weight, sliceUs: common.slice_us,
    protected: protectedFlag, preempt: common.preempt, exclusive: common.exclusive, match, demoted: sizing.demoted,
    notes: sizing.notes, spec,
  };
}

const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);

/**
 * Sizes and renders every layer for one node. `members` holds each tier's pods (sorted), the
 * Temper pods for the system layer and the node-critical pods that fall to the catch-all
 * (counted only: the catch-all matches everything). Layers come out in config order; empty tier layers are
 * omitted; the system layer is first and the catch-all last. Rules (docs/layers.md):
 * - node CPUs = floor(capacity); the system layer keeps `reserved_cpus` (at most CPUs − 1);
 * - Critical is Confined on whole cores: min = ceil(requests / core), max = limits' whole cores
 *   (or every fenceable core), where fenceable = cores outside the reserve − 1; when it needs more
 *   cores than are fenceable (or none are) it is demoted to Grouped and loses `exclusive`;
 * - Grouped tiers: min = ceil(requests), max = ceil(limits) when every pod has a limit, else
 *   all unreserved CPUs; minima are granted in tier order and never exceed the node;
 * - Open tiers have no allocation; weights grow with requests inside disjoint per-tier bands.
 */
export function renderLayers(
  policy: Policy, node: NodeInfo, members: Readonly<Record<Tier | 'system' | 'catchall', readonly LayerMember[]>>,
): LayerPlan[] {
  const nodeCpus = Math.max(1, Math.floor(node.cpuCapacityMillis / 1000));
  const nodeMillis = nodeCpus * 1000;
  const tpc = policy.node.threadsPerCore;
  const reserved = Math.min(policy.node.reservedCpus, nodeCpus - 1);
  const unreserved = nodeCpus - reserved;
  const fenceableCores = Math.max(0, Math.floor(unreserved / tpc) - 1);
  let budget = unreserved; // CPUs still free for tier minima
  const plans: LayerPlan[] = [];

  const systemSizing: Sizing = {
    kind: 'Grouped', cpusRange: [reserved, Math.max(reserved, 1)], demoted: false,
    notes: [`keeps ${reserved} of ${nodeCpus} CPUs for scx_layered and the Temper agent (node.reserved_cpus = ${policy.node.reservedCpus})`],
  };
  const commBlocks = SYSTEM_COMMS.map((c): LayerMatch[] => [{ PcommPrefix: c }]);
  plans.push(layerPlan('system', null, members.system, commBlocks, systemSizing, policy, nodeMillis));

  for (const tier of ['critical', 'high', 'normal', 'low', 'background'] as const) {
    const tierMembers = members[tier];
    if (tierMembers.length === 0) continue;
    const requestMillis = sum(tierMembers.map((m) => m.requestMillis));
    const limitMillis = summedLimits(tierMembers);
    const notes: string[] = [];
    let sizing: Sizing;
    if (LAYER_DEFAULTS[tier].kind === 'Open') {
      if (limitMillis !== null) notes.push(`Open layers get no CPU allocation, so the tier's limits (${formatCpuMillis(limitMillis)}) are not a ceiling here`);
      sizing = { kind: 'Open', cpusRange: null, demoted: false, notes };
    } else if (tier === 'critical') {
      const neededCores = ceilDiv(requestMillis, 1000 * tpc);
      if (neededCores > fenceableCores || fenceableCores === 0) {
        notes.push(`demoted to Grouped: requests ${formatCpuMillis(requestMillis)} need ${neededCores} whole core${neededCores === 1 ? '' : 's'} but only ${fenceableCores} can be fenced (${nodeCpus} CPUs − ${reserved} reserved, ${tpc} thread${tpc === 1 ? '' : 's'} per core, one core kept unfenced)`);
        sizing = groupedSizing(requestMillis, limitMillis, unreserved, budget, notes, true);
      } else {
        const min = neededCores * tpc;
        const limitCores = limitMillis === null ? fenceableCores : Math.min(fenceableCores, Math.max(neededCores, ceilDiv(limitMillis, 1000 * tpc)));
        const max = Math.max(min, limitCores * tpc, tpc);
        sizing = { kind: 'Confined', cpusRange: [min, max], demoted: false, notes };
      }
    } else {
      sizing = groupedSizing(requestMillis, limitMillis, unreserved, budget, notes, false);
    }
    if (sizing.cpusRange !== null) budget -= sizing.cpusRange[0];
    plans.push(layerPlan(tier, tier, tierMembers, [], sizing, policy, nodeMillis));
  }

  plans.push(layerPlan('catchall', null, members.catchall, [], { kind: 'Open', cpusRange: null, demoted: false, notes: [] }, policy, nodeMillis, true));
  return plans;
}

/** A Grouped layer's range: requests' whole CPUs within the remaining budget, limits as ceiling. */
function groupedSizing(requestMillis: number, limitMillis: number | null, unreserved: number, budget: number, notes: string[], demoted: boolean): Sizing {
  const wanted = ceilDiv(requestMillis, 1000);
  const min = Math.min(wanted, Math.max(0, budget));
  if (min < wanted) notes.push(`minimum clamped from ${wanted} to ${min} CPUs: minima may not exceed the node (${unreserved} unreserved CPUs, ${unreserved - budget} already held by higher layers)`);
  const ceiling = limitMillis === null ? unreserved : Math.min(unreserved, ceilDiv(limitMillis, 1000));
  const max = Math.max(min, ceiling, 1);
  return { kind: 'Grouped', cpusRange: [min, max], demoted, notes };
}
