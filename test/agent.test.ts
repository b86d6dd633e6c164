// The node agent against the real control plane, supervising the stand-in scheduler
// (test/fixtures/fake-scx.ts): generations, annotations, bursts, safe mode, bad config.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { Agent } from '../agent/agent.ts';
import { nodeFromObject, podFromObject } from '../core/objects.ts';
import { parseNodeReport } from '../core/node-report.ts';
import { plan } from '../core/plan.ts';
import { jsonLogger } from '../adapters/log.ts';
import { installPriorityClasses } from '../dev/harness/webhook.ts';
import { ensureNamespace } from '../dev/controlplane/controlplane.ts';
import { createTestNode, fakeSchedExt, fakeScxRuns, until } from './agent-wait.ts';
import { cgroupPolicy } from './builders.ts';

const kc = new KubeConfig();
kc.loadFromFile(inject('kubeconfig'));
const core = kc.makeApiClient(CoreV1Api);
// Per-pod clauses (placement = "cgroup"): every pod event below is a new generation and a scheduler
// restart, which is what these tests exercise; test/agent-hints.test.ts runs the default, hints.
const policy = cgroupPolicy();
const suffix = randomBytes(3).toString('hex');
const nodeName = `agent-node-${suffix}`;
const ns = `agent-${suffix}`;
const dir = mkdtempSync(join(tmpdir(), 'temper-agent-test-'));
const sysfs = join(dir, 'sched_ext');
const fake = join(import.meta.dirname, 'fixtures', 'fake-scx.ts');
let agent: Agent;
let logs = '';

const runs = (): { sha256: string }[] => fakeScxRuns<{ sha256: string }>(dir);

function podBody(name: string, spec: Record<string, unknown> = {}, resources: Record<string, unknown> = { requests: { cpu: '100m' } }): V1Pod {
  return { metadata: { name }, spec: { nodeName, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources }], ...spec } } as V1Pod;
}

async function nodeAnnotations(): Promise<Record<string, string>> {
  return (await core.readNode({ name: nodeName })).metadata?.annotations ?? {};
}

