// The extender's cluster view: demand kept per pod event, reports parsed once and aged by when
// they were seen to change.
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { nodeObject, podObject } from '../test/builders.ts';
import { defaultPolicy } from '../core/config.ts';
import { nodeReportOf, serializeNodeReport } from '../core/node-report.ts';
import { nodeFromObject } from '../core/objects.ts';
import { NO_DEMAND } from '../core/placement.ts';
import { plan } from '../core/plan.ts';
import { ClusterView } from './cluster.ts';

const policy = defaultPolicy();

function node(name: string, at: string, extra: Record<string, string> = {}): V1Node {
  const obj = nodeObject(name, '8');
  const report = serializeNodeReport(nodeReportOf(plan(policy, nodeFromObject(obj, name), []), { state: 'enforcing', generation: 1, at }));
  return { ...obj, metadata: { name, annotations: { 'infera.io/qos-distribution': report, ...extra } } } as V1Node;
}

describe('ClusterView', () => {
  it('sums demand by tier from bound, live pods only, and follows moves and deletes', () => {
    const settled: string[] = [];
    const view = new ClusterView(policy, () => 0, (uid) => settled.push(uid));
    const crit = podObject({ name: 'c', className: 'infera-critical', priority: 1_000_000, cpu: '1500m', node: null }) as V1Pod;
    view.podEvent('add', crit);
    expect(view.candidate('n1', NO_DEMAND).demand).toEqual(NO_DEMAND); // pending: not on any node
    view.podEvent('update', { ...crit, spec: { ...crit.spec, nodeName: 'n1' } } as V1Pod);
    expect(view.candidate('n1', NO_DEMAND).demand.critical).toBe(1500);
    expect(settled).toContain(crit.metadata?.uid);
    const sys = podObject({ name: 's', className: 'system-node-critical', priority: 2_000_001_000, cpu: '1', node: 'n1' }) as V1Pod;
    const bg = podObject({ name: 'b', className: 'infera-background', priority: -101, cpu: '2', node: 'n1' }) as V1Pod;
    view.podEvent('add', sys);
    view.podEvent('add', bg);
    expect(view.candidate('n1', NO_DEMAND).demand).toEqual({ ...NO_DEMAND, critical: 1500, background: 2000 });
    view.podEvent('update', { ...bg, status: { phase: 'Succeeded' } } as V1Pod);
    view.podEvent('delete', crit);
    expect(view.candidate('n1', NO_DEMAND).demand).toEqual(NO_DEMAND);
    expect(view.podCount).toBe(0);
  });

  it('ages a report from when it was seen to change, and from `at` when it was already there', () => {
    let now = Date.parse('2026-12-01T10:10:00Z');
    const view = new ClusterView(policy, () => now, () => {});
    view.nodeEvent('add', node('n1', '2026-12-01T10:00:00Z'));
    expect(view.candidate('n1', NO_DEMAND).reportAgeMs).toBe(600_000);
    now += 1000;
    // A heartbeat from an agent whose clock is an hour behind: the change itself is what counts.
    view.nodeEvent('update', node('n1', '2026-12-01T09:10:00Z'));
    now += 2000;
    expect(view.candidate('n1', NO_DEMAND).reportAgeMs).toBe(2000);
    // Another field changing (a label, another annotation) does not refresh it.
    now += 5000;
    view.nodeEvent('update', node('n1', '2026-12-01T09:10:00Z', { other: 'x' }));
    expect(view.candidate('n1', NO_DEMAND).reportAgeMs).toBe(7000);
  });

  it('treats a missing, format 1 or garbled annotation as no report, and counts them', () => {
    const view = new ClusterView(policy, () => 0, () => {});
    view.nodeEvent('add', nodeObject('plain', '4') as V1Node);
    view.nodeEvent('add', { ...nodeObject('old', '4'), metadata: { name: 'old', annotations: { 'infera.io/qos-distribution': '{"critical":{"pods":0,"cpuMillis":0}}' } } } as V1Node);
    view.nodeEvent('add', { ...nodeObject('bad', '4'), metadata: { name: 'bad', annotations: { 'infera.io/qos-distribution': '{' } } } as V1Node);
    view.nodeEvent('add', node('ok', '2026-12-01T10:00:00Z'));
    expect(view.reportCounts()).toEqual({ ok: 1, absent: 1, unreadable: 2 });
    expect(view.candidate('old', NO_DEMAND).report).toBeNull();
    expect(view.reportProblem('old')).toContain('format 1');
    expect(view.candidate('ok', NO_DEMAND)).toMatchObject({ allocatableMillis: 8000, report: { state: 'enforcing' } });
    // An agent still writing the other honoured prefix (the rename migration) is read too.
    const renamed = node('renamed', '2026-12-01T10:00:00Z');
    const value = renamed.metadata?.annotations?.['infera.io/qos-distribution'] ?? '';
    view.nodeEvent('add', { ...renamed, metadata: { name: 'renamed', annotations: { 'temper.codes/qos-distribution': value } } });
    expect(view.candidate('renamed', NO_DEMAND).report).not.toBeNull();
    view.nodeEvent('delete', node('ok', ''));
    expect(view.candidate('ok', NO_DEMAND).report).toBeNull();
  });
});
