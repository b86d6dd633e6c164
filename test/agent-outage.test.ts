// The agent through an apiserver outage, on a control plane of its own: it keeps the last config
// (and the scheduler running), recovers its watches, and catches up with what changed.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../agent/agent.ts';
import { defaultPolicy } from '../core/config.ts';
import { jsonLogger } from '../adapters/log.ts';
import { type ControlPlane, startControlPlane } from '../dev/controlplane/controlplane.ts';

const dir = mkdtempSync(join(tmpdir(), 'temper-outage-'));
const sysfs = join(dir, 'sched_ext');
let cp: ControlPlane;
let agent: Agent;
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
      kc: cp.kc, nodeName: cp.nodeName, policy: defaultPolicy(),
      scheduler: { binary: process.execPath, args: [join(import.meta.dirname, 'fixtures', 'fake-scx.ts')], stateDir: join(dir, 'state'), schedExtDir: sysfs },
      log: jsonLogger('agent', (l) => { logs += l; }),
      debounceMs: 50, maxDelayMs: 300, publishIntervalMs: 200,
      resilience: { backoffMs: 200, maxBackoffMs: 1000, staleAfterMs: 60_000 },
    });
    agent.start();
    await until('the first generation', () => agent.status().state === 'enforcing');
  }, 120_000);

  afterAll(async () => {
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
    await sleep(3000);
    expect(agent.store.current()?.number).toBe(generation); // nothing invented, nothing dropped
    expect(agent.status().state).toBe('enforcing');
    expect(runs()).toHaveLength(2); // the scheduler was not restarted
    expect(logs).toContain('watch restarting');

    const t0 = Date.now();
    await cp.startApiserver();
    process.stdout.write(`apiserver back in ${Date.now() - t0} ms\n`);
    await core.createNamespacedPod({ namespace: 'default', body: podBody('after') });
    await until('the pod after the outage', () => agent.pods().some((p) => p.name === 'after'), 40_000);
    process.stdout.write(`agent caught up ${Date.now() - t0} ms after the restart began\n`);
    expect(agent.store.current()?.number).toBe((generation ?? 0) + 1);
    expect(agent.store.current()?.assignments.map((a) => a.name).sort()).toEqual(['after', 'before']);
  }, 90_000);
});
