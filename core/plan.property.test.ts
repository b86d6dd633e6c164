// Property tests: invariants over random pods, nodes and policies (fast-check).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodeObject, uidOf } from '../test/builders.ts';
import { defaultPolicy, policyFromObject } from './config.ts';
import type { Policy } from './config.ts';
import { nodeFromObject, podFromObject } from './objects.ts';
import type { PlacedPod, Plan } from './plan.ts';
import { classifyPods, plan } from './plan.ts';
import { validateLayeredConfig } from './scx.ts';
import { coresOf, fenceCapacity } from './capacity.ts';
import { TASK_HINTS } from './hints.ts';
import { podCgroupPath } from './layers.ts';
import { matchTask, rematchTask } from './scx-match.ts';
import { qosDefaultTier } from './tier.ts';
import type { PodInfo, Tier } from './types.ts';
import { TIERS } from './types.ts';

const cpuQty = fc.oneof(fc.constantFrom('0', '1m', '100m', '250m', '500m', '1', '1500m', '2', '4', '16'), fc.integer({ min: 1, max: 20000 }).map((m) => `${m}m`));
const memQty = fc.constantFrom('64Mi', '1Gi', '2Gi');
const resources = fc.record({
  requests: fc.record({ cpu: cpuQty, memory: memQty }, { requiredKeys: [] }),
  limits: fc.record({ cpu: cpuQty, memory: memQty }, { requiredKeys: [] }),
}, { requiredKeys: [] });
const container = fc.record({ name: fc.constant('c'), resources, restartPolicy: fc.option(fc.constant('Always'), { nil: undefined }) }, { requiredKeys: ['name'] });
const priority = fc.oneof(
  fc.constantFrom(2_000_001_000, 2_000_000_000, 1_000_000, 999_999, 100_000, 99_999, 0, -1, -100, -101),
  fc.integer({ min: -2_147_483_648, max: 2_147_483_647 }),
);

/** A random pod's fields; its index in the list makes the uid unique. */
const podFields = fc.record({
  namespace: fc.constantFrom('default', 'shop', 'batch', 'kube-system', 'temper-system'),
  name: fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/),
  node: fc.constantFrom('node-1', 'node-1', 'node-1', 'node-2', undefined),
  priority: fc.option(priority, { nil: undefined }),
  className: fc.option(fc.constantFrom('infera-critical', 'infera-high', 'infera-normal', 'infera-low', 'infera-background', 'system-node-critical'), { nil: undefined }),
  phase: fc.constantFrom('Running', 'Running', 'Pending', 'Succeeded', 'Failed', undefined),
  qos: fc.option(fc.constantFrom('Guaranteed', 'Burstable', 'BestEffort'), { nil: undefined }),
  containers: fc.array(container, { minLength: 1, maxLength: 3 }),
  initContainers: fc.array(container, { maxLength: 2 }),
});

type PodFields = typeof podFields extends fc.Arbitrary<infer T> ? T : never;

const toPod = (r: PodFields, i: number): PodInfo => podFromObject({
  kind: 'Pod',
  metadata: { name: r.name, namespace: r.namespace, uid: uidOf(i + 1) },
  spec: {
    ...(r.node === undefined ? {} : { nodeName: r.node }),
    ...(r.priority === undefined ? {} : { priority: r.priority }),
    ...(r.className === undefined ? {} : { priorityClassName: r.className }),
    containers: r.containers,
    initContainers: r.initContainers,
  },
  status: { ...(r.phase === undefined ? {} : { phase: r.phase }), ...(r.qos === undefined ? {} : { qosClass: r.qos }) },
}, `pod ${i}`);

// `size: 'max'` lets lists reach maxLength; fast-check's default would keep them near 10.
const pods = (max: number) => fc.array(podFields, { maxLength: max, size: 'max' }).map((list) => list.map(toPod));
const nodeArb = fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 128 })).map((cpus) => nodeFromObject(nodeObject('node-1', String(cpus)), 'node'));
/** Random node settings, both placements and both cgroup drivers; `placement` fixes one. */
const policiesOf = (placement?: 'cgroup' | 'hints'): fc.Arbitrary<Policy> => fc.record({
  reserved: fc.integer({ min: 0, max: 4 }),
  tpc: fc.constantFrom(1, 2),
  driver: fc.constantFrom('systemd', 'cgroupfs'),
  toCatchall: fc.boolean(),
  placement: placement === undefined ? fc.constantFrom('cgroup', 'hints') : fc.constant(placement),
}).map((r) => policyFromObject({
  node: { reserved_cpus: r.reserved, threads_per_core: r.tpc, cgroup_driver: r.driver, placement: r.placement },
  priority_mapping: { system_to_catchall: r.toCatchall },
}, 'random'));
const policyArb = policiesOf();

