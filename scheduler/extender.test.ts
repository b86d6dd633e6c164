// The extender's HTTP contract, driven over a real socket: the wire names kube-scheduler's
// extender/v1 types use, the margin for pods placed but not yet bound, and 400s with reasons.
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeObject, podObject } from '../test/builders.ts';
import { silentLogger } from '../adapters/log.ts';
import { defaultPolicy } from '../core/config.ts';
import { nodeReportOf, serializeNodeReport } from '../core/node-report.ts';
import { nodeFromObject } from '../core/objects.ts';
import { plan } from '../core/plan.ts';
import { ClusterView } from './cluster.ts';
import type { RunningExtender } from './extender.ts';
import { URL_PREFIX, listenExtender } from './extender.ts';
import { Placements } from './placements.ts';

const policy = defaultPolicy();
let now = Date.parse('2026-12-01T10:00:00Z');
const clock = (): number => now;
const placements = new Placements(5000, clock);
const view = new ClusterView(policy, clock, (uid) => placements.settled(uid));
let ext: RunningExtender;
let base: string;

/** A Node object carrying the report an enforcing agent publishes for an empty node of `cpus`. */
function managedNode(name: string, cpus: number, state = 'enforcing'): V1Node {
  const obj = nodeObject(name, String(cpus));
  const report = nodeReportOf(plan(policy, nodeFromObject(obj, name), []), { state: state as 'enforcing', generation: 1, at: new Date(now).toISOString() });
  return { ...obj, metadata: { name, annotations: { 'infera.io/qos-distribution': serializeNodeReport(report) } } } as V1Node;
}

const criticalPod = (name: string, cpu: string, node?: string): Record<string, unknown> => podObject({ name, className: 'infera-critical', priority: 1_000_000, cpu, node: node ?? null });

