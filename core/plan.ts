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
import type { LayeredConfig } from './scx.ts';
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

export interface Plan {
  readonly node: string;
  /** The node's tiered pods, sorted by (namespace, name, uid). Finished pods are left out. */
  readonly pods: readonly PlacedPod[];
  /** Pods on the node that take no part because they cannot be planned, sorted like `pods`. */
  readonly skipped: readonly SkippedPod[];
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
 * whether that is fatal. Throws Error if the renderer ever produced a config the validator rejects.
 */
export function plan(policy: Policy, node: NodeInfo, pods: readonly PodInfo[], classes: readonly PriorityClassInfo[] = []): Plan {
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
  const { layers, warnings, sharedTiers } = renderLayers(policy, node, members);
  const planned = sharedTiers.length === 0 ? placed : placed.map((p): PlacedPod => (
    p.assignment.tier !== 'system' && sharedTiers.includes(p.assignment.tier) ? { ...p, assignment: { ...p.assignment, layer: 'shared' } } : p));
  const config = layers.map((l) => l.spec);
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
  };
}
