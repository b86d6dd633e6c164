// The node agent's workload profiles against the real control plane, in `cgroup` placement
// (test/dashboard.test.ts runs them with hints): profile files read from its --profiles-dir and
// planned with, changes followed, a bad set rejected while the last good one keeps running, and
// the API rows listing each group's threads, read from a fake cgroup tree and a fake /proc.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { jsonLogger } from '../adapters/log.ts';
import type { ProcReader } from '../adapters/proc.ts';
import { Agent } from '../agent/agent.ts';
import { podCgroupPath } from '../core/layers.ts';
import { installPriorityClasses } from '../dev/harness/webhook.ts';
import { ensureNamespace } from '../dev/controlplane/controlplane.ts';
import { createTestNode, fakeSchedExt, until } from './agent-wait.ts';
import { cgroupPolicy } from './builders.ts';

const kc = new KubeConfig();
kc.loadFromFile(inject('kubeconfig'));
const core = kc.makeApiClient(CoreV1Api);
const policy = cgroupPolicy();
const suffix = randomBytes(3).toString('hex');
const nodeName = `profiles-node-${suffix}`;
const ns = `profiles-${suffix}`;
const dir = mkdtempSync(join(tmpdir(), 'temper-agent-profiles-'));
const profilesDir = join(dir, 'profiles');
const cgroupRoot = join(dir, 'cgroup');
const fake = join(import.meta.dirname, 'fixtures', 'fake-scx.ts');
let agent: Agent;
let logs = '';

const CACHE_PROFILE = `[[profile]]
name = "cache"
images = ["example/cache"]
  [[profile.group]]
  name = "hot"
  treatment = "latency"
  threads = ["hot"]
  [[profile.group]]
  name = "chores"
  treatment = "yield"
  threads = ["chore"]
`;

/** /proc for the cache pod's process: TID → comm, all of process 7101. */
const comms = new Map<number, string>([[7101, 'cache'], [7102, 'hot-1'], [7103, 'chore'], [7104, 'worker']]);
const proc: ProcReader = {
  comm: (tid) => comms.get(tid) ?? null,
  tgid: (tid) => (comms.has(tid) ? 7101 : null),
  title: () => 'cache --port 6379',
};

type Row = { name: string; profile: null | { name: string; by: string; groups: { group: string; layer: string; status: string; hint: number | null; threads: { tid: number; comm: string }[] | null }[] } };
const row = (name: string): Row | undefined => agent.pods().find((p) => p.name === name) as Row | undefined;
const layerNames = (): string[] => agent.store.current()?.config.map((l) => l.name) ?? [];

