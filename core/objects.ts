/**
 * Parsing at the edge: plain JSON (a manifest document, a List, an API object) into the narrow,
 * validated PodInfo / NodeInfo / PriorityClassInfo values the rest of core trusts.
 */
import type { Problem, Where } from './errors.ts';
import { InputError, Problems, isRecord, problemAt, show, within } from './errors.ts';
import { parseQuantity, QuantityError } from './quantity.ts';
import { aggregate, isPodLevelResource } from './resources.ts';
import type {
  ContainerInfo, NodeInfo, PodInfo, PriorityClassInfo, QosClass, ResourceList, ResourceRequirements,
} from './types.ts';
import { QOS_CLASSES } from './types.ts';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
// Kubernetes UIDs are UUIDs; anything else could not be a kubelet cgroup name and must never
// reach a cgroup path or a regex.
const UID_RE = /^[A-Za-z0-9-]*$/;

function str(value: unknown, path: string, problems: Problems, required: boolean): string | null {
  if (value === undefined || value === null || value === '') {
    if (required) problems.add(path, 'required');
    return null;
  }
  if (typeof value !== 'string') {
    problems.add(path, 'must be a string', value);
    return null;
  }
  return value;
}

function int32(value: unknown, path: string, problems: Problems): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) {
    problems.add(path, 'must be a 32-bit integer', value);
    return null;
  }
  return value;
}

function resourceList(value: unknown, path: string, problems: Problems): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  if (value === undefined || value === null) return out;
  if (!isRecord(value)) {
    problems.add(path, 'must be a map of resource quantities', value);
    return out;
  }
  for (const [name, quantity] of Object.entries(value)) {
    if (typeof quantity !== 'string' && typeof quantity !== 'number') {
      problems.add(`${path}.${name}`, 'must be a quantity string', quantity);
      continue;
    }
    try {
      const nano = parseQuantity(quantity);
      if (nano < 0n) problems.add(`${path}.${name}`, 'must not be negative', quantity);
      else out[name] = nano;
    } catch (err) {
      if (!(err instanceof QuantityError)) throw err;
      problems.list.push({ at: [], path: `${path}.${name}`, message: err.message, cause: err });
    }
  }
  return out;
}

/** The API server's container defaulting: a resource with a limit but no request is requested at its limit. */
function withRequestsDefaulted(requests: Record<string, bigint>, limits: ResourceList): ResourceList {
  const out = { ...requests };
  for (const [name, limit] of Object.entries(limits)) {
    if (!(name in out)) out[name] = limit;
  }
  return out;
}

function requirements(value: unknown, path: string, problems: Problems): ResourceRequirements {
  if (value !== undefined && value !== null && !isRecord(value)) {
    problems.add(path, 'must be an object', value);
    return { requests: {}, limits: {} };
  }
  const limits = resourceList(value?.limits, `${path}.limits`, problems);
  const requests = resourceList(value?.requests, `${path}.requests`, problems);
  return { requests: withRequestsDefaulted(requests, limits), limits };
}

/**
 * The API server's pod-level defaulting (core/v1 defaults.go defaultPodRequests), applied only
 * when pod-level limits exist: a missing cpu/memory request takes the containers' aggregate
 * request when any container requests it, else the pod-level limit.
 */
function podLevelRequirements(value: unknown, problems: Problems, containers: readonly ContainerInfo[], inits: readonly ContainerInfo[]): ResourceRequirements {
  if (value !== undefined && value !== null && !isRecord(value)) {
    problems.add('spec.resources', 'must be an object', value);
    return { requests: {}, limits: {} };
  }
  const limits = resourceList(value?.limits, 'spec.resources.limits', problems);
  const requests = resourceList(value?.requests, 'spec.resources.requests', problems);
  if (Object.keys(limits).length === 0) return { requests, limits };
  for (const name of ['cpu', 'memory']) {
    if (name in requests) continue;
    const requested = [...containers, ...inits].some((c) => name in c.resources.requests);
    if (requested) requests[name] = aggregate(containers, inits, (c) => c.resources.requests[name] ?? 0n);
  }
  for (const [name, limit] of Object.entries(limits)) {
    if (!(name in requests) && isPodLevelResource(name)) requests[name] = limit;
  }
  return { requests, limits };
}

function containers(value: unknown, path: string, problems: Problems, required: boolean): ContainerInfo[] {
  if (value === undefined || value === null) {
    if (required) problems.add(path, 'a pod needs at least one container');
    return [];
  }
  if (!Array.isArray(value)) {
    problems.add(path, 'must be a list', value);
    return [];
  }
  if (required && value.length === 0) problems.add(path, 'a pod needs at least one container');
  return value.map((c: unknown, i): ContainerInfo => {
    const at = `${path}[${i}]`;
    if (!isRecord(c)) {
      problems.add(at, 'must be an object', c);
      return { name: '', image: '', resources: { requests: {}, limits: {} }, restartPolicy: null };
    }
    return {
      name: str(c.name, `${at}.name`, problems, false) ?? '',
      image: str(c.image, `${at}.image`, problems, false) ?? '',
      resources: requirements(c.resources, `${at}.resources`, problems),
      restartPolicy: str(c.restartPolicy, `${at}.restartPolicy`, problems, false),
    };
  });
}