/** What core renders from the API's current view of the node: the agent must converge to it. */
async function expectedPlan(): Promise<ReturnType<typeof plan>> {
  const node = nodeFromObject({ ...(await core.readNode({ name: nodeName })), kind: 'Node' }, 'node');
  const pods = (await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${nodeName}` })).items.map((p) => podFromObject(p, 'pod'));
  return plan(policy, node, pods);
}

describe('node agent on a real control plane', () => {
  beforeAll(async () => {
    fakeSchedExt(dir, sysfs);
    await createTestNode(core, nodeName);
    await ensureNamespace(kc, ns);
    await installPriorityClasses(kc, policy);
    agent = new Agent({
      kc, nodeName, policy,
      scheduler: { binary: process.execPath, args: [fake], stateDir: join(dir, 'state'), schedExtDir: sysfs, stopTimeoutMs: 1000, backoffMs: 200 },
      // placement "hints" (the default) with the fake scheduler: its map pin's directory, not the host's bpffs
      hints: { mapPin: join(dir, 'hints') },
      log: jsonLogger('agent', (l) => { logs += l; }),
      debounceMs: 100, maxDelayMs: 500, publishIntervalMs: 200,
      resilience: { backoffMs: 200, maxBackoffMs: 1000 },
    });
    agent.start();
    await until('the first generation', () => agent.store.current() ?? undefined);
  });

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') process.stderr.write(`agent log (last 5000 chars):\n${logs.slice(-5000)}\n`);
  });

  afterAll(async () => {
    await agent?.stop(true);
    await core.deleteNode({ name: nodeName }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('renders the empty node, runs the scheduler with it, and publishes status and distribution', async () => {
    const g = agent.store.current();
    expect(g?.config.map((l) => l.name)).toEqual(['system', 'catchall']);
    await until('enforcing', () => agent.status().state === 'enforcing');
    expect(runs().at(-1)?.sha256).toBe(g?.sha256);
    const ann = await until('annotations', async () => {
      const a = await nodeAnnotations();
      return a['infera.io/qos-distribution'] !== undefined && a['infera.io/agent-status']?.includes('enforcing') ? a : undefined;
    });
    expect(JSON.parse(ann['infera.io/agent-status'] ?? '{}')).toMatchObject({ state: 'enforcing', generation: g?.number, sha256: g?.sha256 });
  });

  it('creating pods produces the generation core renders, and the annotation follows', async () => {
    await core.createNamespacedPod({ namespace: ns, body: podBody('crit', { priorityClassName: 'infera-critical' }, { requests: { cpu: '1', memory: '64Mi' }, limits: { cpu: '1', memory: '64Mi' } }) });
    await core.createNamespacedPod({ namespace: ns, body: podBody('web') });
    await core.createNamespacedPod({ namespace: ns, body: podBody('batch', { priorityClassName: 'infera-background' }) });
    const want = await until('the agent to converge', async () => {
      const w = await expectedPlan();
      return agent.store.current()?.sha256 === w.configSha256 ? w : undefined;
    });
    expect(agent.store.current()?.config.map((l) => l.name)).toEqual(['system', 'critical', 'normal', 'background', 'catchall']);
    await until('the scheduler to run it', () => runs().at(-1)?.sha256 === want.configSha256);
    const report = await until('the distribution annotation', async () => {
      const parsed = parseNodeReport((await nodeAnnotations())['infera.io/qos-distribution'] ?? '');
      return parsed.ok && JSON.stringify(parsed.report.tiers) === JSON.stringify(want.distribution) ? parsed.report : undefined;
    });
    // 8 CPUs, one core always unowned: 7 fenceable; the 1-CPU Critical pod holds one.
    expect(report).toMatchObject({ state: 'enforcing', generation: agent.store.current()?.number, fence: { ownableCores: 7, fenced: 1, threadsPerCore: 1, cpus: 8 } });
    expect(Date.parse(report.at)).toBeGreaterThan(Date.now() - 60_000);
    expect(agent.store.current()?.moves.map((m) => [m.name, m.from, m.to])).toEqual(expect.arrayContaining([['crit', null, 'critical']]));
  });

  it('re-tiering a pod (recreated with another class) and deleting one make new generations with the moves', async () => {
    const before = agent.store.current()?.number ?? 0;
    await core.deleteNamespacedPod({ namespace: ns, name: 'web', gracePeriodSeconds: 0 });
    await core.createNamespacedPod({ namespace: ns, body: podBody('web', { priorityClassName: 'infera-high' }) });
    await until('web in high', () => agent.store.current()?.assignments.find((a) => a.name === 'web' && a.tier === 'high'));
    // The recreated pod has a new uid: the old one leaves Normal, the new one enters High.
    const moved = agent.store.list().filter((g) => g.number > before).flatMap((g) => g.moves.filter((m) => m.name === 'web'));
    expect(moved).toEqual(expect.arrayContaining([expect.objectContaining({ from: 'normal', to: null }), expect.objectContaining({ from: null, to: 'high' })]));
    const diff = agent.store.diff(before, agent.store.current()?.number ?? 0);
    expect(diff?.layers.map((l) => l.layer)).toContain('high');
    expect(diff?.text).toContain('+    "name": "high",');
  });

  it('an unchanged re-render makes no generation and no restart', async () => {
    await until('the scheduler to settle on the current generation', () => runs().at(-1)?.sha256 === agent.store.current()?.sha256 && agent.status().state === 'enforcing');
    const g = agent.store.current()?.number;
    const starts = runs().length;
    await core.patchNamespacedPod({ namespace: ns, name: 'batch', body: { metadata: { labels: { touched: 'yes' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await sleep(800);
    expect(agent.store.current()?.number).toBe(g);
    expect(runs()).toHaveLength(starts);
  });

  it('a burst of 100 pod creations produces at most 3 generations', async () => {
    const before = agent.store.current()?.number ?? 0;
    await Promise.all(Array.from({ length: 100 }, (_, i) => core.createNamespacedPod({ namespace: ns, body: podBody(`burst-${i}`) })));
    await until('all 100 pods in the config', async () => agent.store.current()?.sha256 === (await expectedPlan()).configSha256, 30_000);
    const made = (agent.store.current()?.number ?? 0) - before;
    expect(made).toBeGreaterThanOrEqual(1);
    expect(made).toBeLessThanOrEqual(3);
    expect(agent.store.current()?.layers.find((l) => l.name === 'normal')?.match).toBe('cgroup-regex');
  }, 60_000);

  it('safe mode on the Node stops the scheduler; removing it re-attaches', async () => {
    const patch = (v: string | null) => core.patchNode({ name: nodeName, body: { metadata: { annotations: { 'infera.io/safe-mode-requested': v } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await patch('true');
    await until('safe mode', () => agent.status().state === 'safe-mode');
    expect(readFileSync(join(sysfs, 'state'), 'utf8').trim()).toBe('disabled');
    await until('status annotation says safe-mode', async () => (await nodeAnnotations())['infera.io/agent-status']?.includes('"state":"safe-mode"'));
    const starts = runs().length;
    await patch(null);
    await until('enforcing again', () => agent.status().state === 'enforcing');
    expect(runs().length).toBe(starts + 1);
    expect(runs().at(-1)?.sha256).toBe(agent.store.current()?.sha256);
  });

  it('a node too small for a tier\'s guarantee: the warnings are in agent-status, and follow the node\'s size', async () => {
    const published = async (): Promise<unknown[] | undefined> => (JSON.parse((await nodeAnnotations())['infera.io/agent-status'] ?? '{}') as { warnings?: unknown[] }).warnings;
    const wire = (p: ReturnType<typeof plan>): unknown[] => p.warnings.map((w) => ({ code: w.code, tier: w.tier, message: w.message }));
    // 8 CPUs: the 100 burst pods' requests (10 CPUs) no longer fit Normal's minimum
    const eight = await expectedPlan();
    expect(eight.warnings.map((w) => [w.code, w.tier])).toEqual([['minimum-clamped', 'normal']]);
    await until('the 8-CPU warnings in agent-status', async () => JSON.stringify(await published()) === JSON.stringify(wire(eight)));
    const resize = (cpu: string) => core.patchNodeStatus({ name: nodeName, body: { status: { capacity: { cpu }, allocatable: { cpu } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await resize('2'); // Critical keeps its fenced CPU; the other stays unowned, so High and Normal own nothing
    const two = await until('the 2-CPU plan', async () => {
      const w = await expectedPlan();
      return agent.store.current()?.sha256 === w.configSha256 && w.configSha256 !== eight.configSha256 ? w : undefined;
    });
    expect(two.warnings.map((w) => [w.code, w.tier])).toEqual([['tier-unowned', 'high'], ['tier-unowned', 'normal']]);
    expect(agent.status().warnings).toEqual(two.warnings);
    await until('the 2-CPU warnings in agent-status', async () => JSON.stringify(await published()) === JSON.stringify(wire(two)));
    await resize('8');
    await until('the 8-CPU warnings back in agent-status', async () => JSON.stringify(await published()) === JSON.stringify(wire(eight)));
  }, 30_000);
});
