// The node agent with `placement = "hints"` against the real control plane: the stand-in
// scheduler (test/fixtures/fake-scx.ts) started with --task-hint-map, and the placer hinting a
// fake cgroup tree through a fake of the hints adapter (no BPF here; test/hints-vm.test.ts has
// the real map). Pods of an always-present layer come and go without a scheduler restart.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { GetResult, SetResult } from '../adapters/hints/hints.ts';
import { jsonLogger } from '../adapters/log.ts';
import { Agent } from '../agent/agent.ts';
import type { HintWriter } from '../agent/hints.ts';
import { cgroupThreads } from '../agent/hints.ts';
import { parsePolicy } from '../core/config.ts';
import { TASK_HINTS } from '../core/hints.ts';
import { podCgroupPath } from '../core/layers.ts';
import { installPriorityClasses } from '../dev/harness/webhook.ts';
import { ensureNamespace } from '../dev/controlplane/controlplane.ts';
import { createTestNode, fakeSchedExt, fakeScxRuns, until } from './agent-wait.ts';

const kc = new KubeConfig();
kc.loadFromFile(inject('kubeconfig'));
const core = kc.makeApiClient(CoreV1Api);
const configText = '[node]\nplacement = "hints"\n';
const policy = parsePolicy(configText, 'config.toml');
const suffix = randomBytes(3).toString('hex');
const nodeName = `hints-node-${suffix}`;
const ns = `hints-${suffix}`;
const dir = mkdtempSync(join(tmpdir(), 'temper-agent-hints-'));
const sysfs = join(dir, 'sched_ext');
const cgroupRoot = join(dir, 'cgroup');
const mapPin = join(dir, 'bpf', 'temper', 'hints');
const fake = join(import.meta.dirname, 'fixtures', 'fake-scx.ts');
let agent: Agent;
let logs = '';

/** scx_layered's map, kept by TID. */
const map = new Map<number, number>();
const writer: HintWriter = {
  setHints: (_pin, hint, tids) => Promise.resolve(tids.map((tid): SetResult => { map.set(tid, hint); return { tid, ok: true }; })),
  getHints: (_pin, tids) => Promise.resolve(tids.map((tid): GetResult => ({ tid, ok: true, hint: map.get(tid) ?? null }))),
  hintCgroup: (_pin, hint, cg) => {
    const tids = cgroupThreads(cg);
    for (const tid of tids) map.set(tid, hint);
    return Promise.resolve({ hinted: tids.length, vanished: 0, failed: 0, failures: [] });
  },
};

const runs = (): { args: string[] }[] => fakeScxRuns<{ args: string[] }>(dir);

/** Creates a pod (Burstable, or BestEffort without requests) and its cgroup with `tids` in one container. */
async function podWithThreads(name: string, priorityClassName: string | null, qos: 'Burstable' | 'BestEffort', tids: number[]): Promise<string> {
  const resources = qos === 'Burstable' ? { requests: { cpu: '100m' } } : {};
  const body = { metadata: { name }, spec: { nodeName, ...(priorityClassName === null ? {} : { priorityClassName }), containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources }] } } as V1Pod;
  const uid = (await core.createNamespacedPod({ namespace: ns, body })).metadata?.uid ?? '';
  setThreads(uid, qos, tids);
  return uid;
}

function setThreads(uid: string, qos: 'Burstable' | 'BestEffort', tids: number[]): void {
  const c = join(cgroupRoot, podCgroupPath('systemd', qos, uid), 'c');
  mkdirSync(c, { recursive: true });
  writeFileSync(join(c, 'cgroup.threads'), tids.map((t) => `${t}\n`).join(''));
}

