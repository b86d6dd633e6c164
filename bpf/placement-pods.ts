// The pods of the hint-placement measurements: the churned kinds and the baseline pods, as
// bpf/placement-driver.ts starts them in the VM (test/placement-vm.test.ts) and
// bench/agent.bench.ts creates them in a real control plane. None crosses a whole-CPU boundary,
// so with `placement = "hints"` none of their arrivals or departures changes the config.
import type { Policy } from '../core/config.ts';

export type PodQos = 'Guaranteed' | 'Burstable' | 'BestEffort';
/** The Temper PriorityClass a pod names (null: none, priority 0). */
export type PodClass = 'high' | 'normal' | 'low' | 'background' | null;
export interface PodKind { readonly kind: string; readonly cls: PodClass; readonly qos: PodQos }

/** The churned kinds: priority 0 of every QoS class, then classed pods of several QoS classes. */
export const CHURN_KINDS: readonly PodKind[] = [
  { kind: 'g0', cls: null, qos: 'Guaranteed' }, { kind: 'b0', cls: null, qos: 'Burstable' }, { kind: 'be0', cls: null, qos: 'BestEffort' },
  { kind: 'high-b', cls: 'high', qos: 'Burstable' }, { kind: 'high-g', cls: 'high', qos: 'Guaranteed' },
  { kind: 'low-b', cls: 'low', qos: 'Burstable' }, { kind: 'low-be', cls: 'low', qos: 'BestEffort' },
  { kind: 'bg-b', cls: 'background', qos: 'Burstable' }, { kind: 'bg-be', cls: 'background', qos: 'BestEffort' },
  { kind: 'normal-be', cls: 'normal', qos: 'BestEffort' },
];

/**
 * Present throughout: High and Normal own CPUs, so their first pod (or one without a CPU limit)
 * arriving or their last leaving would change the config (docs/layers.md "What causes a new
 * generation"); these keep both.
 */
export const BASELINE_KINDS: readonly PodKind[] = [
  { kind: 'base-high', cls: 'high', qos: 'Burstable' }, { kind: 'base-normal', cls: null, qos: 'Burstable' },
  { kind: 'base-low', cls: 'low', qos: 'Burstable' }, { kind: 'base-bg', cls: 'background', qos: 'Burstable' },
];

/**
 * A Pod object of kind `k` bound to `nodeName`, one container `main` asking 20m CPU and 16Mi
 * (Guaranteed: the same limits; BestEffort: nothing). With `priority`, spec.priority is the
 * class's value as the apiserver's Priority admission would set it (for callers without one).
 */
export function podObject(policy: Policy, k: PodKind, meta: { name: string; namespace: string; nodeName: string; uid?: string }, priority: boolean): Record<string, unknown> {
  const prio = { high: policy.priorityMapping.high, normal: policy.priorityMapping.normal, low: policy.priorityMapping.low, background: policy.priorityMapping.low - 1 };
  const small = { cpu: '20m', memory: '16Mi' };
  const resources = k.qos === 'Guaranteed' ? { requests: small, limits: small } : k.qos === 'Burstable' ? { requests: small } : {};
  const cls = k.cls === null ? {} : { priorityClassName: policy.naming.priorityClasses[k.cls], ...(priority ? { priority: prio[k.cls] } : {}) };
  return {
    kind: 'Pod',
    metadata: { name: meta.name, namespace: meta.namespace, ...(meta.uid === undefined ? {} : { uid: meta.uid }) },
    spec: { nodeName: meta.nodeName, ...cls, containers: [{ name: 'main', image: 'x', resources }] },
  };
}
