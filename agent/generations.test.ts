import { describe, expect, it } from 'vitest';
import { defaultPolicy } from '../core/config.ts';
import { plan } from '../core/plan.ts';
import { node, pod, uidOf } from '../test/builders.ts';
import { GenerationStore } from './generations.ts';

// placement = "hints" (the default): pods come and go under one config.
const policy = defaultPolicy();
const worker = node('worker-1', '8');
const web = pod({ name: 'web', namespace: 'shop', uid: uidOf(1), node: 'worker-1', qos: 'Burstable', cpu: '100m' });
const batch = pod({ name: 'batch', namespace: 'jobs', uid: uidOf(2), node: 'worker-1', qos: 'BestEffort' });
const low = pod({ name: 'report', namespace: 'jobs', uid: uidOf(3), node: 'worker-1', qos: 'BestEffort', className: 'infera-low', priority: -50 });
const db = pod({ name: 'db', namespace: 'shop', uid: uidOf(4), node: 'worker-1', priority: 1_000_000, qos: 'Guaranteed', cpu: '1', cpuLimit: '1' });
const at = (minute: number): Date => new Date(Date.UTC(2026, 11, 3, 12, minute));
const names = (rows: readonly { name: string }[]): string[] => rows.map((r) => r.name).sort();

describe('GenerationStore', () => {
  it('a plan with the same config bytes is no new generation, but the current one follows its pods', () => {
    const s = new GenerationStore();
    const first = s.record(plan(policy, worker, [web, low]), at(0));
    expect(first?.number).toBe(1);
    const p2 = plan(policy, worker, [web, batch, low]);
    expect(p2.configSha256).toBe(first?.sha256);
    expect(s.record(p2, at(1))).toBeNull();
    const cur = s.current();
    expect(cur).toMatchObject({ number: 1, createdAt: at(0).toISOString(), sha256: first?.sha256 });
    expect(names(cur?.assignments ?? [])).toEqual(['batch', 'report', 'web']);
    expect(cur?.distribution).toEqual(p2.distribution);
    expect(cur?.moves.map((m) => [m.name, m.from, m.to])).toEqual([['batch', null, 'background'], ['report', null, 'low'], ['web', null, 'normal']]);
    expect(s.list()).toHaveLength(1);
  });

  it('a new config is a new generation; the replaced one keeps the pods of its last moment, the moves are since it', () => {
    const s = new GenerationStore();
    s.record(plan(policy, worker, [web]), at(0));
    s.record(plan(policy, worker, [web, batch]), at(1));
    const second = s.record(plan(policy, worker, [web, batch, db]), at(2));
    expect(second?.number).toBe(2);
    expect(names(s.get(1)?.assignments ?? [])).toEqual(['batch', 'web']);
    s.record(plan(policy, worker, [web, db]), at(3)); // batch leaves: Background's layer is always there, same config
    expect(s.current()?.number).toBe(2);
    expect(names(s.current()?.assignments ?? [])).toEqual(['db', 'web']);
    expect(s.current()?.moves.map((m) => [m.name, m.from, m.to])).toEqual([['batch', 'background', null], ['db', null, 'critical']]);
  });

  it('tells subscribers of the current generation\'s changes under the same config, and of nothing when nothing changed', () => {
    const s = new GenerationStore();
    const seen: [number, string[]][] = [];
    s.subscribe((g) => seen.push([g.number, names(g.assignments)]));
    s.record(plan(policy, worker, [web]), at(0));
    s.record(plan(policy, worker, [web]), at(1)); // the same plan again: nothing to tell
    s.record(plan(policy, worker, [web, batch]), at(2)); // batch arrives under the same config
    s.record(plan(policy, worker, [web, batch, db]), at(3)); // a new generation
    expect(seen).toEqual([[1, ['web']], [1, ['batch', 'web']], [2, ['batch', 'db', 'web']]]);
  });
});