function labels(value: unknown, path: string, problems: Problems): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    problems.add(path, 'must be a map of strings');
    return {};
  }
  return value as Record<string, string>;
}

/** Builds a PodInfo from a Pod object; `where` locates every problem (e.g. ["pods.yaml", "items[2]"]). */
export function podFromObject(obj: unknown, where: Where): PodInfo {
  const problems = new Problems();
  const pod = podFrom(obj, problems);
  if (!problems.empty || pod === null) {
    throw new InputError(within(where, problems.list));
  }
  return pod;
}

function podFrom(obj: unknown, problems: Problems): PodInfo | null {
  if (!isRecord(obj)) {
    problems.add('', 'not an object', obj);
    return null;
  }
  const meta = isRecord(obj.metadata) ? obj.metadata : {};
  const spec = isRecord(obj.spec) ? obj.spec : {};
  const status = isRecord(obj.status) ? obj.status : {};
  if (!isRecord(obj.metadata)) problems.add('metadata', 'required');
  if (!isRecord(obj.spec)) problems.add('spec', 'required');
  const uid = str(meta.uid, 'metadata.uid', problems, false) ?? '';
  if (!UID_RE.test(uid)) problems.add('metadata.uid', 'must be a UUID', uid);
  const qos = str(status.qosClass, 'status.qosClass', problems, false);
  if (qos !== null && !(QOS_CLASSES as readonly string[]).includes(qos)) {
    problems.add('status.qosClass', `must be one of ${QOS_CLASSES.join(', ')}`, qos);
  }
  const appContainers = containers(spec.containers, 'spec.containers', problems, true);
  const initContainers = containers(spec.initContainers, 'spec.initContainers', problems, false);
  const podResources = spec.resources === undefined || spec.resources === null
    ? null
    : podLevelRequirements(spec.resources, problems, appContainers, initContainers);
  return {
    namespace: str(meta.namespace, 'metadata.namespace', problems, false) ?? 'default',
    name: str(meta.name, 'metadata.name', problems, true) ?? '',
    uid,
    nodeName: str(spec.nodeName, 'spec.nodeName', problems, false),
    phase: str(status.phase, 'status.phase', problems, false),
    priority: int32(spec.priority, 'spec.priority', problems),
    priorityClassName: str(spec.priorityClassName, 'spec.priorityClassName', problems, false),
    preemptionPolicy: str(spec.preemptionPolicy, 'spec.preemptionPolicy', problems, false),
    statusQosClass: qos !== null && (QOS_CLASSES as readonly string[]).includes(qos) ? (qos as QosClass) : null,
    containers: appContainers,
    initContainers,
    podResources,
    overhead: resourceList(spec.overhead, 'spec.overhead', problems),
    labels: labels(meta.labels, 'metadata.labels', problems),
    annotations: labels(meta.annotations, 'metadata.annotations', problems),
  };
}

/** Builds a NodeInfo from a Node object; the CPU capacity is required. */
export function nodeFromObject(obj: unknown, where: Where): NodeInfo {
  const problems = new Problems();
  if (!isRecord(obj) || (obj.kind !== undefined && obj.kind !== 'Node')) {
    throw new InputError([problemAt(where, `not a Node object (kind ${show(isRecord(obj) ? obj.kind : obj)})`)]);
  }
  const meta = isRecord(obj.metadata) ? obj.metadata : {};
  const status = isRecord(obj.status) ? obj.status : {};
  const name = str(meta.name, 'metadata.name', problems, true) ?? '';
  const capacity = resourceList(status.capacity, 'status.capacity', problems);
  const allocatable = resourceList(status.allocatable, 'status.allocatable', problems);
  const cpu = capacity.cpu;
  if (cpu === undefined && problems.empty) problems.add('status.capacity.cpu', 'required (the node\'s CPU count)');
  else if (cpu !== undefined && cpu < 1_000_000_000n) problems.add('status.capacity.cpu', 'must be at least 1 CPU');
  if (!problems.empty || cpu === undefined) throw new InputError(within(where, problems.list));
  const millis = Number(cpu / 1_000_000n);
  const alloc = allocatable.cpu === undefined ? millis : Number(allocatable.cpu / 1_000_000n);
  return { name, cpuCapacityMillis: millis, cpuAllocatableMillis: Math.min(alloc, millis) };
}

