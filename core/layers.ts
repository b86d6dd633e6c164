/**
 * Layer sizing and rendering: how a node's tiers become scx_layered layers. The rules are
 * documented in docs/layers.md; this module is their single implementation.
 */
import type { LayerOverrides, Policy } from './config.ts';
import { formatCpuMillis } from './quantity.ts';
import type { LayerCommon, LayerKind, LayerKindName, LayerMatch, LayerSpec, SizedKindFields } from './scx.ts';
import { SCX_LIMITS, escapeRegex } from './scx.ts';
import type { CgroupDriver, LayerName, NodeInfo, QosClass, Tier } from './types.ts';
import { QOS_CLASSES, TIERS } from './types.ts';
import type { HintedLayer } from './hints.ts';
import { TASK_HINTS } from './hints.ts';
import { qosDefaultTier } from './tier.ts';
import { coresNeeded, coresOf, fenceCapacity } from './capacity.ts';

/**
 * The spec's fixed per-tier properties plus Temper's defaults for the two system layers, which
 * are Open with preempt so they come first on every CPU no tier owns (docs/decisions.md §13).
 */
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
  system: { kind: 'Open', protected: false, preempt: true, exclusive: false, sliceUs: 5000, utilRange: null, weightBand: [10000, 10000] },
  critical: { kind: 'Confined', protected: true, preempt: true, exclusive: true, sliceUs: 5000, utilRange: [0.3, 0.6], weightBand: [2000, 9999] },
  high: { kind: 'Grouped', protected: true, preempt: true, exclusive: false, sliceUs: 10000, utilRange: [0.4, 0.75], weightBand: [500, 1999] },
  normal: { kind: 'Grouped', protected: false, preempt: false, exclusive: false, sliceUs: 20000, utilRange: [0.6, 0.9], weightBand: [100, 499] },
  // The tiers without a core of their own on small nodes, fair by thread inside one layer (§18).
  shared: { kind: 'Open', protected: false, preempt: false, exclusive: false, sliceUs: 5000, utilRange: null, weightBand: [10, 499] },
  low: { kind: 'Open', protected: false, preempt: false, exclusive: false, sliceUs: 30000, utilRange: null, weightBand: [50, 99] },
  background: { kind: 'Open', protected: false, preempt: false, exclusive: false, sliceUs: 5000, utilRange: null, weightBand: [10, 49] },
  // Node-critical pods with `placement = "hints"`: the catch-all's properties, because the
  // catch-all must have an empty match and so cannot map their task hint (decisions §27).
  nodecritical: { kind: 'Open', protected: false, preempt: true, exclusive: false, sliceUs: 20000, utilRange: null, weightBand: [100, 100] },
  catchall: { kind: 'Open', protected: false, preempt: true, exclusive: false, sliceUs: 20000, utilRange: null, weightBand: [100, 100] },
};

/**
 * A layer's configured overrides. The `nodecritical` layer stands in for the catch-all for
 * hinted node-critical pods, so it takes the catch-all's overrides, then its own on top.
 */
export function layerOverrides(policy: Policy, name: LayerName): LayerOverrides {
  if (name === 'nodecritical') return { ...policy.layers.catchall, ...policy.layers.nodecritical };
  return policy.layers[name] ?? {};
}

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
  /**
   * How member pods are matched: per-pod cgroup prefixes, one regex, everything, or
   * (`placement = "hints"`) the layer's task hints and static QoS-level prefixes.
   */
  readonly match: 'cgroup-prefix' | 'cgroup-regex' | 'catch-all' | 'hints';
  /** True when Critical could not be fenced and was rendered Grouped (or Open, when nothing can be owned). */
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

/**
 * The cgroup prefix every pod of one QoS class lives under, as scx_layered's CgroupPrefix sees
 * it (the start of `podCgroupPath` for any UID): the static fallback matches of hints placement.
 * Burstable and BestEffort are directories (trailing slash); Guaranteed pods have no QoS level,
 * so their prefix is the start of the pod directory's name, which no other kubepods child shares.
 */
