import { describe, expect, it } from 'vitest';
import { node, pod, uidOf } from '../test/builders.ts';
import { parsePolicy } from './config.ts';
import type { Policy } from './config.ts';
import { LAYER_DEFAULTS, podCgroupPath, podsCgroupRegex } from './layers.ts';
import type { LayerPlan } from './layers.ts';
import { plan } from './plan.ts';
import type { PodInfo } from './types.ts';

// This file covers the per-pod clauses of `placement = "cgroup"`; core/layers-hints.test.ts covers the default, hints.
const cgroupPolicy = (toml = ''): Policy => parsePolicy(toml.startsWith('[node]\n') ? toml.replace('[node]\n', '[node]\nplacement = "cgroup"\n') : `[node]\nplacement = "cgroup"\n${toml}`, 't');
const policy = cgroupPolicy();
const layer = (layers: readonly LayerPlan[], name: string): LayerPlan => {
  const l = layers.find((x) => x.name === name);
  if (l === undefined) throw new Error(`no layer ${name}`);
  return l;
};
const critical = (cpu: string, extra: Parameters<typeof pod>[0] = {}) => pod({ className: 'infera-critical', priority: 1_000_000, cpu, cpuLimit: cpu, memory: '1Gi', memoryLimit: '1Gi', ...extra });

describe('podCgroupPath (k8s.md §1.2)', () => {
  const uid = '1234abcd-5678-4ef0-9abc-def012345678';
  it.each([
    ['systemd', 'Guaranteed', 'kubepods.slice/kubepods-pod1234abcd_5678_4ef0_9abc_def012345678.slice/'],
    ['systemd', 'Burstable', 'kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234abcd_5678_4ef0_9abc_def012345678.slice/'],
    ['systemd', 'BestEffort', 'kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1234abcd_5678_4ef0_9abc_def012345678.slice/'],
    ['cgroupfs', 'Guaranteed', 'kubepods/pod1234abcd-5678-4ef0-9abc-def012345678/'],
    ['cgroupfs', 'Burstable', 'kubepods/burstable/pod1234abcd-5678-4ef0-9abc-def012345678/'],
    ['cgroupfs', 'BestEffort', 'kubepods/besteffort/pod1234abcd-5678-4ef0-9abc-def012345678/'],
  ] as const)('%s %s', (driver, qos, want) => {
    expect(podCgroupPath(driver, qos, uid)).toBe(want);
  });
});

describe('podsCgroupRegex', () => {
  const members = [
    { namespace: 'a', name: 'g', uid: uidOf(1), qosClass: 'Guaranteed' as const, requestMillis: 0, limitMillis: null },
    { namespace: 'a', name: 'b', uid: uidOf(2), qosClass: 'Burstable' as const, requestMillis: 0, limitMillis: null },
  ];
  it.each(['systemd', 'cgroupfs'] as const)('%s: matches the members\' pod cgroups and everything below, nothing else', (driver) => {
    const re = new RegExp(podsCgroupRegex(driver, members), 'u');
    const abs = (rel: string) => `/sys/fs/cgroup/${rel.replace(/\/$/, '')}`;
    const g = abs(podCgroupPath(driver, 'Guaranteed', uidOf(1)));
    const b = abs(podCgroupPath(driver, 'Burstable', uidOf(2)));
    expect(re.test(g)).toBe(true);
    expect(re.test(`${b}/cri-containerd-abc.scope`)).toBe(true);
    expect(re.test(abs(podCgroupPath(driver, 'Burstable', uidOf(1))))).toBe(false); // wrong QoS level
    expect(re.test(abs(podCgroupPath(driver, 'Guaranteed', uidOf(3))))).toBe(false); // another pod
    expect(re.test(`${g}x`)).toBe(false); // a sibling whose name merely starts the same
    expect(re.test(`/x${g}`)).toBe(false);
  });
});