/** A container's cgroup as scx_layered sees it: below the pod's directory, trailing slash. */
const containerPath = (policy: Policy, p: PlacedPod): string =>
  `${podCgroupPath(policy.node.cgroupDriver, p.assignment.qosClass, p.pod.uid)}${policy.node.cgroupDriver === 'systemd' ? 'cri-containerd-0123abcd.scope' : '0123abcd'}/`;
const comms = fc.constantFrom('nginx', 'java', 'sh', 'python3', 'a-very-long-process-name', 'kube-proxy');

/**
 * What `placement = "hints"` may change the config for (docs/layers.md "What causes a new
 * generation"): per owned tier, whether it has pods and its requests and limits in whole CPUs.
 * Critical is sized in whole cores, which are coarser, so equal keys mean equal sizing inputs.
 */
function sizingKey(p: Plan): string {
  return JSON.stringify((['critical', 'high', 'normal'] as const).map((tier: Tier) => {
    const members = p.pods.filter((x) => x.assignment.tier === tier);
    if (members.length === 0) return null;
    const request = members.reduce((s, x) => s + x.requestMillis, 0);
    const limit = members.some((x) => x.limitMillis === null) ? null : members.reduce((s, x) => s + (x.limitMillis ?? 0), 0);
    return [Math.ceil(request / 1000), limit === null ? null : Math.ceil(limit / 1000)];
  }));
}

