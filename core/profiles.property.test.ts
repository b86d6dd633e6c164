// Property tests for workload profiles: determinism, valid configs within every limit, no thread
// above its tier, the fence budget unchanged, and every thread in the layer its placement names.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { node, pod, uidOf } from '../test/builders.ts';
import { builtin, placeThread, profiledPods } from '../test/profiles-fixtures.ts';
import type { Policy } from './config.ts';
import { policyFromObject } from './config.ts';
import { podCgroupPath } from './layers.ts';
import type { Plan } from './plan.ts';
import { plan } from './plan.ts';
import type { Profile } from './profiles.ts';
import { builtinProfileCatalog, parseProfileFiles } from './profiles.ts';
import type { ProfiledPod, ProfileLayerSpec } from './profiles-render.ts';
import { applyProfileLayers, renderProfiles } from './profiles-render.ts';
import { profileContext, selectProfile } from './profiles-select.ts';
import type { LayeredConfig } from './scx.ts';
import { SCX_LIMITS, validateLayeredConfig } from './scx.ts';
import type { PodInfo } from './types.ts';

const PROFILES = builtinProfileCatalog().builtins.map((p) => p.name);
const CLASSES = { critical: ['infera-critical', 1_000_000], high: ['infera-high', 100_000], low: ['infera-low', -50], background: ['infera-background', -101] } as const;

const podArb = fc.record({
  tier: fc.constantFrom('critical', 'critical', 'high', 'normal', 'low', 'background', 'temper'),
  cpu: fc.constantFrom('100m', '500m', '1', '1500m', '2', '3', '4', '8'),
  guaranteed: fc.boolean(),
  profile: fc.option(fc.constantFrom(...PROFILES), { nil: null, freq: 4 }),
});
type PodSpec = typeof podArb extends fc.Arbitrary<infer T> ? T : never;

const toPod = (s: PodSpec, i: number): { pod: PodInfo; profile: Profile | null } => {
  const cls = s.tier in CLASSES ? CLASSES[s.tier as keyof typeof CLASSES] : null;
  const resources = s.guaranteed ? { cpu: s.cpu, cpuLimit: s.cpu, memory: '1Gi', memoryLimit: '1Gi' } : { cpu: s.cpu };
  const p = pod({
    name: `p${i}`, uid: uidOf(i + 1), namespace: s.tier === 'temper' ? 'temper-system' : 'default',
    ...(cls === null ? {} : { className: cls[0], priority: cls[1] }), ...resources,
  });
  return { pod: p, profile: s.profile === null ? null : builtin(s.profile) };
};

const policyArb: fc.Arbitrary<Policy> = fc.record({
  placement: fc.constantFrom('cgroup', 'hints'),
  driver: fc.constantFrom('systemd', 'cgroupfs'),
  tpc: fc.constantFrom(1, 2),
  reserved: fc.integer({ min: 0, max: 2 }),
}).map((r) => policyFromObject({ node: { placement: r.placement, cgroup_driver: r.driver, threads_per_core: r.tpc, reserved_cpus: r.reserved } }, 'random'));

const caseArb = fc.record({
  policy: policyArb,
  cpus: fc.integer({ min: 1, max: 48 }),
  pods: fc.array(podArb, { maxLength: 16, size: 'max' }),
});

/** Many pods of one profile on one node: what fills a profile layer's OR blocks and a tier's cores. */
const crowdArb = fc.record({
  policy: policyArb,
  cpus: fc.integer({ min: 4, max: 96 }),
  profile: fc.constantFrom(...PROFILES),
  pods: fc.array(fc.record({ tier: fc.constantFrom('critical', 'high', 'normal', 'low'), cpu: fc.constantFrom('1', '2'), guaranteed: fc.constant(true) }), { minLength: 8, maxLength: 40, size: 'max' }),
}).map((c) => ({ policy: c.policy, cpus: c.cpus, pods: c.pods.map((x): PodSpec => ({ ...x, profile: c.profile })) }));

function setUp(c: { policy: Policy; cpus: number; pods: PodSpec[] }): { p: Plan; profiled: ProfiledPod[] } {
  const made = c.pods.map(toPod);
  const p = plan(c.policy, node('node-1', String(c.cpus)), made.map((m) => m.pod));
  const byUid = new Map(made.map((m) => [m.pod.uid, m.profile]));
  return { p, profiled: profiledPods(p, (x) => byUid.get(x.uid) ?? null) };
}

const cases = fc.oneof(caseArb, crowdArb);

/** A case planned, rendered and merged. */
function rendered(c: { policy: Policy; cpus: number; pods: PodSpec[] }) {
  const { p, profiled } = setUp(c);
  const r = renderProfiles(c.policy, p, profiled);
  return { p, profiled, r, config: applyProfileLayers(p.config, r) };
}

/** Whole cores the owned (Confined/Grouped) layers may grow to, summed: the fence budget. */
const ownedMaxima = (config: readonly ProfileLayerSpec[] | LayeredConfig): number => config.reduce((sum, l) => {
  const k = l.kind;
  return sum + ('Confined' in k ? k.Confined.cpus_range[1] : 'Grouped' in k ? k.Grouped.cpus_range[1] : 0);
}, 0);

