/**
 * `kubectl temper migrate`: the rename migration (docs/migration.md). Lists what still uses a
 * name set other than the configured one and prints the exact steps (core/migration.ts);
 * `--apply` creates what is missing and never deletes or changes anything else.
 */
import type { KubernetesObject, V1ObjectMeta, V1PodTemplateSpec } from '@kubernetes/client-node';
import { AppsV1Api, BatchV1Api, PatchStrategy, SchedulingV1Api, setHeaderOptions } from '@kubernetes/client-node';
import { Option } from 'commander';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import type { Creation, MigrationInput, MigrationPlan, MigrationWorkload, OwnerRef, WorkloadKind } from '../core/migration.ts';
import { planMigration } from '../core/migration.ts';
import type { Cluster, ClusterFlags } from './live.ts';
import { clusterCall, clusterPolicy, connect } from './live.ts';
import { readPolicy } from './manifests.ts';
import type { CliIo } from './options.ts';
import { clusterOptions, configOption } from './options.ts';

interface MigrateOptions extends ClusterFlags {
  config?: string;
  apply?: boolean;
  output: 'text' | 'json' | 'yaml';
}

function ownerOf(meta: V1ObjectMeta | undefined): OwnerRef | null {
  const ref = meta?.ownerReferences?.find((o) => o.controller === true) ?? null;
  return ref === null ? null : { kind: ref.kind, name: ref.name };
}

function workloadOf(kind: WorkloadKind, obj: KubernetesObject, template: V1PodTemplateSpec | undefined): MigrationWorkload {
  return {
    kind, namespace: obj.metadata?.namespace ?? '', name: obj.metadata?.name ?? '',
    priorityClassName: template?.spec?.priorityClassName ?? null, owner: ownerOf(obj.metadata),
  };
}

/** Everything migration looks at, cluster-wide: one list call per kind. */
async function readCluster(cluster: Cluster): Promise<MigrationInput> {
  const apps = cluster.kc.makeApiClient(AppsV1Api);
  const batch = cluster.kc.makeApiClient(BatchV1Api);
  const scheduling = cluster.kc.makeApiClient(SchedulingV1Api);
  const call = <T>(what: string, fn: () => Promise<T>): Promise<T> => clusterCall(cluster, what, fn);
  const [pods, deployments, statefulSets, daemonSets, replicaSets, jobs, cronJobs, nodes, namespaces, classes] = await Promise.all([
    call('list pods', () => cluster.core.listPodForAllNamespaces()),
    call('list deployments', () => apps.listDeploymentForAllNamespaces()),
    call('list statefulsets', () => apps.listStatefulSetForAllNamespaces()),
    call('list daemonsets', () => apps.listDaemonSetForAllNamespaces()),
    call('list replicasets', () => apps.listReplicaSetForAllNamespaces()),
    call('list jobs', () => batch.listJobForAllNamespaces()),
    call('list cronjobs', () => batch.listCronJobForAllNamespaces()),
    call('list nodes', () => cluster.core.listNode()),
    call('list namespaces', () => cluster.core.listNamespace()),
    call('list priorityclasses', () => scheduling.listPriorityClass()),
  ]);
  return {
    pods: pods.items.map((p) => ({
      namespace: p.metadata?.namespace ?? '', name: p.metadata?.name ?? '', priorityClassName: p.spec?.priorityClassName ?? null,
      phase: p.status?.phase ?? null, owner: ownerOf(p.metadata),
    })),
    workloads: [
      ...deployments.items.map((w) => workloadOf('Deployment', w, w.spec?.template)),
      ...statefulSets.items.map((w) => workloadOf('StatefulSet', w, w.spec?.template)),
      ...daemonSets.items.map((w) => workloadOf('DaemonSet', w, w.spec?.template)),
      ...replicaSets.items.map((w) => workloadOf('ReplicaSet', w, w.spec?.template)),
      ...jobs.items.map((w) => workloadOf('Job', w, w.spec?.template)),
      ...cronJobs.items.map((w) => workloadOf('CronJob', w, w.spec?.jobTemplate.spec?.template)),
    ],
    nodes: nodes.items.map((n) => ({ name: n.metadata?.name ?? '', values: n.metadata?.annotations ?? {} })),
    namespaces: namespaces.items.map((n) => ({ name: n.metadata?.name ?? '', values: n.metadata?.labels ?? {} })),
    priorityClasses: classes.items.map((c) => {
      const a = c.metadata?.annotations ?? {};
      const release = a['meta.helm.sh/release-name'];
      return { name: c.metadata?.name ?? '', value: c.value, helmRelease: release === undefined ? null : `${a['meta.helm.sh/release-namespace'] ?? ''}/${release}` };
    }),
  };
}

