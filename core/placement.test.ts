// The placement policy: table tests at the fence's boundaries, and properties over random nodes
// proving the filter agrees with the agent's own sizing (plan) and the scores behave.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodeObject, pod, uidOf } from '../test/builders.ts';
import type { Policy } from './config.ts';
import { defaultPolicy, policyFromObject } from './config.ts';
import type { NodeReport } from './node-report.ts';
import { nodeReportOf, parseNodeReport, serializeNodeReport } from './node-report.ts';
import { nodeFromObject, podFromObject } from './objects.ts';
import type { CandidateNode, IncomingPod, TierMillis } from './placement.ts';
import { NEUTRAL_SCORE, NO_DEMAND, demandOf, filterNode, scoreNode } from './placement.ts';
import { classifyAll, plan } from './plan.ts';
import type { PodInfo, Tier } from './types.ts';
import { TIERS } from './types.ts';

const settings = { staleAfterMs: 900_000 };
const AT = '2026-12-01T10:00:00Z';

/** The report an enforcing agent publishes for these pods on an `cpus`-CPU node. */
function reportFor(cpus: number, pods: PodInfo[] = [], policy: Policy = defaultPolicy()): NodeReport {
  return nodeReportOf(plan(policy, nodeFromObject(nodeObject('n', String(cpus)), 'n'), pods), { state: 'enforcing', generation: 1, at: AT });
}

function candidate(over: Partial<CandidateNode> & { report: NodeReport | null }): CandidateNode {
  return { name: 'n', allocatableMillis: 8000, reportAgeMs: 1000, demand: NO_DEMAND, margin: NO_DEMAND, ...over };
}

const critical = (requestMillis: number): IncomingPod => ({ tier: 'critical', requestMillis });
const withCritical = (millis: number): TierMillis => ({ ...NO_DEMAND, critical: millis });

describe('filterNode', () => {
  // 8 CPUs, one core always unowned (node.reserved_cpus = 1): 7 fenceable cores.
  const r8 = reportFor(8);

  it('passes every tier but Critical, and Critical on nodes without a report', () => {
    for (const tier of ['high', 'normal', 'low', 'background', 'system'] as const) {
      expect(filterNode(settings, { tier, requestMillis: 100_000 }, candidate({ report: reportFor(2), demand: withCritical(50_000) }))).toEqual({ fits: true });
    }
    expect(filterNode(settings, critical(100_000), candidate({ report: null }))).toEqual({ fits: true });
  });

  it('fits Critical up to the last fenceable core, and refuses one millicore more as unresolvable', () => {
    expect(filterNode(settings, critical(1000), candidate({ report: r8, demand: withCritical(6000) }))).toEqual({ fits: true });
    expect(filterNode(settings, critical(1), candidate({ report: r8, demand: withCritical(7000) }))).toEqual({
      fits: false, unresolvable: true, reason: 'temper: Critical would need 8 fenced cores on node n, which can fence 7',
    });
  });

  it('rounds to whole cores of threads_per_core CPUs', () => {
    const smt = policyFromObject({ node: { threads_per_core: 2 } }, 't');
    const r = reportFor(8, [], smt); // 4 cores of 2 CPUs, one unowned: 3 fenceable
    expect(r.fence).toEqual({ cpus: 8, threadsPerCore: 2, cores: 4, unownedCores: 1, ownableCores: 3, fenced: 0 });
    expect(filterNode(settings, critical(6000), candidate({ report: r }))).toEqual({ fits: true });
    expect(filterNode(settings, critical(6001), candidate({ report: r })).fits).toBe(false);
  });

  it('refuses Critical where nothing can be fenced, where it is already demoted, and where the agent is not trustworthy', () => {
    expect(filterNode(settings, critical(0), candidate({ report: reportFor(1) }))).toMatchObject({ fits: false, unresolvable: true });
    const demoted = reportFor(4, [pod({ node: 'n', className: 'infera-critical', priority: 1_000_000, cpu: '4' })]);
    expect(demoted.tiers.critical.demoted).toBe(true);
    expect(filterNode(settings, critical(0), candidate({ report: demoted }))).toMatchObject({ fits: false, unresolvable: true, reason: expect.stringContaining('already demoted') });
    expect(filterNode(settings, critical(0), candidate({ report: { ...r8, state: 'safe-mode' } }))).toEqual({
      fits: false, unresolvable: false, reason: 'temper: the Temper agent on node n is safe-mode, not enforcing',
    });
    expect(filterNode(settings, critical(0), candidate({ report: r8, reportAgeMs: 900_001 }))).toMatchObject({ fits: false, unresolvable: false, reason: expect.stringContaining('has not reported for 900s') });
    expect(filterNode(settings, critical(0), candidate({ report: r8, reportAgeMs: 900_000 }))).toEqual({ fits: true });
  });

  it('counts the margin of pods just placed, as a resolvable refusal', () => {
    const verdict = filterNode(settings, critical(1000), candidate({ report: r8, demand: withCritical(5000), margin: withCritical(1500) }));
    expect(verdict).toEqual({ fits: false, unresolvable: false, reason: 'temper: Critical would need 8 fenced cores on node n, which can fence 7, counting 1500m of Critical pods placed moments ago' });
    expect(filterNode(settings, critical(1000), candidate({ report: r8, demand: withCritical(5000), margin: withCritical(1000) }))).toEqual({ fits: true });
  });
});

