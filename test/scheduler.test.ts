// Capacity-aware placement for real: the extender (scheduler/) behind a second, real
// kube-scheduler (`temper-scheduler`, as the chart runs it) on the shared control plane, with
// Nodes whose agent reports differ. Critical pods land only where they can be fenced, a pod that
// fits nowhere stays Pending with the extender's reason, Background spreads, and with the
// extender stopped pods are still scheduled (ignorable).
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { jsonLogger } from '../adapters/log.ts';
import { defaultPolicy } from '../core/config.ts';
import type { EnforcementState } from '../core/types.ts';
import { nodeReportOf, serializeNodeReport } from '../core/node-report.ts';
import { nodeFromObject } from '../core/objects.ts';
import { plan } from '../core/plan.ts';
import { type ExtraScheduler, createSchedulableNode, ensureNamespace, startExtraScheduler } from '../dev/controlplane/controlplane.ts';
import { installPriorityClasses } from '../dev/harness/webhook.ts';
import type { Extender } from '../scheduler/run.ts';
import { startExtender } from '../scheduler/run.ts';
import { URL_PREFIX } from '../scheduler/extender.ts';

const kc = new KubeConfig();
kc.loadFromFile(inject('kubeconfig'));
const core = kc.makeApiClient(CoreV1Api);
const policy = defaultPolicy();
const suffix = randomBytes(3).toString('hex');
const ns = `sched-${suffix}`;
const group = `temper-test/sched-${suffix}`;
const SCHEDULER = 'temper-scheduler';
let extender: Extender | null = null;
let scheduler: ExtraScheduler;
let logs = '';
const nodes: string[] = [];

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

/** The annotation an agent in `state` publishes for an empty node of `cpus` (core's own report). */
function reportOf(name: string, cpus: number, state: EnforcementState): string {
  const node = nodeFromObject({ kind: 'Node', metadata: { name }, status: { capacity: { cpu: String(cpus) } } }, name);
  return serializeNodeReport(nodeReportOf(plan(policy, node, []), { state, generation: 1, at: new Date().toISOString() }));
}

async function createNode(short: string, cpus: number, role: string, annotation: string | null): Promise<string> {
  const name = `${short}-${suffix}`;
  const resources = { cpu: String(cpus), memory: '32Gi', pods: '110' };
  await createSchedulableNode(core, {
    metadata: { name, labels: { [group]: role, 'kubernetes.io/hostname': name }, ...(annotation === null ? {} : { annotations: { 'infera.io/qos-distribution': annotation } }) },
    status: { capacity: resources, allocatable: resources, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'test node' }] },
  });
  nodes.push(name);
  return name;
}

async function patchAnnotation(name: string, value: string): Promise<void> {
  await core.patchNode({ name, body: { metadata: { annotations: { 'infera.io/qos-distribution': value } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
}

function podBody(name: string, className: string, cpu: string, role: string): V1Pod {
  return {
    metadata: { name, namespace: ns },
    spec: {
      schedulerName: SCHEDULER,
      priorityClassName: className,
      nodeSelector: { [group]: role },
      containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu, memory: '64Mi' }, limits: { cpu, memory: '64Mi' } } }],
    },
  };
}

const nodeOf = async (name: string): Promise<string | undefined> => (await core.readNamespacedPod({ namespace: ns, name })).spec?.nodeName || undefined;

