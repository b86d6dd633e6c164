/**
 * Every name Temper puts on Kubernetes objects, built here and nowhere else: annotation and label
 * keys, PriorityClass names, Temper's own object names. The configurable ones derive from the
 * `[naming]` settings, whose defaults derive from one name set: `infera` (the former name:
 * `infera.io/…` keys, `infera-<tier>` classes) or `temper` (`temper.codes/…`, `temper-<tier>`).
 * Readers honour both sets whatever is selected; migration mode writes both (docs/migration.md).
 */
import type { Tier } from './types.ts';
import { TIERS } from './types.ts';

/** The two name sets Temper knows: its former name (today's default) and its own. */
export const NAME_SETS = ['infera', 'temper'] as const;
/** One of the name sets: `infera` or `temper`. */
export type NameSet = (typeof NAME_SETS)[number];

/** The names one set writes: the annotation and label prefix and the five tier PriorityClasses. */
export interface NamesOf {
  /** Prefix of Temper's annotations and labels, e.g. `infera.io` gives `infera.io/qos-distribution`. */
  readonly annotationPrefix: string;
  /** The PriorityClass Temper installs for each tier. */
  readonly priorityClasses: Readonly<Record<Tier, string>>;
}

/** The validated `[naming]` settings: the names written, the set they default to, migration mode, the namespace. */
export interface Naming extends NamesOf {
  /** The name set the prefix and classes default to (`[naming] names`). */
  readonly names: NameSet;
  /**
   * Migration mode: the agent publishes its annotations under every honoured prefix and the
   * install objects carry every known class set, so consumers can switch one at a time.
   */
  readonly migration: boolean;
  /** Temper's own namespace: its pods run in the system layer and admission skips it. */
  readonly namespace: string;
}

/** The name set the default names derive from (the former name, until the migration is done). */
export const DEFAULT_BRAND: NameSet = 'infera';

const PREFIXES: Readonly<Record<NameSet, string>> = { infera: 'infera.io', temper: 'temper.codes' };

/** A name set's own names: `infera.io` + `infera-<tier>`, or `temper.codes` + `temper-<tier>`. */
export function namesOf(set: NameSet): NamesOf {
  return {
    annotationPrefix: PREFIXES[set],
    priorityClasses: Object.fromEntries(TIERS.map((tier) => [tier, `${set}-${tier}`])) as Record<Tier, string>,
  };
}

/** The naming settings of a name set with nothing overridden, outside migration mode. */
export function namingFor(set: NameSet): Naming {
  return { ...namesOf(set), names: set, migration: false, namespace: 'temper-system' };
}

/** The shipped naming: the infera names, outside migration mode. */
export const DEFAULT_NAMING: Naming = namingFor(DEFAULT_BRAND);

function unique<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}

/**
 * Every prefix readers honour, whatever is selected: the configured one first, then each name
 * set's own (`infera.io`, `temper.codes`), without repeats.
 */
export function readPrefixes(named: Named): string[] {
  return unique([named.naming.annotationPrefix, ...NAME_SETS.map((set) => PREFIXES[set])]);
}

/** The prefixes the agent writes under: the configured one, or in migration mode every honoured one. */
export function writePrefixes(named: Named): string[] {
  return named.naming.migration ? readPrefixes(named) : [named.naming.annotationPrefix];
}

/** A class Temper installs: its name and the tier whose value it carries. */
export interface TierClassName {
  readonly name: string;
  readonly tier: Tier;
}

/**
 * The PriorityClass names to install, highest tier first within each set: the configured set,
 * then (migration mode only) each name set's own classes not already listed. Every class of a
 * tier carries that tier's value, so pods of either set tier identically.
 */
export function installedClassNames(named: Named): TierClassName[] {
  const sets = [named.naming.priorityClasses, ...(named.naming.migration ? NAME_SETS.map((set) => namesOf(set).priorityClasses) : [])];
  const out: TierClassName[] = [];
  const seen = new Set<string>();
  for (const classes of sets) {
    for (const tier of TIERS) {
      if (seen.has(classes[tier])) continue;
      seen.add(classes[tier]);
      out.push({ name: classes[tier], tier });
    }
  }
  return out;
}

/**
 * Class names of the name sets that are not the configured one (`infera-high` once `temper` is
 * selected), each with its tier: what `kubectl temper migrate` looks for.
 */
