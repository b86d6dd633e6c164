/**
 * One step of Temper's policy for one node: classify its pods, size and render the layers,
 * validate the config, and derive the node annotation. `plan` is what every adapter calls.
 */
import { createHash } from 'node:crypto';
import type { Policy } from './config.ts';
import type { Problem } from './errors.ts';
import { UnresolvedPriorityError } from './errors.ts';
import type { LayerMember, LayerPlan, PlanWarning } from './layers.ts';
import { comparePods } from './pod-order.ts';
import type { FenceCapacity } from './capacity.ts';
import { coresNeeded, fenceCapacity } from './capacity.ts';
import { renderLayers } from './layers.ts';
import { cpuLimitMillis, cpuRequestMillis } from './resources.ts';
import type { ProfileCatalog } from './profiles.ts';
import { builtinProfileCatalog } from './profiles.ts';
import type { ProfileDegradation, ProfiledPod, ProfileRendering } from './profiles-render.ts';
import { applyProfileLayers, renderProfiles } from './profiles-render.ts';
import type { ProfileSelection } from './profiles-select.ts';
import { profileContext, selectProfile } from './profiles-select.ts';
import type { LayeredConfig, LayerKind } from './scx.ts';
import { serializeConfig, validateLayeredConfig } from './scx.ts';
import type { TierAssignment } from './tier.ts';
import { exclusionOf, knownClasses, tierOf, unresolvedPriority } from './tier.ts';
import type { LayerName, NodeInfo, PodInfo, PriorityClassInfo, QosClass, Tier, TierName } from './types.ts';
import { TIERS } from './types.ts';

/** A pod with its tier assignment and the CPU it accounts for. */
export interface PlacedPod {
  readonly pod: PodInfo;
  readonly assignment: TierAssignment;
  readonly requestMillis: number;
  readonly limitMillis: number | null;
}

/**
 * One pod's row, the JSON contract of `kubectl temper tiers -o json` (offline and live), of the
 * agent's generations and of its /api/v1/pods.
 */
export interface TierRow {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly tier: TierName;
  readonly layer: LayerName;
  readonly priority: number;
  readonly qosClass: QosClass;
  readonly reason: string;
  /**
   * The task hint the agent writes for the pod's threads, or null when the config's own matches
   * place the pod: its static QoS match (or the catch-all) with `placement = "hints"`, its pod
   * clause with `placement = "cgroup"`, where no pod is hinted.
   */
  readonly hint: number | null;
}

/** A pod's row (TierRow) from its classification. */
export function tierRowOf(p: PlacedPod): TierRow {
  const a = p.assignment;
  return {
    namespace: p.pod.namespace, name: p.pod.name, uid: p.pod.uid, tier: a.tier, layer: a.layer,
    priority: a.priority, qosClass: a.qosClass, reason: a.reason, hint: a.hint,
  };
}

/** One tier's entry in the node annotation. */
export interface TierLoad {
  readonly pods: number;
  /** Summed effective CPU requests in millicores, as the scheduler accounts them. */
  readonly cpuMillis: number;
  /** Present (true) only on Critical when it could not be fenced and runs as a Grouped (or Open) layer. */
  readonly demoted?: true;
}

/** The `<prefix>/qos-distribution` annotation: every tier, highest first; `system` pods are not counted. */
export type QosDistribution = Readonly<Record<Tier, TierLoad>>;

/** A pod the plan had to leave out, and why. */
export interface SkippedPod {
  readonly pod: PodInfo;
  /** `missing-uid`: its cgroup path cannot be known; `unresolved-priority`: its class is nowhere to be found. */
  readonly reason: 'missing-uid' | 'unresolved-priority';
  /** The problem, naming the pod and the field. */
  readonly problem: Problem;
}

/** A tiered pod's workload-profile selection (core/profiles-select.ts), in pod order. */
export interface PodProfileSelection {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly selection: ProfileSelection;
}

/** The workload profiles of a plan: every pod's selection and their rendering into layers and hints. */
export interface PlanProfiles {
  /** One per planned pod, sorted like `Plan.pods`. */
  readonly selections: readonly PodProfileSelection[];
  /** The profile layers (already in `config`), the carved tier layers and each profiled pod's groups. */
  readonly rendering: ProfileRendering;
}

export interface Plan {
  readonly node: string;
  /** The node's tiered pods, sorted by (namespace, name, uid). Finished pods are left out. */
  readonly pods: readonly PlacedPod[];
  /** Pods on the node that take no part because they cannot be planned, sorted like `pods`. */
  readonly skipped: readonly SkippedPod[];
  /** The tier layers, in config order; profile layers are in `profiles.rendering.layers`, both in `config`. */
  readonly layers: readonly LayerPlan[];
  readonly config: LayeredConfig;
  /** Canonical config bytes; `configSha256` is their identity. */
  readonly configJson: string;
  readonly configSha256: string;
  readonly distribution: QosDistribution;
  /** True when Critical could not be fenced (also in `distribution` and `explain`). */
  readonly criticalDemoted: boolean;
  /** Sizing problems an operator should know about (node too small, demotions, caps), in a fixed order. */
  readonly warnings: readonly PlanWarning[];
  /** The node's fence capacity (core/capacity.ts), which the agent publishes for the scheduler. */
  readonly fence: FenceCapacity;
  /** Whole cores the fenced Critical layer holds (its request cores); 0 when it has no pods or is demoted. */
  readonly fencedCores: number;
  readonly profiles: PlanProfiles;
}

