/**
 * Rendering workload profiles within scx_layered's limits (docs/profiles.md "Rendering"): given a
 * node's tier layout and its profiled pods, the extra layers, the task hints and the cores they
 * carve from their tiers, and every group that had to stay in its tier's plain layer, with the
 * reason. Pure and deterministic; plan() calls it for every node.
 */
import type { Policy } from './config.ts';
import { coresOf } from './capacity.ts';
import { TASK_HINTS } from './hints.ts';
import { LAYER_DEFAULTS, layerOverrides, podCgroupPath } from './layers.ts';
import { comparePods } from './pod-order.ts';
import type { Profile, ThreadGroup, ThreadView, Treatment } from './profiles.ts';
import { describeSelectors, groupOfThread } from './profiles.ts';
import type { ProfileSelection } from './profiles-select.ts';
import { formatCpuMillis } from './quantity.ts';
import type { LayerCommon, LayerKind, LayerKindName, LayerMatch, LayeredConfig, LayerSpec, SizedKindFields } from './scx.ts';
import { SCX_LIMITS } from './scx.ts';
import type { QosClass, Tier, TierName } from './types.ts';

/** The slice of a latency group's layer, at most its tier's. */
export const LATENCY_SLICE_US = 1000;

/**
 * Task-hint values of the profile layers, fixed forever like TASK_HINTS (core/hints.ts): the
 * hint map outlives the agent and the scheduler. Yield groups need none: they take Background's.
 */
export const PROFILE_HINTS = {
  'critical-exclusive': 8,
  'critical-latency': 9,
  'high-latency': 10,
  'normal-latency': 11,
} as const;

/** The profile layers: one per tier and treatment, whatever the number of pods and profiles. */
export type ProfileLayerName = keyof typeof PROFILE_HINTS | 'yield';

interface SubLayer {
  readonly name: ProfileLayerName;
  /** The tier whose layer it carves its cores from; null for `yield`. */
  readonly tier: 'critical' | 'high' | 'normal' | null;
  readonly treatment: Treatment;
}

/** In the order they are kept when the layer budget is short (docs/profiles.md "Degradation"). */
const SUB_LAYERS: readonly SubLayer[] = [
  { name: 'critical-exclusive', tier: 'critical', treatment: 'exclusive' },
  { name: 'critical-latency', tier: 'critical', treatment: 'latency' },
  { name: 'high-latency', tier: 'high', treatment: 'latency' },
  { name: 'yield', tier: null, treatment: 'yield' },
  { name: 'normal-latency', tier: 'normal', treatment: 'latency' },
];

/** Match conditions of profile layers (thread names are CommPrefix). */
export type ProfileMatch = LayerMatch;

/** A profile layer's spec. */
export type ProfileLayerSpec = LayerSpec;

/** A base layer as rendering sees it (core/layers.ts LayerPlan has these fields). */
export interface BaseLayer {
  readonly name: string;
  readonly tier: Tier | null;
  readonly demoted: boolean;
  readonly spec: LayerSpec;
}

/** The node's tier layout: its base layers in config order (a Plan is one). */
export interface ProfileLayout {
  readonly layers: readonly BaseLayer[];
}

/** A pod with the profile selection chose for it (core/profiles-select.ts). */
export interface ProfiledPod {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly qosClass: QosClass;
  readonly tier: TierName;
  /** The layer its tier assignment puts it in on this node (`shared` included), as the plan reports it. */
  readonly layer: string;
  /** Its effective CPU request (core/resources.ts). */
  readonly requestMillis: number;
  readonly profile: Profile;
}

/**
 * Why a group stays in its pod's tier layer:
 * - `not-tiered`: node-critical and Temper's own pods are never profiled;
 * - `treatment-unavailable`: the tier cannot give it on this node (exclusive outside a fenced
 *   Critical, own CPUs in a tier that owns none);
 * - `needs-hints`: a process-title group, which only the agent's task hints can place;
 * - `shared-layer`: a yield group in `cgroup` placement on a node with a `shared` layer;
 * - `match-budget`: the layer's 32 OR blocks are taken by pods before it;
 * - `cores`: no whole core is left to carve, from the pod's own request or from its tier;
 * - `layer-budget`: the config's 16 layers are taken.
 */
