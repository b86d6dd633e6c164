import { describe, expect, it } from 'vitest';
import { pod } from '../test/builders.ts';
import type { ClassCatalog } from './admission.ts';
import { decideDefault, schedulerNameFor } from './admission.ts';
import { defaultPolicy } from './config.ts';
import type { PriorityClassInfo } from './types.ts';

const policy = defaultPolicy();
const cls = (name: string, value: number, preemptionPolicy = 'PreemptLowerPriority', globalDefault = false): PriorityClassInfo => ({ name, value, preemptionPolicy, globalDefault });
const catalog = (...classes: PriorityClassInfo[]): ClassCatalog => ({
  get: (n) => classes.find((c) => c.name === n),
  globalDefault: () => classes.filter((c) => c.globalDefault).sort((a, b) => a.value - b.value)[0],
});
const temper = catalog(cls('infera-normal', 0), cls('infera-background', -101, 'Never'));
const off = { replaceGlobalDefault: false };

describe('decideDefault', () => {
  it.each([
    ['Guaranteed', { cpu: '1', cpuLimit: '1', memory: '1Gi', memoryLimit: '1Gi' }, 'infera-normal', 0, 'PreemptLowerPriority'],
    ['Burstable', { cpu: '100m' }, 'infera-normal', 0, 'PreemptLowerPriority'],
    ['BestEffort', {}, 'infera-background', -101, 'Never'],
  ] as const)('%s pod without a class gets %s with the class\'s priority and preemptionPolicy', (qos, res, name, priority, preemptionPolicy) => {
    const d = decideDefault(policy, pod(res), temper, off);
    expect(d).toMatchObject({ action: 'set', qosClass: qos, fields: { priorityClassName: name, priority, preemptionPolicy } });
  });

  it('computes the QoS class from the spec, ignoring any client-sent status', () => {
    expect(decideDefault(policy, pod({ qos: 'Guaranteed' }), temper, off)).toMatchObject({ action: 'set', qosClass: 'BestEffort' });
  });

  it('leaves pods that name a class alone', () => {
    expect(decideDefault(policy, pod({ className: 'infera-high' }), temper, off).action).toBe('skip');
  });

  it('skips Temper\'s own namespace', () => {
    expect(decideDefault(policy, pod({ namespace: 'temper-system' }), temper, off)).toMatchObject({ action: 'skip', reason: "namespace temper-system is Temper's own" });
  });

  it('warns and leaves the pod alone when the class does not exist', () => {
    const d = decideDefault(policy, pod({}), catalog(cls('infera-normal', 0)), off);
    expect(d).toMatchObject({ action: 'warn', warning: 'temper: PriorityClass infera-background not found; pod admitted without a tier class (QoS BestEffort would default to background)' });
  });

  it('a globalDefault class is kept unless replace_global_default is on', () => {
    const withDefault = catalog(cls('infera-normal', 0), cls('infera-background', -101), cls('cluster-default', 1000, 'PreemptLowerPriority', true));
    const p = pod({ className: 'cluster-default', priority: 1000 });
    expect(decideDefault(policy, p, withDefault, off)).toMatchObject({ action: 'skip', reason: expect.stringContaining("the cluster's globalDefault") });
    expect(decideDefault(policy, p, withDefault, { replaceGlobalDefault: true })).toMatchObject({ action: 'set', fields: { priorityClassName: 'infera-background', priority: -101 } });
    // a class that merely is not the global default stays, even with the option on
    expect(decideDefault(policy, pod({ className: 'other' }), withDefault, { replaceGlobalDefault: true }).action).toBe('skip');
  });
});

describe('schedulerNameFor', () => {
  const crit = { className: 'infera-critical', priority: 1_000_000 };
  it.each([
    ['a Critical pod for the default scheduler', crit, null, 'temper-scheduler', 'temper-scheduler'],
    ['one naming default-scheduler', crit, 'default-scheduler', 'temper-scheduler', 'temper-scheduler'],
    ['a Critical pod naming its own scheduler', crit, 'gang', 'temper-scheduler', null],
    ['any pod when the option is off', crit, null, null, null],
    ['a High pod', { className: 'infera-high', priority: 100_000 }, null, 'temper-scheduler', null],
    ['a node-critical pod (system tier)', { className: 'system-node-critical', priority: 2_000_001_000 }, null, 'temper-scheduler', null],
    ['a Critical pod in Temper\'s namespace', { ...crit, namespace: 'temper-system' }, null, 'temper-scheduler', null],
  ] as const)('%s → %s', (_what, p, current, target, want) => {
    expect(schedulerNameFor(policy, pod(p), current, target)).toBe(want);
  });
});
