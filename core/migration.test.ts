import { describe, expect, it } from 'vitest';
import { parsePolicy } from './config.ts';
import type { Labelled, MigrationClass, MigrationInput, MigrationPod, MigrationWorkload } from './migration.ts';
import { planMigration } from './migration.ts';

const temper = parsePolicy('[naming]\nnames = "temper"\nmigration = true\n', 't');
const temperDone = parsePolicy('[naming]\nnames = "temper"\n', 't');
const TIERS = ['critical', 'high', 'normal', 'low', 'background'] as const;
const VALUES = { critical: 1_000_000, high: 100_000, normal: 0, low: -100, background: -101 };

function classes(set: string, helmRelease: string | null = null): MigrationClass[] {
  return TIERS.map((tier) => ({ name: `${set}-${tier}`, value: VALUES[tier], helmRelease }));
}

function input(over: Partial<MigrationInput> = {}): MigrationInput {
  return { pods: [], workloads: [], nodes: [], namespaces: [], priorityClasses: [...classes('infera'), ...classes('temper')], ...over };
}

const pod = (name: string, cls: string | null, owner: MigrationPod['owner'] = null, phase: string | null = 'Running'): MigrationPod =>
  ({ namespace: 'shop', name, priorityClassName: cls, phase, owner });
const workload = (kind: MigrationWorkload['kind'], name: string, cls: string | null, owner: MigrationWorkload['owner'] = null): MigrationWorkload =>
  ({ kind, namespace: 'shop', name, priorityClassName: cls, owner });

