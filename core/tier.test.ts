import { describe, expect, it } from 'vitest';
import { pod } from '../test/builders.ts';
import { defaultPolicy, parsePolicy } from './config.ts';
import type { Policy } from './config.ts';
import { UnresolvedPriorityError } from './errors.ts';
import { exclusionOf, knownClasses, tierOf } from './tier.ts';

const policy = defaultPolicy();
const cgroupPlacement = parsePolicy('[node]\nplacement = "cgroup"\n', 't.toml');
const known = knownClasses(policy, []);
const classify = (p: Parameters<typeof pod>[0], pol: Policy = policy) => tierOf(pol, pod(p), knownClasses(pol, []));

describe('tier by priority: every threshold boundary (spec table 1)', () => {
  it.each([
    [2_000_000_000 - 1, 'critical'],
    [1_000_000_000, 'critical'],
    [1_000_000, 'critical'],
    [999_999, 'high'],
    [100_000, 'high'],
    [99_999, 'normal'],
    [1, 'normal'],
    [0, 'normal'],
    [-1, 'low'],
    [-100, 'low'],
    [-101, 'background'],
    [-2_147_483_648, 'background'],
  ] as const)('priority %i with an explicit class → %s', (priority, tier) => {
    const a = classify({ priority, className: 'some-class', cpu: '100m' });
    expect(a.tier).toBe(tier);
    expect(a.layer).toBe(tier);
    expect(a.rule).toBe('priority-threshold');
    expect(a.priority).toBe(priority);
    expect(a.reason).toContain(`priority ${priority}`);
  });

  it('a non-zero priority without a class is tiered by the thresholds', () => {
    expect(classify({ priority: 150_000 }).tier).toBe('high');
    expect(classify({ priority: -5 }).tier).toBe('low');
  });

  it('the reason names the rule, the threshold and the value', () => {
    expect(classify({ priority: 100_000, className: 'infera-high' }).reason)
      .toBe('priority 100000 (class infera-high, from spec.priority) ≥ high threshold 100000 and < critical threshold 1000000');
  });
});

describe('QoS defaults for pods without a class (spec table 2)', () => {
  it.each([
    ['Guaranteed', { cpu: '1', cpuLimit: '1', memory: '1Gi', memoryLimit: '1Gi' }, 'normal'],
    ['Burstable', { cpu: '100m' }, 'normal'],
    ['BestEffort', {}, 'background'],
  ] as const)('%s → %s', (qos, res, tier) => {
    for (const priority of [0, undefined]) {
      const a = classify({ ...res, ...(priority === undefined ? {} : { priority }) });
      expect(a.qosClass).toBe(qos);
      expect(a.tier).toBe(tier);
      expect(a.rule).toBe('qos-default');
      expect(a.reason).toContain(`QoS class ${qos}`);
    }
  });

  it('uses status.qosClass when present', () => {
    const a = classify({ qos: 'BestEffort', cpu: '1' });
    expect(a.tier).toBe('background');
    expect(a.reason).toContain('status.qosClass');
  });

  it('an explicit class always wins over the QoS default, even at priority 0', () => {
    const a = classify({ priority: 0, className: 'infera-normal' });
    expect(a.qosClass).toBe('BestEffort');
    expect(a.tier).toBe('normal');
    expect(a.rule).toBe('priority-threshold');
  });
});

describe('system and Temper pods', () => {
  it('priority at or above the system threshold is tier system, in the node-critical layer (the catch-all with placement = "cgroup")', () => {
    for (const [priority, className] of [[2_000_001_000, 'system-node-critical'], [2_000_000_000, 'system-cluster-critical']] as const) {
      const a = classify({ priority, className });
      expect([a.tier, a.layer, a.rule]).toEqual(['system', 'nodecritical', 'system-priority']);
      expect(classify({ priority, className }, cgroupPlacement).layer).toBe('catchall');
    }
    expect(classify({ priority: 1_999_999_999, className: 'x' }).tier).toBe('critical');
  });

  it('can be switched off: system-critical pods are then Critical', () => {
    const off = parsePolicy('[priority_mapping]\nsystem_to_catchall = false\n', 't.toml');
    expect(classify({ priority: 2_000_001_000, className: 'system-node-critical' }, off).tier).toBe('critical');
  });

  it('pods in Temper\'s namespace are in the system layer, whatever their priority', () => {
    const a = classify({ namespace: 'temper-system', priority: 2_000_001_000, className: 'system-node-critical' });
    expect([a.tier, a.layer, a.rule]).toEqual(['system', 'system', 'temper-pod']);
  });
});

