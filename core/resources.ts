/**
 * Pod-level resource arithmetic, as Kubernetes does it: the QoS class (apis/core/helper/qos) and
 * the effective CPU request/limit the scheduler and kubelet account (component-helpers/resource).
 */
import { nanoToMillis } from './quantity.ts';
import type { ContainerInfo, PodInfo, QosClass, ResourceList, ResourceRequirements } from './types.ts';

const QOS_RESOURCES = ['cpu', 'memory'] as const;

function qosOfResource(req: ResourceRequirements, resource: string): QosClass {
  const request = req.requests[resource] ?? 0n;
  const limit = req.limits[resource] ?? 0n;
  if (request !== limit) return 'Burstable';
  return request === 0n ? 'BestEffort' : 'Guaranteed';
}

/** QoS shape of one set of requirements: all-zero is BestEffort, request == limit != 0 for cpu and memory is Guaranteed. */
function qosOfRequirements(req: ResourceRequirements): QosClass {
  if (Object.keys(req.requests).length === 0 && Object.keys(req.limits).length === 0) return 'BestEffort';
  const classes = new Set(QOS_RESOURCES.map((r) => qosOfResource(req, r)));
  return classes.size === 1 ? [...classes][0] ?? 'Burstable' : 'Burstable';
}

/**
 * Computes a pod's QoS class exactly as the API server does at create time: from pod-level
 * resources when set, otherwise from every init and app container (ephemeral containers never
 * count). Any Burstable container, or a mix of classes, makes the pod Burstable.
 */
export function computeQosClass(pod: PodInfo): QosClass {
  if (pod.podResources !== null && podLevelResourcesSet(pod.podResources)) return qosOfRequirements(pod.podResources);
  const classes = new Set([...pod.initContainers, ...pod.containers].map((c) => qosOfRequirements(c.resources)));
  if (classes.size === 0) return 'BestEffort';
  return classes.size === 1 ? [...classes][0] ?? 'Burstable' : 'Burstable';
}

/** The pod's QoS class: `status.qosClass` when the API server already set it, else computed. */
export function qosClassOf(pod: PodInfo): QosClass {
  return pod.statusQosClass ?? computeQosClass(pod);
}

/** Resources that can be set at pod level (component-helpers IsSupportedPodLevelResource). */
export function isPodLevelResource(name: string): boolean {
  return name === 'cpu' || name === 'memory' || name.startsWith('hugepages-');
}

/** Pod-level resources count only when they name a supported resource (IsPodLevelResourcesSet). */
function podLevelResourcesSet(req: ResourceRequirements): boolean {
  return [...Object.keys(req.requests), ...Object.keys(req.limits)].some(isPodLevelResource);
}

/**
 * Aggregates one resource over the containers the way the scheduler does for sidecars (KEP-753):
 * app containers and restartable init containers add up; each ordinary init container runs
 * alone next to the sidecars started before it, and the pod needs the maximum of both.
 */
export function aggregate(containers: readonly ContainerInfo[], inits: readonly ContainerInfo[], pick: (c: ContainerInfo) => bigint): bigint {
  let total = containers.reduce((sum, c) => sum + pick(c), 0n);
  let sidecars = 0n;
  let initPeak = 0n;
  for (const init of inits) {
    if (init.restartPolicy === 'Always') {
      total += pick(init);
      sidecars += pick(init);
      initPeak = initPeak > sidecars ? initPeak : sidecars;
    } else {
      const use = pick(init) + sidecars;
      initPeak = initPeak > use ? initPeak : use;
    }
  }
  return total > initPeak ? total : initPeak;
}

function cpuOf(list: ResourceList): bigint {
  return list.cpu ?? 0n;
}

/**
 * The pod's effective CPU request in millicores as kube-scheduler accounts it: the container
 * aggregate, replaced by a pod-level request when set, plus the RuntimeClass overhead.
 */
export function cpuRequestMillis(pod: PodInfo): number {
  const podLevel = pod.podResources?.requests.cpu;
  const base = podLevel ?? aggregate(pod.containers, pod.initContainers, (c) => cpuOf(c.resources.requests));
  return nanoToMillis(base + cpuOf(pod.overhead));
}

/**
 * The pod's effective CPU limit in millicores, or null when the pod is unlimited. As in the
 * kubelet's pod cgroup, a pod is CPU-limited only when every container and init container has a
 * non-zero CPU limit, or the pod sets a pod-level CPU limit; overhead is added to a limit.
 */
export function cpuLimitMillis(pod: PodInfo): number | null {
  const podLevel = pod.podResources?.limits.cpu;
  let base: bigint;
  if (podLevel !== undefined && podLevel > 0n) {
    base = podLevel;
  } else {
    const all = [...pod.containers, ...pod.initContainers];
    if (all.length === 0 || all.some((c) => cpuOf(c.resources.limits) === 0n)) return null;
    base = aggregate(pod.containers, pod.initContainers, (c) => cpuOf(c.resources.limits));
  }
  return nanoToMillis(base + cpuOf(pod.overhead));
}
