// Scheduler benchmark (docs/scheduling.md). Two parts, each repeated and interleaved:
// 1. the extender alone: one filter + one prioritize round trip over loopback HTTP (the same
//    express app kube-scheduler calls), for clusters of 100 and 1000 nodes whose agents report
//    and whose pods are indexed; p50/p99 per round, and the spread of the rounds;
// 2. the real kube-scheduler: pods/s bound by a second scheduler with the extender and by one
//    without it (the baseline), side by side on the same control plane and 100 nodes, in
//    alternating batches; the ratio with its spread.
// Run: npm run bench:scheduler [-- --rounds 5 --calls 300 --pods 150 --batches 3]
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { CoreV1Api } from '@kubernetes/client-node';
import { silentLogger } from '../adapters/log.ts';
import { defaultPolicy } from '../core/config.ts';
import { nodeReportOf, serializeNodeReport } from '../core/node-report.ts';
import { nodeFromObject } from '../core/objects.ts';
import { plan } from '../core/plan.ts';
import { createSchedulableNode, ensureNamespace, startControlPlane, startExtraScheduler } from '../dev/controlplane/controlplane.ts';
import { installPriorityClasses } from '../dev/harness/webhook.ts';
import { ClusterView } from '../scheduler/cluster.ts';
import { URL_PREFIX, listenExtender } from '../scheduler/extender.ts';
import { Placements } from '../scheduler/placements.ts';
import { startExtender } from '../scheduler/run.ts';

const { values } = parseArgs({ options: {
  rounds: { type: 'string', default: '5' }, calls: { type: 'string', default: '300' },
  pods: { type: 'string', default: '150' }, batches: { type: 'string', default: '3' }, nodes: { type: 'string', default: '100' },
  'skip-scheduler': { type: 'boolean', default: false },
} });
const rounds = Number(values.rounds);
const calls = Number(values.calls);
const policy = defaultPolicy();
const TIERS = [['infera-critical', 1_000_000], ['infera-normal', 0], ['infera-background', -101]] as const;

function reportFor(name: string, cpus: number): string {
  const n = nodeFromObject({ kind: 'Node', metadata: { name }, status: { capacity: { cpu: String(cpus) } } }, name);
  return serializeNodeReport(nodeReportOf(plan(policy, n, []), { state: 'enforcing', generation: 1, at: new Date().toISOString() }));
}

function nodeBody(name: string, cpus: number, labels: Record<string, string> = {}): V1Node {
  const resources = { cpu: String(cpus), memory: '64Gi', pods: '250' };
  return { metadata: { name, labels, annotations: { 'infera.io/qos-distribution': reportFor(name, cpus) } }, status: { capacity: resources, allocatable: resources, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'bench' }] } };
}

