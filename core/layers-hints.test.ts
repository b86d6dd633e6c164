// placement = "hints": static QoS fallbacks, fixed task hints, sizing that changes only when it must.
import { describe, expect, it } from 'vitest';
import { node, pod, uidOf } from '../test/builders.ts';
import { parsePolicy } from './config.ts';
import type { Policy } from './config.ts';
import { TASK_HINTS } from './hints.ts';
import { LAYER_DEFAULTS, podCgroupPath, qosCgroupPrefix } from './layers.ts';
import type { LayerPlan } from './layers.ts';
import { plan } from './plan.ts';
import { validateLayeredConfig } from './scx.ts';
import { matchTask } from './scx-match.ts';
import type { CgroupDriver, PodInfo } from './types.ts';

const hintsPolicy = (driver: CgroupDriver = 'systemd', extra = ''): Policy =>
  parsePolicy(`[node]\nplacement = "hints"\ncgroup_driver = "${driver}"\n${extra}`, 't.toml');
const hints = hintsPolicy();
const layer = (layers: readonly LayerPlan[], name: string): LayerPlan => {
  const l = layers.find((x) => x.name === name);
  if (l === undefined) throw new Error(`no layer ${name}`);
  return l;
};
let n = 0;
const next = (extra: Parameters<typeof pod>[0]): PodInfo => pod({ uid: uidOf(1000 + ++n), name: `p${n}`, ...extra });
const critical = (cpu: string, extra: Parameters<typeof pod>[0] = {}) => next({ className: 'infera-critical', priority: 1_000_000, cpu, cpuLimit: cpu, memory: '1Gi', memoryLimit: '1Gi', ...extra });
const high = (cpu: string, extra: Parameters<typeof pod>[0] = {}) => next({ className: 'infera-high', priority: 100_000, cpu, ...extra });
const burstable = (cpu = '100m') => next({ cpu });
const guaranteed = (cpu = '100m') => next({ cpu, cpuLimit: cpu, memory: '64Mi', memoryLimit: '64Mi' });
const bestEffort = () => next({});
const low = () => next({ className: 'infera-low', priority: -50, cpu: '200m' });
const background = () => next({ className: 'infera-background', priority: -101, cpu: '300m' });
const daemon = () => next({ namespace: 'kube-system', className: 'system-node-critical', priority: 2_000_001_000, cpu: '100m' });
const temperPod = () => next({ namespace: 'temper-system', cpu: '50m' });

describe('QoS-level prefixes (the static fallbacks)', () => {
  it.each([
    ['systemd', 'Guaranteed', 'kubepods.slice/kubepods-pod'],
    ['systemd', 'Burstable', 'kubepods.slice/kubepods-burstable.slice/'],
    ['systemd', 'BestEffort', 'kubepods.slice/kubepods-besteffort.slice/'],
    ['cgroupfs', 'Guaranteed', 'kubepods/pod'],
    ['cgroupfs', 'Burstable', 'kubepods/burstable/'],
    ['cgroupfs', 'BestEffort', 'kubepods/besteffort/'],
  ] as const)('%s %s: %s, a prefix of every such pod\'s cgroup and of no other QoS class\'s', (driver, qos, want) => {
    expect(qosCgroupPrefix(driver, qos)).toBe(want);
    for (const other of ['Guaranteed', 'Burstable', 'BestEffort'] as const) {
      expect(podCgroupPath(driver, other, uidOf(7)).startsWith(want)).toBe(other === qos);
    }
  });
});

