// The views both APIs return, and their proto messages, straight from generations.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { plan } from '../core/plan.ts';
import { cgroupPolicy, node, pod, uidOf } from '../test/builders.ts';
import { checkGolden } from '../test/golden-file.ts';
import { GenerationStore } from './generations.ts';
import {
  NO_GENERATION_YET, currentGeneration, diffMessage, diffView, findDiff, findGeneration, generationMessage, generationView,
  parseGenerationNumber, podRowView, statusMessage, statusView, summaryMessage, summaryView,
} from './views.ts';
import { tierRowOf } from '../core/plan.ts';

const policy = cgroupPolicy();
const small = node('small', '2');
const big = pod({ name: 'big', namespace: 'shop', uid: uidOf(1), node: 'small', priority: 1_000_000, qos: 'Guaranteed', cpu: '3', cpuLimit: '3' });
const web = pod({ name: 'web', namespace: 'shop', uid: uidOf(2), node: 'small', qos: 'Burstable', cpu: '250m' });
const at = new Date(Date.UTC(2025, 5, 1));

function filled(): GenerationStore {
  const store = new GenerationStore();
  store.record(plan(policy, small, [web]), at);
  store.record(plan(policy, small, [web, big]), at);
  return store;
}

describe('parseGenerationNumber', () => {
  it.each([
    ['1', 1],
    ['42', 42],
    [String(Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER],
  ])('accepts %s', (text, want) => {
    expect(parseGenerationNumber(text, 'n')).toEqual({ ok: true, value: want });
  });

  it.each([
    [undefined, 'n: a generation number is required'],
    ['', 'n: a generation number is required'],
    ['0', 'n: invalid generation number 0: generation numbers start at 1'],
    ['-3', 'n: invalid generation number "-3": want a whole number ≥ 1'],
    ['1e3', 'n: invalid generation number "1e3": want a whole number ≥ 1'],
    [' 1', 'n: invalid generation number " 1": want a whole number ≥ 1'],
    ['9007199254740992', 'n: invalid generation number 9007199254740992: too large'],
  ])('rejects %j', (text, message) => {
    expect(parseGenerationNumber(text, 'n')).toEqual({ ok: false, failure: { kind: 'invalid', message } });
  });
});

describe('lookups', () => {
  it('word the missing cases once for both APIs', () => {
    const empty = new GenerationStore();
    expect(currentGeneration(empty)).toEqual({ ok: false, failure: { kind: 'unavailable', message: NO_GENERATION_YET } });
    expect(findGeneration(empty, 1)).toEqual({ ok: false, failure: { kind: 'unavailable', message: NO_GENERATION_YET } });
    const store = filled();
    expect(findGeneration(store, 3)).toEqual({ ok: false, failure: { kind: 'not-found', message: 'generation 3 does not exist: the newest is 2' } });
    expect(findDiff(store, 1, 5)).toEqual({ ok: false, failure: { kind: 'not-found', message: 'generation 5 does not exist: the newest is 2' } });
    const diff = findDiff(store, 1, 2);
    expect(diff).toEqual({ ok: true, value: store.diff(1, 2) });
    expect(diff.ok && diff.value.layers.map((l) => [l.layer, l.change])).toEqual([['critical', 'added'], ['shared', 'added'], ['normal', 'removed']]);
  });
});

describe('views', () => {
  it('a generation view has a fixed key order, nulls for absent values and a normalised distribution', () => {
    const g = filled().current();
    if (g === null) throw new Error('no generation');
    const v = generationView(g);
    expect(JSON.stringify(generationView(g))).toBe(JSON.stringify(v));
    expect(Object.keys(v.layers[0] ?? {})).toEqual([
      'name', 'tier', 'kind', 'pods', 'requestMillis', 'limitMillis', 'cpusRange', 'utilRange', 'weight', 'sliceUs',
      'protected', 'preempt', 'exclusive', 'match', 'demoted', 'notes',
    ]);
    expect(v.criticalDemoted).toBe(true);
    expect(v.distribution.critical).toEqual({ pods: 1, cpuMillis: 3000, demoted: true });
    expect(v.distribution.normal).toEqual({ pods: 1, cpuMillis: 250, demoted: false });
    const critical = v.layers.find((l) => l.name === 'critical');
    expect(critical).toMatchObject({ kind: 'Grouped', demoted: true, limitMillis: 3000 });
    expect(critical?.notes.some((n) => n.includes('demoted to Grouped'))).toBe(true);
    const shared = v.layers.find((l) => l.name === 'shared'); // Normal owns no core once Critical holds the ownable one
    expect(shared).toMatchObject({ tier: null, kind: 'Open', pods: 1 });
    expect(shared?.limitMillis).toBeNull(); // web has no CPU limit
    expect(v.layers.find((l) => l.name === 'catchall')).toMatchObject({ tier: null, cpusRange: null, match: 'catch-all' });
    expect(summaryView(g)).toEqual({ number: 2, createdAt: at.toISOString(), sha256: g.sha256, moves: [{ namespace: 'shop', name: 'big', uid: uidOf(1), from: null, to: 'critical' }] });
  });

  it('the proto messages carry the same values, with absent fields for nulls and JSON text for field values', () => {
    const store = filled();
    const g = store.current();
    if (g === null) throw new Error('no generation');
    const m = generationMessage(generationView(g));
    expect(m.moves).toEqual([{ namespace: 'shop', name: 'big', uid: uidOf(1), from: undefined, to: 'critical' }]);
    expect(m.layers?.find((l) => l.name === 'normal')?.limitMillis).toBeUndefined();
    expect(m.layers?.find((l) => l.name === 'system')?.tier).toBeUndefined();
    expect(m.distribution?.critical).toEqual({ pods: 1, cpuMillis: 3000, demoted: true });
    expect(summaryMessage(summaryView(g)).moves).toEqual(m.moves);

    const grown = plan(policy, small, [{ ...web, containers: big.containers }, big]);
    store.record(grown, at);
    const d = store.diff(2, 3);
    if (d === null) throw new Error('no diff');
    const dm = diffMessage(diffView(d));
    const fields = diffView(d).layers.flatMap((l) => l.fields);
    expect(fields.length).toBeGreaterThan(0);
    expect(dm.layers?.flatMap((l) => l.fields)).toEqual(fields.map((f) => ({ path: f.path, before: JSON.stringify(f.before), after: JSON.stringify(f.after) })));

    expect(statusMessage({ node: 'n', state: 'starting', message: '', generation: null, sha256: null, warnings: [] })).toEqual({ node: 'n', state: 'starting', message: '', generation: undefined, sha256: undefined, warnings: [] });
    expect(statusView({ node: 'n', state: 'degraded', message: 'm', generation: 3, sha256: 'ff', warnings: [] })).toEqual({ node: 'n', state: 'degraded', message: 'm', generation: 3, sha256: 'ff', warnings: [] });
    // hints placement only: the placer's summary, last, in a fixed key order
    const placement = { misplacedThreads: { low: 2 }, hintedThreads: 9, hintedPods: 3, mode: 'hints' } as const;
    const withPlacement = statusView({ node: 'n', state: 'enforcing', message: 'm', generation: 3, sha256: 'ff', warnings: [], placement });
    expect(JSON.stringify(withPlacement)).toBe('{"node":"n","state":"enforcing","message":"m","generation":3,"sha256":"ff","warnings":[],"placement":{"mode":"hints","hintedPods":3,"hintedThreads":9,"misplacedThreads":{"low":2}}}');
    expect(Object.keys(statusView({ node: 'n', state: 'enforcing', message: 'm', generation: 3, sha256: 'ff', warnings: [] }))).not.toContain('placement');
    // the gRPC message carries the same summary, and no key at all in cgroup placement
    expect(statusMessage({ node: 'n', state: 'enforcing', message: 'm', generation: 3, sha256: 'ff', warnings: [], placement }).placement).toEqual(withPlacement.placement);
    expect(Object.keys(statusMessage({ node: 'n', state: 'enforcing', message: 'm', generation: 3, sha256: 'ff', warnings: [] }))).not.toContain('placement');
    const w = { code: 'tier-unowned', tier: 'normal', message: 'Normal owns no CPU' } as const;
    const node = { code: 'node-too-small', tier: null, message: 'too small' } as const;
    expect(statusMessage({ node: 'n', state: 'enforcing', message: '', generation: 1, sha256: 'ff', warnings: [w, node] }).warnings).toEqual([w, { code: 'node-too-small', tier: undefined, message: 'too small' }]);
  });
});

describe('the wire format', () => {
  it('is byte for byte test/wire/agent-api.json (recorded before the views were derived from core\'s types)', () => {
    const store = filled();
    store.record(plan(policy, small, [{ ...web, containers: big.containers }, big]), at);
    const current = store.current();
    const diff = store.diff(1, 3);
    if (current === null || diff === null) throw new Error('no generation');
    const wire = {
      status: statusView({ node: 'small', state: 'enforcing', message: 'ok', generation: 3, sha256: current.sha256, warnings: current.warnings }),
      generations: store.list().map(summaryView),
      generation: generationView(current),
      diff: diffView(diff),
      messages: { generation: generationMessage(generationView(current)), diff: diffMessage(diffView(diff)) },
    };
    checkGolden(join(import.meta.dirname, '..', 'test', 'wire', 'agent-api.json'), `${JSON.stringify(wire, null, 2)}\n`);
  });
});

describe('podRowView', () => {
  const mysql = pod({
    name: 'db', namespace: 'shop', uid: uidOf(7), node: 'small', priority: 1_000_000, qos: 'Guaranteed',
    containers: [{ name: 'mysql', image: 'mysql:8.4', resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } } }],
  });
  const p = plan(policy, node('small', '4'), [mysql, web]);
  const row = (name: string, threads: Parameters<typeof podRowView>[3]) => {
    const x = p.pods.find((y) => y.pod.name === name)!;
    return podRowView(tierRowOf(x), p.profiles.selections.find((s) => s.uid === x.pod.uid), p.profiles.rendering.pods.find((s) => s.uid === x.pod.uid), threads);
  };

  it('a profiled pod: its profile, chosen how and why, and each group where it runs with the threads last seen in it', () => {
    const r = row('db', new Map([['connections', [{ tid: 12, comm: 'connection' }]], ['housekeeping', [{ tid: 9, comm: 'ib_srv_purge' }]]]));
    expect(Object.keys(r)).toEqual(['namespace', 'name', 'uid', 'tier', 'layer', 'priority', 'qosClass', 'reason', 'hint', 'profile']);
    expect(r.profile).toMatchObject({ name: 'mysql-innodb', by: 'image' });
    expect(r.profile?.reason).toContain('mysql:8.4');
    expect(r.profile?.groups.map((g) => Object.keys(g))[0]).toEqual(['group', 'treatment', 'status', 'layer', 'hint', 'cores', 'code', 'reason', 'threads']);
    // a 1-CPU Critical pod on a 4-CPU node: no whole core to carve for exclusive and latency, housekeeping yields
    expect(r.profile?.groups.map((g) => [g.group, g.treatment, g.status, g.layer, g.code, g.threads])).toEqual([
      ['connections', 'exclusive', 'degraded', 'critical', 'cores', [{ tid: 12, comm: 'connection' }]],
      ['innodb-io', 'latency', 'degraded', 'critical', 'cores', []],
      ['housekeeping', 'yield', 'applied', 'yield', null, [{ tid: 9, comm: 'ib_srv_purge' }]],
    ]);
  });

  it('threads are null when the agent has not read them, and an unprofiled pod has no profile', () => {
    expect(row('db', null).profile?.groups.every((g) => g.threads === null)).toBe(true);
    expect(row('web', null).profile).toBeNull();
  });
});
