/**
 * Tier classification: the spec's two tables (priority thresholds; QoS defaults for pods without
 * a class), plus Temper's own rules for node-critical and Temper pods. Every result says why.
 */
import type { Policy } from './config.ts';
import { honouredTierClasses } from './config.ts';
import type { Problem } from './errors.ts';
import { UnresolvedPriorityError, problemAt } from './errors.ts';
import { TASK_HINTS } from './hints.ts';
import { isTemperNamespace } from './names.ts';
import { qosClassOf } from './resources.ts';
import type { LayerName, PodInfo, PriorityClassInfo, QosClass, Tier, TierName } from './types.ts';

/** Which rule decided a pod's tier. */
export type TierRule = 'temper-pod' | 'system-priority' | 'priority-threshold' | 'qos-default';

/**
 * What puts the pod's tasks in their layer (docs/layers.md "Matching pods"):
 * - `pod-cgroup`: its own clause on its pod cgroup (`placement = "cgroup"`);
 * - `catch-all`: nothing of its own, the catch-all takes it (node-critical pods, `cgroup`);
 * - `qos-fallback`: the static match on its QoS-level cgroup (`hints`, tier = QoS default);
 * - `task-hint`: the task hint the agent writes for each of its threads (`hints`, every other pod).
 */
export type PlacedBy = 'pod-cgroup' | 'catch-all' | 'qos-fallback' | 'task-hint';

/** One pod's place: its tier, the layer its tasks land in, and the reason in words. */
export interface TierAssignment {
  readonly tier: TierName;
  /** Its layer by tier; plan() replaces it with `shared` on nodes where the tier shares one. */
  readonly layer: LayerName;
  /** The priority the rule used (spec.priority, else resolved from the class, else 0). */
  readonly priority: number;
  readonly qosClass: QosClass;
  readonly rule: TierRule;
  readonly reason: string;
  /**
   * The task hint the agent writes for each of the pod's threads (core/hints.ts), or null when
   * none is needed: always null with `placement = "cgroup"`; with `hints`, null exactly when the
   * pod's tier is its QoS class's default, which the static QoS match already places. The value
   * depends on the layer by tier only, never on the node (a pod in `shared` keeps its tier's).
   */
  readonly hint: number | null;
  readonly placedBy: PlacedBy;
}

/** Built-in classes the API server creates itself (pkg/apis/scheduling/helpers.go). */
const BUILTIN_CLASSES: readonly PriorityClassInfo[] = [
  { name: 'system-node-critical', value: 2_000_001_000, preemptionPolicy: 'PreemptLowerPriority', globalDefault: false },
  { name: 'system-cluster-critical', value: 2_000_000_000, preemptionPolicy: 'PreemptLowerPriority', globalDefault: false },
];

/**
 * The spec's QoS-default rule for a pod without a PriorityClass: Guaranteed and Burstable pods
 * are Normal, BestEffort pods Background. The webhook's defaulting and classification both use it.
 */
export function qosDefaultTier(qosClass: QosClass): Tier {
  return qosClass === 'BestEffort' ? 'background' : 'normal';
}

/** Why a pod takes no part in tiering, or null when it does. */
export function exclusionOf(pod: PodInfo): string | null {
  return pod.phase === 'Succeeded' || pod.phase === 'Failed'
    ? `pod is ${pod.phase}: finished pods take no part in tiering`
    : null;
}

/**
 * The PriorityClasses a priority can be resolved from when a pod carries a class name but no
 * `spec.priority` (a manifest not yet admitted): the given ones first, then Temper's own tier
 * classes of every name set (`infera-*` and `temper-*`) at their configured values, then the
 * built-in system classes.
 */
export function knownClasses(policy: Policy, given: readonly PriorityClassInfo[]): Map<string, PriorityClassInfo> {
  const out = new Map<string, PriorityClassInfo>();
  for (const pc of BUILTIN_CLASSES) out.set(pc.name, pc);
  for (const pc of honouredTierClasses(policy)) out.set(pc.name, pc);
  for (const pc of given) out.set(pc.name, pc);
  return out;
}

/** The tier a priority value falls in by the configured thresholds, with the threshold text. */
export function tierOfPriority(policy: Policy, priority: number): { tier: Tier; why: string } {
  const m = policy.priorityMapping;
  if (priority >= m.critical) return { tier: 'critical', why: `≥ critical threshold ${m.critical}` };
  if (priority >= m.high) return { tier: 'high', why: `≥ high threshold ${m.high} and < critical threshold ${m.critical}` };
  if (priority >= m.normal) return { tier: 'normal', why: `≥ normal threshold ${m.normal} and < high threshold ${m.high}` };
  if (priority >= m.low) return { tier: 'low', why: `≥ low threshold ${m.low} and < normal threshold ${m.normal}` };
  return { tier: 'background', why: `< low threshold ${m.low}` };
}