describe('plan: invariants over random input', { timeout: 120_000 }, () => {
  it('is deterministic: the same pods in any order give byte-identical output', () => {
    fc.assert(fc.property(policyArb, nodeArb, pods(40).chain((ps) => fc.tuple(fc.constant(ps), fc.shuffledSubarray(ps, { minLength: ps.length, maxLength: ps.length }))), (policy, node, [ps, shuffled]) => {
      const a = plan(policy, node, ps);
      const b = plan(policy, node, shuffled);
      expect(b.configJson).toBe(a.configJson);
      expect(b.configSha256).toBe(a.configSha256);
      expect(JSON.stringify(b.distribution)).toBe(JSON.stringify(a.distribution));
      expect(b.pods.map((p) => p.assignment)).toEqual(a.pods.map((p) => p.assignment));
    }), { numRuns: 150 });
  });

  it('gives every live pod exactly one tier and a consistent layer; finished pods none', () => {
    fc.assert(fc.property(policyArb, pods(40), (policy, ps) => {
      const placed = classifyPods(policy, ps);
      const live = ps.filter((p) => p.phase !== 'Succeeded' && p.phase !== 'Failed');
      expect(placed.map((p) => p.pod.uid).sort()).toEqual(live.map((p) => p.uid).sort());
      const hints = policy.node.placement === 'hints';
      for (const { assignment: a } of placed) {
        expect([...TIERS, 'system']).toContain(a.tier);
        if (a.tier === 'system') expect(hints ? ['system', 'nodecritical'] : ['system', 'catchall']).toContain(a.layer);
        else expect(a.layer).toBe(a.tier);
        expect(a.reason.length).toBeGreaterThan(0);
        // a hint exactly when the static QoS match would not place the pod, and always its layer's value
        const needsHint = hints && (a.tier === 'system' || a.tier !== qosDefaultTier(a.qosClass));
        expect(a.hint).toBe(needsHint ? TASK_HINTS[a.layer as keyof typeof TASK_HINTS] : null);
        expect(a.placedBy).toBe(!hints ? (a.layer === 'catchall' ? 'catch-all' : 'pod-cgroup') : needsHint ? 'task-hint' : 'qos-fallback');
      }
    }), { numRuns: 150 });
  });

  it('always renders a config that passes the scx_layered structural rules, up to 250 pods', () => {
    const lengths: number[] = [];
    fc.assert(fc.property(policyArb, nodeArb, pods(250), (policy, node, ps) => {
      const p = plan(policy, node, ps); // plan() itself refuses an invalid config
      expect(validateLayeredConfig(JSON.parse(p.configJson))).toEqual([]);
      const cpus = Math.floor(node.cpuCapacityMillis / 1000);
      const minima = p.layers.reduce((s, l) => s + (l.cpusRange?.[0] ?? 0), 0);
      expect(minima).toBeLessThanOrEqual(cpus);
      for (const l of p.layers) if (l.cpusRange !== null) expect(l.cpusRange[0]).toBeLessThanOrEqual(l.cpusRange[1]);
      // tier order never inverts (hints placement puts Low before Normal in the config, not in weight)
      const tierLayers = p.layers.filter((l) => l.tier !== null).sort((a, b) => TIERS.indexOf(a.tier ?? 'critical') - TIERS.indexOf(b.tier ?? 'critical'));
      const weights = tierLayers.map((l) => l.weight);
      expect([...weights].sort((x, y) => y - x)).toEqual(weights);
      expect(new Set(weights).size).toBe(weights.length);
      const sized = tierLayers.filter((l) => l.cpusRange !== null).map((l) => l.cpusRange?.[0] ?? 0);
      expect(sized.every((min) => min >= 1)).toBe(true);
      lengths.push(ps.length);
    }), { numRuns: 60 });
    expect(Math.max(...lengths)).toBeGreaterThan(100); // the generator really reached big nodes
  });

  it('owned layers never cover the node, so the Open layers always keep a core; Critical\'s fence is never shared', () => {
    fc.assert(fc.property(policyArb, nodeArb, pods(60), (policy, node, ps) => {
      const p = plan(policy, node, ps);
      const cap = fenceCapacity(node, policy);
      const owned = p.layers.filter((l) => l.cpusRange !== null);
      // scx_layered allocates whole cores; the maxima together leave at least one core unowned
      const maxCores = owned.reduce((s, l) => s + coresOf(l.cpusRange?.[1] ?? 0, cap.threadsPerCore), 0);
      expect(maxCores).toBeLessThanOrEqual(cap.ownableCores);
      expect(maxCores).toBeLessThan(Math.max(1, cap.cores));
      // an owned layer with no CPU would send its tasks to the low fallback queue, which fenced CPUs drain
      for (const l of owned) expect(l.cpusRange?.[0]).toBeGreaterThanOrEqual(1);
      for (const l of p.layers) expect(l.kind === 'Open').toBe(l.cpusRange === null);
      const critical = p.layers.find((l) => l.name === 'critical');
      if (critical?.kind === 'Confined') {
        expect(critical).toMatchObject({ protected: true, exclusive: true, demoted: false });
        expect(critical.cpusRange?.[0]).toBe(Math.ceil(critical.requestMillis / 1000 / cap.threadsPerCore) * cap.threadsPerCore || cap.threadsPerCore);
        expect(p.layers.filter((l) => l.kind === 'Confined').map((l) => l.name)).toEqual(['critical']);
      }
      const hasCritical = p.pods.some((x) => x.assignment.tier === 'critical');
      expect(p.criticalDemoted).toBe(hasCritical && critical?.kind !== 'Confined');
      // a tier above Low never is a separate non-preempting Open layer: on a CPU it shares with Low
      // and Background it would be served in a fixed order (decisions §18); it is in `shared` instead
      const openTiers = p.layers.filter((l) => l.kind === 'Open' && l.tier !== null).map((l) => l.tier);
      expect(openTiers.filter((t) => t !== 'low' && t !== 'background')).toEqual([]);
      const shared = p.layers.find((l) => l.name === 'shared');
      if (shared !== undefined) {
        expect(openTiers).toEqual([]);
        expect(shared).toMatchObject({ kind: 'Open', preempt: false });
        const inShared = p.pods.filter((x) => x.assignment.layer === 'shared');
        expect(inShared.length).toBe(shared.pods);
        expect(inShared.some((x) => x.assignment.tier === 'low' || x.assignment.tier === 'background' || p.warnings.some((w) => w.code === 'tier-unowned' || w.code === 'critical-demoted'))).toBe(true);
      }
      // only the system layer, the catch-all (and its hinted twin) preempt on shared CPUs, where Open+preempt layers are served first
      const twin = policy.node.placement === 'hints' && policy.priorityMapping.systemToCatchall ? ['nodecritical'] : [];
      expect(p.layers.filter((l) => l.kind === 'Open' && l.preempt).map((l) => l.name)).toEqual(['system', ...twin, 'catchall']);
      expect(p.warnings.some((w) => w.code === 'critical-demoted')).toBe(p.criticalDemoted);
    }), { numRuns: 200 });
  });

  it('every pod\'s tasks land in its layer under the scx_layered matching model, both placements and drivers', () => {
    fc.assert(fc.property(policyArb, nodeArb, pods(60), comms, (policy, node, ps, comm) => {
      const p = plan(policy, node, ps);
      const hints = policy.node.placement === 'hints';
      for (const x of p.pods) {
        const task = { cgroupPath: containerPath(policy, x), comm, hint: x.assignment.hint };
        expect(matchTask(p.config, task).layer).toBe(x.assignment.layer);
        // the static matches alone place every pod without a hint, and a new thread (no hint yet)
        // of a hinted one lands in its QoS fallback's layer or the catch-all
        const unhinted = rematchTask(p.config, { ...task, hint: null }).layer;
        if (x.assignment.hint === null) expect(unhinted).toBe(x.assignment.layer);
        else expect(hints).toBe(true);
        // a full re-match (exec, rename) of a hinted task is right at once, except a Background
        // pod of a Guaranteed or Burstable class, which sits in Normal until it next wakes (§26)
        const rematched = rematchTask(p.config, task).layer;
        if (rematched !== x.assignment.layer) {
          expect([x.assignment.tier, x.assignment.qosClass === 'BestEffort', rematched]).toEqual(['background', false, 'normal']);
        }
      }
      expect(matchTask(p.config, { cgroupPath: 'system.slice/kubelet.service/', comm: 'kubelet', hint: null }).layer).toBe('catchall');
      expect(matchTask(p.config, { cgroupPath: 'system.slice/containerd.service/', comm: 'scx_layered', hint: null }).layer).toBe('system');
    }), { numRuns: 150 });
  });

  it('hints: adding or removing a pod that changes no tier\'s whole-CPU sizing leaves the config byte-identical; the config never names a pod', () => {
    const seen = { same: 0, changed: 0 };
    fc.assert(fc.property(policiesOf('hints'), nodeArb, pods(40), podFields, (policy, node, ps, extra) => {
      const added = toPod({ ...extra, node: 'node-1' }, 999);
      const without = plan(policy, node, ps);
      const withIt = plan(policy, node, [...ps, added]);
      if (sizingKey(without) === sizingKey(withIt)) {
        expect(withIt.configJson).toBe(without.configJson);
        seen.same++;
      } else seen.changed++;
      for (const x of withIt.pods) {
        expect(withIt.configJson).not.toContain(x.pod.uid);
        expect(withIt.configJson).not.toContain(x.pod.uid.replaceAll('-', '_'));
      }
    }), { numRuns: 200 });
    expect(seen.same).toBeGreaterThan(50); // the generator really exercises both sides
    expect(seen.changed).toBeGreaterThan(0);
  });

  it('hints: a pod whose tier is its QoS class\'s default, or one of an Open tier, Temper or node-critical, never changes the config', () => {
    const cheap = podFields.filter((f) => f.priority === undefined || f.priority === 0 || f.priority < 0 || f.priority >= 2_000_000_000 || f.namespace === 'temper-system')
      .map((f) => ({ ...f, className: f.priority === undefined || f.priority === 0 ? undefined : f.className, qos: f.priority === undefined || f.priority === 0 ? ('BestEffort' as const) : f.qos }));
    fc.assert(fc.property(policiesOf('hints'), nodeArb, pods(40), cheap, (policy, node, ps, extra) => {
      const added = toPod({ ...extra, node: 'node-1', containers: [{ name: 'c' }] }, 999);
      const placed = classifyPods(policy, [added])[0];
      fc.pre(placed !== undefined && (placed.assignment.tier === 'low' || placed.assignment.tier === 'background' || placed.assignment.tier === 'system'));
      expect(plan(policy, node, [...ps, added]).configJson).toBe(plan(policy, node, ps).configJson);
    }), { numRuns: 150 });
  });

  it('the distribution counts exactly the tiered pods on the node and their requests', () => {
    fc.assert(fc.property(nodeArb, pods(40), (node, ps) => {
      const policy = defaultPolicy();
      const p = plan(policy, node, ps);
      const tiered = p.pods.filter((x) => x.assignment.tier !== 'system');
      expect(Object.keys(p.distribution)).toEqual([...TIERS]);
      expect(TIERS.reduce((s, t) => s + p.distribution[t].pods, 0)).toBe(tiered.length);
      expect(TIERS.reduce((s, t) => s + p.distribution[t].cpuMillis, 0)).toBe(tiered.reduce((s, x) => s + x.requestMillis, 0));
      expect(p.pods.every((x) => x.pod.nodeName === node.name)).toBe(true);
    }), { numRuns: 100 });
  });
});
