/**
 * The rename migration's planning (`kubectl temper migrate`, docs/migration.md): from what the
 * cluster holds, what still uses a name set other than the configured one, what `--apply` may
 * create (never delete), and the exact steps left. Pure: the plugin lists the objects and
 * applies the creations.
 */
import type { Policy } from './config.ts';
import { tierClassValue } from './config.ts';
import { priorityClassObjects } from './install-objects.ts';
import { formerClassNames, keysUnder, readPrefixes, temperKeys } from './names.ts';
import type { Tier } from './types.ts';
import { TIERS } from './types.ts';

/** A controller reference: the object that owns a pod or a workload. */
export interface OwnerRef {
  readonly kind: string;
  readonly name: string;
}

/** The workload kinds whose pod template names a class, and where in the object that is. */
export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob'] as const;
/** One of the workload kinds `migrate` reads. */
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

/** A pod as migration sees it. */
export interface MigrationPod {
  readonly namespace: string;
  readonly name: string;
  readonly priorityClassName: string | null;
  readonly phase: string | null;
  readonly owner: OwnerRef | null;
}

/** A workload and the class its pod template names. */
export interface MigrationWorkload {
  readonly kind: WorkloadKind;
  readonly namespace: string;
  readonly name: string;
  readonly priorityClassName: string | null;
  readonly owner: OwnerRef | null;
}

/** Anything with a name and string annotations or labels (a Node, a Namespace). */
export interface Labelled {
  readonly name: string;
  readonly values: Readonly<Record<string, string>>;
}

/** A PriorityClass as migration sees it; `helmRelease` is `namespace/name` when Helm installed it. */
export interface MigrationClass {
  readonly name: string;
  readonly value: number;
  readonly helmRelease: string | null;
}

/** What `kubectl temper migrate` reads from the cluster. */
export interface MigrationInput {
  readonly pods: readonly MigrationPod[];
  readonly workloads: readonly MigrationWorkload[];
  /** Nodes with their annotations. */
  readonly nodes: readonly Labelled[];
  /** Namespaces with their labels. */
  readonly namespaces: readonly Labelled[];
  readonly priorityClasses: readonly MigrationClass[];
}

/** The state of one class Temper's configuration installs. */
export interface ClassState {
  readonly name: string;
  readonly tier: Tier;
  readonly want: number;
  /** `present`, `missing`, or `wrong-value` (PriorityClass values are immutable). */
  readonly state: 'present' | 'missing' | 'wrong-value';
  readonly value: number | null;
}

/** A pod or workload naming a former class. */
export interface FormerUse {
  readonly kind: 'Pod' | WorkloadKind;
  readonly namespace: string;
  readonly name: string;
  readonly priorityClassName: string;
  /** The configured class of the same tier. */
  readonly useClass: string;
  /** What to do: the workload to roll out, or how to replace the object. */
  readonly action: string;
}

/** A node carrying a Temper annotation only under a former prefix. */
export interface NodeState {
  readonly name: string;
  /** The former keys it carries whose configured counterpart is missing. */
  readonly formerOnly: readonly string[];
  readonly action: string;
}

/** An object `--apply` creates, or an annotation or label it adds next to a former one. */
export type Creation =
  | { readonly kind: 'PriorityClass'; readonly name: string; readonly object: Record<string, unknown> }
  | { readonly kind: 'NodeAnnotation' | 'NamespaceLabel'; readonly name: string; readonly key: string; readonly value: string };

/** The migration's state and the steps left. */
export interface MigrationPlan {
  readonly names: string;
  readonly migration: boolean;
  readonly prefix: string;
  readonly formerPrefixes: readonly string[];
  readonly classes: readonly ClassState[];
  /** Former classes still installed, with their values (a value differing from the tier's tiers pods differently). */
  readonly formerClasses: readonly (MigrationClass & { readonly tier: Tier; readonly want: number })[];
  readonly uses: readonly FormerUse[];
  readonly nodes: readonly NodeState[];
  /** Namespaces opted out of defaulting only under a former prefix. */
  readonly namespaces: readonly NodeState[];
  readonly creations: readonly Creation[];
  /** The exact steps left, in order. */
  readonly steps: readonly string[];
  /** Objects that still use a former name (uses + nodes + namespaces + missing/wrong classes); 0 when done. */
  readonly remaining: number;
}

const TEMPLATE_PATH: Readonly<Record<WorkloadKind, string>> = {
  Deployment: '/spec/template/spec/priorityClassName',
  StatefulSet: '/spec/template/spec/priorityClassName',
  DaemonSet: '/spec/template/spec/priorityClassName',
  ReplicaSet: '/spec/template/spec/priorityClassName',
  Job: '/spec/template/spec/priorityClassName',
  CronJob: '/spec/jobTemplate/spec/template/spec/priorityClassName',
};

const byKey = <T extends { namespace?: string; name: string }>(a: T, b: T): number =>
  (a.namespace ?? '').localeCompare(b.namespace ?? '') || a.name.localeCompare(b.name);