/** Creates one missing thing; an object that appeared meanwhile is left as it is. */
async function create(cluster: Cluster, c: Creation): Promise<string> {
  const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  if (c.kind === 'PriorityClass') {
    const scheduling = cluster.kc.makeApiClient(SchedulingV1Api);
    try {
      await clusterCall(cluster, `create priorityclass ${c.name}`, () => scheduling.createPriorityClass({ body: c.object as never }));
    } catch (err) {
      if (err instanceof Error && /already exists/.test(err.message)) return `priorityclass ${c.name} already exists`;
      throw err;
    }
    return `priorityclass ${c.name} created`;
  }
  if (c.kind === 'NodeAnnotation') {
    await clusterCall(cluster, `annotate node ${c.name}`, () => cluster.core.patchNode({ name: c.name, body: { metadata: { annotations: { [c.key]: c.value } } } }, merge));
    return `node ${c.name} annotated ${c.key}=${c.value}`;
  }
  await clusterCall(cluster, `label namespace ${c.name}`, () => cluster.core.patchNamespace({ name: c.name, body: { metadata: { labels: { [c.key]: c.value } } } }, merge));
  return `namespace ${c.name} labelled ${c.key}=${c.value}`;
}

/** The plan for people: what Temper writes, what still uses former names, the steps. */
export function formatMigration(plan: MigrationPlan): string {
  const lines = [
    `Temper writes the ${plan.names} names (${plan.prefix}/…, ${plan.classes.map((c) => c.name).join(', ')}); migration mode ${plan.migration ? 'on' : 'off'}.`,
    `Former prefixes read as well: ${plan.formerPrefixes.join(', ')}.`,
    '',
    'PriorityClasses:',
    ...plan.classes.map((c) => `  ${c.name.padEnd(24)} ${c.state === 'present' ? `present (${c.value})` : c.state === 'missing' ? `MISSING (want ${c.want})` : `WRONG VALUE ${String(c.value)} (want ${c.want})`}`),
    ...plan.formerClasses.map((c) => `  ${c.name.padEnd(24)} former, ${c.value}${c.value === c.want ? '' : ` (tier ${c.tier} wants ${c.want})`}`),
    '',
    plan.remaining === 0 ? 'Nothing uses the former names.' : `Still using former names: ${plan.remaining}`,
    ...plan.uses.map((u) => `  ${u.kind.toLowerCase()} ${u.namespace}/${u.name}: ${u.priorityClassName} → ${u.useClass}`),
    ...plan.nodes.map((n) => `  node ${n.name}: only ${n.formerOnly.join(', ')}`),
    ...plan.namespaces.map((n) => `  namespace ${n.name}: only ${n.formerOnly.join(', ')}`),
    '',
    'Steps:',
    ...plan.steps.map((s, i) => `  ${i + 1}. ${s}`),
  ];
  if (plan.uses.some((u) => u.kind === 'Pod')) lines.push('', 'A pod cannot change priorityClassName in place: it is replaced by a rollout of its workload (or recreated).');
  return `${lines.join('\n')}\n`;
}

/** Registers `migrate` on the program. */
export function registerMigrateCommand(program: Command, io: CliIo): void {
  clusterOptions(configOption(program.command('migrate'), 'Temper configuration file (TOML); default: the cluster\'s temper-config ConfigMap'))
    .description('the rename migration: what still uses the former names, and the exact steps (read-only unless --apply)')
    .option('--apply', 'create what is missing (PriorityClasses, safe-mode and opt-out keys under the new prefix); never deletes')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json', 'yaml']).default('text'))
    .action(async (opts: MigrateOptions) => {
      const cluster = connect(opts);
      const policy = await clusterPolicy(cluster, opts.config === undefined ? null : readPolicy(opts.config));
      let plan = planMigration(policy, await readCluster(cluster));
      if (opts.apply === true) {
        for (const c of plan.creations) io.stderr(`${await create(cluster, c)}\n`);
        if (plan.creations.length === 0) io.stderr('nothing to create\n');
        plan = planMigration(policy, await readCluster(cluster));
      }
      if (opts.output === 'json') io.stdout(`${JSON.stringify(plan, null, 2)}\n`);
      else if (opts.output === 'yaml') io.stdout(stringify(plan));
      else io.stdout(formatMigration(plan));
    });
}