describe('planMigration', () => {
  it('a migrated cluster: nothing remains, the last step turns migration mode off', () => {
    const plan = planMigration(temper, input({
      pods: [pod('api-1', 'temper-high', { kind: 'ReplicaSet', name: 'api-7f' })],
      workloads: [workload('Deployment', 'api', 'temper-high'), workload('ReplicaSet', 'api-7f', 'temper-high', { kind: 'Deployment', name: 'api' }), workload('ReplicaSet', 'api-old', 'infera-high', { kind: 'Deployment', name: 'api' })],
      nodes: [{ name: 'n1', values: { 'temper.codes/agent-status': '{}', 'temper.codes/qos-distribution': '{}', 'infera.io/agent-status': '{}', 'infera.io/qos-distribution': '{}' } }],
    }));
    expect(plan.remaining).toBe(0);
    expect(plan.uses).toEqual([]);
    expect(plan.creations).toEqual([]);
    expect(plan.steps).toHaveLength(1);
    expect(plan.steps[0]).toMatch(/^Nothing uses the former names\. .*--set config\.naming\.migration=false.*infera-background, infera-critical/);
  });

  it.each([
    ['a Deployment\'s pod: the Deployment is patched (a rollout), the pod is replaced by it',
      { pods: [pod('api-1', 'infera-high', { kind: 'ReplicaSet', name: 'api-7f' })], workloads: [workload('Deployment', 'api', 'infera-high'), workload('ReplicaSet', 'api-7f', 'infera-high', { kind: 'Deployment', name: 'api' })] },
      [
        'Deployment shop/api names infera-high: kubectl -n shop patch deployment api --type=json -p \'[{"op":"replace","path":"/spec/template/spec/priorityClassName","value":"temper-high"}]\'   # rolls out new pods',
        'Pod shop/api-1 names infera-high: replaced by the rollout of Deployment api (a pod cannot change priorityClassName in place): kubectl -n shop rollout status deployment/api',
      ]],
    ['a CronJob: its job template path',
      { workloads: [workload('CronJob', 'nightly', 'infera-background'), workload('Job', 'nightly-1', 'infera-background', { kind: 'CronJob', name: 'nightly' })] },
      ['CronJob shop/nightly names infera-background: kubectl -n shop patch cronjob nightly --type=json -p \'[{"op":"replace","path":"/spec/jobTemplate/spec/template/spec/priorityClassName","value":"temper-background"}]\'   # rolls out new pods']],
    ['a Job of its own: recreated (its template is immutable)',
      { workloads: [workload('Job', 'once', 'infera-low')] },
      ['Job shop/once names infera-low: recreate the Job with priorityClassName temper-low (a Job\'s pod template is immutable)']],
    ['a bare pod: deleted and recreated',
      { pods: [pod('debug', 'infera-critical')] },
      ['Pod shop/debug names infera-critical: delete and recreate it with priorityClassName temper-critical (a pod cannot change priorityClassName in place)']],
    ['a pod of an unlisted owner',
      { pods: [pod('x-0', 'infera-normal', { kind: 'Rollout', name: 'x' })] },
      ['Pod shop/x-0 names infera-normal: replaced when its owner Rollout x recreates it with temper-normal (a pod cannot change priorityClassName in place)']],
  ])('%s', (_what, over, steps) => {
    const plan = planMigration(temper, input(over));
    expect(plan.steps).toEqual(steps);
    expect(plan.remaining).toBe(steps.length);
  });

  it.each([
    ['finished pods', [pod('done', 'infera-high', null, 'Succeeded'), pod('failed', 'infera-high', null, 'Failed')]],
    ['pods without a class or with another class', [pod('a', null), pod('b', 'system-node-critical'), pod('c', 'temper-low')]],
  ])('ignores %s', (_what, pods) => {
    expect(planMigration(temper, input({ pods })).remaining).toBe(0);
  });

  it('missing configured classes: --apply creates exactly those, with their tier\'s values', () => {
    const plan = planMigration(temper, input({ priorityClasses: [...classes('infera'), { name: 'temper-critical', value: 1_000_000, helmRelease: null }] }));
    expect(plan.classes.filter((c) => c.state === 'missing').map((c) => c.name)).toEqual(['temper-high', 'temper-normal', 'temper-low', 'temper-background']);
    expect(plan.creations.map((c) => [c.kind, c.name, c.kind === 'PriorityClass' ? (c.object as { value: number }).value : null])).toEqual([
      ['PriorityClass', 'temper-high', 100_000], ['PriorityClass', 'temper-normal', 0], ['PriorityClass', 'temper-low', -100], ['PriorityClass', 'temper-background', -101],
    ]);
    expect(plan.steps).toEqual(['Create the temper-high, temper-normal, temper-low, temper-background PriorityClasses: kubectl temper migrate --apply']);
    expect(plan.remaining).toBe(4);
  });

  it('Helm-managed classes: no creation (Helm would refuse to adopt them), the step is a helm upgrade', () => {
    const plan = planMigration(temper, input({ priorityClasses: classes('infera', 'temper-system/temper') }));
    expect(plan.creations).toEqual([]);
    expect(plan.steps[0]).toBe('Install the temper-critical, temper-high, temper-normal, temper-low, temper-background PriorityClasses with migration mode: helm upgrade temper -n temper-system --reuse-values --set config.naming.names=temper --set config.naming.migration=true (Helm manages Temper\'s classes and would refuse ones created beside it)');
  });

  it('a configured class with another value is reported (values are immutable), never replaced', () => {
    const plan = planMigration(temper, input({ priorityClasses: [...classes('infera'), ...classes('temper').map((c) => (c.name === 'temper-low' ? { ...c, value: -50 } : c))] }));
    expect(plan.classes.find((c) => c.name === 'temper-low')).toMatchObject({ state: 'wrong-value', value: -50, want: -100 });
    expect(plan.creations).toEqual([]);
    expect(plan.remaining).toBe(1);
  });

  it.each([
    ['only the former agent keys: the agent there has not migrated',
      { 'infera.io/agent-status': '{}', 'infera.io/qos-distribution': '{}' }, ['infera.io/qos-distribution', 'infera.io/agent-status'], []],
    ['a safe-mode request only under the former key: --apply copies it',
      { 'temper.codes/agent-status': '{}', 'temper.codes/qos-distribution': '{}', 'infera.io/safe-mode-requested': 'true' }, ['infera.io/safe-mode-requested'],
      [{ kind: 'NodeAnnotation', name: 'n1', key: 'temper.codes/safe-mode-requested', value: 'true' }]],
  ])('nodes: %s', (_what, values, formerOnly, creations) => {
    const plan = planMigration(temper, input({ nodes: [{ name: 'n1', values }] }));
    expect(plan.nodes.map((n) => n.formerOnly)).toEqual([formerOnly]);
    expect(plan.creations).toEqual(creations);
    expect(plan.remaining).toBe(1);
  });

  it('a node with both keys, or only the new ones, is done', () => {
    const nodes: Labelled[] = [
      { name: 'both', values: { 'temper.codes/safe-mode-requested': 'true', 'infera.io/safe-mode-requested': 'true', 'temper.codes/agent-status': '{}' } },
      { name: 'new', values: { 'temper.codes/agent-status': '{}' } },
      { name: 'none', values: {} },
    ];
    expect(planMigration(temper, input({ nodes })).nodes).toEqual([]);
  });

  it('a namespace opted out only under the former prefix: --apply adds the new label', () => {
    const plan = planMigration(temper, input({ namespaces: [{ name: 'legacy', values: { 'infera.io/qos-defaulting': 'disabled' } }, { name: 'both', values: { 'infera.io/qos-defaulting': 'disabled', 'temper.codes/qos-defaulting': 'disabled' } }] }));
    expect(plan.creations).toEqual([{ kind: 'NamespaceLabel', name: 'legacy', key: 'temper.codes/qos-defaulting', value: 'disabled' }]);
    expect(plan.steps).toEqual(['Namespace legacy opts out of defaulting only with infera.io/qos-defaulting: kubectl label namespace legacy temper.codes/qos-defaulting=disabled   # or --apply']);
  });

  it('a former class whose value differs from its tier\'s is flagged (its pods would tier differently)', () => {
    const plan = planMigration(temper, input({ priorityClasses: [...classes('temper'), ...classes('infera').map((c) => (c.name === 'infera-high' ? { ...c, value: 200_000 } : c))] }));
    expect(plan.steps).toContain('Former PriorityClass infera-high has value 200000, not high\'s 100000: its pods tier differently from temper-high\'s');
  });

  it('after migration mode is off: the former classes are reported as unused, deletion left to the operator', () => {
    const plan = planMigration(temperDone, input());
    expect(plan.remaining).toBe(0);
    expect(plan.steps[0]).toMatch(/former PriorityClasses .* are unused: delete them when you no longer need a rollback \(migrate never deletes\)$/);
  });

  it('the rollback direction is the same plan with the sets swapped', () => {
    const infera = parsePolicy('[naming]\nmigration = true\n', 't');
    const plan = planMigration(infera, input({ pods: [pod('p', 'temper-high')] }));
    expect(plan.formerPrefixes).toEqual(['temper.codes']);
    expect(plan.uses.map((u) => [u.priorityClassName, u.useClass])).toEqual([['temper-high', 'infera-high']]);
  });

  it('output is independent of input order', () => {
    const pods = [pod('b', 'infera-high'), pod('a', 'infera-low')];
    expect(planMigration(temper, input({ pods }))).toEqual(planMigration(temper, input({ pods: [...pods].reverse() })));
  });
});