async function post(verb: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${base}${URL_PREFIX}/${verb}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

beforeAll(async () => {
  // 4 CPUs, one core always unowned: 3 fenceable cores. 8 CPUs: 7. A node in safe mode, one without an agent.
  view.nodeEvent('add', managedNode('small', 4));
  view.nodeEvent('add', managedNode('big', 8));
  view.nodeEvent('add', managedNode('safe', 8, 'safe-mode'));
  view.nodeEvent('add', nodeObject('plain', '8') as V1Node);
  ext = await listenExtender({ view, placements, settings: { staleAfterMs: 900_000 }, ready: () => true, log: silentLogger }, '127.0.0.1', 0);
  base = `http://127.0.0.1:${ext.port}`;
});
afterAll(async () => { await ext.close(); });

describe('filter', () => {
  it('answers in the extender/v1 field names, NodeNames always an array', async () => {
    const { status, json } = await post('filter', { Pod: criticalPod('c1', '4'), Nodes: null, NodeNames: ['small', 'big', 'safe', 'plain'] });
    expect(status).toBe(200);
    expect(json).toEqual({
      Nodes: null,
      NodeNames: ['big', 'plain'],
      FailedNodes: { safe: 'temper: the Temper agent on node safe is safe-mode, not enforcing' },
      FailedAndUnresolvableNodes: { small: 'temper: Critical would need 4 fenced cores on node small, which can fence 3' },
      Error: '',
    });
    const none = await post('filter', { Pod: criticalPod('c1', '30'), NodeNames: ['small'] });
    expect((none.json as { NodeNames: unknown }).NodeNames).toEqual([]);
  });

  it('passes every node for other tiers', async () => {
    const { json } = await post('filter', { Pod: podObject({ name: 'bg', className: 'infera-background', priority: -101, cpu: '64', node: null }), NodeNames: ['small', 'safe'] });
    expect(json).toMatchObject({ NodeNames: ['small', 'safe'], FailedNodes: {}, FailedAndUnresolvableNodes: {} });
  });

  it('counts a Critical pod passed moments ago against its nodes until it is seen bound', async () => {
    const first = criticalPod('first', '1500m');
    const second = criticalPod('second', '1500m');
    expect((await post('filter', { Pod: first, NodeNames: ['small'] })).json).toMatchObject({ NodeNames: ['small'] });
    // The fence has 3 cores; 'first' is in flight with 1500m: 'second' still fits (3 cores ≤ 3) ...
    expect((await post('filter', { Pod: second, NodeNames: ['small'] })).json).toMatchObject({ NodeNames: ['small'] });
    // ... a third would need 5 counting both in flight: refused, resolvable.
    const third = await post('filter', { Pod: criticalPod('third', '1500m'), NodeNames: ['small'] });
    expect(third.json).toMatchObject({ NodeNames: [], FailedNodes: { small: 'temper: Critical would need 5 fenced cores on node small, which can fence 3, counting 3000m of Critical pods placed moments ago' } });
    // Both bind: now the fence is full for real, and the refusal is unresolvable.
    for (const p of [first, second]) view.podEvent('add', { ...p, spec: { ...(p.spec as object), nodeName: 'small' } } as V1Pod);
    const after = await post('filter', { Pod: criticalPod('third', '1500m'), NodeNames: ['small'] });
    expect(after.json).toMatchObject({ NodeNames: [], FailedAndUnresolvableNodes: { small: 'temper: Critical would need 5 fenced cores on node small, which can fence 3' } });
    for (const p of [first, second]) view.podEvent('delete', p as V1Pod);
  });

  it('forgets a margin after its time to live', async () => {
    const p = criticalPod('slow', '3');
    await post('filter', { Pod: p, NodeNames: ['small'] });
    expect((await post('filter', { Pod: criticalPod('next', '1'), NodeNames: ['small'] })).json).toMatchObject({ NodeNames: [] });
    now += 5000;
    expect((await post('filter', { Pod: criticalPod('next', '1'), NodeNames: ['small'] })).json).toMatchObject({ NodeNames: ['small'] });
  });

  it('accepts full Nodes (nodeCacheCapable off) and answers with Nodes', async () => {
    const nodes = { items: [nodeObject('small', '4'), nodeObject('big', '8')] };
    const { json } = await post('filter', { Pod: criticalPod('c2', '4'), Nodes: nodes, NodeNames: null });
    expect(json).toMatchObject({ NodeNames: null, Nodes: { items: [expect.objectContaining({ metadata: { name: 'big' } })] } });
  });

  it.each([
    ['not json', 'request body is not JSON'],
    ['[]', 'request body must be a JSON object'],
    [{ NodeNames: ['a'] }, 'Pod is required'],
    [{ Pod: podObject({ cpu: 'lots' }), NodeNames: ['a'] }, 'Pod: spec.containers[0].resources.requests.cpu'],
    [{ Pod: podObject(), NodeNames: 'a' }, 'NodeNames must be an array'],
    [{ Pod: podObject() }, 'NodeNames (nodeCacheCapable: true) or Nodes.items is required'],
    [{ Pod: podObject(), Nodes: { items: [{}] } }, 'Nodes.items[0].metadata.name is required'],
  ])('refuses %j with 400 and the reason', async (body, why) => {
    for (const verb of ['filter', 'prioritize']) {
      const { status, json } = await post(verb, body);
      expect(status).toBe(400);
      expect((json as { error: string }).error).toContain(why);
    }
  });
});

describe('prioritize', () => {
  it('scores every node 0..10 as a bare HostPriorityList', async () => {
    const { status, json } = await post('prioritize', { Pod: criticalPod('c3', '1'), NodeNames: ['small', 'big', 'plain'] });
    expect(status).toBe(200);
    // small: 2 of 3 cores left → 7; big: 6 of 7 → 9; plain has no agent → 0.
    expect(json).toEqual([{ Host: 'small', Score: 7 }, { Host: 'big', Score: 9 }, { Host: 'plain', Score: 0 }]);
  });

  it('spreads Background by the CPU left, counting a pod just prioritized on its best node', async () => {
    const bg = (name: string): Record<string, unknown> => podObject({ name, className: 'infera-background', priority: -101, cpu: '4', node: null });
    const first = bg('bg1');
    await post('filter', { Pod: first, NodeNames: ['small', 'big'] });
    expect((await post('prioritize', { Pod: first, NodeNames: ['small', 'big'] })).json).toEqual([{ Host: 'small', Score: 0 }, { Host: 'big', Score: 5 }]);
    // bg1 is expected on big until seen bound: the next one sees big with 4 CPUs less.
    expect((await post('prioritize', { Pod: bg('bg2'), NodeNames: ['small', 'big'] })).json).toEqual([{ Host: 'small', Score: 0 }, { Host: 'big', Score: 0 }]);
  });
});

describe('health', () => {
  it('serves /healthz, /readyz and metrics', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/temper_scheduler_requests_total\{verb="filter",outcome="invalid"\} [1-9]/);
    expect(metrics).toContain('temper_scheduler_nodes{report="absent"} 1');
    expect(metrics).toContain('temper_scheduler_filter_verdicts_total{tier="critical",verdict="unresolvable"}');
  });
});