describe('node agent, workload profiles', () => {
  beforeAll(async () => {
    fakeSchedExt(dir, join(dir, 'sched_ext'));
    mkdirSync(profilesDir);
    await createTestNode(core, nodeName);
    await ensureNamespace(kc, ns);
    await installPriorityClasses(kc, policy);
    agent = new Agent({
      kc, nodeName, policy, profilesDir, profilesPollMs: 100,
      scheduler: { binary: process.execPath, args: [fake], stateDir: join(dir, 'state'), schedExtDir: join(dir, 'sched_ext'), stopTimeoutMs: 1000, backoffMs: 200 },
      // cgroup placement writes no hints; the cgroup root and /proc are where the API reads profiled pods' threads
      hints: { cgroupRoot, proc },
      log: jsonLogger('agent', (l) => { logs += l; }),
      debounceMs: 100, maxDelayMs: 500, publishIntervalMs: 200,
    });
    agent.start();
    await until('the first generation', () => agent.store.current() ?? undefined);
    const body = { metadata: { name: 'cache' }, spec: { nodeName, containers: [{ name: 'cache', image: 'example/cache:7', resources: { requests: { cpu: '2' } } }] } } as V1Pod;
    const uid = (await core.createNamespacedPod({ namespace: ns, body })).metadata?.uid ?? '';
    const container = join(cgroupRoot, podCgroupPath('systemd', 'Burstable', uid), 'c');
    mkdirSync(container, { recursive: true });
    writeFileSync(join(container, 'cgroup.threads'), '7101\n7102\n7103\n7104\n');
    await until('the pod planned', () => row('cache'));
  });

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') process.stderr.write(`agent log (last 5000 chars):\n${logs.slice(-5000)}\n`);
  });

  afterAll(async () => {
    await agent?.stop(true);
    await core.deleteNode({ name: nodeName }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('an empty directory is the built-ins only: nothing matches the pod', () => {
    expect(row('cache')?.profile).toBeNull();
    expect(layerNames()).not.toContain('normal-latency');
    expect(logs).toMatch(/"msg":"profiles loaded","dir":"[^"]+","files":""/);
  });

  it('a new file is planned with: the profile layers enter the config, and the rows list each group\'s threads', async () => {
    const before = agent.store.current()?.number ?? 0;
    writeFileSync(join(profilesDir, 'cache.toml'), CACHE_PROFILE);
    await until('the profile in the config', () => layerNames().includes('normal-latency'));
    expect(agent.store.current()?.number).toBeGreaterThan(before);
    expect(logs).toMatch(/"msg":"profiles loaded","dir":"[^"]+","files":"cache\.toml"/);
    // cgroup placement: static CommPrefix matches, no hints
    const latency = agent.store.current()?.config.find((l) => l.name === 'normal-latency');
    expect(JSON.stringify(latency?.matches)).toContain('{"CommPrefix":"hot"}');
    const r = row('cache');
    expect(r?.profile).toMatchObject({ name: 'cache', by: 'image' });
    expect(r?.profile?.groups.map((g) => [g.group, g.layer, g.status, g.hint, g.threads])).toEqual([
      ['hot', 'normal-latency', 'applied', null, [{ tid: 7102, comm: 'hot-1' }]],
      ['chores', 'yield', 'applied', null, [{ tid: 7103, comm: 'chore' }]],
    ]);
    // read at each request: a rename shows at once
    comms.set(7104, 'hot-2');
    expect(row('cache')?.profile?.groups[0]?.threads).toEqual([{ tid: 7102, comm: 'hot-1' }, { tid: 7104, comm: 'hot-2' }]);
  });

  it('a bad set is rejected with every problem, naming file and key; the last good one keeps running', async () => {
    const good = agent.store.current()?.sha256;
    writeFileSync(join(profilesDir, 'zz-bad.toml'), CACHE_PROFILE.replace('name = "cache"', 'name = "other"').replace('"latency"', '"fast"').replace('images =', 'imagez ='));
    const message = await until('the rejection', () => (agent.status().message.includes('profiles rejected') ? agent.status().message : undefined));
    expect(message).toContain('profiles rejected: zz-bad.toml: profile[0].imagez: unknown key (keys here are name, description, images, shape, group); zz-bad.toml: profile[0].group[0].treatment: must be one of exclusive, latency, yield (got "fast") (running the last good profiles)');
    expect(logs).toMatch(/"level":"error","component":"agent","msg":"profiles rejected; keeping the last good ones","dir":"[^"]+","error":"zz-bad\.toml: profile\[0\]\.imagez/);
    expect(await agent.registry.getSingleMetricAsString('temper_agent_config_errors_total')).toMatch(/temper_agent_config_errors_total 1$/m);
    expect(agent.store.current()?.sha256).toBe(good);
    expect(row('cache')?.profile?.name).toBe('cache');
    rmSync(join(profilesDir, 'zz-bad.toml'));
    await until('the rejection cleared', () => !agent.status().message.includes('profiles rejected'));
  });

  it('a file removed takes its profile away', async () => {
    rmSync(join(profilesDir, 'cache.toml'));
    await until('the profile layers gone', () => !layerNames().includes('normal-latency'));
    expect(row('cache')?.profile).toBeNull();
  });
});
