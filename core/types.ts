/** The product's vocabulary: tiers, layers and the narrow views of Kubernetes objects core works on. */

/** The five QoS tiers, highest first. */
export const TIERS = ['critical', 'high', 'normal', 'low', 'background'] as const;
export type Tier = (typeof TIERS)[number];

/** A pod's reported tier: one of the five, or `system` for node-critical and Temper's own pods. */
export type TierName = Tier | 'system';

/**
 * Every scx_layered layer Temper renders, in `placement = "cgroup"` config order (first match
 * wins, catch-all last; `hints` placement orders them differently, docs/layers.md).
 * `shared` exists only on nodes where a tier above Low owns no core: it holds that tier's pods
 * together with Low's and Background's (docs/decisions.md §18). `nodecritical` exists only with
 * `placement = "hints"`: node-critical pods, with the catch-all's properties, because the
 * catch-all itself cannot map a task hint (docs/decisions.md §27).
 */
export const LAYER_NAMES = ['system', 'critical', 'high', 'normal', 'shared', 'low', 'background', 'nodecritical', 'catchall'] as const;
export type LayerName = (typeof LAYER_NAMES)[number];

/**
 * How pods are put into layers (`node.placement`, docs/layers.md "Matching pods"):
 * - `cgroup`: one match clause per pod (its pod cgroup), so every pod that starts or stops
 *   changes the config and scx_layered must be restarted;
 * - `hints`: static matches on the QoS-level cgroups place pods whose tier is their QoS class's
 *   default, and the agent writes a task hint (TASK_HINTS) for every other pod's threads; the
 *   config changes only when a layer appears or disappears or a tier's whole-CPU sizing changes.
 */
export const PLACEMENTS = ['cgroup', 'hints'] as const;
export type Placement = (typeof PLACEMENTS)[number];

export const QOS_CLASSES = ['Guaranteed', 'Burstable', 'BestEffort'] as const;
export type QosClass = (typeof QOS_CLASSES)[number];

/**
 * The agent's enforcement states on a node (docs/agent.md), as it publishes them in its
 * `agent-status` annotation, its APIs and its metrics.
 */
export const ENFORCEMENT_STATES = ['starting', 'enforcing', 'degraded', 'safe-mode', 'unavailable'] as const;
export type EnforcementState = (typeof ENFORCEMENT_STATES)[number];

export const CGROUP_DRIVERS = ['systemd', 'cgroupfs'] as const;
export type CgroupDriver = (typeof CGROUP_DRIVERS)[number];

/** Resource quantities in exact nano-units, keyed by resource name ("cpu", "memory", ...). */
export type ResourceList = Readonly<Record<string, bigint>>;

export interface ResourceRequirements {
  readonly requests: ResourceList;
  readonly limits: ResourceList;
}

export interface ContainerInfo {
  readonly name: string;
  /** `image` as written in the spec ('' when a hand-written manifest has none); workload profiles match it. */
  readonly image: string;
  readonly resources: ResourceRequirements;
  /** `Always` marks a restartable init container (a sidecar). */
  readonly restartPolicy: string | null;
}

/**
 * The part of a Pod that Temper's policy reads. Built by `podFromObject` with the API server's
 * defaulting applied (container requests default to limits), so manifests and live objects agree.
 */
export interface PodInfo {
  readonly namespace: string;
  readonly name: string;
  /** Empty when a hand-written manifest has none; rendering refuses such pods. */
  readonly uid: string;
  readonly nodeName: string | null;
  readonly phase: string | null;
  /** `spec.priority` as stored; null when absent (manifest not yet admitted, or Priority plugin off). */
  readonly priority: number | null;
  readonly priorityClassName: string | null;
  readonly preemptionPolicy: string | null;
  /** `status.qosClass` when present; otherwise core computes it from the spec. */
  readonly statusQosClass: QosClass | null;
  readonly containers: readonly ContainerInfo[];
  readonly initContainers: readonly ContainerInfo[];
  /** Pod-level `spec.resources` (PodLevelResources), null when absent. */
  readonly podResources: ResourceRequirements | null;
  readonly overhead: ResourceList;
  readonly labels: Readonly<Record<string, string>>;
  /** `metadata.annotations`; the `<prefix>/workload-profile` annotation selects a workload profile. */
  readonly annotations: Readonly<Record<string, string>>;
}

/** The part of a Node that sizing reads. */
export interface NodeInfo {
  readonly name: string;
  /** `status.capacity.cpu`: every CPU the kernel schedules on. */
  readonly cpuCapacityMillis: number;
  /** `status.allocatable.cpu`, or capacity when absent. */
  readonly cpuAllocatableMillis: number;
}

/** A PriorityClass, as far as tier resolution and the webhook need it. */
export interface PriorityClassInfo {
  readonly name: string;
  readonly value: number;
  readonly preemptionPolicy: string;
  readonly globalDefault: boolean;
}