/** A tier layer with the cores profile layers carved from it taken off its range (spec and plan alike). */
function carvedLayer(l: LayerPlan, range: readonly [number, number]): LayerPlan {
  const k = l.spec.kind;
  const kind: LayerKind = 'Confined' in k ? { Confined: { ...k.Confined, cpus_range: range } } : 'Grouped' in k ? { Grouped: { ...k.Grouped, cpus_range: range } } : k;
  return { ...l, cpusRange: range, spec: { ...l.spec, kind } };
}

/**
 * Selects each planned pod's workload profile and renders the profiled ones (docs/profiles.md):
 * the profile layers and hints, and a warning for every annotation naming no profile in effect
 * and every group that stays in its tier's plain layer.
 */
function planProfiles(policy: Policy, node: NodeInfo, planned: readonly PlacedPod[], layers: readonly LayerPlan[], catalog: ProfileCatalog): { profiles: PlanProfiles; warnings: PlanWarning[] } {
  const ctx = profileContext(catalog, { cpus: Math.floor(node.cpuCapacityMillis / 1000), smt: policy.node.threadsPerCore > 1 });
  const warnings: PlanWarning[] = [];
  const selections: PodProfileSelection[] = [];
  const profiled: ProfiledPod[] = [];
  for (const p of planned) {
    const selection = selectProfile(policy, { annotations: p.pod.annotations, containers: p.pod.containers }, ctx);
    selections.push({ namespace: p.pod.namespace, name: p.pod.name, uid: p.pod.uid, selection });
    const tier = p.assignment.tier === 'system' ? null : p.assignment.tier;
    if (selection.annotationProblem !== null) warnings.push({ code: 'profile-annotation', tier, message: `pod ${p.pod.namespace}/${p.pod.name}: ${selection.annotationProblem}` });
    if (selection.profile === null) continue;
    profiled.push({
      namespace: p.pod.namespace, name: p.pod.name, uid: p.pod.uid, qosClass: p.assignment.qosClass, tier: p.assignment.tier,
      layer: p.assignment.layer, requestMillis: p.requestMillis, profile: selection.profile.profile,
    });
  }
  const rendering = renderProfiles(policy, { layers }, profiled);
  // One warning per (profile, group, code, tier), so a hundred Redis pods make one line, not a hundred.
  const seen = new Map<string, { first: ProfileDegradation; tier: Tier | null; pods: string[] }>();
  for (const d of rendering.degradations) {
    const t = planned.find((p) => p.pod.uid === d.uid)?.assignment.tier;
    const tier = t === undefined || t === 'system' ? null : t;
    const key = JSON.stringify([d.profile, d.group, d.code, tier]);
    const entry = seen.get(key) ?? { first: d, tier, pods: [] };
    entry.pods.push(`${d.namespace}/${d.name}`);
    seen.set(key, entry);
  }
  for (const { first, tier, pods } of seen.values()) {
    const message = pods.length === 1 ? first.message
      : `${pods.length} pods (${pods.slice(0, 3).join(', ')}${pods.length > 3 ? `, and ${pods.length - 3} more` : ''}): profile ${first.profile}, group ${first.group}; as for ${pods[0] ?? ''}: ${first.message.slice(first.message.indexOf(' stays ') + 1)}`;
    warnings.push({ code: 'profile-degraded', tier, message: `${message} [${first.code}]` });
  }
  return { profiles: { selections, rendering }, warnings };
}

/**
 * Classifies pods (any node): sorted, finished pods left out, each with its assignment; pods
 * whose priority cannot be resolved are returned as skipped instead. `classes` are
 * PriorityClasses known besides Temper's own and the built-in ones.
 */
export function classifyAll(policy: Policy, pods: readonly PodInfo[], classes: readonly PriorityClassInfo[] = []): { placed: PlacedPod[]; skipped: SkippedPod[] } {
  const known = knownClasses(policy, classes);
  const placed: PlacedPod[] = [];
  const skipped: SkippedPod[] = [];
  for (const pod of [...pods].sort(comparePods)) {
    if (exclusionOf(pod) !== null) continue;
    const unresolved = unresolvedPriority(pod, known);
    if (unresolved !== null) skipped.push({ pod, reason: 'unresolved-priority', problem: unresolved });
    else placed.push({ pod, assignment: tierOf(policy, pod, known), requestMillis: cpuRequestMillis(pod), limitMillis: cpuLimitMillis(pod) });
  }
  return { placed, skipped };
}

/**
 * Classifies pods like `classifyAll`, for callers that need every pod: throws
 * UnresolvedPriorityError for the first pod (in sort order) whose class cannot be resolved.
 */
