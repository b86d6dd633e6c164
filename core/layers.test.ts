import { describe, expect, it } from 'vitest';
import { node, pod, uidOf } from '../test/builders.ts';
import { defaultPolicy, parsePolicy } from './config.ts';
import { LAYER_DEFAULTS, podCgroupPath, podsCgroupRegex } from './layers.ts';
import type { LayerPlan } from './layers.ts';
import { plan } from './plan.ts';
import type { PodInfo } from './types.ts';

const policy = defaultPolicy();
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
    const custom = parsePolicy('[layers.normal]\nslice_us = 15000\nutil_range = [0.5, 0.7]\npreempt = true\n[layers.background]\nslice_us = 2000\n', 't');
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
  it('Critical with an unlimited pod may grow to every fenceable core', () => {
    const l = layer(plan(policy, node('node-1', '8'), [critical('1', { cpuLimit: undefined, memoryLimit: undefined })]).layers, 'critical');
    expect(l.cpusRange).toEqual([1, 6]); // 8 CPUs − 1 reserved − 1 unfenced core
  });
  it('Critical whole cores follow threads_per_core', () => {
    const smt = parsePolicy('[node]\nthreads_per_core = 2\n', 't');
    const l = layer(plan(smt, node('node-1', '16'), [critical('3')]).layers, 'critical');
    expect(l.cpusRange).toEqual([4, 4]); // 3 CPUs → 2 cores → 4 hardware threads
  });
  it('demotes Critical to Grouped when it needs more cores than can be fenced, and says so', () => {
    const p = plan(policy, node('node-1', '8'), [critical('6'), critical('500m')]);
    const l = layer(p.layers, 'critical');
    expect(l).toMatchObject({ kind: 'Grouped', demoted: true, exclusive: false, protected: true, preempt: true });
    expect(l.notes[0]).toBe('demoted to Grouped: requests 6500m need 7 whole cores but only 6 can be fenced (8 CPUs − 1 reserved, 1 thread per core, one core kept unfenced)');
    expect(p.criticalDemoted).toBe(true);
    expect(p.distribution.critical).toEqual({ pods: 2, cpuMillis: 6500, demoted: true });
    expect(p.config[1]?.kind).toHaveProperty('Grouped');
  });
  it('fits exactly: 6 whole cores on 8 CPUs stay Confined', () => {
    expect(layer(plan(policy, node('node-1', '8'), [critical('6')]).layers, 'critical').kind).toBe('Confined');
  });
  it('a 2-CPU node cannot fence any core', () => {
    const l = layer(plan(policy, node('node-1', '2'), [critical('100m')]).layers, 'critical');
    expect(l.demoted).toBe(true);
    expect(l.notes[0]).toContain('only 0 can be fenced');
  });
  it('Grouped tiers: min = whole CPUs of requests, max = limits when all pods have one, else all unreserved CPUs', () => {
    const layers = plan(policy, node('node-1', '8'), [
      pod({ className: 'h', priority: 100_000, cpu: '1200m', cpuLimit: '2' }),
      pod({ className: 'h', priority: 100_000, cpu: '300m', cpuLimit: '500m' }),
      pod({ cpu: '2500m' }),
    ]).layers;
    expect(layer(layers, 'high').cpusRange).toEqual([2, 3]);
    expect(layer(layers, 'normal').cpusRange).toEqual([3, 7]);
  });
  it('minima never add up to more than the node has; higher tiers are served first', () => {
    const p = plan(policy, node('node-1', '8'), [critical('4'), pod({ className: 'h', priority: 100_000, cpu: '2' }), pod({ cpu: '5' })]);
    const mins = p.layers.map((l) => l.cpusRange?.[0] ?? 0);
    expect(mins.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(8);
    expect(layer(p.layers, 'critical').cpusRange?.[0]).toBe(4);
    expect(layer(p.layers, 'high').cpusRange?.[0]).toBe(2);
    const normal = layer(p.layers, 'normal');
    expect(normal.cpusRange).toEqual([1, 7]);
    expect(normal.notes[0]).toBe('minimum clamped from 5 to 1 CPUs: minima may not exceed the node (7 unreserved CPUs, 6 already held by higher layers)');
  });
  it('Open tiers get no allocation; their limits are reported as not enforceable', () => {
    const l = layer(plan(policy, node(), [pod({ className: 'b', priority: -1000, cpu: '1', cpuLimit: '2' })]).layers, 'background');
    expect(l.cpusRange).toBeNull();
    expect(l.spec.kind).toHaveProperty('Open');
    expect(l.notes[0]).toContain('not a ceiling');
  });
  it('the system layer keeps reserved_cpus and matches scx_layered, the agent and Temper\'s pods', () => {
    const temper = pod({ namespace: 'temper-system', qos: 'Burstable' });
    const sys = layer(plan(policy, node(), [temper]).layers, 'system');
    expect(sys.cpusRange).toEqual([1, 1]);
    expect(sys.spec.matches).toEqual([
      [{ PcommPrefix: 'scx_layered' }], [{ PcommPrefix: 'temper-agent' }],
      [{ CgroupPrefix: podCgroupPath('systemd', 'Burstable', temper.uid) }],
    ]);
    const none = parsePolicy('[node]\nreserved_cpus = 0\n', 't');
    expect(layer(plan(none, node(), []).layers, 'system').cpusRange).toEqual([0, 1]);
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