describe('scoreNode', () => {
  const r8 = reportFor(8);

  it('scores Critical by the fence headroom left after placing it', () => {
    expect(scoreNode(settings, critical(1000), candidate({ report: r8 }))).toBe(9); // 6 of 7 left
    expect(scoreNode(settings, critical(3000), candidate({ report: r8, demand: withCritical(1000) }))).toBe(4); // 3 of 7
    expect(scoreNode(settings, critical(1000), candidate({ report: r8, demand: withCritical(6000) }))).toBe(0);
    expect(scoreNode(settings, critical(1000), candidate({ report: r8, demand: withCritical(6001) }))).toBe(0); // refused
  });

  it('spreads the other tiers by the CPU left after the tiers they compete with', () => {
    const demand: TierMillis = { critical: 1000, high: 1000, normal: 1000, low: 1000, background: 2000 };
    const n = candidate({ report: r8, demand });
    expect(scoreNode(settings, { tier: 'high', requestMillis: 0 }, n)).toBe(8); // 6000 of 8000 left
    expect(scoreNode(settings, { tier: 'low', requestMillis: 0 }, n)).toBe(5);
    expect(scoreNode(settings, { tier: 'background', requestMillis: 0 }, n)).toBe(3); // 2000 of 8000
    expect(scoreNode(settings, { tier: 'background', requestMillis: 0 }, candidate({ report: r8, demand, margin: { ...NO_DEMAND, normal: 2000 } }))).toBe(0);
  });

  it('gives nodes without a trusted report 0 for Critical and High and the neutral score otherwise', () => {
    for (const report of [null, { ...r8, state: 'degraded' as const }]) {
      expect(scoreNode(settings, critical(0), candidate({ report }))).toBe(0);
      expect(scoreNode(settings, { tier: 'high', requestMillis: 0 }, candidate({ report }))).toBe(0);
      expect(scoreNode(settings, { tier: 'background', requestMillis: 0 }, candidate({ report }))).toBe(NEUTRAL_SCORE);
    }
    expect(scoreNode(settings, { tier: 'system', requestMillis: 0 }, candidate({ report: r8 }))).toBe(NEUTRAL_SCORE);
  });
});