describe('hints: layers, order and matches', () => {
  it('an empty node has the system layer, the node-critical layer, Low, Background and the catch-all; nothing names a pod', () => {
    const p = plan(hints, node(), []);
    expect(p.layers.map((l) => l.name)).toEqual(['system', 'nodecritical', 'low', 'background', 'catchall']);
    expect(p.config.map((l) => l.matches)).toEqual([
      [[{ PcommPrefix: 'scx_layered' }], [{ PcommPrefix: 'temper-agent' }], [{ HintEquals: 1 }]],
      [[{ HintEquals: 7 }]],
      [[{ HintEquals: 5 }]],
      [[{ HintEquals: 6 }], [{ CgroupPrefix: 'kubepods.slice/kubepods-besteffort.slice/' }]],
      [[]],
    ]);
    expect(p.layers.slice(0, -1).every((l) => l.match === 'hints')).toBe(true);
  });

  it('a large node: hint-only layers before the static fallbacks, each layer one fixed hint', () => {
    const pods = [critical('1'), high('1'), burstable(), guaranteed(), bestEffort(), low(), background(), daemon(), temperPod()];
    const p = plan(hints, node('node-1', '8'), pods);
    expect(p.layers.map((l) => l.name)).toEqual(['system', 'nodecritical', 'critical', 'high', 'low', 'normal', 'background', 'catchall']);
    expect(layer(p.layers, 'normal').spec.matches).toEqual([[{ HintEquals: 4 }], [{ CgroupPrefix: 'kubepods.slice/kubepods-pod' }], [{ CgroupPrefix: 'kubepods.slice/kubepods-burstable.slice/' }]]);
    for (const name of ['critical', 'high', 'low', 'nodecritical'] as const) expect(layer(p.layers, name).spec.matches).toEqual([[{ HintEquals: TASK_HINTS[name] }]]);
    expect(validateLayeredConfig(JSON.parse(p.configJson))).toEqual([]);
    for (const x of p.pods) expect(p.configJson).not.toContain(x.pod.uid.replaceAll('-', '_'));
  });

  it('a 2-CPU node: the shared layer maps the hints of every tier it holds and the static fallbacks of all three QoS classes', () => {
    const p = plan(hintsPolicy('cgroupfs'), node('node-1', '2'), [critical('1'), burstable(), bestEffort(), high('100m')]);
    expect(p.layers.map((l) => l.name)).toEqual(['system', 'nodecritical', 'critical', 'shared', 'catchall']);
    expect(layer(p.layers, 'shared').spec.matches).toEqual([
      [{ HintEquals: 3 }], [{ HintEquals: 4 }], [{ HintEquals: 5 }], [{ HintEquals: 6 }],
      [{ CgroupPrefix: 'kubepods/pod' }], [{ CgroupPrefix: 'kubepods/burstable/' }], [{ CgroupPrefix: 'kubepods/besteffort/' }],
    ]);
    expect(layer(p.layers, 'shared').spec.comment).toBe('tiers high, normal, low, background (no core of their own): task hints 3, 4, 5, 6; static fallback for Guaranteed, Burstable and BestEffort pods without a hint');
    // a pod's hint is its tier's, whatever layer holds the tier on this node
    expect(p.pods.map((x) => [x.assignment.tier, x.assignment.layer, x.assignment.hint])).toEqual(expect.arrayContaining([['high', 'shared', 3], ['critical', 'critical', 2]]));
  });

  it('1 CPU: Critical is demoted into the shared layer, which then maps its hint too', () => {
    const p = plan(hints, node('node-1', '1'), [critical('1'), burstable()]);
    expect(p.layers.map((l) => l.name)).toEqual(['system', 'nodecritical', 'shared', 'catchall']);
    expect(layer(p.layers, 'shared').spec.matches.slice(0, 4)).toEqual([[{ HintEquals: 2 }], [{ HintEquals: 4 }], [{ HintEquals: 5 }], [{ HintEquals: 6 }]]);
  });

  it('weights are each layer\'s band top and comments carry no counts or requests', () => {
    const p = plan(hints, node('node-1', '8'), [critical('2'), high('1500m'), burstable('3'), low(), background()]);
    for (const l of p.layers) {
      expect(l.weight, l.name).toBe(LAYER_DEFAULTS[l.name].weightBand[1]);
      expect(l.spec.comment, l.name).not.toMatch(/pods?,|requests|limits|\dm\b/);
    }
  });

  it('without system_to_catchall there is no node-critical layer (such pods are Critical)', () => {
    const off = hintsPolicy('systemd', '[priority_mapping]\nsystem_to_catchall = false\n');
    expect(plan(off, node(), [daemon()]).layers.map((l) => l.name)).toEqual(['system', 'critical', 'low', 'background', 'catchall']);
  });

  it('the node-critical layer takes the catch-all\'s overrides, then its own', () => {
    const custom = hintsPolicy('systemd', '[layers.catchall]\nslice_us = 9000\npreempt = false\n[layers.nodecritical]\npreempt = true\n');
    expect(layer(plan(custom, node(), []).layers, 'nodecritical')).toMatchObject({ sliceUs: 9000, preempt: true });
  });

  it.each(['systemd', 'cgroupfs'] as const)('%s: every pod lands in its layer, hinted or not, under the scx_layered matching model', (driver) => {
    const pods = [critical('1'), high('1'), burstable(), guaranteed(), bestEffort(), low(), background(), daemon(), temperPod(),
      next({ className: 'infera-normal', priority: 0 }), next({ className: 'infera-background', priority: -101, cpu: '1', cpuLimit: '1', memory: '1Gi', memoryLimit: '1Gi' })];
    for (const cpus of ['1', '2', '3', '8']) {
      const p = plan(hintsPolicy(driver), node('node-1', cpus), pods);
      for (const x of p.pods) {
        const cgroupPath = `${podCgroupPath(driver, x.assignment.qosClass, x.pod.uid)}cri-containerd-abc.scope/`;
        expect(matchTask(p.config, { cgroupPath, comm: 'app', hint: x.assignment.hint }).layer, `${cpus} CPUs: ${x.pod.name}`).toBe(x.assignment.layer);
      }
      expect(matchTask(p.config, { cgroupPath: 'system.slice/kubelet.service/', comm: 'kubelet', hint: null }).layer).toBe('catchall');
      expect(matchTask(p.config, { cgroupPath: 'kubepods.slice/kubepods-burstable.slice/x/', comm: 'worker', pcomm: 'temper-agent', hint: null }).layer).toBe('system');
    }
  });
});