describe('node agent, placement = "hints"', () => {
  beforeAll(async () => {
    fakeSchedExt(dir, sysfs);
    mkdirSync(join(dir, 'bpf')); // the bpffs mount: the agent makes only the pin's own directory
    await createTestNode(core, nodeName);
    await ensureNamespace(kc, ns);
    await installPriorityClasses(kc, policy);
    writeFileSync(join(dir, 'config.toml'), configText);
    agent = new Agent({
      kc, nodeName, policy, policyPath: join(dir, 'config.toml'),
      scheduler: { binary: process.execPath, args: [fake], stateDir: join(dir, 'state'), schedExtDir: sysfs, stopTimeoutMs: 1000, backoffMs: 200 },
      log: jsonLogger('agent', (l) => { logs += l; }),
      debounceMs: 100, maxDelayMs: 500, publishIntervalMs: 200,
      resilience: { backoffMs: 200, maxBackoffMs: 1000 },
      hints: { mapPin, cgroupRoot, writer, scanMs: 20, verifyMs: 200, mapReady: () => true },
    });
    agent.start();
    await until('enforcing', () => agent.status().state === 'enforcing');
  });

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') process.stderr.write(`agent log (last 5000 chars):\n${logs.slice(-5000)}\n`);
  });

  afterAll(async () => {
    await agent?.stop(true);
    await core.deleteNode({ name: nodeName }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts scx_layered with --task-hint-map in a 0700 directory', () => {
    expect(runs().at(-1)?.args).toEqual(['--task-hint-map', mapPin, `f:${join(dir, 'state', 'layered.json')}`]);
    expect(statSync(join(dir, 'bpf', 'temper')).mode & 0o777).toBe(0o700);
  });

  it('hints a Low pod\'s threads, follows new threads, leaves QoS-default pods alone, all without a restart', async () => {
    const before = runs().length;
    // Low and Background layers are always present: neither pod changes the config
    const low = await podWithThreads('batch', 'infera-low', 'Burstable', [5001, 5002]);
    await podWithThreads('scratch', null, 'BestEffort', [6001]);
    await until('the Low pod hinted', () => map.get(5001) === TASK_HINTS.low && map.get(5002) === TASK_HINTS.low);
    setThreads(low, 'Burstable', [5001, 5002, 5003]);
    await until('its new thread hinted', () => map.get(5003) === TASK_HINTS.low);
    expect(map.has(6001)).toBe(false);
    await until('placement in the status', () => agent.status().placement?.hintedThreads === 3);
    expect(agent.status().placement).toEqual({ mode: 'hints', hintedPods: 1, hintedThreads: 3, misplacedThreads: {} });
    const ann = await until('placement in agent-status', async () => {
      const a = (await core.readNode({ name: nodeName })).metadata?.annotations?.['infera.io/agent-status'];
      const s = JSON.parse(a ?? '{}') as { placement?: { hintedPods: number } };
      return s.placement?.hintedPods === 1 ? s : undefined;
    });
    expect(Object.keys(ann)).toEqual(['state', 'generation', 'sha256', 'message', 'warnings', 'placement']);
    const metrics = await agent.registry.metrics();
    expect(metrics).toContain('temper_agent_misplaced_threads{tier="low"} 0');
    expect(metrics).toMatch(/temper_agent_hints_written_total\{tier="low"\} 3/);
    expect(metrics).toMatch(/temper_agent_hint_latency_seconds_count\{trigger="pod"\} 1/);

    // drift (a map lost with its scheduler): read back and rewritten
    map.delete(5002);
    await until('the drifted thread rewritten', () => map.get(5002) === TASK_HINTS.low);

    await core.deleteNamespacedPod({ namespace: ns, name: 'batch', gracePeriodSeconds: 0 });
    await until('the departed pod forgotten', () => agent.status().placement?.hintedPods === 0);
    expect(runs().length).toBe(before);
  });

  it('a reload that changes node.placement is rejected: the running placement stays', async () => {
    writeFileSync(join(dir, 'config.toml'), '[node]\nplacement = "cgroup"\n');
    await until('the rejection', () => agent.status().message.includes('config rejected') ? agent.status().message : undefined);
    expect(agent.status().message).toContain('node.placement: changes only with an agent restart (running "hints", got "cgroup")');
    expect(agent.status().placement?.mode).toBe('hints');
  });
});
