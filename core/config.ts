/**
 * Temper's configuration: one TOML file shared by the agent, the webhook and the plugin.
 * Parsing is strict: unknown keys and wrong types are errors naming the key, and every problem
 * in the file is reported at once (a typo must never silently fall back to a default).
 */
import { parse as parseToml, TomlError } from 'smol-toml';
import { ConfigError, Problems, isRecord, problemAt, show, within } from './errors.ts';
import type { Naming } from './names.ts';
import { DEFAULT_NAMING, NAME_SETS, installedClassNames, namesOf } from './names.ts';
import type { GrowthAlgo } from './scx.ts';
import { GROWTH_ALGOS } from './scx.ts';
import type { CgroupDriver, LayerName, Placement, PriorityClassInfo, Tier } from './types.ts';
import { CGROUP_DRIVERS, LAYER_NAMES, PLACEMENTS, TIERS } from './types.ts';

/** Operator overrides of one layer's properties; keys are scx_layered's own names. */
export interface LayerOverrides {
  readonly slice_us?: number;
  readonly util_range?: readonly [number, number];
  readonly protected?: boolean;
  readonly preempt?: boolean;
  readonly exclusive?: boolean;
  readonly min_exec_us?: number;
  readonly yield_ignore?: number;
  readonly growth_algo?: GrowthAlgo;
}

export interface PriorityMapping {
  /** Lower bounds of each tier; Background is everything below `low`. Strictly decreasing. */
  readonly critical: number;
  readonly high: number;
  readonly normal: number;
  readonly low: number;
  /** Pods at or above this priority are node-critical (tier `system`, catch-all layer). */
  readonly system: number;
  /** When false, `system` is ignored and such pods are tiered by the thresholds (Critical). */
  readonly systemToCatchall: boolean;
}

export interface NodeSettings {
  /** CPUs kept for the always-on system layer; never fenced for Critical. */
  readonly reservedCpus: number;
  readonly cgroupDriver: CgroupDriver;
  /** SMT threads per physical core; exclusive Critical cores are whole physical cores. */
  readonly threadsPerCore: number;
  /** How pods are matched to layers: per-pod cgroup clauses (the default) or static QoS matches and task hints. */
  readonly placement: Placement;
}

export interface WebhookSettings {
  /** Treat pods carrying the cluster's globalDefault PriorityClass as unclassified. */
  readonly replaceGlobalDefault: boolean;
}

/** A validated configuration. Build it with `parsePolicy` or `defaultPolicy`. */
export interface Policy {
  readonly priorityMapping: PriorityMapping;
  readonly node: NodeSettings;
  readonly naming: Naming;
  readonly webhook: WebhookSettings;
  readonly layers: Readonly<Partial<Record<LayerName, LayerOverrides>>>;
}

const DEFAULT_POLICY: Policy = {
  priorityMapping: {
    critical: 1_000_000, high: 100_000, normal: 0, low: -100, system: 2_000_000_000, systemToCatchall: true,
  },
  node: { reservedCpus: 1, cgroupDriver: 'systemd', threadsPerCore: 1, placement: 'hints' },
  naming: DEFAULT_NAMING,
  webhook: { replaceGlobalDefault: false },
  layers: {},
};

/** The shipped defaults (the spec's table), used when no configuration file is given. */
export function defaultPolicy(): Policy {
  return DEFAULT_POLICY;
}

/**
 * The value of the PriorityClass Temper installs for a tier: the tier's lower bound, and for
 * Background (which has none) one below Low's bound, the top of the Background band.
 */
export function tierClassValue(policy: Policy, tier: Tier): number {
  const m = policy.priorityMapping;
  return tier === 'background' ? m.low - 1 : m[tier];
}

/**
 * The PriorityClasses Temper installs, highest first: one per tier, and in migration mode every
 * known name set's too (`installedClassNames`), each at its tier's value. Background never
 * preempts: best-effort work yields, it does not evict others to get scheduled.
 */