/** Builds a PriorityClassInfo from a scheduling.k8s.io/v1 PriorityClass object. */
export function priorityClassFromObject(obj: unknown, where: Where): PriorityClassInfo {
  const problems = new Problems();
  const o = isRecord(obj) ? obj : {};
  const meta = isRecord(o.metadata) ? o.metadata : {};
  const name = str(meta.name, 'metadata.name', problems, true) ?? '';
  const value = int32(o.value, 'value', problems);
  if (value === null && problems.empty) problems.add('value', 'required');
  const policy = str(o.preemptionPolicy, 'preemptionPolicy', problems, false) ?? 'PreemptLowerPriority';
  if (o.globalDefault !== undefined && typeof o.globalDefault !== 'boolean') {
    problems.add('globalDefault', 'must be a boolean', o.globalDefault);
  }
  if (!problems.empty || value === null) throw new InputError(within(where, problems.list));
  return { name, value, preemptionPolicy: policy, globalDefault: o.globalDefault === true };
}

/** A workload (Deployment, Job, …) seen through its pod template: one pod named after the workload. */
export interface WorkloadTemplate {
  /** The workload's kind, as written (`Deployment`). */
  readonly kind: string;
  /** The template as a pod: the workload's namespace and name, the template's labels and spec; no uid, no node. */
  readonly pod: PodInfo;
}

/** What a set of manifest documents holds, once Lists are flattened. */
export interface ManifestObjects {
  readonly pods: PodInfo[];
  readonly nodes: NodeInfo[];
  readonly priorityClasses: PriorityClassInfo[];
  /** Workloads, each through its pod template, in input order. */
  readonly workloads: WorkloadTemplate[];
  /** Objects of other kinds (Service, ConfigMap, …), described as `Kind name`; they take no part. */
  readonly skipped: string[];
}

/** Where each workload kind keeps its pod template. */
const TEMPLATE_PATHS: Readonly<Record<string, readonly string[]>> = {
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

/** The kinds read through their pod templates. */
export const WORKLOAD_KINDS: readonly string[] = Object.keys(TEMPLATE_PATHS);

function describe(doc: Record<string, unknown>): string {
  const meta = isRecord(doc.metadata) ? doc.metadata : {};
  const name = typeof meta.name === 'string' ? ` ${meta.name}` : '';
  return `${typeof doc.kind === 'string' ? doc.kind : 'object without kind'}${name}`;
}

/** A workload's pod template as a Pod object: the workload's namespace and name, the template's labels and spec. */
function templatePod(doc: Record<string, unknown>, path: readonly string[]): Record<string, unknown> | null {
  let node: unknown = doc;
  for (const key of path) node = isRecord(node) ? node[key] : undefined;
  if (!isRecord(node)) return null;
  const meta = isRecord(doc.metadata) ? doc.metadata : {};
  const tmeta = isRecord(node.metadata) ? node.metadata : {};
  return {
    kind: 'Pod',
    metadata: { name: meta.name, namespace: meta.namespace ?? tmeta.namespace, labels: tmeta.labels },
    spec: node.spec,
  };
}

/**
 * Reads parsed manifest documents: Pods, Nodes and PriorityClasses, singly or inside a List /
 * PodList (`kubectl get -o json|yaml` output), and workloads through their pod templates
 * (`helm template` output). Empty documents are skipped, and so are objects of other kinds
 * (listed in `skipped`); any invalid object is an InputError listing every problem with its location.
 */
export function objectsFromDocuments(docs: readonly unknown[], source: string): ManifestObjects {
  const out: ManifestObjects = { pods: [], nodes: [], priorityClasses: [], workloads: [], skipped: [] };
  const problems: Problem[] = [];
  const visit = (doc: unknown, at: readonly string[]): void => {
    if (doc === null || doc === undefined) return;
    if (!isRecord(doc)) {
      problems.push({ at, path: '', message: 'not a Kubernetes object', value: doc });
      return;
    }
    if (Array.isArray(doc.items) && (doc.kind === undefined || String(doc.kind).endsWith('List'))) {
      doc.items.forEach((item, i) => visit(item, [...at, `items[${i}]`]));
      return;
    }
    const kind = typeof doc.kind === 'string' ? doc.kind : undefined;
    const templatePath = kind === undefined ? undefined : TEMPLATE_PATHS[kind];
    try {
      if (kind === 'Pod' || (kind === undefined && isRecord(doc.spec) && Array.isArray(doc.spec.containers))) {
        out.pods.push(podFromObject(doc, at));
      } else if (kind === 'Node') {
        out.nodes.push(nodeFromObject(doc, at));
      } else if (kind === 'PriorityClass') {
        out.priorityClasses.push(priorityClassFromObject(doc, at));
      } else if (kind !== undefined && templatePath !== undefined) {
        const last = at.at(-1) ?? source;
        const where = [...at.slice(0, -1), `${last} (${describe(doc)})`];
        const pod = templatePod(doc, templatePath);
        if (pod === null) problems.push({ at: where, path: templatePath.join('.'), message: 'required (the pod template)' });
        else out.workloads.push({ kind, pod: podFromObject(pod, [...where, templatePath.join('.')]) });
      } else {
        out.skipped.push(describe(doc));
      }
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      problems.push(...err.problems);
    }
  };
  docs.forEach((doc, i) => visit(doc, docs.length === 1 ? [source] : [source, `document ${i + 1}`]));
  if (problems.length > 0) throw new InputError(problems);
  return out;
}