describe('priority resolution for pods not yet admitted', () => {
  it('resolves Temper\'s own classes from the configured thresholds', () => {
    expect(classify({ className: 'infera-critical' })).toMatchObject({ tier: 'critical', priority: 1_000_000 });
    expect(classify({ className: 'infera-background' })).toMatchObject({ tier: 'background', priority: -101 });
    expect(classify({ className: 'system-node-critical' })).toMatchObject({ tier: 'system', priority: 2_000_001_000 });
  });

  it('follows renamed classes and moved thresholds', () => {
    const renamed = parsePolicy('[priority_mapping]\ncritical = 500000\n[naming.priority_classes]\ncritical = "temper-critical"\n', 't.toml');
    expect(classify({ className: 'temper-critical' }, renamed)).toMatchObject({ tier: 'critical', priority: 500_000 });
  });

  it('uses PriorityClasses given with the input, before Temper\'s defaults', () => {
    const a = tierOf(policy, pod({ className: 'batch' }), knownClasses(policy, [{ name: 'batch', value: -500, preemptionPolicy: 'Never', globalDefault: false }]));
    expect(a).toMatchObject({ tier: 'background', priority: -500 });
  });

  it('refuses an unknown class without a priority, naming pod and class', () => {
    expect(() => tierOf(policy, pod({ name: 'web', className: 'gold' }), known)).toThrow(UnresolvedPriorityError);
    expect(() => tierOf(policy, pod({ name: 'web', className: 'gold' }), known)).toThrow(/default\/web: priorityClassName "gold"/);
  });
});

describe('exclusionOf', () => {
  it.each([['Succeeded', true], ['Failed', true], ['Running', false], ['Pending', false], [undefined, false]] as const)('phase %s excluded: %s', (phase, excluded) => {
    expect(exclusionOf(pod(phase === undefined ? {} : { phase })) !== null).toBe(excluded);
  });
});

describe('placement = "hints": the task hint of each pod (core/hints.ts)', () => {
  const hints = parsePolicy('[node]\nplacement = "hints"\n', 't.toml');
  const qosOf = { Guaranteed: { cpu: '1', cpuLimit: '1', memory: '1Gi', memoryLimit: '1Gi' }, Burstable: { cpu: '100m' }, BestEffort: {} } as const;
  // [pod, qos, tier, layer, hint]: null exactly when the tier is the QoS class's default
  it.each([
    ['priority 0', 'Guaranteed', {}, 'normal', 'normal', null],
    ['priority 0', 'Burstable', {}, 'normal', 'normal', null],
    ['priority 0', 'BestEffort', {}, 'background', 'background', null],
    ['class infera-normal', 'BestEffort', { className: 'infera-normal', priority: 0 }, 'normal', 'normal', 4],
    ['class infera-normal', 'Burstable', { className: 'infera-normal', priority: 0 }, 'normal', 'normal', null],
    ['class infera-critical', 'Guaranteed', { className: 'infera-critical', priority: 1_000_000 }, 'critical', 'critical', 2],
    ['class infera-high', 'BestEffort', { className: 'infera-high', priority: 100_000 }, 'high', 'high', 3],
    ['class infera-low', 'Burstable', { className: 'infera-low', priority: -100 }, 'low', 'low', 5],
    ['class infera-background', 'Guaranteed', { className: 'infera-background', priority: -101 }, 'background', 'background', 6],
    ['class infera-background', 'BestEffort', { className: 'infera-background', priority: -101 }, 'background', 'background', null],
    ['system-node-critical', 'Burstable', { className: 'system-node-critical', priority: 2_000_001_000 }, 'system', 'nodecritical', 7],
    ['Temper\'s namespace', 'BestEffort', { namespace: 'temper-system' }, 'system', 'system', 1],
  ] as const)('%s, %s → tier %s, layer %s, hint %s', (_what, qos, extra, tier, layer, hint) => {
    const a = classify({ ...qosOf[qos], ...extra }, hints);
    expect(a).toMatchObject({ qosClass: qos, tier, layer, hint, placedBy: hint === null ? 'qos-fallback' : 'task-hint' });
  });

  it('hints is the default; cgroup placement never hints and keeps node-critical pods in the catch-all', () => {
    expect(classify({ className: 'infera-critical', priority: 1_000_000 })).toMatchObject({ hint: 2, placedBy: 'task-hint' });
    expect(classify({ className: 'infera-critical', priority: 1_000_000 }, cgroupPlacement)).toMatchObject({ hint: null, placedBy: 'pod-cgroup' });
    expect(classify({ className: 'system-node-critical', priority: 2_000_001_000 }, cgroupPlacement)).toMatchObject({ layer: 'catchall', hint: null, placedBy: 'catch-all' });
  });

  it('with system_to_catchall = false node-critical pods are Critical and hinted as such', () => {
    const off = parsePolicy('[node]\nplacement = "hints"\n[priority_mapping]\nsystem_to_catchall = false\n', 't.toml');
    expect(classify({ className: 'system-node-critical', priority: 2_000_001_000, cpu: '100m' }, off)).toMatchObject({ tier: 'critical', layer: 'critical', hint: 2 });
  });
});