export function tierClasses(policy: Policy): PriorityClassInfo[] {
  return installedClassNames(policy).map(({ name, tier }) => ({
    name,
    value: tierClassValue(policy, tier),
    preemptionPolicy: tier === 'background' ? 'Never' : 'PreemptLowerPriority',
    globalDefault: false,
  }));
}

/** The classes readers resolve a class name with: every known name set's, as in migration mode. */
export function honouredTierClasses(policy: Policy): PriorityClassInfo[] {
  return tierClasses({ ...policy, naming: { ...policy.naming, migration: true } });
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// Layers whose scx_layered kind has an allocation (Confined/Grouped) and so a util_range.
// Layers that may have an allocation (and so a util_range); system and catch-all are Open.
const SIZED_LAYERS: ReadonlySet<LayerName> = new Set(['critical', 'high', 'normal']);

/** Reads typed keys out of one TOML table, recording problems and the keys it consumed. */
class Table {
  private readonly seen = new Set<string>();
  private readonly data: Record<string, unknown>;
  private readonly path: string;
  private readonly problems: Problems;

  constructor(data: Record<string, unknown>, path: string, problems: Problems) {
    this.data = data;
    this.path = path;
    this.problems = problems;
  }

  private key(k: string): string {
    return this.path === '' ? k : `${this.path}.${k}`;
  }

  has(k: string): boolean {
    return k in this.data;
  }

  /** The raw value of a key, marking it as known. */
  take(k: string): unknown {
    this.seen.add(k);
    return this.data[k];
  }

  int(k: string, fallback: number, min: number, max: number): number {
    const v = this.take(k);
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      this.problems.add(this.key(k), 'must be an integer', v);
      return fallback;
    }
    if (v < min || v > max) {
      this.problems.add(this.key(k), `must be between ${min} and ${max}`, v);
      return fallback;
    }
    return v;
  }

  num(k: string, min: number, max: number): number | undefined {
    const v = this.take(k);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      this.problems.add(this.key(k), `must be a number between ${min} and ${max}`, v);
      return undefined;
    }
    return v;
  }

  bool(k: string, fallback: boolean): boolean;
  bool(k: string): boolean | undefined;
  bool(k: string, fallback?: boolean): boolean | undefined {
    const v = this.take(k);
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') {
      this.problems.add(this.key(k), 'must be true or false', v);
      return fallback;
    }
    return v;
  }

  str(k: string, fallback: string, check: (s: string) => string | null): string {
    const v = this.take(k);
    if (v === undefined) return fallback;
    if (typeof v !== 'string') {
      this.problems.add(this.key(k), 'must be a string', v);
      return fallback;
    }
    const bad = check(v);
    if (bad !== null) {
      this.problems.add(this.key(k), bad, v);
      return fallback;
    }
    return v;
  }

  oneOf<T extends string>(k: string, allowed: readonly T[]): T | undefined {
    const v = this.take(k);
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      this.problems.add(this.key(k), `must be one of ${allowed.join(', ')}`, v);
      return undefined;
    }
    return v as T;
  }

  table(k: string): Table {
    const v = this.take(k);
    if (v === undefined) return new Table({}, this.key(k), this.problems);
    if (!isRecord(v)) {
      this.problems.add(this.key(k), 'must be a table', v);
      return new Table({}, this.key(k), this.problems);
    }
    return new Table(v, this.key(k), this.problems);
  }

  keys(): string[] {
    return Object.keys(this.data);
  }

  /** Unknown keys are errors: scx_layered ignores them silently, Temper does not. */
  rejectUnknown(): void {
    for (const k of Object.keys(this.data)) {
      if (!this.seen.has(k)) this.problems.add(this.key(k), 'unknown key');
    }
  }
}

function checkSubdomain(s: string): string | null {
  return s.length <= 253 && DNS_SUBDOMAIN.test(s) ? null : 'must be a lowercase DNS subdomain (e.g. infera.io)';
}