export function formerClassNames(named: Named): TierClassName[] {
  const current = new Set(Object.values(named.naming.priorityClasses));
  return NAME_SETS.flatMap((set) => TIERS.map((tier) => ({ name: namesOf(set).priorityClasses[tier], tier })))
    .filter((c) => !current.has(c.name));
}

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

/** The keys under the configured prefix: what Temper writes. */
export function temperKeys(named: Named): TemperKeys {
  return keysUnder(named.naming.annotationPrefix);
}

/** The keys under one prefix. */
export function keysUnder(prefix: string): TemperKeys {
  return {
    qosDistribution: `${prefix}/qos-distribution`,
    agentStatus: `${prefix}/agent-status`,
    safeModeRequested: `${prefix}/safe-mode-requested`,
    qosDefaulting: `${prefix}/qos-defaulting`,
  };
}

/** One key under every honoured prefix, the configured one first (`readKeys(p, 'safeModeRequested')`). */
export function readKeys(named: Named, key: keyof TemperKeys): string[] {
  return readPrefixes(named).map((prefix) => keysUnder(prefix)[key]);
}

/**
 * The value of one of Temper's annotations or labels as readers see it: under the configured
 * prefix if present, else under the first other honoured prefix that has it.
 */
export function readAnnotation(named: Named, annotations: Readonly<Record<string, string>> | undefined, key: keyof TemperKeys): string | undefined {
  for (const k of readKeys(named, key)) {
    const v = annotations?.[k];
    if (v !== undefined) return v;
  }
  return undefined;
}

/** Whether the Node's annotations request safe mode under any honoured prefix: either `true` wins. */
export function safeModeRequested(named: Named, annotations: Readonly<Record<string, string>> | undefined): boolean {
  return readKeys(named, 'safeModeRequested').some((k) => annotations?.[k] === 'true');
}

/**
 * The agent's Node annotations as it patches them: `values` (keyed under the configured prefix)
 * under every prefix it writes (both in migration mode), and null (remove) for the same keys
 * under the other honoured prefixes, so a set no longer written does not linger with stale
 * values. Keys outside the configured prefix pass through unchanged.
 */
export function publishedAnnotations(named: Named, values: Readonly<Record<string, string>>): Record<string, string | null> {
  const own = `${named.naming.annotationPrefix}/`;
  const writing = new Set(writePrefixes(named));
  const out: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(values)) {
    if (!key.startsWith(own)) {
      out[key] = value;
      continue;
    }
    for (const prefix of readPrefixes(named)) out[`${prefix}/${key.slice(own.length)}`] = writing.has(prefix) ? value : null;
  }
  return out;
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

/** The chart's name, which `releaseFullname` appends to a release name that does not contain it. */
const CHART_NAME = 'temper';

/** The Helm release the objects generated outside Helm (dev harness, `npm start`) stand for. */
export const DEFAULT_RELEASE = 'temper';

/**
 * The chart's `temper.fullname` for a Helm release (templates/_helpers.tpl): `fullnameOverride`
 * when given, else the release name when it contains the chart's name (`nameOverride`, default
 * `temper`), else `<release>-<name>`; cut to 50 characters, one trailing `-` dropped.
 * `releaseFullname('temper')` is `temper`, `releaseFullname('a')` is `a-temper`. Every object the
 * chart names after its release derives from it, the cluster-scoped ones included.
 */
export function releaseFullname(release: string, overrides: { readonly nameOverride?: string; readonly fullnameOverride?: string } = {}): string {
  const cut = (s: string): string => {
    const t = s.slice(0, 50);
    return t.endsWith('-') ? t.slice(0, -1) : t;
  };
  if (overrides.fullnameOverride) return cut(overrides.fullnameOverride);
  const name = overrides.nameOverride || CHART_NAME;
  return cut(release.includes(name) ? release : `${release}-${name}`);
}

/**
 * The MutatingWebhookConfiguration's name for a release's fullname: `<fullname>-qos-defaulting`
 * (cluster-scoped, so per release; `temper-qos-defaulting` for `helm install temper`).
 */
export function webhookConfigurationName(fullname: string): string {
  return `${fullname}-qos-defaulting`;
}

/** Names of Temper's own namespaced objects, fixed whatever the prefix and release (the chart uses the same). */
export const OBJECT_NAMES = {
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