describe('renderLayers: order and presence', () => {
  it('an empty node has exactly the two system layers', () => {
    const p = plan(policy, node(), []);
    expect(p.layers.map((l) => l.name)).toEqual(['system', 'catchall']);
    expect(p.config.at(-1)?.matches).toEqual([[]]);
  });
  it('layers come in the fixed order, empty tiers omitted', () => {
    const pods = [pod({ priority: -500, className: 'x' }), critical('1'), pod({ cpu: '100m' })];
    expect(plan(policy, node(), pods).layers.map((l) => l.name)).toEqual(['system', 'critical', 'normal', 'background', 'catchall']);
  });
  it('the spec\'s fixed per-tier properties', () => {
    const pods = [critical('1'), pod({ className: 'h', priority: 100_000, cpu: '1' }), pod({ cpu: '1' }), pod({ className: 'l', priority: -1 }), pod({})];
    const layers = plan(policy, node(), pods).layers;
    const props = (n: string) => { const l = layer(layers, n); return [l.kind, l.protected, l.preempt, l.exclusive, l.sliceUs]; };
    expect(props('critical')).toEqual(['Confined', true, true, true, 5000]);
    expect(props('high')).toEqual(['Grouped', true, true, false, 10000]);
    expect(props('normal')).toEqual(['Grouped', false, false, false, 20000]);
    expect(props('low')).toEqual(['Open', false, false, false, 30000]);
    expect(props('background')).toEqual(['Open', false, false, false, 5000]);
  });
  it('per-layer overrides from the config', () => {
    const custom = cgroupPolicy('[layers.normal]\nslice_us = 15000\nutil_range = [0.5, 0.7]\npreempt = true\n[layers.background]\nslice_us = 2000\n');
    const layers = plan(custom, node(), [pod({ cpu: '1' }), pod({})]).layers;
    expect(layer(layers, 'normal')).toMatchObject({ sliceUs: 15000, utilRange: [0.5, 0.7], preempt: true });
    expect(layer(layers, 'background').sliceUs).toBe(2000);
  });
});

