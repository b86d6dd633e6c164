// The agent through an apiserver outage, on a control plane of its own: it keeps the last config
// (and the scheduler running), recovers its watches, and catches up with what changed. The
// webhook's PriorityClass cache, the same resilient informer (adapters/informer.ts), too.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, SchedulingV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../agent/agent.ts';
import { jsonLogger } from '../adapters/log.ts';
import { type ControlPlane, startControlPlane } from '../dev/controlplane/controlplane.ts';
import { type WatchedClasses, watchClasses } from '../webhook/classes.ts';
import { cgroupPolicy } from './builders.ts';

const dir = mkdtempSync(join(tmpdir(), 'temper-outage-'));
const sysfs = join(dir, 'sched_ext');
let cp: ControlPlane;
let agent: Agent;
let classes: WatchedClasses;
let logs = '';
const runs = (): string[] => {
  try { return readFileSync(join(dir, 'runs.jsonl'), 'utf8').trim().split('\n').filter(Boolean); } catch { return []; }
};

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${logs.slice(-3000)}`);
    await sleep(50);
  }
}

const podBody = (name: string): V1Pod => ({ metadata: { name }, spec: { nodeName: cp.nodeName, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '100m' } } }] } }) as V1Pod;

describe('agent through an apiserver outage', () => {
  beforeAll(async () => {
    mkdirSync(sysfs);
    writeFileSync(join(sysfs, 'state'), 'disabled\n');
    process.env.FAKE_SCX_DIR = dir;
    process.env.FAKE_SCX_SCHED_EXT = sysfs;
    cp = await startControlPlane({ controllers: false, nodeName: 'outage-node' });
    agent = new Agent({
      kc: cp.kc, nodeName: cp.nodeName, policy: cgroupPolicy(), // per-pod clauses: each pod event below is a generation
      scheduler: { binary: process.execPath, args: [join(import.meta.dirname, 'fixtures', 'fake-scx.ts')], stateDir: join(dir, 'state'), schedExtDir: sysfs },
      // placement "hints" (the default) with the fake scheduler: its map pin's directory, not the host's bpffs
      hints: { mapPin: join(dir, 'hints') },
      log: jsonLogger('agent', (l) => { logs += l; }),
      debounceMs: 50, maxDelayMs: 300, publishIntervalMs: 200,
      resilience: { backoffMs: 200, maxBackoffMs: 1000, staleAfterMs: 60_000 },
    });
    agent.start();
    classes = watchClasses(cp.kc, jsonLogger('webhook', (l) => { logs += l; }), { backoffMs: 200, maxBackoffMs: 1000, staleAfterMs: 60_000 });
    await until('the first generation and the class cache', () => agent.status().state === 'enforcing' && classes.synced());
  }, 120_000);

  afterAll(async () => {
    await classes?.stop();
    await agent?.stop(true);
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the last config while the apiserver is down, then catches up', async () => {
    const core = cp.kc.makeApiClient(CoreV1Api);
    await core.createNamespacedPod({ namespace: 'default', body: podBody('before') });
    await until('the pod before the outage', () => agent.pods().some((p) => p.name === 'before') && runs().length === 2);
    const generation = agent.store.current()?.number;

    await cp.stopApiserver();
    // A cache started while the API server is down is not synced (the webhook is not ready) until
    // a list arrives: a failed first list does not count.
    const late = watchClasses(cp.kc, jsonLogger('webhook', (l) => { logs += l; }), { backoffMs: 200, maxBackoffMs: 1000, staleAfterMs: 60_000 });
    await sleep(3000);
    expect(late.synced()).toBe(false);
    expect(agent.store.current()?.number).toBe(generation); // nothing invented, nothing dropped
    expect(agent.status().state).toBe('enforcing');
    expect(runs()).toHaveLength(2); // the scheduler was not restarted
    expect(logs).toContain('watch restarting');
    // The restart delay grows while the API server stays down (it resets only when a list arrives).
    const delays = logs.split('\n').filter((l) => l.includes('"msg":"watch restarting"') && l.includes('"informer":"pods"')).map((l) => (JSON.parse(l) as { retryInMs: number }).retryInMs);
    expect(Math.max(...delays)).toBeGreaterThan(200);

    const t0 = Date.now();
    await cp.startApiserver();
    process.stdout.write(`apiserver back in ${Date.now() - t0} ms\n`);
    await core.createNamespacedPod({ namespace: 'default', body: podBody('after') });
    await until('the pod after the outage', () => agent.pods().some((p) => p.name === 'after'), 40_000);
    process.stdout.write(`agent caught up ${Date.now() - t0} ms after the restart began\n`);
    expect(agent.store.current()?.number).toBe((generation ?? 0) + 1);
    expect(agent.store.current()?.assignments.map((a) => a.name).sort()).toEqual(['after', 'before']);

    // The webhook's cache restarted its watch too and sees a class created after the outage.
    expect(logs).toMatch(/"component":"webhook".*"msg":"watch restarting".*"informer":"priorityclasses"/);
    await cp.kc.makeApiClient(SchedulingV1Api).createPriorityClass({ body: { metadata: { name: 'after-outage' }, value: 42, globalDefault: false } });
    await until('the webhook cache to see the new class', () => classes.get('after-outage')?.value === 42, 40_000);
    await until('the late cache to sync', () => late.synced() && late.get('after-outage')?.value === 42, 40_000);
    await late.stop();
  }, 90_000);
});