export const PROFILE_DEGRADATION_CODES = ['not-tiered', 'treatment-unavailable', 'needs-hints', 'shared-layer', 'match-budget', 'cores', 'layer-budget'] as const;
export type ProfileDegradationCode = (typeof PROFILE_DEGRADATION_CODES)[number];

/** Where one group's threads run, and why. */
export interface GroupPlacement {
  readonly group: string;
  readonly treatment: Treatment;
  /** `partial`: exclusive or latency with fewer whole cores than wanted. */
  readonly status: 'applied' | 'partial' | 'degraded';
  /** The layer its threads run in: a profile layer, the Background layer, or the pod's own. */
  readonly layer: string;
  /**
   * The task hint the agent writes for the group's threads (`placement = "hints"`), or null: the
   * static matches place them (`cgroup`), or they get what the pod's other threads get (degraded).
   */
  readonly hint: number | null;
  /** Whole cores carved for the pod's group (exclusive, latency), else null. */
  readonly cores: number | null;
  readonly code: ProfileDegradationCode | null;
  readonly reason: string;
}

/** One profiled pod's groups, in the profile's order. */
export interface PodProfilePlacement {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly profile: string;
  /** The layer holding its tier, where its unmatched threads stay. */
  readonly tierLayer: string;
  readonly groups: readonly GroupPlacement[];
}

/** One degraded group, as the plan, `explain`, the annotation and the dashboard report it. */
export interface ProfileDegradation {
  readonly code: ProfileDegradationCode;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly profile: string;
  readonly group: string;
  readonly message: string;
}

/** A profile layer and where it goes. */
export interface ProfileLayerPlan {
  readonly name: ProfileLayerName;
  readonly tier: Tier | null;
  readonly treatment: Treatment;
  /** The base layer it is inserted right before. */
  readonly before: string;
  readonly hint: number | null;
  /** Whole cores carved from its tier's layer (0 for yield). */
  readonly cores: number;
  readonly groups: number;
  readonly pods: number;
  readonly spec: ProfileLayerSpec;
}

/** A base layer whose CPUs profile layers carved from. */
export interface ResizedLayer {
  readonly name: string;
  readonly cpusRange: readonly [number, number];
  readonly carvedCores: number;
}

export interface ProfileRendering {
  /** In config order. */
  readonly layers: readonly ProfileLayerPlan[];
  readonly resized: readonly ResizedLayer[];
  /** Sorted by (namespace, name, uid). */
  readonly pods: readonly PodProfilePlacement[];
  /** Every degraded group, in pod order then group order. */
  readonly degradations: readonly ProfileDegradation[];
}