/**
 * Why a pod's priority cannot be known, or null when it can: it names a PriorityClass that is
 * nowhere in `classes` and carries no `spec.priority` (a manifest not yet admitted).
 */
export function unresolvedPriority(pod: PodInfo, classes: ReadonlyMap<string, PriorityClassInfo>): Problem | null {
  const className = pod.priorityClassName;
  if (pod.priority !== null || className === null || classes.has(className)) return null;
  return problemAt(
    `pod ${pod.namespace}/${pod.name}`,
    `priorityClassName ${JSON.stringify(className)} has no spec.priority and no such PriorityClass is known; include the PriorityClass in the input or read the pod from the cluster`,
  );
}

/**
 * Classifies one pod. Rules, in precedence order:
 * 1. pods in Temper's own namespace → tier `system`, the always-on system layer;
 * 2. priority ≥ `priority_mapping.system` (system-node/cluster-critical) → tier `system`, catch-all layer;
 * 3. no priorityClassName and priority 0 or unset → QoS default (Guaranteed/Burstable → normal, BestEffort → background);
 * 4. otherwise the priority thresholds (an explicit class always wins over the QoS default).
 * `classes` resolves a class name when the pod has no `spec.priority`; see `knownClasses`.
 * Callers exclude finished pods first (`exclusionOf`). Throws UnresolvedPriorityError (core/errors.ts)
 * when the priority cannot be known (`unresolvedPriority`).
 */
export function tierOf(policy: Policy, pod: PodInfo, classes: ReadonlyMap<string, PriorityClassInfo>): TierAssignment {
  const qosClass = qosClassOf(pod);
  const qosSource = pod.statusQosClass !== null ? 'status.qosClass' : 'computed from the containers\' resources';
  const className = pod.priorityClassName;
  const unresolved = unresolvedPriority(pod, classes);
  if (unresolved !== null) throw new UnresolvedPriorityError([unresolved]);
  let priority = pod.priority;
  let resolved = false;
  const pc = priority === null && className !== null ? classes.get(className) : undefined;
  if (pc !== undefined) {
    priority = pc.value;
    resolved = true;
  }
  const value = priority ?? 0;
  const classText = className === null ? 'no priorityClassName' : `class ${className}`;
  const source = resolved ? 'the class\'s value; the pod has no spec.priority yet' : 'from spec.priority';
  const base = { priority: value, qosClass };
  const hints = policy.node.placement === 'hints';
  // With hints, the static QoS match places a pod exactly when its tier is its QoS class's default.
  const placing = (tier: Tier): Pick<TierAssignment, 'hint' | 'placedBy'> => {
    if (!hints) return { hint: null, placedBy: 'pod-cgroup' };
    return tier === qosDefaultTier(qosClass) ? { hint: null, placedBy: 'qos-fallback' } : { hint: TASK_HINTS[tier], placedBy: 'task-hint' };
  };

  if (isTemperNamespace(policy, pod.namespace)) {
    return {
      ...base, tier: 'system', layer: 'system', rule: 'temper-pod',
      reason: `runs in Temper's namespace ${pod.namespace}: kept in the always-on system layer`,
      ...(hints ? { hint: TASK_HINTS.system, placedBy: 'task-hint' } : { hint: null, placedBy: 'pod-cgroup' }),
    };
  }
  const m = policy.priorityMapping;
  if (m.systemToCatchall && value >= m.system) {
    // The catch-all must have an empty match, so it cannot map a hint: with hints, node-critical
    // pods get a layer of their own with the catch-all's properties (decisions §27).
    return hints
      ? {
        ...base, tier: 'system', layer: 'nodecritical', rule: 'system-priority',
        reason: `priority ${value} (${classText}) ≥ system threshold ${m.system}: node-critical pod, in the nodecritical layer (the catch-all's properties)`,
        hint: TASK_HINTS.nodecritical, placedBy: 'task-hint',
      }
      : {
        ...base, tier: 'system', layer: 'catchall', rule: 'system-priority',
        reason: `priority ${value} (${classText}) ≥ system threshold ${m.system}: node-critical pod, left in the catch-all layer`,
        hint: null, placedBy: 'catch-all',
      };
  }
  if (className === null && value === 0) {
    const tier = qosDefaultTier(qosClass);
    return {
      ...base, tier, layer: tier, rule: 'qos-default',
      reason: `no priorityClassName and priority 0: QoS class ${qosClass} (${qosSource}) defaults to ${tier}`,
      ...placing(tier),
    };
  }
  const { tier, why } = tierOfPriority(policy, value);
  return {
    ...base, tier, layer: tier, rule: 'priority-threshold',
    reason: `priority ${value} (${classText}, ${source}) ${why}`,
    ...placing(tier),
  };
}