describe('hints: the config changes only when it must (docs/layers.md "What causes a new generation")', () => {
  const base = [critical('1'), high('1'), burstable('300m'), guaranteed('200m'), bestEffort()];
  const on = (pods: readonly PodInfo[], cpus = '8') => plan(hints, node('node-1', cpus), pods).configJson;

  it.each([
    ['a priority-0 BestEffort pod', bestEffort],
    ['a priority-0 Burstable pod within Normal\'s CPU', () => burstable('100m')],
    ['a priority-0 Guaranteed pod within Normal\'s CPU', () => guaranteed('100m')],
    ['a Low pod', low],
    ['a Background pod of any QoS class', background],
    ['a node-critical pod', daemon],
    ['a Temper pod', temperPod],
    ['a Critical pod within its whole core', () => critical('0', { cpuLimit: undefined, memoryLimit: undefined, memory: undefined })],
    ['a High pod within its CPU', () => high('0')],
  ])('adding or removing %s leaves it byte-identical', (_what, make) => {
    const before = on(base);
    expect(on([...base, make()])).toBe(before);
    expect(on(base.slice(0, -1))).toBe(on([...base.slice(0, -1), make()]));
  });

  it('each is a new generation in cgroup placement (the per-pod clauses)', () => {
    const cgroup = parsePolicy('[node]\nplacement = "cgroup"\n', 't');
    expect(plan(cgroup, node('node-1', '8'), [...base, bestEffort()]).configJson).not.toBe(plan(cgroup, node('node-1', '8'), base).configJson);
  });

  it.each([
    ['Normal\'s requests cross a whole CPU', () => burstable('800m')],
    ['Critical needs a second core', () => critical('1')],
    ['High\'s requests cross a whole CPU', () => high('500m')],
    ['a Normal pod without a CPU limit joins limited ones', () => burstable('100m')],
  ])('crossing a whole-CPU boundary changes it: %s', (_what, make) => {
    const limited = [critical('1'), high('600m', { cpuLimit: '1' }), guaranteed('300m')];
    expect(on([...limited, make()])).not.toBe(on(limited));
  });

  it('a tier appearing or disappearing changes it: the first High pod, the last Critical one', () => {
    expect(on([burstable(), high('100m')])).not.toBe(on([burstable()]));
    expect(on([burstable()])).not.toBe(on([burstable(), critical('1')]));
  });

  it('the layout changing changes it, but never a pod\'s hint: High losing its core on a 3-CPU node', () => {
    const h = high('100m');
    const roomy = plan(hints, node('node-1', '3'), [h, burstable()]);
    const tight = plan(hints, node('node-1', '3'), [h, burstable(), critical('1')]);
    expect(layer(roomy.layers, 'high').kind).toBe('Grouped');
    expect(tight.layers.map((l) => l.name)).toContain('shared');
    const hintOf = (p: typeof roomy) => p.pods.find((x) => x.pod === h)?.assignment.hint;
    expect(hintOf(roomy)).toBe(3);
    expect(hintOf(tight)).toBe(3);
  });
});