/** A group while rendering works out where it goes. */
interface Draft {
  readonly pod: ProfiledPod;
  readonly group: ThreadGroup;
  readonly tierLayer: string;
  sub: SubLayer | null;
  status: GroupPlacement['status'];
  layer: string;
  hint: number | null;
  cores: number | null;
  code: ProfileDegradationCode | null;
  reason: string;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function sizedFields(spec: { readonly kind: LayerKind }): { kind: LayerKindName; fields: SizedKindFields | null; common: LayerCommon } {
  const k = spec.kind;
  if ('Confined' in k) return { kind: 'Confined', fields: k.Confined, common: k.Confined };
  if ('Grouped' in k) return { kind: 'Grouped', fields: k.Grouped, common: k.Grouped };
  return { kind: 'Open', fields: null, common: k.Open };
}

function degrade(d: Draft, code: ProfileDegradationCode, why: string): void {
  d.sub = null;
  d.status = 'degraded';
  d.code = code;
  d.layer = d.tierLayer;
  d.hint = null;
  d.cores = null;
  d.reason = `stays in ${d.layer}: ${why}`;
}

/** The first decision: which profile layer a group asks for, or why its tier cannot give it. */
function classify(d: Draft, layout: ProfileLayout, hints: boolean): void {
  const { group, pod } = d;
  const base = layout.layers.find((l) => l.name === d.tierLayer);
  if (pod.tier === 'system' || base === undefined) {
    degrade(d, 'not-tiered', 'node-critical pods and Temper\'s own pods are never profiled: they keep their layer as a whole');
    return;
  }
  if (group.titles.length > 0 && !hints) {
    degrade(d, 'needs-hints', 'process titles are read by the agent and placed by task hints only (node.placement = "hints"); the scheduler matches thread names alone');
    return;
  }
  const { kind } = sizedFields(base.spec);
  if (group.treatment === 'yield') {
    const has = (name: string): boolean => layout.layers.some((l) => l.name === name);
    const target = has('background') ? 'background' : has('shared') ? 'shared' : null;
    if (target === d.tierLayer) {
      d.reason = `already at Background's standing in ${target}: runs when the tiers above leave a CPU idle`;
    } else if (hints) {
      d.layer = target ?? 'background';
      d.hint = TASK_HINTS.background;
      d.reason = `task hint ${TASK_HINTS.background}: Background's layer, runs when the tiers above leave a CPU idle`;
    } else if (has('shared')) {
      degrade(d, 'shared-layer', 'this node has a shared layer (the tiers without a core of their own, with Low and Background, decisions §18), and a separate yield layer beside it would be served in a fixed order on the CPUs they share, so one of them could starve the other');
    } else {
      d.sub = SUB_LAYERS.find((s) => s.name === 'yield') ?? null;
    }
    return;
  }
  if (group.treatment === 'exclusive' && (pod.tier !== 'critical' || base.name !== 'critical' || kind !== 'Confined')) {
    const why = pod.tier === 'critical'
      ? `Critical is not fenced on this node (${base.name}, ${kind}), so it has no exclusive cores to share out`
      : `exclusive cores are Critical's alone (the specification's tier table), and a ${pod.tier} pod's threads never rise above its tier`;
    degrade(d, 'treatment-unavailable', why);
    return;
  }
  if (kind === 'Open') {
    degrade(d, 'treatment-unavailable', `tier ${pod.tier} owns no CPU on this node (${base.name} is Open), so none can be carved for the group`);
    return;
  }
  d.sub = SUB_LAYERS.find((s) => s.treatment === group.treatment && s.tier === base.name) ?? null;
}

/** OR blocks of one group of one pod in `cgroup` placement: pod cgroup AND process AND each thread prefix. */
function groupBlocks(policy: Policy, d: Draft): ProfileMatch[][] {
  const pod: ProfileMatch = { CgroupPrefix: podCgroupPath(policy.node.cgroupDriver, d.pod.qosClass, d.pod.uid) };
  const process: ProfileMatch[] = d.group.process === null ? [] : [{ PcommPrefix: d.group.process }];
  if (d.group.threads.length === 0) return [[pod, ...process]];
  return d.group.threads.map((t) => [pod, ...process, { CommPrefix: t }]);
}

/** Each profile layer has 32 OR blocks; pods take them in order, a group all or nothing. */
function fitMatches(policy: Policy, drafts: readonly Draft[]): void {
  for (const sub of SUB_LAYERS) {
    let used = 0;
    for (const d of drafts.filter((x) => x.sub === sub)) {
      const need = groupBlocks(policy, d).length;
      if (used + need <= SCX_LIMITS.maxOrBlocks) used += need;
      else degrade(d, 'match-budget', `layer ${sub.name} is full: ${used} of its ${SCX_LIMITS.maxOrBlocks} OR blocks hold the groups of pods before this one, and this group needs ${need} (one per thread name)`);
    }
  }
}

/**
 * Whole cores for exclusive and latency groups, carved from their tier's layer: each pod at most
 * its own request in whole cores, the tier's layer keeping at least one core for everything else.
 * Latency groups first (one core each by default, never the pod's last), then exclusive ones
 * (what is left of the pod's).
 */
function carveCores(layout: ProfileLayout, drafts: readonly Draft[], tpc: number): void {
  const podLeft = new Map<string, number>();
  for (const tier of ['critical', 'high', 'normal'] as const) {
    const base = layout.layers.find((l) => l.name === tier);
    const fields = base === undefined ? null : sizedFields(base.spec).fields;
    if (fields === null) continue;
    const tierCores = coresOf(fields.cpus_range[0], tpc);
    let left = tierCores - 1;
    const mine = (t: Treatment): Draft[] => drafts.filter((d) => d.sub !== null && d.sub.tier === tier && d.sub.treatment === t);
    for (const d of [...mine('latency'), ...mine('exclusive')]) {
      const own = Math.floor(d.pod.requestMillis / 1000 / tpc);
      const ownLeft = podLeft.get(d.pod.uid) ?? own;
      const core = tpc === 1 ? '1 CPU' : `${tpc} CPUs`;
      if (ownLeft === 0) {
        degrade(d, 'cores', own === 0
          ? `the pod requests ${formatCpuMillis(d.pod.requestMillis)}, less than one whole core (${core} here), so none of its groups can have cores of their own`
          : `the pod's ${plural(own, 'whole core')} went to its groups before this one`);
        continue;
      }
      if (left === 0) {
        degrade(d, 'cores', `${tier} holds ${plural(tierCores, 'whole core')} and keeps one for its other threads and pods; none is left to carve`);
        continue;
      }
      // A latency group's core is idle most of the time: never the pod's last, which its main
      // threads need (a 1-core Redis would otherwise give its core to bio_aof, decisions §66).
      const usable = d.group.treatment === 'latency' ? ownLeft - 1 : ownLeft;
      if (usable === 0) {
        degrade(d, 'cores', `the pod's request leaves ${plural(ownLeft, 'whole core')}, and a latency group never takes a pod's last: its main threads keep it`);
        continue;
      }
      const want = d.group.cores ?? (d.group.treatment === 'latency' ? 1 : ownLeft);
      const granted = Math.min(want, usable, left);
      left -= granted;
      podLeft.set(d.pod.uid, ownLeft - granted);
      d.cores = granted;
      if (granted < want) {
        d.status = 'partial';
        const bound = granted === usable ? `the pod's own request leaves ${plural(usable, 'whole core')} for it` : `${tier} keeps one of its ${plural(tierCores, 'whole core')} for its other threads and pods`;
        d.reason = `${granted} of ${plural(want, 'wanted whole core')}: ${bound}`;
      }
    }
  }
}

/** The Open kind of the `yield` layer: Background's properties, from its layer or from its defaults. */
function yieldKind(policy: Policy, layout: ProfileLayout): LayerKind {
  const bg = layout.layers.find((l) => l.name === 'background');
  if (bg !== undefined && 'Open' in bg.spec.kind) return bg.spec.kind;
  const d = LAYER_DEFAULTS.background;
  const { slice_us: sliceUs, preempt, exclusive, ...rest } = layerOverrides(policy, 'background');
  const common: LayerCommon = {
    slice_us: sliceUs ?? d.sliceUs, preempt: preempt ?? d.preempt, exclusive: exclusive ?? d.exclusive, weight: d.weightBand[0],
    ...(rest.min_exec_us === undefined ? {} : { min_exec_us: rest.min_exec_us }),
    ...(rest.yield_ignore === undefined ? {} : { yield_ignore: rest.yield_ignore }),
    ...(rest.growth_algo === undefined ? {} : { growth_algo: rest.growth_algo }),
  };
  return { Open: common };
}

/** A carve layer's kind: its tier layer's, on its own whole cores, exclusive or with a short slice. */
function carvedKind(base: LayerSpec, cpus: number, treatment: Treatment): LayerKind {
  const { kind, fields } = sizedFields(base);
  if (fields === null) throw new Error(`internal error: profile layer carved from Open layer ${base.name}`);
  const own: SizedKindFields = {
    ...fields,
    cpus_range: [cpus, cpus],
    exclusive: treatment === 'exclusive',
    slice_us: treatment === 'latency' ? Math.min(fields.slice_us, LATENCY_SLICE_US) : fields.slice_us,
  };
  return kind === 'Confined' ? { Confined: own } : { Grouped: own };
}

function appliedReason(d: Draft, sub: SubLayer, spec: ProfileLayerSpec, tpc: number): string {
  const via = d.hint === null ? '' : `task hint ${d.hint}; `;
  if (sub.treatment === 'yield') return `${via}Background's properties, runs when the tiers above leave a CPU idle`;
  const { common } = sizedFields(spec);
  const cores = `${plural(d.cores ?? 0, 'whole core')} (${plural((d.cores ?? 0) * tpc, 'CPU')}) carved from ${sub.tier}`;
  const what = sub.treatment === 'exclusive' ? `exclusive${tpc > 1 ? ', SMT siblings kept idle' : ''}` : `slice ${common.slice_us}µs, ${common.preempt ? 'preempt' : `no preempt (${sub.tier} does not preempt)`}`;
  return `${via}${cores}, ${what}${d.status === 'partial' ? `; ${d.reason}` : ''}`;
}

/**
 * Renders the profiled pods of one node into profile layers and task hints (docs/profiles.md
 * "Rendering"). `layout` is the node's rendered tier layers (a Plan, or RenderedLayers); `pods` are its pods with a selected profile, in any order. Rules:
 * - one layer per tier and treatment, never per pod: `critical-exclusive` (Confined, exclusive,
 *   whole cores), `critical-latency`, `high-latency`, `normal-latency` (the tier's kind and
 *   preemption, slice at most LATENCY_SLICE_US), each right before its tier's layer and carving
 *   its cores out of that layer's; yield groups take Background's layer (hint 6) with hints, and
 *   one `yield` layer with Background's properties right after `system` with cgroup placement;
 * - `cgroup` placement matches each pod's group by [pod cgroup, process, thread name] OR blocks,
 *   `hints` maps one fixed value per layer (PROFILE_HINTS) and the agent writes it per thread;
 * - a group whose treatment the tier cannot give on this node, or that does not fit the OR
 *   blocks, the cores or the 16 layers, stays in its tier's layer, with the code and the reason.
 * Pods are taken in (namespace, name, uid) order and groups in their profile's order, so the
 * same inputs in any order give the same result.
 */
export function renderProfiles(policy: Policy, layout: ProfileLayout, pods: readonly ProfiledPod[]): ProfileRendering {
  const hints = policy.node.placement === 'hints';
  const tpc = policy.node.threadsPerCore;
  const sorted = [...pods].sort(comparePods);
  for (const pod of sorted) {
    if (!layout.layers.some((l) => l.name === pod.layer)) throw new Error(`internal error: pod ${pod.namespace}/${pod.name}'s layer ${pod.layer} is not in the layout`);
  }
  const drafts: Draft[] = sorted.flatMap((pod) => pod.profile.groups.map((group): Draft => (
    { pod, group, tierLayer: pod.layer, sub: null, status: 'applied', layer: pod.layer, hint: null, cores: null, code: null, reason: '' })));
  for (const d of drafts) classify(d, layout, hints);
  if (!hints) fitMatches(policy, drafts);
  carveCores(layout, drafts, tpc);

  // The layer budget last: base layers first, then profile layers in SUB_LAYERS order.
  let slots = SCX_LIMITS.maxLayers - layout.layers.length;
  const kept: SubLayer[] = [];
  for (const sub of SUB_LAYERS) {
    const members = drafts.filter((d) => d.sub === sub);
    if (members.length === 0) continue;
    if (slots > 0) {
      kept.push(sub);
      slots--;
      continue;
    }
    for (const d of members) degrade(d, 'layer-budget', `the config already has ${SCX_LIMITS.maxLayers} layers, scx_layered's limit, so ${sub.name} cannot be added`);
  }

  const layers: ProfileLayerPlan[] = [];
  const resized: ResizedLayer[] = [];
  for (const sub of kept) {
    const members = drafts.filter((d) => d.sub === sub);
    const base = sub.tier === null ? null : layout.layers.find((l) => l.name === sub.tier) ?? null;
    const cores = members.reduce((s, d) => s + (d.cores ?? 0), 0);
    const hint = sub.name === 'yield' ? null : PROFILE_HINTS[sub.name];
    const kind = base === null ? yieldKind(policy, layout) : carvedKind(base.spec, cores * tpc, sub.treatment);
    const matches: ProfileMatch[][] = hints && hint !== null ? [[{ HintEquals: hint }]] : members.flatMap((d) => groupBlocks(policy, d));
    const podCount = new Set(members.map((d) => d.pod.uid)).size;
    const what = `profiles: ${sub.treatment} groups of ${sub.tier === null ? 'any tier, with Background\'s properties' : `tier ${sub.tier}`}`;
    const carved = base === null ? '' : `, ${plural(cores, 'whole core')} carved from ${base.name}`;
    const comment = hint !== null && hints ? `${what}: task hint ${hint}${carved}` : `${what}: ${plural(members.length, 'group')} of ${plural(podCount, 'pod')}${carved}`;
    const spec: ProfileLayerSpec = { name: sub.name, comment, matches, kind };
    // cgroup placement: yield's blocks must be tried before every tier layer's pod clauses.
    const before = base?.name ?? layout.layers[1]?.name ?? 'catchall';
    layers.push({ name: sub.name, tier: sub.tier, treatment: sub.treatment, before, hint, cores, groups: members.length, pods: podCount, spec });
    for (const d of members) {
      d.layer = sub.name;
      d.hint = hints ? hint : null;
      d.reason = appliedReason(d, sub, spec, tpc);
    }
  }
  for (const tier of ['critical', 'high', 'normal'] as const) {
    const carved = layers.filter((l) => l.tier === tier).reduce((s, l) => s + l.cores, 0);
    const base = layout.layers.find((l) => l.name === tier);
    const fields = base === undefined ? null : sizedFields(base.spec).fields;
    if (carved === 0 || base === undefined || fields === null) continue;
    const [min, max] = fields.cpus_range;
    resized.push({ name: base.name, cpusRange: [min - carved * tpc, max - carved * tpc], carvedCores: carved });
  }

  // Before the same base layer: yield first (right after system), then exclusive, then latency.
  const order = (l: ProfileLayerPlan): number => {
    const at = layout.layers.findIndex((b) => b.name === l.before);
    return at * (SUB_LAYERS.length + 1) + (l.name === 'yield' ? 0 : 1 + SUB_LAYERS.findIndex((s) => s.name === l.name));
  };
  const placements: PodProfilePlacement[] = sorted.map((pod) => ({
    namespace: pod.namespace, name: pod.name, uid: pod.uid, profile: pod.profile.name, tierLayer: pod.layer,
    groups: drafts.filter((d) => d.pod === pod).map((d) => ({
      group: d.group.name, treatment: d.group.treatment, status: d.status, layer: d.layer, hint: d.hint, cores: d.cores, code: d.code, reason: d.reason,
    })),
  }));
  const degradations: ProfileDegradation[] = drafts.filter((d) => d.code !== null).map((d) => ({
    code: d.code ?? 'not-tiered', namespace: d.pod.namespace, name: d.pod.name, uid: d.pod.uid, profile: d.pod.profile.name, group: d.group.name,
    message: `pod ${d.pod.namespace}/${d.pod.name}: profile ${d.pod.profile.name}, group ${d.group.name} (${d.group.treatment}) ${d.reason}`,
  }));
  return { layers: [...layers].sort((a, b) => order(a) - order(b)), resized, pods: placements, degradations };
}

/**
 * The node's config with the profile layers inserted (each right before its `before` layer, in
 * the rendering's order) and the carved tier layers resized. What plan() will return once it
 * renders profiles; the result passes validateLayeredConfig whenever `base` does.
 */
export function applyProfileLayers(base: LayeredConfig, rendering: ProfileRendering): ProfileLayerSpec[] {
  const out: ProfileLayerSpec[] = [];
  for (const spec of base) {
    for (const l of rendering.layers) if (l.before === spec.name) out.push(l.spec);
    const r = rendering.resized.find((x) => x.name === spec.name);
    const { kind, fields } = sizedFields(spec);
    if (r === undefined || fields === null) {
      out.push(spec);
      continue;
    }
    const own: SizedKindFields = { ...fields, cpus_range: r.cpusRange };
    out.push({ ...spec, kind: kind === 'Confined' ? { Confined: own } : { Grouped: own } });
  }
  return out;
}

/**
 * The profile part of `kubectl temper explain pod`: which profile applied and why, and for each
 * group which threads it holds and where they run (`placement` null when the pod's node is not
 * known, offline without --node). One line each, groups indented, in the profile's order.
 */
export function explainProfile(selection: ProfileSelection, placement: PodProfilePlacement | null): string[] {
  const chosen = selection.profile;
  if (chosen === null) return [`Profile:     none (${selection.reason})`];
  const lines = [`Profile:     ${chosen.profile.name} (${selection.reason})`];
  for (const [i, g] of chosen.profile.groups.entries()) {
    const at = placement?.groups[i];
    const where = at === undefined ? 'placement depends on the node' : at.status === 'degraded' ? `[${at.code}] ${at.reason}` : `${at.layer}: ${at.reason}`;
    lines.push(`  ${g.name} (${g.treatment}): ${describeSelectors(g)} → ${where}`);
  }
  return lines;
}

/**
 * The task hint the agent writes on one thread of a profiled pod (`placement = "hints"`): the
 * hint of the first group holding the thread (groupOfThread) when that group is placed by a hint,
 * else the pod's own (`podHint`; null when the config's static matches place the pod, and the
 * agent then writes 0, which no layer maps, so the static match decides).
 */
export function threadHint(profile: Profile, placement: PodProfilePlacement, podHint: number | null, thread: ThreadView): number | null {
  const group = groupOfThread(profile, thread);
  if (group === null) return podHint;
  return placement.groups.find((g) => g.group === group.name)?.hint ?? podHint;
}