function checkLabel(s: string): string | null {
  return s.length <= 63 && DNS_LABEL.test(s) ? null : 'must be a lowercase DNS label (at most 63 characters)';
}

function checkClassName(s: string): string | null {
  if (s.startsWith('system-')) return 'must not start with "system-" (reserved for built-in classes)';
  return checkSubdomain(s);
}

function readMapping(t: Table, problems: Problems): PriorityMapping {
  const d = DEFAULT_POLICY.priorityMapping;
  const m: PriorityMapping = {
    critical: t.int('critical', d.critical, INT32_MIN, INT32_MAX),
    high: t.int('high', d.high, INT32_MIN, INT32_MAX),
    normal: t.int('normal', d.normal, INT32_MIN, INT32_MAX),
    low: t.int('low', d.low, INT32_MIN + 1, INT32_MAX),
    system: t.int('system', d.system, INT32_MIN, INT32_MAX),
    systemToCatchall: t.bool('system_to_catchall', d.systemToCatchall),
  };
  const order = ['critical', 'high', 'normal', 'low'] as const;
  for (let i = 1; i < order.length; i++) {
    const upper = order[i - 1] ?? 'critical';
    const lower = order[i] ?? 'low';
    if (m[lower] >= m[upper]) {
      problems.add(`priority_mapping.${lower}`, `must be below ${upper} (got ${m[lower]} ≥ ${m[upper]}); thresholds must strictly decrease`);
    }
  }
  if (m.systemToCatchall && m.system <= m.critical) {
    problems.add('priority_mapping.system', `must be above critical (got ${m.system} ≤ ${m.critical})`);
  }
  return m;
}

function readLayer(t: Table, name: LayerName, problems: Problems): LayerOverrides {
  const out: { -readonly [K in keyof LayerOverrides]: LayerOverrides[K] } = {};
  if (t.has('slice_us')) out.slice_us = t.int('slice_us', 0, 100, 1_000_000);
  if (t.has('min_exec_us')) out.min_exec_us = t.int('min_exec_us', 0, 0, 1_000_000);
  const flags = ['protected', 'preempt', 'exclusive'] as const;
  for (const f of flags) {
    const v = t.bool(f);
    if (v !== undefined) out[f] = v;
  }
  const yieldIgnore = t.num('yield_ignore', 0, 1);
  if (yieldIgnore !== undefined) out.yield_ignore = yieldIgnore;
  const growth = t.oneOf('growth_algo', GROWTH_ALGOS);
  if (growth !== undefined) out.growth_algo = growth;
  if (t.has('util_range')) {
    const range = readUtilRange(t, name, problems);
    if (range !== undefined) out.util_range = range;
  }
  return out;
}

function readUtilRange(t: Table, name: LayerName, problems: Problems): readonly [number, number] | undefined {
  const key = `layers.${name}.util_range`;
  const raw = t.take('util_range');
  if (!SIZED_LAYERS.has(name)) {
    problems.add(key, `layer ${name} is an Open layer, which has no CPU allocation and so no util_range`);
    return undefined;
  }
  if (!Array.isArray(raw) || raw.length !== 2 || !raw.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    problems.add(key, 'must be two numbers [low, high]', raw);
    return undefined;
  }
  const [lo, hi] = raw as [number, number];
  if (!(lo >= 0 && lo < hi && hi <= 1)) {
    problems.add(key, `must satisfy 0 ≤ low < high ≤ 1 (got [${lo}, ${hi}])`);
    return undefined;
  }
  return [lo, hi];
}

/**
 * `[naming]`: `names` selects the set the prefix and classes default to; explicit keys override
 * it. In migration mode every known class set is installed too, so a configured class must not
 * be another set's class of a different tier (it would need two values).
 */