const TIER_RANK: Readonly<Record<string, number>> = { critical: 0, high: 1, normal: 2, shared: 3, low: 3, background: 4, yield: 4 };

describe('workload profiles: properties', () => {
  it('the same inputs in any order give the same rendering', () => {
    fc.assert(fc.property(cases, fc.infiniteStream(fc.nat()), (c, seeds) => {
      const { p, profiled } = setUp(c);
      const shuffled = [...profiled].map((x) => ({ x, k: seeds.next().value })).sort((a, b) => a.k - b.k).map((y) => y.x);
      expect(renderProfiles(c.policy, p, shuffled)).toEqual(renderProfiles(c.policy, p, profiled));
    }), { numRuns: 150 });
  });

  it('merged configs pass scx_layered\'s rules and limits; the owned CPUs are the tiers\' own; no thread rises above its tier', () => {
    fc.assert(fc.property(cases, (c) => {
      const { p, r, config } = rendered(c);
      expect(validateLayeredConfig(config)).toEqual([]);
      expect(config.length).toBeLessThanOrEqual(SCX_LIMITS.maxLayers);
      expect(ownedMaxima(config)).toBe(ownedMaxima(p.config));
      for (const l of config) expect(l.matches.length, l.name).toBeLessThanOrEqual(SCX_LIMITS.maxOrBlocks);
      // a carved tier layer keeps at least one CPU for its other threads and pods
      for (const x of r.resized) expect(x.cpusRange[0], x.name).toBeGreaterThanOrEqual(1);
      for (const x of r.pods) {
        for (const g of x.groups) {
          const rank = (layer: string) => TIER_RANK[layer.replace(/-(exclusive|latency)$/, '')];
          if (x.tierLayer in TIER_RANK) expect(rank(g.layer), `${x.name} ${g.group} in ${g.layer}`).toBeGreaterThanOrEqual(rank(x.tierLayer) ?? 0);
          if (g.status === 'degraded') expect(g.layer).toBe(x.tierLayer);
          expect(g.status === 'degraded').toBe(g.code !== null);
        }
      }
      expect(r.degradations).toHaveLength(r.pods.flatMap((x) => x.groups).filter((g) => g.code !== null).length);
    }), { numRuns: 200 });
  });

  it('every thread of a profiled pod lands in the layer its group placement names, by the scheduler\'s matching', () => {
    fc.assert(fc.property(cases, (c) => {
      const { p, profiled, r, config } = rendered(c);
      const driver = c.policy.node.cgroupDriver;
      const hints = c.policy.node.placement === 'hints';
      for (const x of profiled) {
        const placed = r.pods.find((y) => y.uid === x.uid);
        const assignment = p.pods.find((y) => y.pod.uid === x.uid)?.assignment;
        if (placed === undefined || assignment === undefined) throw new Error('pod lost');
        const cgroupPath = `${podCgroupPath(driver, x.qosClass, x.uid)}${driver === 'systemd' ? 'cri-containerd-1.scope' : '1'}/`;
        for (const [i, g] of x.profile.groups.entries()) {
          if (g.titles.length > 0 && !hints) continue;
          const comm = (g.threads[0] ?? 'anything').slice(0, 15);
          const at = placed.groups[i];
          if (at === undefined || (!hints && ['system', 'catchall', 'nodecritical'].includes(x.layer))) continue;
          const hint = hints ? (at.hint ?? assignment.hint) : null;
          expect(placeThread(config, { cgroupPath, comm, pcomm: g.process ?? 'app', hint }), `${x.name} ${g.name}`).toBe(at.layer);
        }
      }
    }), { numRuns: 200 });
  });

  it('selection does not depend on the order of the profile files', () => {
    const names = ['alpha', 'beta', 'gamma', 'delta'];
    const patterns = ['example/*', 'example/app', 'example/app:1*', '*/app', 'mysql', '*'];
    const profileArb = fc.tuple(fc.constantFrom(...names), fc.subarray(patterns, { minLength: 1 }));
    fc.assert(fc.property(
      fc.uniqueArray(profileArb, { selector: (t) => t[0], maxLength: 4 }),
      fc.array(fc.constantFrom('example/app:1.2', 'quay.io/x/app', 'mysql:8', 'busybox'), { minLength: 1, maxLength: 3 }),
      (defs, images) => {
        const text = (list: typeof defs) => list.map(([name, imgs]) => `[[profile]]\nname = "${name}"\nimages = ${JSON.stringify(imgs)}\n`).join('');
        const shape = { cpus: 8, smt: false };
        const subject = { annotations: {}, containers: images.map((image, i) => ({ name: `c${i}`, image })) };
        const named = policyFromObject({}, 't');
        const forward = selectProfile(named, subject, profileContext(parseProfileFiles([{ name: 'a.toml', text: text(defs) }]), shape));
        const backward = selectProfile(named, subject, profileContext(parseProfileFiles([{ name: 'a.toml', text: text([...defs].reverse()) }]), shape));
        expect(backward.profile?.profile.name ?? null).toBe(forward.profile?.profile.name ?? null);
        expect(backward.by).toBe(forward.by);
      },
    ), { numRuns: 150 });
  });
});
