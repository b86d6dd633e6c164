/**
 * The webhook's decision: which PriorityClass a pod without one gets, by its QoS class.
 *
 * Admission order matters (docs/webhook.md): the built-in Priority plugin runs before mutating
 * webhooks and again after a webhook changes the pod, and it rejects a pod whose `spec.priority`
 * or `spec.preemptionPolicy` disagree with its class. So the three fields are always set
 * together, from the PriorityClass object itself, never from hard-coded values.
 */
import type { Policy } from './config.ts';
import { isTemperNamespace } from './names.ts';
import { computeQosClass } from './resources.ts';
import { exclusionOf, knownClasses, qosDefaultTier, tierOf, unresolvedPriority } from './tier.ts';
import type { PodInfo, PriorityClassInfo, QosClass, Tier } from './types.ts';

/** The PriorityClasses the webhook can see (a watched cache in the adapter). */
export interface ClassCatalog {
  get(name: string): PriorityClassInfo | undefined;
  /** The class the Priority plugin applies to pods without one, if any (lowest value wins). */
  globalDefault(): PriorityClassInfo | undefined;
}

/**
 * The class the Priority plugin applies to pods without one: the globalDefault class with the
 * lowest value when several exist (ties broken by name, so the choice is stable).
 */
export function globalDefaultClass(classes: readonly PriorityClassInfo[]): PriorityClassInfo | undefined {
  return classes.filter((c) => c.globalDefault).sort((a, b) => a.value - b.value || (a.name < b.name ? -1 : 1))[0];
}

/** The three pod fields the webhook sets together. */
export interface ClassFields {
  readonly priorityClassName: string;
  readonly priority: number;
  readonly preemptionPolicy: string;
}

export type DefaultingDecision =
  | { readonly action: 'skip'; readonly reason: string }
  | { readonly action: 'warn'; readonly reason: string; readonly warning: string }
  | { readonly action: 'set'; readonly reason: string; readonly fields: ClassFields; readonly tier: Tier; readonly qosClass: QosClass };

/** Options of the defaulting rule, from the `[webhook]` config section. */
export interface DefaultingOptions {
  /** Treat a pod carrying the cluster's globalDefault class as if it had no class. */
  readonly replaceGlobalDefault: boolean;
}

/**
 * Decides the defaulting for a pod being created. Pods that name a class keep it (unless it is
 * the cluster's globalDefault class and `replaceGlobalDefault` is on); pods in Temper's own
 * namespace are skipped; the others get the class of their QoS default tier (Guaranteed and
 * Burstable → Normal, BestEffort → Background). A missing class is a warning, never a rejection.
 */
export function decideDefault(policy: Policy, pod: PodInfo, catalog: ClassCatalog, options: DefaultingOptions): DefaultingDecision {
  if (isTemperNamespace(policy, pod.namespace)) {
    return { action: 'skip', reason: `namespace ${pod.namespace} is Temper's own` };
  }
  const current = pod.priorityClassName;
  if (current !== null) {
    const globalDefault = catalog.globalDefault();
    const isGlobalDefault = globalDefault !== undefined && globalDefault.name === current;
    if (!isGlobalDefault || !options.replaceGlobalDefault) {
      return { action: 'skip', reason: `pod already names PriorityClass ${current}${isGlobalDefault ? ' (the cluster\'s globalDefault; webhook.replace_global_default is off)' : ''}` };
    }
  }
  const qosClass = computeQosClass(pod);
  const tier = qosDefaultTier(qosClass);
  const name = policy.naming.priorityClasses[tier];
  const pc = catalog.get(name);
  if (pc === undefined) {
    return {
      action: 'warn',
      reason: `PriorityClass ${name} does not exist`,
      warning: `temper: PriorityClass ${name} not found; pod admitted without a tier class (QoS ${qosClass} would default to ${tier})`,
    };
  }
  return {
    action: 'set',
    reason: `no priorityClassName${current !== null ? ` (only the globalDefault ${current})` : ''}: QoS class ${qosClass} defaults to ${tier}`,
    fields: { priorityClassName: pc.name, priority: pc.value, preemptionPolicy: pc.preemptionPolicy },
    tier,
    qosClass,
  };
}

/** kube-scheduler's own name: a pod naming it (or none) is the default scheduler's. */
export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

/**
 * Whether the webhook should send a pod to Temper's scheduler (docs/scheduling.md): only Critical
 * pods, only when `target` is configured, and only pods that would go to the default scheduler
 * (a pod that names another scheduler keeps it). Returns the scheduler name to set, or null.
 * `schedulerName` is the pod's `spec.schedulerName` as submitted (null when absent).
 */
export function schedulerNameFor(policy: Policy, pod: PodInfo, schedulerName: string | null, target: string | null): string | null {
  if (target === null || target === '' || isTemperNamespace(policy, pod.namespace)) return null;
  if (schedulerName !== null && schedulerName !== '' && schedulerName !== DEFAULT_SCHEDULER_NAME) return null;
  const known = knownClasses(policy, []);
  if (unresolvedPriority(pod, known) !== null || exclusionOf(pod) !== null) return null;
  return tierOf(policy, pod, known).tier === 'critical' ? target : null;
}