function readNaming(t: Table, problems: Problems): [Naming, Table] {
  const names = t.oneOf('names', NAME_SETS) ?? DEFAULT_NAMING.names;
  const migration = t.bool('migration', DEFAULT_NAMING.migration);
  const own = namesOf(names);
  const classesT = t.table('priority_classes');
  const classes = Object.fromEntries(
    TIERS.map((tier) => [tier, classesT.str(tier, own.priorityClasses[tier], checkClassName)]),
  ) as Record<Tier, string>;
  const seen = new Map<string, Tier>();
  for (const tier of TIERS) {
    const other = seen.get(classes[tier]);
    if (other !== undefined) problems.add(`naming.priority_classes.${tier}`, `duplicates ${other}'s class ${show(classes[tier])}`);
    seen.set(classes[tier], tier);
  }
  const naming: Naming = {
    names,
    migration,
    annotationPrefix: t.str('annotation_prefix', own.annotationPrefix, checkSubdomain),
    namespace: t.str('namespace', DEFAULT_NAMING.namespace, checkLabel),
    priorityClasses: classes,
  };
  if (migration) {
    const known = NAME_SETS.flatMap((set) => TIERS.map((tier) => ({ name: namesOf(set).priorityClasses[tier], tier })));
    for (const tier of TIERS) {
      const clash = known.find((c) => c.name === classes[tier] && c.tier !== tier);
      if (clash !== undefined) {
        problems.add(`naming.priority_classes.${tier}`, `is ${show(clash.name)}, the ${clash.tier} class that migration mode also installs (with ${clash.tier}'s value)`);
      }
    }
  }
  return [naming, classesT];
}

/** Validates a parsed TOML document into a Policy, reporting every problem at once. */
export function policyFromObject(doc: Record<string, unknown>, source: string): Policy {
  const problems = new Problems();
  const root = new Table(doc, '', problems);
  const mappingT = root.table('priority_mapping');
  const priorityMapping = readMapping(mappingT, problems);

  const nodeT = root.table('node');
  const d = DEFAULT_POLICY;
  const node: NodeSettings = {
    reservedCpus: nodeT.int('reserved_cpus', d.node.reservedCpus, 0, 512),
    cgroupDriver: nodeT.oneOf('cgroup_driver', CGROUP_DRIVERS) ?? d.node.cgroupDriver,
    threadsPerCore: nodeT.int('threads_per_core', d.node.threadsPerCore, 1, 8),
    placement: nodeT.oneOf('placement', PLACEMENTS) ?? d.node.placement,
  };

  const namingT = root.table('naming');
  const [naming, classesT] = readNaming(namingT, problems);

  const webhookT = root.table('webhook');
  const webhook: WebhookSettings = { replaceGlobalDefault: webhookT.bool('replace_global_default', d.webhook.replaceGlobalDefault) };

  const layersT = root.table('layers');
  const layers: Partial<Record<LayerName, LayerOverrides>> = {};
  for (const name of layersT.keys()) {
    if (!(LAYER_NAMES as readonly string[]).includes(name)) {
      problems.add(`layers.${name}`, `unknown layer (layers are ${LAYER_NAMES.join(', ')})`);
      layersT.table(name);
      continue;
    }
    const t = layersT.table(name);
    layers[name as LayerName] = readLayer(t, name as LayerName, problems);
    t.rejectUnknown();
  }

  for (const t of [root, mappingT, nodeT, namingT, classesT, webhookT, layersT]) t.rejectUnknown();
  if (!problems.empty) throw new ConfigError(within(source, problems.list));
  return { priorityMapping, node, naming, webhook, layers };
}

/** Parses and validates a TOML configuration; `source` (usually the file name) prefixes every problem. */
export function parsePolicy(text: string, source: string): Policy {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof TomlError) {
      throw new ConfigError([problemAt(`${source}:${err.line}:${err.column}`, `invalid TOML: ${err.message.split('\n')[0] ?? ''}`, err)]);
    }
    throw err;
  }
  return policyFromObject(doc, source);
}
