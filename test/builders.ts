/** Test builders: Kubernetes-shaped pod/node objects, parsed through core's real edge parser. */
import { parsePolicy } from '../core/config.ts';
import type { Policy } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import { nodeFromObject, podFromObject } from '../core/objects.ts';
import type { Plan } from '../core/plan.ts';
import { plan } from '../core/plan.ts';
import type { NodeInfo, PodInfo } from '../core/types.ts';

export interface PodSpecInput {
  name?: string;
  namespace?: string;
  uid?: string;
  node?: string | null;
  priority?: number;
  className?: string;
  qos?: 'Guaranteed' | 'Burstable' | 'BestEffort';
  phase?: string;
  /** CPU request/limit of a single container, as quantity strings. */
  cpu?: string;
  cpuLimit?: string;
  memory?: string;
  memoryLimit?: string;
  containers?: unknown[];
  initContainers?: unknown[];
  podResources?: unknown;
  overhead?: Record<string, string>;
  /** The single container's image (default busybox, which no built-in profile matches). */
  image?: string;
  annotations?: Record<string, string>;
}

let counter = 0;

/** A deterministic UUID-shaped uid from a number. */
export function uidOf(n: number): string {
  const hex = n.toString(16).padStart(12, '0');
  return `00000000-0000-4000-8000-${hex}`;
}

/** A Pod object (plain JSON, as from a manifest). */
export function podObject(p: PodSpecInput = {}): Record<string, unknown> {
  counter++;
  const requests: Record<string, string> = {};
  const limits: Record<string, string> = {};
  if (p.cpu !== undefined) requests.cpu = p.cpu;
  if (p.memory !== undefined) requests.memory = p.memory;
  if (p.cpuLimit !== undefined) limits.cpu = p.cpuLimit;
  if (p.memoryLimit !== undefined) limits.memory = p.memoryLimit;
  const spec: Record<string, unknown> = {
    containers: p.containers ?? [{ name: 'app', image: p.image ?? 'busybox', resources: { requests, limits } }],
  };
  if (p.node !== null) spec.nodeName = p.node ?? 'node-1';
  if (p.priority !== undefined) spec.priority = p.priority;
  if (p.className !== undefined) spec.priorityClassName = p.className;
  if (p.initContainers !== undefined) spec.initContainers = p.initContainers;
  if (p.podResources !== undefined) spec.resources = p.podResources;
  if (p.overhead !== undefined) spec.overhead = p.overhead;
  const status: Record<string, unknown> = {};
  if (p.qos !== undefined) status.qosClass = p.qos;
  if (p.phase !== undefined) status.phase = p.phase;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: p.name ?? `pod-${counter}`, namespace: p.namespace ?? 'default', uid: p.uid ?? uidOf(counter), ...(p.annotations === undefined ? {} : { annotations: p.annotations }) },
    spec,
    status,
  };
}

export function pod(p: PodSpecInput = {}): PodInfo {
  return podFromObject(podObject(p), 'test');
}

export function nodeObject(name = 'node-1', cpu = '8', allocatable?: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name },
    status: { capacity: { cpu, memory: '32Gi' }, allocatable: { cpu: allocatable ?? cpu, memory: '31Gi' } },
  };
}

export function node(name = 'node-1', cpu = '8'): NodeInfo {
  return nodeFromObject(nodeObject(name, cpu), 'test');
}

/**
 * The per-pod clauses of `placement = "cgroup"`, where every pod change is a new generation
 * (the default, hints, renders the same config for most of them): for tests of generations.
 */
export function cgroupPolicy(): Policy {
  return parsePolicy('[node]\nplacement = "cgroup"\n', 'cgroup.toml');
}

/**
 * One node's plans over time, for generation tests: two pods; then a Critical `db`; then `api`
 * re-tiered to High and `db` grown. `at(i)` is the i-th generation's time.
 */
export function threePlans(): { plans: Plan[]; at: (minute: number) => Date } {
  const policy = cgroupPolicy();
  const worker = node('worker-1', '8');
  const api = pod({ name: 'api', namespace: 'shop', uid: uidOf(1), node: 'worker-1', qos: 'Burstable', cpu: '500m' });
  const batch = pod({ name: 'batch', namespace: 'jobs', uid: uidOf(2), node: 'worker-1', qos: 'BestEffort' });
  const db = (cpu: string) => pod({ name: 'db', namespace: 'shop', uid: uidOf(3), node: 'worker-1', priority: 1_000_000, qos: 'Guaranteed', cpu, cpuLimit: cpu });
  return {
    plans: [
      plan(policy, worker, [api, batch]),
      plan(policy, worker, [api, batch, db('1')]),
      plan(policy, worker, [{ ...api, priority: 100_000 }, batch, db('2')]),
    ],
    at: (minute) => new Date(Date.UTC(2025, 0, 1, 12, minute)),
  };
}

/** The problems parsePolicy reports for `text` (fails when it accepts it). */
export function problemsOf(text: string): readonly string[] {
  try {
    parsePolicy(text, 'temper.toml');
  } catch (err) {
    if (err instanceof ConfigError) return err.lines;
    throw err;
  }
  throw new Error('expected a ConfigError');
}