export function classifyPods(policy: Policy, pods: readonly PodInfo[], classes: readonly PriorityClassInfo[] = []): PlacedPod[] {
  const { placed, skipped } = classifyAll(policy, pods, classes);
  const first = skipped[0];
  if (first !== undefined) throw new UnresolvedPriorityError([first.problem]);
  return placed;
}

/** The annotation value: compact JSON, tiers in fixed order. */
export function distributionOf(placed: readonly PlacedPod[], criticalDemoted: boolean): QosDistribution {
  const out = {} as Record<Tier, TierLoad>;
  for (const tier of TIERS) {
    const members = placed.filter((p) => p.assignment.tier === tier);
    const load: TierLoad = { pods: members.length, cpuMillis: members.reduce((s, p) => s + p.requestMillis, 0) };
    out[tier] = tier === 'critical' && criticalDemoted ? { ...load, demoted: true } : load;
  }
  return out;
}

/** Compact JSON of a distribution, as published on the Node. */
export function serializeDistribution(d: QosDistribution): string {
  return JSON.stringify(d);
}

/**
 * Plans one node: takes the pods whose `spec.nodeName` is the node's name, classifies them, and
 * renders, validates and hashes the scx_layered config. Same inputs in any order give
 * byte-identical output. Pods that cannot be planned (no UID, so no cgroup path; a class that
 * cannot be resolved) are left out and listed in `skipped` with the reason; callers decide
 * whether that is fatal. Workload profiles come from `profileCatalog` (the built-ins unless the
 * caller passes the agent's files too): each pod's is selected, and the profiled pods' thread
 * groups rendered into profile layers and task hints (docs/profiles.md), degradations as warnings.
 * Throws Error if the renderer ever produced a config the validator rejects.
 */
export function plan(policy: Policy, node: NodeInfo, pods: readonly PodInfo[], classes: readonly PriorityClassInfo[] = [], profileCatalog: ProfileCatalog = builtinProfileCatalog()): Plan {
  const onNode = pods.filter((p) => p.nodeName === node.name);
  const missingUid: SkippedPod[] = [...onNode].sort(comparePods)
    .filter((p) => p.uid === '' && exclusionOf(p) === null)
    .map((pod) => ({
      pod, reason: 'missing-uid',
      problem: { at: [`pod ${pod.namespace}/${pod.name} on node ${node.name}`], path: 'metadata.uid', message: 'missing, so the pod\'s cgroup path cannot be known' },
    }));
  const { placed, skipped: unresolved } = classifyAll(policy, onNode.filter((p) => p.uid !== ''), classes);
  const members: Record<Exclude<LayerName, 'shared'>, LayerMember[]> = { system: [], critical: [], high: [], normal: [], low: [], background: [], nodecritical: [], catchall: [] };
  for (const p of placed) {
    const layer = p.assignment.layer;
    if (layer === 'shared') throw new Error('internal error: classification put a pod in the shared layer');
    members[layer].push({
      namespace: p.pod.namespace, name: p.pod.name, uid: p.pod.uid, qosClass: p.assignment.qosClass,
      requestMillis: p.requestMillis, limitMillis: p.limitMillis,
    });
  }
  const { layers: tierLayers, warnings: sizingWarnings, sharedTiers } = renderLayers(policy, node, members);
  const planned = sharedTiers.length === 0 ? placed : placed.map((p): PlacedPod => (
    p.assignment.tier !== 'system' && sharedTiers.includes(p.assignment.tier) ? { ...p, assignment: { ...p.assignment, layer: 'shared' } } : p));
  const { profiles, warnings: profileWarnings } = planProfiles(policy, node, planned, tierLayers, profileCatalog);
  const layers = tierLayers.map((l) => {
    const r = profiles.rendering.resized.find((x) => x.name === l.name);
    return r === undefined ? l : carvedLayer(l, r.cpusRange);
  });
  const warnings = [...sizingWarnings, ...profileWarnings];
  const config = applyProfileLayers(tierLayers.map((l) => l.spec), profiles.rendering);
  const problems = validateLayeredConfig(config);
  if (problems.length > 0) {
    throw new Error(`internal error: rendered an invalid scx_layered config for node ${node.name}:\n${problems.join('\n')}`);
  }
  const configJson = serializeConfig(config);
  // Critical demoted to Open has no layer of its own: it is in the shared one (layers.ts)
  const criticalDemoted = warnings.some((w) => w.code === 'critical-demoted');
  const fence = fenceCapacity(node, policy);
  const critical = layers.find((l) => l.name === 'critical');
  return {
    node: node.name,
    pods: planned,
    skipped: [...missingUid, ...unresolved].sort((a, b) => comparePods(a.pod, b.pod)),
    layers,
    config,
    configJson,
    configSha256: createHash('sha256').update(configJson).digest('hex'),
    distribution: distributionOf(placed, criticalDemoted),
    criticalDemoted,
    warnings,
    fence,
    fencedCores: critical === undefined || critical.demoted ? 0 : coresNeeded(critical.requestMillis, fence.threadsPerCore),
    profiles,
  };
}
