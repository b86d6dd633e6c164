// The agent's Node patches for the scheduler (docs/distribution.md): at most one per publish
// interval however fast its pods churn (10 s by default), and a heartbeat that refreshes `at`
// on a quiet node. Real control plane, the stand-in scheduler (test/fixtures/fake-scx.sh).
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, KubeConfig, type V1Pod, Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Agent } from '../agent/agent.ts';
import { silentLogger } from '../adapters/log.ts';
import { defaultPolicy } from '../core/config.ts';
import { parseNodeReport } from '../core/node-report.ts';
import { ensureNamespace } from '../dev/controlplane/controlplane.ts';
import { installPriorityClasses } from '../dev/harness/webhook.ts';

const kc = new KubeConfig();
kc.loadFromFile(inject('kubeconfig'));
const core = kc.makeApiClient(CoreV1Api);
const policy = defaultPolicy();
const suffix = randomBytes(3).toString('hex');
const ns = `publish-${suffix}`;
const dir = mkdtempSync(join(tmpdir(), 'temper-publish-test-'));
const fake = join(import.meta.dirname, 'fixtures', 'fake-scx.sh');
const agents: Agent[] = [];
const nodes: string[] = [];

async function startAgent(nodeName: string, o: { publishIntervalMs?: number; heartbeatMs?: number }): Promise<Agent> {
  const sysfs = join(dir, nodeName, 'sched_ext');
  mkdirSync(sysfs, { recursive: true });
  writeFileSync(join(sysfs, 'state'), 'disabled\n');
  await core.createNode({ body: { metadata: { name: nodeName }, status: { capacity: { cpu: '8', memory: '16Gi', pods: '110' }, allocatable: { cpu: '8', memory: '16Gi', pods: '110' } } } });
  nodes.push(nodeName);
  process.env.FAKE_SCX_DIR = join(dir, nodeName);
  process.env.FAKE_SCX_SCHED_EXT = sysfs;
  const agent = new Agent({
    kc, nodeName, policy, log: silentLogger, debounceMs: 50, maxDelayMs: 200, ...o,
    scheduler: { binary: '/bin/sh', args: [fake], stateDir: join(dir, nodeName, 'state'), schedExtDir: sysfs, stopTimeoutMs: 1000, backoffMs: 200 },
    // placement "hints" (the default) with the fake scheduler: its map pin's directory, not the host's bpffs
    hints: { mapPin: join(join(dir, nodeName), 'hints') },
    resilience: { backoffMs: 200, maxBackoffMs: 1000 },
  });
  agents.push(agent);
  agent.start();
  return agent;
}

/** Every value of the node's distribution annotation as the API server saw it change, with when. */
function recordAnnotation(nodeName: string): { values: { at: number; value: string }[]; stop: () => void } {
  const values: { at: number; value: string }[] = [];
  let req: { abort(): void } | undefined;
  void new Watch(kc).watch('/api/v1/nodes', { fieldSelector: `metadata.name=${nodeName}` }, (_type, obj: { metadata?: { annotations?: Record<string, string> } }) => {
    const v = obj.metadata?.annotations?.['infera.io/qos-distribution'];
    if (v !== undefined && values.at(-1)?.value !== v) values.push({ at: Date.now(), value: v });
  }, () => {}).then((r) => { req = r; });
  return { values, stop: () => req?.abort() };
}

const podBody = (name: string, nodeName: string): V1Pod => ({
  metadata: { name }, spec: { nodeName, priorityClassName: 'infera-critical', containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '100m' } } }] },
});

describe('agent: Node patches for the scheduler', () => {
  beforeAll(async () => {
    await ensureNamespace(kc, ns);
    await installPriorityClasses(kc, policy);
  });

  afterAll(async () => {
    for (const a of agents) await a.stop(true);
    await core.deleteNamespace({ name: ns }).catch(() => undefined);
    for (const name of nodes) await core.deleteNode({ name }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('patches at most once per 10 s (the default) while pods churn every 100 ms', { timeout: 60_000 }, async () => {
    const nodeName = `publish-churn-${suffix}`;
    const rec = recordAnnotation(nodeName);
    const agent = await startAgent(nodeName, {});
    await sleep(1000);
    const t0 = Date.now();
    // 12 s of churn: a pod created every 100 ms, each one changing the Critical demand.
    for (let i = 0; Date.now() - t0 < 12_000; i++) {
      await core.createNamespacedPod({ namespace: ns, body: podBody(`p${i}`, nodeName) });
      await sleep(100);
    }
    // The last change reaches the Node within one more interval.
    const count = (await core.listNamespacedPod({ namespace: ns, fieldSelector: `spec.nodeName=${nodeName}` })).items.length;
    await sleep(11_000);
    rec.stop();
    await agent.stop(true); // its scheduler stand-in reads the environment the next agent changes
    const gaps = rec.values.slice(1).map((v, i) => v.at - (rec.values[i]?.at ?? 0));
    expect(rec.values.length).toBeGreaterThanOrEqual(2);
    expect(rec.values.length).toBeLessThanOrEqual(4); // first publish, then ≤ 1 per 10 s over ~23 s
    for (const g of gaps) expect(g).toBeGreaterThan(9_000); // watch delivery jitter aside
    const last = parseNodeReport(rec.values.at(-1)?.value ?? '');
    expect(last.ok && last.report.tiers.critical.pods).toBe(count);
  });

  it('refreshes `at` every heartbeat on a quiet node, changing nothing else', { timeout: 30_000 }, async () => {
    const nodeName = `publish-quiet-${suffix}`;
    const rec = recordAnnotation(nodeName);
    await startAgent(nodeName, { publishIntervalMs: 200, heartbeatMs: 2000 });
    await sleep(7000);
    rec.stop();
    const reports = rec.values.map((v) => parseNodeReport(v.value)).map((p) => (p.ok ? p.report : null));
    expect(reports.length).toBeGreaterThanOrEqual(3);
    const ats = reports.map((r) => Date.parse(r?.at ?? ''));
    for (let i = 1; i < ats.length; i++) expect((ats[i] ?? 0) - (ats[i - 1] ?? 0)).toBeGreaterThanOrEqual(1900);
    const content = new Set(reports.map((r) => JSON.stringify({ ...r, at: '' })));
    // The first report may precede enforcing (starting → enforcing); after that only `at` moves.
    expect(content.size).toBeLessThanOrEqual(2);
  });
});