/** `kubectl patch` of a workload's template class: applying it rolls the workload out. */
function patchCommand(w: { kind: WorkloadKind; namespace: string; name: string }, useClass: string): string {
  const patch = JSON.stringify([{ op: 'replace', path: TEMPLATE_PATH[w.kind], value: useClass }]);
  return `kubectl -n ${w.namespace} patch ${w.kind.toLowerCase()} ${w.name} --type=json -p '${patch}'`;
}

/** The workload a pod's replacement comes from: its owner chain's top (ReplicaSet → Deployment, Job → CronJob). */
function topOwner(input: MigrationInput, namespace: string, owner: OwnerRef | null): MigrationWorkload | null {
  let current: MigrationWorkload | null = null;
  let ref = owner;
  for (let depth = 0; ref !== null && depth < 4; depth++) {
    const r: OwnerRef = ref;
    const found = input.workloads.find((w) => w.namespace === namespace && w.kind === r.kind && w.name === r.name);
    if (found === undefined) break;
    current = found;
    ref = found.owner;
  }
  return current;
}

function isWorkloadOwner(owner: OwnerRef | null): boolean {
  return owner !== null && (WORKLOAD_KINDS as readonly string[]).includes(owner.kind);
}

/**
 * The migration plan for the configured names: every configured class present with its tier's
 * value; no running pod and no workload template naming another set's class; every node's
 * Temper annotations present under the configured prefix; opt-out labels under it too.
 * Creations are the missing configured classes (unless Helm manages Temper's classes: Helm
 * would refuse to adopt them, so the step is a `helm upgrade`), safe-mode requests and opt-out
 * labels copied from a former key. Nothing is ever deleted; pods cannot change
 * `priorityClassName` in place, so they are replaced by a rollout of their workload.
 */
