/**
 * Every name Temper puts on Kubernetes objects, built here and nowhere else: annotation and label
 * keys, PriorityClass names, Temper's own object names. The configurable ones derive from the
 * `[naming]` settings, whose defaults derive from one brand (`infera`: `infera.io/…` keys and
 * `infera-<tier>` classes).
 */
import type { Tier } from './types.ts';
import { TIERS } from './types.ts';

export interface Naming {
  /** Prefix of Temper's annotations and labels, e.g. `infera.io` gives `infera.io/qos-distribution`. */
  readonly annotationPrefix: string;
  /** Temper's own namespace: its pods run in the system layer and admission skips it. */
  readonly namespace: string;
  /** The PriorityClass Temper installs for each tier. */
  readonly priorityClasses: Readonly<Record<Tier, string>>;
}

/** The brand the default names derive from. */
export const DEFAULT_BRAND = 'infera';

/** The names for a brand: annotations under `<brand>.io`, classes `<brand>-<tier>`, namespace `temper-system`. */
export function namingFor(brand: string): Naming {
  return {
    annotationPrefix: `${brand}.io`,
    namespace: 'temper-system',
    priorityClasses: Object.fromEntries(TIERS.map((tier) => [tier, `${brand}-${tier}`])) as Record<Tier, string>,
  };
}

export const DEFAULT_NAMING: Naming = namingFor(DEFAULT_BRAND);

/** Anything that carries naming settings (a Policy). */
export interface Named {
  readonly naming: Naming;
}

/** The annotation and label keys under the configured prefix. */
export interface TemperKeys {
  /** Node annotation the agent publishes: the QoS distribution (docs/distribution.md). */
  readonly qosDistribution: string;
  /** Node annotation the agent publishes: its enforcement state and generation. */
  readonly agentStatus: string;
  /** Node annotation an operator sets to `true` to stop enforcement on that node. */
  readonly safeModeRequested: string;
  /** Label on a namespace or pod: `=disabled` opts out of QoS defaulting. */
  readonly qosDefaulting: string;
}

export function temperKeys(named: Named): TemperKeys {
  const p = named.naming.annotationPrefix;
  return {
    qosDistribution: `${p}/qos-distribution`,
    agentStatus: `${p}/agent-status`,
    safeModeRequested: `${p}/safe-mode-requested`,
    qosDefaulting: `${p}/qos-defaulting`,
  };
}

/** The name of the node annotation carrying the QoS distribution. */
export function distributionAnnotation(named: Named): string {
  return temperKeys(named).qosDistribution;
}

/** The webhook's name inside its MutatingWebhookConfiguration (a qualified name under the prefix). */
export function webhookName(named: Named): string {
  return `qos-defaulting.${named.naming.annotationPrefix}`;
}

/** Whether `namespace` is Temper's own (its pods are kept in the system layer, admission skips it). */
export function isTemperNamespace(named: Named, namespace: string): boolean {
  return namespace === named.naming.namespace;
}

/** Names of Temper's own objects, fixed whatever the prefix (the chart uses the same). */
export const OBJECT_NAMES = {
  /** The MutatingWebhookConfiguration. */
  webhookConfiguration: 'temper-qos-defaulting',
  /** The ConfigMap in Temper's namespace holding the configuration, and its key. */
  configMap: 'temper-config',
  configMapKey: 'config.toml',
} as const;

/** Labels the chart and the install objects put on Temper's objects. */
export const LABELS = {
  partOf: { 'app.kubernetes.io/part-of': 'temper' },
  /** The agent pods' label, as a label selector. */
  agentSelector: 'app.kubernetes.io/name=temper-agent',
} as const;