export function qosCgroupPrefix(driver: CgroupDriver, qos: QosClass): string {
  const [dir] = podCgroupParts(driver, qos);
  return qos === 'Guaranteed' ? dir : dir.slice(0, dir.lastIndexOf('/') + 1);
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

/**
 * A sizing problem worth an operator's attention, as `plan()` returns it and `render`, `explain`,
 * the agent's `agent-status` annotation and the dashboard show it.
 * - `node-too-small`: no layer can own a CPU here (one core must stay unowned), so nothing is fenced;
 * - `critical-demoted`: Critical's whole-core request does not fit the fence, it runs unfenced;
 * - `tier-unowned`: a Grouped tier got no CPU of its own and runs as an Open layer;
 * - `minimum-clamped`: a tier's guaranteed CPUs are fewer than its requests;
 * - `maximum-capped`: a tier may not grow to its limits, so one core stays unowned;
 * - `profile-annotation`: a pod's workload-profile annotation names no profile in effect on the node;
 * - `profile-degraded`: a thread group of a pod's workload profile stays in its tier's plain layer
 *   (the code and the reason are in the message, docs/profiles.md "Degradation").
 */
export interface PlanWarning {
  readonly code: PlanWarningCode;
  /** The tier concerned, or null for the whole node. */
  readonly tier: Tier | null;
  readonly message: string;
}

/** Every warning code, in the order a plan lists them. */
export const PLAN_WARNING_CODES = ['node-too-small', 'critical-demoted', 'tier-unowned', 'minimum-clamped', 'maximum-capped', 'profile-annotation', 'profile-degraded'] as const;
/** A warning's kind (see PlanWarning). */
export type PlanWarningCode = (typeof PLAN_WARNING_CODES)[number];

interface Sizing {
  readonly kind: LayerKindName;
  readonly cpusRange: readonly [number, number] | null;
  readonly demoted: boolean;
  /** True when a tier with an allocation by the spec got none and runs Open. */
  readonly unowned: boolean;
  readonly notes: readonly string[];
}

function buildSpec(name: LayerName, comment: string, matches: LayerMatch[][], sizing: Sizing, d: LayerDefaults, o: LayerOverrides, weight: number): { spec: LayerSpec; common: LayerCommon; utilRange: readonly [number, number] | null; protectedFlag: boolean } {
  const exclusiveDefault = sizing.demoted ? false : d.exclusive;
  // A tier left without CPUs must not preempt: Open+preempt layers come first on every shared
  // CPU, and a busy one there would starve the system layer and the catch-all (decisions §15).
  const preemptDefault = sizing.unowned ? false : d.preempt;
  const common: LayerCommon = {
    slice_us: o.slice_us ?? d.sliceUs,
    preempt: o.preempt ?? preemptDefault,
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

/**
 * A layer's matches and comment under `placement = "hints"`: fixed for the layer and the node's
 * layout, never derived from its pods, so pods coming and going leave the config unchanged.
 */
interface HintedMatches {
  readonly matches: LayerMatch[][];
  readonly comment: string;
}

function layerPlan(
  name: LayerName, tier: Tier | null, members: readonly LayerMember[], fixed: readonly LayerMatch[][],
  sizing: Sizing, policy: Policy, nodeMillis: number, catchAll = false, hinted: HintedMatches | null = null,
): LayerPlan {
  const d = LAYER_DEFAULTS[name];
  const o = layerOverrides(policy, name);
  const requestMillis = sum(members.map((m) => m.requestMillis));
  const limitMillis = summedLimits(members);
  const { matches, match } = catchAll
    ? { matches: [[]] as LayerMatch[][], match: 'catch-all' as const }
    : hinted !== null
      ? { matches: hinted.matches, match: 'hints' as const }
      : matchesFor(policy.node.cgroupDriver, fixed, members);
  // With hints a weight must not move with the pods: each layer has its band's top (decisions §28).
  const weight = policy.node.placement === 'hints' ? d.weightBand[1] : weightIn(d.weightBand, requestMillis, nodeMillis);
  const comment = catchAll
    ? (policy.node.placement === 'hints' ? 'Temper catch-all: kubelet, node daemons, everything else' : 'Temper catch-all: kubelet, node daemons, node-critical pods, everything else')
    : hinted !== null
      ? hinted.comment
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

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
/** A tier's name as a sentence starts it (`Normal`). */
const title = (t: Tier): string => `${t[0]?.toUpperCase() ?? ''}${t.slice(1)}`;

/** A tier's sizing while it is being worked out: minimum first, maximum in a second pass. */
interface OwnedDraft {
  readonly tier: Tier;
  readonly kind: 'Confined' | 'Grouped';
  readonly min: number;
  /** CPUs the tier would grow to if the node had room (its limits, or every CPU). */
  readonly wantedMax: number;
  /** True when `wantedMax` comes from the pods' limits (an explicit ceiling). */
  readonly limited: boolean;
  max: number;
}

/** The rendered layers and the sizing warnings behind them. */
export interface RenderedLayers {
  readonly layers: LayerPlan[];
  readonly warnings: PlanWarning[];
  /** The tiers whose pods are in the `shared` layer, highest first; empty when there is none. */
  readonly sharedTiers: readonly Tier[];
}

/**
 * Sizes and renders every layer for one node. `members` holds each tier's pods (sorted), the
 * Temper pods for the system layer and the node-critical pods that fall to the catch-all
 * (counted only: the catch-all matches everything). Layers come out in config order; empty tier
 * layers are omitted; the system layer is first and the catch-all last. Rules (docs/layers.md):
 * - the owned layers (Confined/Grouped) never cover the node: their maxima, in whole cores, sum to
 *   at most `fenceCapacity().ownableCores`, so at least one core is owned by nobody at any moment;
 * - the system layer and the catch-all are Open with preempt and own nothing;
 * - Critical is Confined on exclusive whole cores, `cpus_range` = [request cores, request cores],
 *   growing only to its limits when every pod has one and there is room; when its request does not
 *   fit it is demoted to Grouped (losing `exclusive`), or to Open when nothing can be owned;
 * - High and Normal are Grouped with min = whole CPUs of requests (at least 1), granted in tier
 *   order; a tier left without a core runs Open without preempt; maxima (limits, or every CPU) are
 *   granted in tier order from what the minima left;
 * - Low and Background are Open without preempt; weights grow with requests inside disjoint bands;
 * - when a tier above Low gets no core, it, Low and Background are one Open layer, `shared`:
 *   scx_layered serves separate non-preempting Open layers in a fixed order on each shared CPU, so
 *   one always-busy tier would starve the others there; inside one layer it is fair by thread.
 * Every degradation is a note on the layer and a warning in `warnings`.
 * With `placement = "hints"` (docs/layers.md "What causes a new generation") the sizing is the
 * same, but nothing in the config comes from individual pods: each layer maps its fixed task
 * hints (core/hints.ts), the layers of the QoS defaults' tiers hold static QoS-level prefixes,
 * weights are fixed, comments carry no counts, the Open tiers are always present, node-critical
 * pods get the `nodecritical` layer, and the order puts the hint-only layers first.
 */
export function renderLayers(
  policy: Policy, node: NodeInfo, members: Readonly<Record<Tier | 'system' | 'nodecritical' | 'catchall', readonly LayerMember[]>>,
): RenderedLayers {
  const cap = fenceCapacity(node, policy);
  const { cpus, threadsPerCore: tpc } = cap;
  const nodeMillis = cpus * 1000;
  const warnings: PlanWarning[] = [];
  const unownedCpus = cpus - cap.ownableCores * tpc;
  const capacityWords = `${node.name}: ${plural(cpus, 'CPU')}${tpc > 1 ? ` (${plural(cap.cores, 'core')} of ${tpc} threads)` : ''}, ${plural(cap.ownableCores, 'core')} may be owned, ${plural(cap.unownedCores, 'core')} always unowned (node.reserved_cpus = ${policy.node.reservedCpus})`;
  let free = cap.ownableCores; // cores not yet promised to an owned layer (minima, then maxima)
  const drafts: OwnedDraft[] = [];
  const notes: Record<Tier, string[]> = { critical: [], high: [], normal: [], low: [], background: [] };
  const demoted: Partial<Record<Tier, boolean>> = {};
  const unowned: Partial<Record<Tier, boolean>> = {};

  const sizedTiers = (['critical', 'high', 'normal'] as const).filter((t) => members[t].length > 0);
  if (cap.ownableCores === 0 && sizedTiers.length > 0) {
    warnings.push({ code: 'node-too-small', tier: null, message: `${capacityWords}; no tier can be fenced or own a CPU here (fencing one core needs at least ${2 * tpc} CPUs)` });
  }

  // Pass 1: minima, in tier order.
  for (const tier of sizedTiers) {
    const requestMillis = sum(members[tier].map((m) => m.requestMillis));
    const limitMillis = summedLimits(members[tier]);
    if (tier === 'critical') {
      const needed = coresNeeded(requestMillis, tpc);
      if (needed <= free) {
        const min = needed * tpc;
        const limitCpus = limitMillis === null ? min : Math.max(min, coresNeeded(limitMillis, tpc) * tpc);
        if (limitMillis === null) notes.critical.push(`fenced at its requests (${plural(min, 'CPU')}): a pod without a CPU limit gives the tier no ceiling to grow to, so it stays on its fenced cores`);
        drafts.push({ tier, kind: 'Confined', min, wantedMax: limitCpus, limited: limitMillis !== null, max: min });
        free -= needed;
        continue;
      }
      demoted.critical = true;
      const why = `requests ${formatCpuMillis(requestMillis)} need ${plural(needed, 'whole core')} but only ${free} can be fenced (${capacityWords})`;
      if (free === 0) {
        unowned.critical = true;
        notes.critical.push(`demoted to Open: ${why}`);
        warnings.push({ code: 'critical-demoted', tier, message: `Critical is not fenced and owns no CPU: ${why}` });
        continue;
      }
      notes.critical.push(`demoted to Grouped: ${why}`);
      warnings.push({ code: 'critical-demoted', tier, message: `Critical is not fenced (Grouped, not exclusive): ${why}` });
    }
    if (free === 0) {
      unowned[tier] = true;
      const why = `no core is left for it to own (${capacityWords}, all held by higher tiers)`;
      notes[tier].push(`runs in the shared Open layer without preempt: ${why}`);
      warnings.push({ code: 'tier-unowned', tier, message: `${title(tier)} owns no CPU and runs in the shared layer with the other tiers that own none and with Low and Background, on the unowned CPUs: ${why}` });
      continue;
    }
    const wanted = Math.max(1, Math.ceil(requestMillis / 1000));
    const min = Math.min(wanted, free * tpc);
    if (min < wanted) {
      const why = `minimum clamped from ${wanted} to ${min} CPUs: owned layers may not cover the node (${capacityWords}, ${plural(cap.ownableCores - free, 'core')} held by higher tiers)`;
      notes[tier].push(why);
      if (demoted[tier] !== true) warnings.push({ code: 'minimum-clamped', tier, message: `${title(tier)} is guaranteed ${plural(min, 'CPU')}, less than its requests (${formatCpuMillis(requestMillis)}): ${why}` });
    }
    const wantedMax = limitMillis === null ? cpus : Math.max(min, Math.ceil(limitMillis / 1000));
    drafts.push({ tier, kind: 'Grouped', min, wantedMax, limited: limitMillis !== null, max: min });
    free -= coresOf(min, tpc);
  }

  // Pass 2: maxima, in tier order, from the cores the minima left.
  for (const d of drafts) {
    const minCores = coresOf(d.min, tpc);
    const wantedCores = coresOf(d.wantedMax, tpc);
    const extra = Math.min(free, Math.max(0, wantedCores - minCores));
    d.max = Math.max(d.min, Math.min(d.wantedMax, (minCores + extra) * tpc));
    free -= coresOf(d.max, tpc) - minCores;
    if (d.max < d.wantedMax) {
      const what = d.limited ? `its limits (${plural(d.wantedMax, 'CPU')})` : 'every CPU (a pod has no CPU limit)';
      const why = `grows to at most ${plural(d.max, 'CPU')} instead of ${what}, so that ${plural(unownedCpus, 'CPU')} stay${unownedCpus === 1 ? 's' : ''} unowned`;
      notes[d.tier].push(why);
      if (d.limited && demoted[d.tier] !== true) warnings.push({ code: 'maximum-capped', tier: d.tier, message: `${title(d.tier)} ${why} (${capacityWords})` });
    }
  }

  const hints = policy.node.placement === 'hints';
  const noAllocation: Sizing = { kind: 'Open', cpusRange: null, demoted: false, unowned: false, notes: [] };
  const systemNotes = [`owns no CPU (Open, preempt): ${plural(unownedCpus, 'CPU')} of ${cpus} stay${unownedCpus === 1 ? 's' : ''} unowned at every moment, and the system layer and the catch-all come first on them`];
  const commBlocks = SYSTEM_COMMS.map((c): LayerMatch[] => [{ PcommPrefix: c }]);
  const system = layerPlan('system', null, members.system, commBlocks, { ...noAllocation, notes: systemNotes }, policy, nodeMillis, false,
    hints ? { matches: [...commBlocks, hintBlock('system')], comment: `Temper system layer: scx_layered, temper-agent and Temper's pods (task hint ${TASK_HINTS.system})` } : null);

  // With hints the Open tiers are always present: they own no CPU, so an empty one costs
  // nothing, and a first pod arriving then needs no new generation (decisions §29).
  const hasPods = (t: Tier): boolean => members[t].length > 0;
  const present = (t: Tier): boolean => hasPods(t) || (hints && LAYER_DEFAULTS[t].kind === 'Open');
  // Tiers without a core of their own, plus Low and Background, when one above Low has none (§18).
  const sharedTiers = TIERS.some((t) => hasPods(t) && unowned[t] === true)
    ? TIERS.filter((t) => present(t) && (unowned[t] === true || LAYER_DEFAULTS[t].kind === 'Open'))
    : [];
  const driver = policy.node.cgroupDriver;
  const hintedTiers = (tiers: readonly Tier[], what: string): HintedMatches => {
    const fallbacks = QOS_CLASSES.filter((q) => tiers.includes(qosDefaultTier(q)));
    const values = tiers.map((t) => TASK_HINTS[t]);
    return {
      matches: [...tiers.map(hintBlock), ...fallbacks.map((q): LayerMatch[] => [{ CgroupPrefix: qosCgroupPrefix(driver, q) }])],
      comment: `${what}: task hint${values.length === 1 ? '' : 's'} ${values.join(', ')}${fallbacks.length === 0 ? '' : `; static fallback for ${listWords(fallbacks)} pods without a hint`}`,
    };
  };

  const tierPlans = new Map<LayerName, LayerPlan>();
  for (const tier of TIERS) {
    if (!present(tier) || sharedTiers.includes(tier)) continue;
    const tierMembers = members[tier];
    const draft = drafts.find((x) => x.tier === tier);
    const limitMillis = summedLimits(tierMembers);
    let sizing: Sizing;
    if (draft !== undefined) {
      sizing = { kind: draft.kind, cpusRange: [draft.min, draft.max], demoted: demoted[tier] === true, unowned: false, notes: notes[tier] };
    } else {
      if (LAYER_DEFAULTS[tier].kind === 'Open' && limitMillis !== null && tierMembers.length > 0) notes[tier].push(`Open layers get no CPU allocation, so the tier's limits (${formatCpuMillis(limitMillis)}) are not a ceiling here`);
      sizing = { kind: 'Open', cpusRange: null, demoted: demoted[tier] === true, unowned: unowned[tier] === true, notes: notes[tier] };
    }
    tierPlans.set(tier, layerPlan(tier, tier, tierMembers, [], sizing, policy, nodeMillis, false, hints ? hintedTiers([tier], `tier ${tier}`) : null));
  }
  if (sharedTiers.length > 0) {
    const what = `${sharedTiers.length === 1 ? 'tier' : 'tiers'} ${sharedTiers.join(', ')} (no core of their own)`;
    tierPlans.set('shared', sharedLayerPlan(sharedTiers, members, notes, policy, nodeMillis, hints ? hintedTiers(sharedTiers, what) : null));
  }

  const plans: LayerPlan[] = [system];
  if (hints && policy.priorityMapping.systemToCatchall) {
    plans.push(layerPlan('nodecritical', null, members.nodecritical, [], noAllocation, policy, nodeMillis, false, {
      matches: [hintBlock('nodecritical')],
      comment: `node-critical pods: task hint ${TASK_HINTS.nodecritical}, with the catch-all's properties (the catch-all cannot map a hint)`,
    }));
  }
  for (const name of hints ? HINTS_TIER_ORDER : CGROUP_TIER_ORDER) {
    const l = tierPlans.get(name);
    if (l !== undefined) plans.push(l);
  }
  plans.push(layerPlan('catchall', null, members.catchall, [], noAllocation, policy, nodeMillis, true));
  const order = (w: PlanWarning): number => PLAN_WARNING_CODES.indexOf(w.code) * 10 + (w.tier === null ? -1 : TIERS.indexOf(w.tier));
  return { layers: plans, warnings: [...warnings].sort((a, b) => order(a) - order(b)), sharedTiers };
}

/** One OR block mapping a layer's task hint; scx_layered wants HintEquals alone in its block. */
function hintBlock(layer: HintedLayer): LayerMatch[] {
  return [{ HintEquals: TASK_HINTS[layer] }];
}

/** `a`, `a and b`, `a, b and c`. */
function listWords(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1) ?? ''}`;
}

/**
 * Config order of the tier layers between the system layer and the catch-all. scx_layered's full
 * re-match (fork/exec, rename, cgroup move) takes the first layer in this order whose blocks
 * match, HintEquals included; a mapped hint wins only at the task's next wake-up. So with hints,
 * the layers without static fallbacks (Critical, High, Low) come before Normal and Background,
 * whose QoS-level prefixes would otherwise take a hinted task first (decisions §26).
 */
const CGROUP_TIER_ORDER: readonly LayerName[] = ['critical', 'high', 'normal', 'shared', 'low', 'background'];
const HINTS_TIER_ORDER: readonly LayerName[] = ['critical', 'high', 'low', 'normal', 'shared', 'background'];

/**
 * The one Open layer of the tiers that share the unowned CPUs on a small node, matching every pod
 * of `tiers` (highest tier first). Its notes say which tiers share it and why.
 */
function sharedLayerPlan(
  tiers: readonly Tier[], members: Readonly<Record<Tier, readonly LayerMember[]>>, notes: Readonly<Record<Tier, readonly string[]>>,
  policy: Policy, nodeMillis: number, hinted: HintedMatches | null,
): LayerPlan {
  const all = tiers.flatMap((t) => members[t]);
  const words = tiers.map(title).join(', ');
  const why = `${words} share one Open layer without preempt: ${tiers.length === 1 ? 'this tier owns' : 'these tiers own'} no core here, and scx_layered serves separate non-preempting Open layers in a fixed order on each CPU they share, so an always-busy tier would starve the others; inside one layer tasks are served fairly by thread, so the tier order between them is not enforced on this node`;
  const sizing: Sizing = { kind: 'Open', cpusRange: null, demoted: false, unowned: false, notes: [why, ...tiers.flatMap((t) => notes[t].map((n) => `${t}: ${n}`))] };
  const plan = layerPlan('shared', null, all, [], sizing, policy, nodeMillis, false, hinted);
  if (hinted !== null) return plan;
  const comment = `${tiers.length === 1 ? 'tier' : 'tiers'} ${tiers.join(', ')} (no core of their own): ${describeLoad(all, plan.requestMillis, plan.limitMillis)}`;
  return { ...plan, spec: { ...plan.spec, comment } };
}