function podBody(name: string, i: number, extra: Record<string, unknown> = {}): V1Pod {
  const [className, priority] = TIERS[i % TIERS.length] ?? TIERS[0];
  return {
    metadata: { name, namespace: 'bench', uid: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}` },
    spec: { priorityClassName: className, priority, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '10m', memory: '16Mi' } } }], ...extra },
  } as V1Pod;
}

const pct = (s: number[], p: number): number => s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? NaN;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const spread = (xs: number[]): string => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;

// Part 1: the extender alone, 100 and 1000 nodes, interleaved rounds.
async function extenderAt(size: number): Promise<{ base: string; close: () => Promise<void>; names: string[] }> {
  const placements = new Placements(5000, Date.now);
  const view = new ClusterView(policy, Date.now, (uid) => placements.settled(uid));
  const names = Array.from({ length: size }, (_, i) => `node-${i}`);
  for (const [i, name] of names.entries()) view.nodeEvent('add', nodeBody(name, [8, 16, 32, 64][i % 4] ?? 8));
  // Ten pods per node already bound, of every tier.
  for (let i = 0; i < size * 10; i++) view.podEvent('add', podBody(`bound-${i}`, i, { nodeName: names[i % size] }));
  const ext = await listenExtender({ view, placements, settings: { staleAfterMs: 900_000 }, ready: () => true, log: silentLogger }, '127.0.0.1', 0);
  return { base: `http://127.0.0.1:${ext.port}${URL_PREFIX}`, close: ext.close, names };
}

async function call(base: string, verb: string, body: string): Promise<void> {
  const res = await fetch(`${base}/${verb}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  if (res.status !== 200) throw new Error(`${verb}: HTTP ${res.status} ${await res.text()}`);
  await res.arrayBuffer();
}

async function roundOf(ext: { base: string; names: string[] }, offset: number): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const body = JSON.stringify({ Pod: podBody(`incoming-${offset + i}`, offset + i), Nodes: null, NodeNames: ext.names });
    const t0 = performance.now();
    await call(ext.base, 'filter', body);
    await call(ext.base, 'prioritize', body);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { p50: pct(times, 0.5), p99: pct(times, 0.99) };
}

const sizes = [100, 1000];
const exts = await Promise.all(sizes.map(extenderAt));
const lat: Record<number, { p50: number[]; p99: number[] }> = { 100: { p50: [], p99: [] }, 1000: { p50: [], p99: [] } };
for (const [k, ext] of exts.entries()) await roundOf(ext, 1_000_000 * (k + 1)); // warm-up
for (let r = 0; r < rounds; r++) {
  for (const [k, size] of sizes.entries()) {
    const ext = exts[k];
    if (ext === undefined) continue;
    const { p50, p99 } = await roundOf(ext, 10_000 * (r + 1) + 100_000 * k);
    lat[size]?.p50.push(p50);
    lat[size]?.p99.push(p99);
  }
}
await Promise.all(exts.map((e) => e.close()));
process.stdout.write(`extender filter+prioritize round trip (one pod, every node a candidate; ${rounds} rounds × ${calls} calls, median [min–max] of the rounds):\n`);
for (const size of sizes) {
  const l = lat[size];
  if (l === undefined) continue;
  process.stdout.write(`  ${String(size).padStart(4)} nodes: p50 ${median(l.p50).toFixed(2)} ms [${spread(l.p50)}]  p99 ${median(l.p99).toFixed(2)} ms [${spread(l.p99)}]\n`);
}

// Part 2: pods/s through the real kube-scheduler, with and without the extender.
if (!values['skip-scheduler']) {
  const podsPerBatch = Number(values.pods);
  const batches = Number(values.batches);
  const nodeCount = Number(values.nodes);
  const cp = await startControlPlane({ controllers: true });
  const core = cp.kc.makeApiClient(CoreV1Api);
  const stops: (() => Promise<void>)[] = [];
  try {
    await installPriorityClasses(cp.kc, policy);
    await ensureNamespace(cp.kc, 'bench');
    for (let i = 0; i < nodeCount; i++) await createSchedulableNode(core, nodeBody(`bench-${i}`, [8, 16, 32, 64][i % 4] ?? 8, { 'temper-bench': 'yes' }));
    const ext = await startExtender({ kc: cp.kc, policy, log: silentLogger, host: '127.0.0.1', port: 0 });
    stops.push(ext.close);
    while (!ext.ready()) await sleep(100);
    const common = { podInitialBackoffSeconds: 1, podMaxBackoffSeconds: 2, clientConnection: { qps: 1000, burst: 2000 } };
    const withExt = await startExtraScheduler({
      controlPlaneDir: cp.dir, logName: 'bench-temper-scheduler.log',
      config: { ...common, profiles: [{ schedulerName: 'temper-scheduler' }], extenders: [{ urlPrefix: `http://127.0.0.1:${ext.port}${URL_PREFIX}`, filterVerb: 'filter', prioritizeVerb: 'prioritize', weight: 5, nodeCacheCapable: true, ignorable: true, httpTimeout: '1s' }] },
    });
    stops.push(withExt.stop);
    const plain = await startExtraScheduler({ controlPlaneDir: cp.dir, logName: 'bench-plain-scheduler.log', config: { ...common, profiles: [{ schedulerName: 'plain-scheduler' }] } });
    stops.push(plain.stop);

    let serial = 0;
    const batch = async (schedulerName: string): Promise<number> => {
      const names = Array.from({ length: podsPerBatch }, () => `p-${serial++}`);
      const t0 = performance.now();
      for (let i = 0; i < names.length; i += 25) {
        await Promise.all(names.slice(i, i + 25).map((name, j) => core.createNamespacedPod({ namespace: 'bench', body: { ...podBody(name, i + j, { schedulerName, nodeSelector: { 'temper-bench': 'yes' } }), metadata: { name } } })));
      }
      for (;;) {
        const list = await core.listNamespacedPod({ namespace: 'bench' });
        const bound = list.items.filter((p) => names.includes(p.metadata?.name ?? '') && p.spec?.nodeName).length;
        if (bound === names.length) break;
        await sleep(50);
      }
      const secs = (performance.now() - t0) / 1000;
      await core.deleteCollectionNamespacedPod({ namespace: 'bench', gracePeriodSeconds: 0 });
      for (;;) {
        if ((await core.listNamespacedPod({ namespace: 'bench' })).items.length === 0) break;
        await sleep(200);
      }
      return podsPerBatch / secs;
    };
    await batch('plain-scheduler'); // warm-up, both
    await batch('temper-scheduler');
    const rates: Record<string, number[]> = { 'plain-scheduler': [], 'temper-scheduler': [] };
    const ratios: number[] = [];
    for (let b = 0; b < batches; b++) {
      // Alternate which goes first, so drift favours neither.
      const order = b % 2 === 0 ? ['plain-scheduler', 'temper-scheduler'] : ['temper-scheduler', 'plain-scheduler'];
      const got: Record<string, number> = {};
      for (const name of order) got[name] = await batch(name);
      for (const name of order) rates[name]?.push(got[name] ?? NaN);
      ratios.push((got['temper-scheduler'] ?? NaN) / (got['plain-scheduler'] ?? NaN));
    }
    process.stdout.write(`\npods/s bound by a real kube-scheduler (${nodeCount} nodes, ${podsPerBatch} pods per batch created 25 at a time, ${batches} alternating batches, median [min–max]; includes pod creation):\n`);
    for (const [name, label] of [['plain-scheduler', 'without extender'], ['temper-scheduler', 'with extender   ']] as const) {
      const r = rates[name] ?? [];
      process.stdout.write(`  ${label}: ${median(r).toFixed(1)} pods/s [${spread(r)}]\n`);
    }
    process.stdout.write(`  ratio with/without: ${median(ratios).toFixed(2)} [${spread(ratios)}]\n`);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    await cp.stop();
  }
}