async function eventsOf(name: string): Promise<CoreV1Event[]> {
  return (await core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${name}` })).items;
}

async function runExtender(): Promise<Extender> {
  const e = await startExtender({ kc, policy, log: jsonLogger('extender', (l) => { logs += l; }), host: '127.0.0.1', port: extenderPort, resilience: { backoffMs: 200, maxBackoffMs: 1000 } });
  await until('the extender caches to sync', () => e.ready());
  return e;
}

let extenderPort = 0;

describe('temper-scheduler: a real kube-scheduler with the Temper extender', () => {
  let small: string;
  let big: string;
  let safe: string;

  beforeAll(async () => {
    await ensureNamespace(kc, ns);
    await installPriorityClasses(kc, policy);
    // 4 CPUs: 3 fenceable cores; 8 CPUs: 7; a 16-CPU node whose agent is in safe mode.
    small = await createNode('small', 4, 'critical', reportOf('small', 4, 'enforcing'));
    big = await createNode('big', 8, 'critical', reportOf('big', 8, 'enforcing'));
    safe = await createNode('safe', 16, 'critical', reportOf('safe', 16, 'safe-mode'));
    for (const i of [1, 2, 3]) await createNode(`even${i}`, 8, 'background', reportOf(`even${i}`, 8, 'enforcing'));
    extender = await runExtender();
    extenderPort = extender.port;
    scheduler = await startExtraScheduler({
      controlPlaneDir: dirname(inject('kubeconfig')),
      logName: 'temper-scheduler.log',
      config: {
        profiles: [{ schedulerName: SCHEDULER }],
        // Retry unschedulable pods quickly (the defaults back off to 10 s).
        podInitialBackoffSeconds: 1,
        podMaxBackoffSeconds: 2,
        extenders: [{
          urlPrefix: `http://127.0.0.1:${extenderPort}${URL_PREFIX}`, filterVerb: 'filter', prioritizeVerb: 'prioritize',
          weight: 5, nodeCacheCapable: true, ignorable: true, httpTimeout: '1s',
        }],
      },
    });
  });

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') process.stderr.write(`extender log (last 4000 chars):\n${logs.slice(-4000)}\n`);
  });

  afterAll(async () => {
    await scheduler?.stop();
    await extender?.close();
    await core.deleteNamespace({ name: ns }).catch(() => undefined);
    for (const n of nodes) await core.deleteNode({ name: n }).catch(() => undefined);
  });

  it('sends Critical pods only where they can be fenced; the one that fits nowhere stays Pending with the extender\'s reason', async () => {
    // 2-CPU Critical pods: one fits on small (2 of 3 cores), three on big (6 of 7); safe-mode refuses.
    const names = ['crit-1', 'crit-2', 'crit-3', 'crit-4', 'crit-5'];
    await Promise.all(names.map((n) => core.createNamespacedPod({ namespace: ns, body: podBody(n, 'infera-critical', '2', 'critical') })));
    const placed = await until('four Critical pods bound', async () => {
      const all = await Promise.all(names.map(async (n) => [n, await nodeOf(n)] as const));
      const bound = all.filter(([, node]) => node !== undefined);
      return bound.length >= 4 ? all : undefined;
    });
    const count = (node: string): number => placed.filter(([, n]) => n === node).length;
    expect({ small: count(small), big: count(big), safe: count(safe) }).toEqual({ small: 1, big: 3, safe: 0 });
    const pending = placed.find(([, n]) => n === undefined)?.[0];
    expect(pending).toBeDefined();
    // It stays Pending (a few more scheduling attempts) with the extender's reasons in its event.
    await sleep(3000);
    expect(await nodeOf(pending ?? '')).toBeUndefined();
    const event = await until('a FailedScheduling event naming the fence', async () => (await eventsOf(pending ?? '')).find((e) => e.reason === 'FailedScheduling' && (e.message ?? '').includes('temper: Critical would need')));
    expect(event.message).toContain(`temper: Critical would need 4 fenced cores on node ${small}, which can fence 3`);
    expect(event.message).toContain(`temper: Critical would need 8 fenced cores on node ${big}, which can fence 7`);
    expect(event.message).toContain(`temper: the Temper agent on node ${safe} is safe-mode, not enforcing`);
    const pod = await core.readNamespacedPod({ namespace: ns, name: pending ?? '' });
    expect(pod.status?.conditions?.find((c) => c.type === 'PodScheduled')).toMatchObject({ status: 'False', reason: 'Unschedulable' });

    // The agent on `safe` leaves safe mode: its next report lets the pending pod in.
    await patchAnnotation(safe, reportOf('safe', 16, 'enforcing'));
    expect(await until('the pending Critical pod to bind', () => nodeOf(pending ?? ''))).toBe(safe);
  });

  it('spreads Background pods over equal nodes', async () => {
    const names = Array.from({ length: 9 }, (_, i) => `bg-${i}`);
    await Promise.all(names.map((n) => core.createNamespacedPod({ namespace: ns, body: podBody(n, 'infera-background', '1', 'background') })));
    const placed = await until('nine Background pods bound', async () => {
      const all = await Promise.all(names.map(nodeOf));
      return all.every((n) => n !== undefined) ? all : undefined;
    });
    const per = new Map<string, number>();
    for (const n of placed) per.set(n ?? '', (per.get(n ?? '') ?? 0) + 1);
    expect(per.size).toBe(3);
    expect(Math.min(...per.values())).toBeGreaterThanOrEqual(2);
  });

  it('the extender answered for real, and with the extender stopped pods are still scheduled', async () => {
    const metrics = await (await fetch(`http://127.0.0.1:${extenderPort}/metrics`)).text();
    expect(metrics).toMatch(/temper_scheduler_requests_total\{verb="filter",outcome="ok"\} [1-9]/);
    expect(metrics).toMatch(/temper_scheduler_requests_total\{verb="prioritize",outcome="ok"\} [1-9]/);
    expect(metrics).toMatch(/temper_scheduler_filter_verdicts_total\{tier="critical",verdict="unresolvable"\} [1-9]/);
    await extender?.close();
    extender = null;
    // Without the extender a Critical pod is placed by the stock plugins alone (ignorable: true),
    // even on the node whose fence is full: Temper's outage degrades to stock scheduling.
    await core.createNamespacedPod({ namespace: ns, body: podBody('crit-down', 'infera-critical', '1', 'critical') });
    expect(await until('the pod to bind without the extender', () => nodeOf('crit-down'))).toBeDefined();
  });
});