export function planMigration(policy: Policy, input: MigrationInput): MigrationPlan {
  const prefix = policy.naming.annotationPrefix;
  const formerPrefixes = readPrefixes(policy).filter((p) => p !== prefix);
  const keys = temperKeys(policy);
  const installed = new Map(input.priorityClasses.map((c) => [c.name, c]));
  const tierOf = new Map<string, Tier>(formerClassNames(policy).map((c) => [c.name, c.tier]));
  const configuredTier = new Map<string, Tier>(TIERS.map((tier) => [policy.naming.priorityClasses[tier], tier]));
  const want = new Map<Tier, number>(TIERS.map((tier) => [tier, tierClassValue(policy, tier)]));
  const classes: ClassState[] = [...configuredTier].map(([name, tier]) => {
    const have = installed.get(name);
    const w = want.get(tier) ?? 0;
    return { name, tier, want: w, value: have?.value ?? null, state: have === undefined ? 'missing' : have.value === w ? 'present' : 'wrong-value' };
  });
  const formerClasses = [...installed.values()].filter((c) => tierOf.has(c.name)).sort(byKey)
    .map((c) => { const tier = tierOf.get(c.name) as Tier; return { ...c, tier, want: want.get(tier) ?? 0 }; });
  const helmRelease = [...formerClasses, ...input.priorityClasses.filter((c) => configuredTier.has(c.name))].find((c) => c.helmRelease !== null)?.helmRelease ?? null;

  const uses: FormerUse[] = [];
  for (const w of [...input.workloads].sort(byKey)) {
    const tier = w.priorityClassName === null ? undefined : tierOf.get(w.priorityClassName);
    if (tier === undefined || w.priorityClassName === null || isWorkloadOwner(w.owner)) continue;
    const useClass = policy.naming.priorityClasses[tier];
    const action = w.kind === 'Job'
      ? `recreate the Job with priorityClassName ${useClass} (a Job's pod template is immutable)`
      : `${patchCommand(w, useClass)}   # rolls out new pods`;
    uses.push({ kind: w.kind, namespace: w.namespace, name: w.name, priorityClassName: w.priorityClassName, useClass, action });
  }
  for (const p of [...input.pods].sort(byKey)) {
    const tier = p.priorityClassName === null ? undefined : tierOf.get(p.priorityClassName);
    if (tier === undefined || p.priorityClassName === null || p.phase === 'Succeeded' || p.phase === 'Failed') continue;
    const useClass = policy.naming.priorityClasses[tier];
    const top = topOwner(input, p.namespace, p.owner);
    const action = top === null
      ? (p.owner === null
        ? `delete and recreate it with priorityClassName ${useClass} (a pod cannot change priorityClassName in place)`
        : `replaced when its owner ${p.owner.kind} ${p.owner.name} recreates it with ${useClass} (a pod cannot change priorityClassName in place)`)
      : `replaced by the rollout of ${top.kind} ${top.name} (a pod cannot change priorityClassName in place): kubectl -n ${p.namespace} rollout status ${top.kind.toLowerCase()}/${top.name}`;
    uses.push({ kind: 'Pod', namespace: p.namespace, name: p.name, priorityClassName: p.priorityClassName, useClass, action });
  }

  const creations: Creation[] = [];
  if (helmRelease === null) {
    const missing = new Set(classes.filter((c) => c.state === 'missing').map((c) => c.name));
    const noMigration = { ...policy, naming: { ...policy.naming, migration: false } };
    for (const object of priorityClassObjects(noMigration)) {
      const name = (object.metadata as { name: string }).name;
      if (missing.has(name)) creations.push({ kind: 'PriorityClass', name, object });
    }
  }

  const nodes: NodeState[] = [];
  for (const n of [...input.nodes].sort(byKey)) {
    const formerOnly: string[] = [];
    let safeMode: string | null = null;
    for (const key of ['qosDistribution', 'agentStatus', 'safeModeRequested'] as const) {
      if (n.values[keys[key]] !== undefined) continue;
      for (const fp of formerPrefixes) {
        const k = keysUnder(fp)[key];
        const v = n.values[k];
        if (v === undefined) continue;
        formerOnly.push(k);
        if (key === 'safeModeRequested' && safeMode === null) {
          safeMode = v;
          creations.push({ kind: 'NodeAnnotation', name: n.name, key: keys.safeModeRequested, value: v });
        }
        break;
      }
    }
    if (formerOnly.length === 0) continue;
    const agentKeys = formerOnly.some((k) => !k.endsWith('/safe-mode-requested'));
    const action = [
      ...(safeMode === null ? [] : [`kubectl annotate node ${n.name} ${keys.safeModeRequested}=${safeMode}   # or --apply`]),
      ...(agentKeys ? [`the agent on ${n.name} has not published under ${prefix}: check its DaemonSet's rollout and that it runs this configuration (kubectl -n ${policy.naming.namespace} rollout status daemonset/temper-agent)`] : []),
    ].join('; ');
    nodes.push({ name: n.name, formerOnly, action });
  }

  const namespaces: NodeState[] = [];
  for (const ns of [...input.namespaces].sort(byKey)) {
    if (ns.values[keys.qosDefaulting] !== undefined) continue;
    const k = formerPrefixes.map((fp) => keysUnder(fp).qosDefaulting).find((key) => ns.values[key] !== undefined);
    if (k === undefined) continue;
    const v = ns.values[k] ?? '';
    creations.push({ kind: 'NamespaceLabel', name: ns.name, key: keys.qosDefaulting, value: v });
    namespaces.push({ name: ns.name, formerOnly: [k], action: `kubectl label namespace ${ns.name} ${keys.qosDefaulting}=${v}   # or --apply` });
  }

  const steps: string[] = [];
  const missing = classes.filter((c) => c.state === 'missing');
  if (missing.length > 0) {
    steps.push(helmRelease !== null
      ? `Install the ${missing.map((c) => c.name).join(', ')} PriorityClasses with migration mode: helm upgrade ${helmRelease.split('/')[1] ?? ''} -n ${helmRelease.split('/')[0] ?? ''} --reuse-values --set config.naming.names=${policy.naming.names} --set config.naming.migration=true (Helm manages Temper's classes and would refuse ones created beside it)`
      : `Create the ${missing.map((c) => c.name).join(', ')} PriorityClasses: kubectl temper migrate --apply`);
  }
  for (const c of classes.filter((x) => x.state === 'wrong-value')) {
    steps.push(`PriorityClass ${c.name} has value ${String(c.value)}, not its tier's ${c.want}: values are immutable, so delete it (once nothing uses it) and re-run --apply`);
  }
  for (const c of formerClasses.filter((x) => x.value !== x.want)) {
    steps.push(`Former PriorityClass ${c.name} has value ${c.value}, not ${c.tier}'s ${c.want}: its pods tier differently from ${policy.naming.priorityClasses[c.tier]}'s`);
  }
  for (const n of nodes) steps.push(`Node ${n.name} carries ${n.formerOnly.join(', ')} without the ${prefix} key: ${n.action}`);
  for (const ns of namespaces) steps.push(`Namespace ${ns.name} opts out of defaulting only with ${ns.formerOnly.join(', ')}: ${ns.action}`);
  for (const u of uses) steps.push(`${u.kind} ${u.namespace}/${u.name} names ${u.priorityClassName}: ${u.action}`);
  const remaining = uses.length + nodes.length + namespaces.length + classes.filter((c) => c.state !== 'present').length;
  if (remaining === 0) {
    steps.push(policy.naming.migration
      ? `Nothing uses the former names. When every consumer of the node annotations reads ${prefix}/, turn migration mode off: helm upgrade … --set config.naming.migration=false (the chart then removes the former PriorityClasses${formerClasses.length > 0 ? `: ${formerClasses.map((c) => c.name).join(', ')}` : ''}, and the agents their former annotations)`
      : `Nothing uses the former names.${formerClasses.length > 0 ? ` The former PriorityClasses ${formerClasses.map((c) => c.name).join(', ')} are unused: delete them when you no longer need a rollback (migrate never deletes)` : ''}`);
  }
  return {
    names: policy.naming.names, migration: policy.naming.migration, prefix, formerPrefixes,
    classes, formerClasses, uses, nodes, namespaces, creations, steps, remaining,
  };
}