describe('node report (the annotation, format 2)', () => {
  it('keeps format 1 first and round-trips', () => {
    const r = reportFor(8, [pod({ node: 'n', className: 'infera-critical', priority: 1_000_000, cpu: '1500m' })]);
    const text = serializeNodeReport(r);
    expect(text).toBe('{"critical":{"pods":1,"cpuMillis":1500},"high":{"pods":0,"cpuMillis":0},"normal":{"pods":0,"cpuMillis":0},"low":{"pods":0,"cpuMillis":0},"background":{"pods":0,"cpuMillis":0},"v":2,"gen":1,"at":"2026-12-01T10:00:00Z","state":"enforcing","fence":{"ownableCores":7,"fenced":2,"cores":8,"unownedCores":1,"cpus":8,"threadsPerCore":1}}');
    expect(parseNodeReport(text)).toEqual({ ok: true, report: r });
  });

  it.each([
    ['', 'not JSON'],
    ['[1]', 'not a JSON object'],
    ['{"critical":{"pods":0,"cpuMillis":0}}', 'format 1'],
    ['{"v":"2"}', 'unknown format'],
    [serializeNodeReport(reportFor(8)).replace('"at":"2026-12-01T10:00:00Z"', '"at":"yesterday"'), 'at:'],
    [serializeNodeReport(reportFor(8)).replace('"enforcing"', '"happy"'), 'state:'],
    [serializeNodeReport(reportFor(8)).replace('"threadsPerCore":1', '"threadsPerCore":0'), 'fence:'],
    [serializeNodeReport(reportFor(8)).replace('"cpuMillis":0', '"cpuMillis":-1'), 'must have integer pods'],
  ])('refuses %j with a reason', (text, why) => {
    const parsed = parseNodeReport(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toContain(why);
  });

  it('ignores unknown fields', () => {
    const text = serializeNodeReport(reportFor(8)).replace('"v":2', '"v":2,"future":{"x":1}');
    expect(parseNodeReport(text).ok).toBe(true);
  });
});

// Random nodes: CPUs, reserve, SMT; random pods of every tier already on them; a random pod to place.
const CLASS_OF: Record<Tier, [string, number]> = {
  critical: ['infera-critical', 1_000_000], high: ['infera-high', 100_000], normal: ['infera-normal', 0],
  low: ['infera-low', -100], background: ['infera-background', -101],
};
const podArb = fc.record({
  tier: fc.constantFrom<Tier>(...TIERS, 'critical', 'critical'),
  millis: fc.oneof(fc.constantFrom(0, 1, 500, 999, 1000, 1001, 2000), fc.integer({ min: 0, max: 20_000 })),
  phase: fc.constantFrom('Running', 'Running', 'Pending', 'Succeeded'),
});
const toPod = (r: { tier: Tier; millis: number; phase: string }, i: number, nodeName: string | null): PodInfo => {
  const [className, priority] = CLASS_OF[r.tier];
  return podFromObject({
    kind: 'Pod', metadata: { name: `p${i}`, namespace: 'default', uid: uidOf(i + 1) },
    spec: { ...(nodeName === null ? {} : { nodeName }), priorityClassName: className, priority, containers: [{ name: 'c', resources: { requests: { cpu: `${r.millis}m` } } }] },
    status: { phase: r.phase },
  }, `pod ${i}`);
};
const scenario = fc.record({
  cpus: fc.integer({ min: 1, max: 96 }),
  reserved: fc.integer({ min: 0, max: 4 }),
  tpc: fc.constantFrom(1, 2, 4),
  existing: fc.array(podArb, { maxLength: 30 }),
  incoming: podArb,
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function setUp(s: Scenario) {
  const policy = policyFromObject({ node: { reserved_cpus: s.reserved, threads_per_core: s.tpc } }, 'random');
  const node = nodeFromObject(nodeObject('n', String(s.cpus)), 'n');
  const existing = s.existing.map((r, i) => toPod(r, i, 'n'));
  const incoming = toPod({ ...s.incoming, phase: 'Pending' }, s.existing.length, null);
  const agentNow = plan(policy, node, existing);
  const report = nodeReportOf(agentNow, { state: 'enforcing', generation: 1, at: AT });
  // The extender's view: demand from the bound pods, classified by core, like its pod informer.
  const demand = demandOf(classifyAll(policy, existing).placed);
  const [placed] = classifyAll(policy, [incoming]).placed;
  if (placed === undefined) throw new Error('incoming pod not classified');
  const pod: IncomingPod = { tier: placed.assignment.tier, requestMillis: placed.requestMillis };
  const cand = candidate({ report, demand, allocatableMillis: node.cpuAllocatableMillis });
  return { policy, node, existing, incoming, pod, cand, agentNow };
}

describe('placement agrees with the agent\'s sizing on random nodes', { timeout: 120_000 }, () => {
  it('a Critical pod passes the filter exactly when the agent, given it, would keep Critical fenced', () => {
    let fits = 0;
    let refused = 0;
    fc.assert(fc.property(scenario, (s) => {
      const { policy, node, existing, incoming, pod: p, cand } = setUp({ ...s, incoming: { ...s.incoming, tier: 'critical' } });
      const after = plan(policy, node, [...existing, { ...incoming, nodeName: 'n' }]);
      const verdict = filterNode(settings, p, cand);
      expect(verdict.fits).toBe(!after.criticalDemoted);
      if (verdict.fits) fits++;
      else {
        refused++;
        expect(verdict).toMatchObject({ unresolvable: true });
      }
    }), { numRuns: 400 });
    expect(fits).toBeGreaterThan(40); // both outcomes were really exercised
    expect(refused).toBeGreaterThan(40);
  });

  it('the published fence is the agent\'s: cores fenced never exceed capacity, and match its Critical layer', () => {
    fc.assert(fc.property(scenario, (s) => {
      const { agentNow, cand } = setUp(s);
      const fence = cand.report?.fence;
      expect(fence?.fenced).toBeLessThanOrEqual(fence?.ownableCores ?? 0);
      const layer = agentNow.layers.find((l) => l.name === 'critical');
      if (layer === undefined || layer.demoted) expect(fence?.fenced).toBe(0);
      else expect((fence?.fenced ?? 0) * (fence?.threadsPerCore ?? 1)).toBe(layer.cpusRange?.[0]);
      expect(cand.demand.critical).toBe(agentNow.distribution.critical.cpuMillis);
    }), { numRuns: 300 });
  });

  it('scores stay in 0..10, never rise with more demand, and every tier but Critical always passes', () => {
    fc.assert(fc.property(scenario, fc.constantFrom<Tier>(...TIERS), fc.integer({ min: 0, max: 8000 }), (s, tier, extra) => {
      const { pod: p, cand } = setUp(s);
      const q = { ...p, tier };
      const score = scoreNode(settings, q, cand);
      expect(score).toBeGreaterThanOrEqual(0);
      expect(score).toBeLessThanOrEqual(10);
      expect(Number.isInteger(score)).toBe(true);
      const busier = { ...cand, demand: Object.fromEntries(TIERS.map((t) => [t, cand.demand[t] + extra])) as TierMillis };
      expect(scoreNode(settings, q, busier)).toBeLessThanOrEqual(score);
      if (tier !== 'critical') expect(filterNode(settings, q, cand).fits).toBe(true);
    }), { numRuns: 300 });
  });
});