describe('renderLayers: sizing', () => {
  it('Critical: exclusive whole cores, min covers requests, max from limits', () => {
    const l = layer(plan(policy, node('node-1', '8'), [critical('1500m'), critical('1')]).layers, 'critical');
    expect(l).toMatchObject({ kind: 'Confined', cpusRange: [3, 3], demoted: false, requestMillis: 2500, limitMillis: 2500 });
  });
  it('Critical with limits above its requests may grow to them', () => {
    const l = layer(plan(policy, node('node-1', '8'), [critical('1', { cpuLimit: '3' })]).layers, 'critical');
    expect(l.cpusRange).toEqual([1, 3]);
  });
  it('Critical with an unlimited pod is fenced at its requests, and says why', () => {
    const l = layer(plan(policy, node('node-1', '8'), [critical('1', { cpuLimit: undefined, memoryLimit: undefined })]).layers, 'critical');
    expect(l.cpusRange).toEqual([1, 1]);
    expect(l.notes[0]).toMatch(/^fenced at its requests \(1 CPU\): a pod without a CPU limit/);
  });
  it('Critical whole cores follow threads_per_core', () => {
    const smt = cgroupPolicy('[node]\nthreads_per_core = 2\n');
    const l = layer(plan(smt, node('node-1', '16'), [critical('3')]).layers, 'critical');
    expect(l.cpusRange).toEqual([4, 4]); // 3 CPUs → 2 cores → 4 hardware threads
  });
  it('demotes Critical to Grouped when it needs more cores than can be fenced, and says so', () => {
    const p = plan(policy, node('node-1', '8'), [critical('7'), critical('500m')]);
    const l = layer(p.layers, 'critical');
    expect(l).toMatchObject({ kind: 'Grouped', demoted: true, exclusive: false, protected: true, preempt: true, cpusRange: [7, 7] });
    expect(l.notes[0]).toBe('demoted to Grouped: requests 7500m need 8 whole cores but only 7 can be fenced (node-1: 8 CPUs, 7 cores may be owned, 1 core always unowned (node.reserved_cpus = 1))');
    expect(p.criticalDemoted).toBe(true);
    expect(p.distribution.critical).toEqual({ pods: 2, cpuMillis: 7500, demoted: true });
    expect(p.config[1]?.kind).toHaveProperty('Grouped');
    expect(p.warnings.map((w) => [w.code, w.tier])).toEqual([['critical-demoted', 'critical']]);
  });
  it('fits exactly: 7 whole cores on 8 CPUs stay Confined, one stays unowned', () => {
    expect(layer(plan(policy, node('node-1', '8'), [critical('7')]).layers, 'critical')).toMatchObject({ kind: 'Confined', cpusRange: [7, 7] });
  });

  describe('small nodes (decisions §12–§16)', () => {
    const normalPod = () => pod({ cpu: '1' });
    const bg = () => pod({ className: 'b', priority: -1000, cpu: '1' });
    it('2 CPUs: Critical is fenced on one, the other stays unowned; Normal shares one Open layer with Background and is warned about', () => {
      const p = plan(policy, node('node-1', '2'), [critical('1'), normalPod(), bg()]);
      expect(layer(p.layers, 'critical')).toMatchObject({ kind: 'Confined', cpusRange: [1, 1], exclusive: true, protected: true, demoted: false });
      expect(p.layers.map((l) => l.name)).toEqual(['system', 'critical', 'shared', 'catchall']);
      expect(layer(p.layers, 'shared')).toMatchObject({ kind: 'Open', cpusRange: null, preempt: false, protected: false, pods: 2, requestMillis: 2000 });
      expect(layer(p.layers, 'shared').spec.kind).toHaveProperty('Open');
      expect(layer(p.layers, 'shared').spec.matches).toHaveLength(2); // one prefix per pod of both tiers
      expect(layer(p.layers, 'shared').notes[0]).toMatch(/^Normal, Background share one Open layer without preempt: /);
      expect(p.pods.map((x) => [x.assignment.tier, x.assignment.layer]).sort()).toEqual([['background', 'shared'], ['critical', 'critical'], ['normal', 'shared']]);
      expect(p.criticalDemoted).toBe(false);
      expect(p.warnings).toEqual([{ code: 'tier-unowned', tier: 'normal', message: 'Normal owns no CPU and runs in the shared layer with the other tiers that own none and with Low and Background, on the unowned CPUs: no core is left for it to own (node-1: 2 CPUs, 1 core may be owned, 1 core always unowned (node.reserved_cpus = 1), all held by higher tiers)' }]);
    });
    it('a node where every tier above Low owns a core keeps Low and Background as layers of their own', () => {
      const low = () => pod({ className: 'l', priority: -100, cpu: '100m' });
      const p = plan(policy, node('node-1', '3'), [critical('1'), normalPod(), low(), bg()]);
      expect(p.layers.map((l) => l.name)).toEqual(['system', 'critical', 'normal', 'low', 'background', 'catchall']);
      expect(p.pods.every((x) => x.assignment.layer === x.assignment.tier)).toBe(true);
    });
    it('2 CPUs: a Critical request of 2 cannot be fenced; it is Grouped on the one ownable CPU', () => {
      const p = plan(policy, node('node-1', '2'), [critical('2')]);
      expect(layer(p.layers, 'critical')).toMatchObject({ kind: 'Grouped', cpusRange: [1, 1], demoted: true, exclusive: false });
      expect(p.warnings.map((w) => w.code)).toEqual(['critical-demoted']);
    });
    it('3 CPUs: Critical and Normal each own one CPU, one is owned by nobody', () => {
      const p = plan(policy, node('node-1', '3'), [critical('1'), normalPod(), bg()]);
      expect(layer(p.layers, 'critical').cpusRange).toEqual([1, 1]);
      expect(layer(p.layers, 'normal')).toMatchObject({ kind: 'Grouped', cpusRange: [1, 1] });
      expect(layer(p.layers, 'normal').notes).toEqual(['grows to at most 1 CPU instead of every CPU (a pod has no CPU limit), so that 1 CPU stays unowned']);
      expect(p.warnings).toEqual([]); // an unlimited tier being bounded is no surprise; it still spills onto idle CPUs
    });
    it('4 CPUs: Critical, High and Normal own one each; High\'s limits are capped and warned about', () => {
      const p = plan(policy, node('node-1', '4'), [critical('1'), pod({ className: 'h', priority: 100_000, cpu: '1', cpuLimit: '2' }), normalPod()]);
      expect(p.layers.map((l) => [l.name, l.kind, l.cpusRange])).toEqual([
        ['system', 'Open', null], ['critical', 'Confined', [1, 1]], ['high', 'Grouped', [1, 1]], ['normal', 'Grouped', [1, 1]], ['catchall', 'Open', null],
      ]);
      expect(p.warnings).toEqual([{ code: 'maximum-capped', tier: 'high', message: 'High grows to at most 1 CPU instead of its limits (2 CPUs), so that 1 CPU stays unowned (node-1: 4 CPUs, 3 cores may be owned, 1 core always unowned (node.reserved_cpus = 1))' }]);
    });
    it('1 CPU: nothing can be owned; the node is reported too small', () => {
      const p = plan(policy, node('node-1', '1'), [critical('1'), normalPod()]);
      expect(p.layers.map((l) => [l.name, l.kind])).toEqual([['system', 'Open'], ['shared', 'Open'], ['catchall', 'Open']]);
      expect(layer(p.layers, 'shared')).toMatchObject({ preempt: false, exclusive: false, protected: false, pods: 2 });
      expect(layer(p.layers, 'shared').notes).toContain('critical: demoted to Open: requests 1 need 1 whole core but only 0 can be fenced (node-1: 1 CPU, 0 cores may be owned, 1 core always unowned (node.reserved_cpus = 1))');
      expect(p.criticalDemoted).toBe(true);
      expect(p.distribution.critical).toMatchObject({ demoted: true });
      expect(p.warnings.map((w) => [w.code, w.tier])).toEqual([['node-too-small', null], ['critical-demoted', 'critical'], ['tier-unowned', 'normal']]);
    });
    it('SMT: one whole core (both threads) stays unowned; Grouped tiers are counted in whole cores', () => {
      const smt = cgroupPolicy('[node]\nthreads_per_core = 2\n');
      const p = plan(smt, node('node-1', '8'), [critical('1'), pod({ className: 'h', priority: 100_000, cpu: '1' }), pod({ cpu: '3' })]);
      // 4 cores: Critical 1 core (2 CPUs), High 1 CPU = 1 core, Normal would need 2 cores but 1 is left
      expect(layer(p.layers, 'critical').cpusRange).toEqual([2, 2]);
      expect(layer(p.layers, 'high').cpusRange).toEqual([1, 2]); // its one core has two threads
      expect(layer(p.layers, 'normal').cpusRange).toEqual([2, 2]);
      expect(p.warnings.map((w) => [w.code, w.tier])).toEqual([['minimum-clamped', 'normal']]);
    });
    it('SMT, 2 cores: Critical is fenced on one core, the other core stays unowned', () => {
      const smt = cgroupPolicy('[node]\nthreads_per_core = 2\n');
      const p = plan(smt, node('node-1', '4'), [critical('2')]);
      expect(layer(p.layers, 'critical')).toMatchObject({ kind: 'Confined', cpusRange: [2, 2] });
      expect(plan(smt, node('node-1', '2'), [critical('1')]).warnings.map((w) => w.code)).toEqual(['node-too-small', 'critical-demoted']);
    });
    it('reserved_cpus keeps more CPUs unowned, in whole cores', () => {
      const two = cgroupPolicy('[node]\nreserved_cpus = 2\n');
      const p = plan(two, node('node-1', '3'), [critical('1'), normalPod()]);
      expect(layer(p.layers, 'critical').cpusRange).toEqual([1, 1]);
      expect(layer(p.layers, 'shared').kind).toBe('Open');
      const zero = cgroupPolicy('[node]\nreserved_cpus = 0\n');
      const one = critical('1');
      expect(plan(zero, node('node-1', '2'), [one]).configJson).toBe(plan(policy, node('node-1', '2'), [one]).configJson); // one core stays unowned whatever the value
    });
  });

  it('Grouped tiers: min = whole CPUs of requests, max = limits when all pods have one, else what the fence leaves', () => {
    const layers = plan(policy, node('node-1', '8'), [
      pod({ className: 'h', priority: 100_000, cpu: '1200m', cpuLimit: '2' }),
      pod({ className: 'h', priority: 100_000, cpu: '300m', cpuLimit: '500m' }),
      pod({ cpu: '2500m' }),
    ]).layers;
    expect(layer(layers, 'high').cpusRange).toEqual([2, 3]);
    expect(layer(layers, 'normal').cpusRange).toEqual([3, 4]); // 8 − 1 unowned − 3 for High
  });
  it('a Grouped tier of zero-request pods still owns one CPU (an owned layer with none would use the low fallback queue)', () => {
    expect(layer(plan(policy, node('node-1', '8'), [pod({ qos: 'Burstable' })]).layers, 'normal').cpusRange?.[0]).toBe(1);
  });
  it('minima never add up to more than the fence allows; higher tiers are served first', () => {
    const p = plan(policy, node('node-1', '8'), [critical('4'), pod({ className: 'h', priority: 100_000, cpu: '2' }), pod({ cpu: '5' })]);
    const mins = p.layers.map((l) => l.cpusRange?.[0] ?? 0);
    expect(mins.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(7);
    expect(layer(p.layers, 'critical').cpusRange?.[0]).toBe(4);
    expect(layer(p.layers, 'high').cpusRange).toEqual([2, 2]);
    const normal = layer(p.layers, 'normal');
    expect(normal.cpusRange).toEqual([1, 1]);
    expect(normal.notes[0]).toBe('minimum clamped from 5 to 1 CPUs: owned layers may not cover the node (node-1: 8 CPUs, 7 cores may be owned, 1 core always unowned (node.reserved_cpus = 1), 6 cores held by higher tiers)');
    expect(p.warnings.map((w) => [w.code, w.tier])).toEqual([['minimum-clamped', 'normal']]);
  });
  it('Open tiers get no allocation; their limits are reported as not enforceable', () => {
    const l = layer(plan(policy, node(), [pod({ className: 'b', priority: -1000, cpu: '1', cpuLimit: '2' })]).layers, 'background');
    expect(l.cpusRange).toBeNull();
    expect(l.spec.kind).toHaveProperty('Open');
    expect(l.notes[0]).toContain('not a ceiling');
  });
  it('the system layer and the catch-all are Open with preempt and own nothing', () => {
    const temper = pod({ namespace: 'temper-system', qos: 'Burstable' });
    const p = plan(policy, node(), [temper]);
    const sys = layer(p.layers, 'system');
    expect(sys).toMatchObject({ kind: 'Open', cpusRange: null, preempt: true, protected: false });
    expect(sys.spec.kind).toEqual({ Open: { slice_us: 5000, preempt: true, exclusive: false, weight: 10000 } });
    expect(layer(p.layers, 'catchall').spec.kind).toEqual({ Open: { slice_us: 20000, preempt: true, exclusive: false, weight: 100 } });
    expect(sys.spec.matches).toEqual([
      [{ PcommPrefix: 'scx_layered' }], [{ PcommPrefix: 'temper-agent' }],
      [{ CgroupPrefix: podCgroupPath('systemd', 'Burstable', temper.uid) }],
    ]);
  });
  it('node-critical pods are not matched by any layer, so they land in the catch-all', () => {
    const kubeProxy = pod({ className: 'system-node-critical', priority: 2_000_001_000, cpu: '100m' });
    const p = plan(policy, node(), [kubeProxy]);
    expect(JSON.stringify(p.config)).not.toContain(kubeProxy.uid.replaceAll('-', '_'));
    expect(p.pods[0]?.assignment.layer).toBe('catchall');
  });
});

describe('renderLayers: weights', () => {
  it('grow with requested CPU inside each tier\'s band, never inverting tier order', () => {
    const heavyLow = plan(policy, node(), [pod({ className: 'l', priority: -1, cpu: '64' })]);
    const lightNormal = plan(policy, node(), [pod({ cpu: '1m' })]);
    expect(layer(heavyLow.layers, 'low').weight).toBeLessThan(layer(lightNormal.layers, 'normal').weight);
    const small = layer(plan(policy, node(), [pod({ cpu: '1' })]).layers, 'normal').weight;
    const big = layer(plan(policy, node(), [pod({ cpu: '4' })]).layers, 'normal').weight;
    expect(big).toBeGreaterThan(small);
    for (const [name, d] of Object.entries(LAYER_DEFAULTS)) {
      expect(d.weightBand[0], name).toBeLessThanOrEqual(d.weightBand[1]);
    }
  });
});

describe('renderLayers: many pods', () => {
  const many = (n: number, extra: Parameters<typeof pod>[0] = {}): PodInfo[] => Array.from({ length: n }, (_, i) => pod({ name: `p${String(i).padStart(3, '0')}`, uid: uidOf(i + 1), cpu: '10m', ...extra }));
  it('32 pods in a tier still get one CgroupPrefix each', () => {
    const l = layer(plan(policy, node(), many(32)).layers, 'normal');
    expect(l.match).toBe('cgroup-prefix');
    expect(l.spec.matches).toHaveLength(32);
  });
  it('33 pods switch the tier to one CgroupRegex clause that matches each of them', () => {
    const pods = many(33);
    const l = layer(plan(policy, node(), pods).layers, 'normal');
    expect(l.match).toBe('cgroup-regex');
    expect(l.spec.matches).toHaveLength(1);
    const regex = (l.spec.matches[0]?.[0] as { CgroupRegex: string }).CgroupRegex;
    for (const p of pods) expect(new RegExp(regex, 'u').test(`/sys/fs/cgroup/${podCgroupPath('systemd', 'Burstable', p.uid)}cri-containerd-1.scope`)).toBe(true);
  });
  it('the system layer switches to a regex when its fixed blocks plus Temper pods exceed 32', () => {
    const l = layer(plan(policy, node(), many(31, { namespace: 'temper-system' })).layers, 'system');
    expect(l.match).toBe('cgroup-regex');
    expect(l.spec.matches).toHaveLength(3);
  });
  it('a node with 250 pods renders a valid config', () => {
    const pods = many(250).map((p, i) => (i % 5 === 0 ? { ...p, priorityClassName: 'infera-critical' } : i % 5 === 1 ? { ...p, priorityClassName: 'infera-low' } : p));
    const p = plan(policy, node('node-1', '64'), pods);
    expect(p.pods).toHaveLength(250);
    expect(p.layers.map((l) => l.name)).toEqual(['system', 'critical', 'normal', 'low', 'catchall']);
  });
});

describe('renderLayers: very large tiers', () => {
  it(`splits a tier over several CgroupRegex clauses of at most ${1000} pods`, () => {
    const pods = Array.from({ length: 2100 }, (_, i) => pod({ name: `x${i}`, uid: uidOf(i + 1), cpu: '1m' }));
    const l = plan(policy, node('node-1', '256'), pods).layers.find((x) => x.name === 'normal');
    expect(l?.spec.matches).toHaveLength(3);
    const sizes = l?.spec.matches.map((b) => ((b[0] as { CgroupRegex: string }).CgroupRegex.match(/_/g)?.length ?? 0) / 4);
    expect(sizes).toEqual([1000, 1000, 100]);
  });
});
