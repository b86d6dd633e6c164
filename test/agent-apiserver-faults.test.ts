// The agent as users run it (`node agent/main.ts`, a process, its default backoffs and publish
// interval) behind an apiserver that sheds load and fails for a while, on a control plane of its
// own (real kube-apiserver + etcd). A fault proxy (dev/harness/fault-proxy.ts) sits between the
// agent and the apiserver: it answers half of the requests with 500, then all with 429 and a
// Retry-After, then all with 500, cutting the open watches at each change, while pods come and
// go on the node (written straight to the apiserver). Once the faults end the agent must converge
// on exactly the pods that exist, run that generation and say so on the Node, without a restart
// storm or a crash, and it must have backed off rather than hammered the apiserver meanwhile.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPolicy } from '../core/config.ts';
import { agentNodeAnnotations } from '../core/install-objects.ts';
import { type ControlPlane, startControlPlane } from '../dev/controlplane/controlplane.ts';
import { type Fault, type FaultProxy, type ProxiedRequest, startFaultProxy } from '../dev/harness/fault-proxy.ts';

const repo = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'temper-apifaults-'));
const sysfs = join(dir, 'sched_ext');
const [distributionKey, statusKey] = agentNodeAnnotations(defaultPolicy()) as [string, string];
const PHASE_MS = 5000;
let cp: ControlPlane;
let core: CoreV1Api;
let proxy: FaultProxy;
let child: ChildProcess;
let stderr = '';
let url = '';

interface Run { pid: number; sha256: string; at: number }
const runs = (): Run[] => {
  try { return readFileSync(join(dir, 'runs.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Run); } catch { return []; }
};
interface Status { state: string; generation: number | null; sha256: string | null }

/** Polls `fn` until it returns a value; the timeout names `what` and shows the agent's last log lines. */
async function until<T>(what: string, fn: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}\n--- agent log (tail) ---\n${stderr.slice(-4000)}`);
    await sleep(200);
  }
}

const status = async (): Promise<Status> => await (await fetch(`${url}/api/v1/status`)).json() as Status;

const podBody = (name: string): V1Pod => ({ metadata: { name }, spec: { nodeName: cp.nodeName, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '100m' } } }] } }) as V1Pod;

/**
 * Converged on `names`: the current generation places exactly these pods, the scheduler runs its
 * config, and both Node annotations carry that generation, enforcing.
 */
async function convergedOn(names: ReadonlySet<string>): Promise<Status | undefined> {
  const s = await status();
  if (s.state !== 'enforcing' || s.generation === null) return undefined;
  const config = await (await fetch(`${url}/api/v1/config`)).json() as { number: number; sha256: string; assignments: { name: string }[] };
  if (config.number !== s.generation || config.sha256 !== s.sha256) return undefined;
  if (JSON.stringify(config.assignments.map((a) => a.name).sort()) !== JSON.stringify([...names].sort())) return undefined;
  if (runs().at(-1)?.sha256 !== s.sha256) return undefined;
  const a = (await core.readNode({ name: cp.nodeName })).metadata?.annotations ?? {};
  const published = JSON.parse(a[statusKey] ?? 'null') as Status | null;
  const distribution = JSON.parse(a[distributionKey] ?? 'null') as { gen?: number; state?: string } | null;
  const onNode = published?.generation === s.generation && published.state === 'enforcing' && distribution?.gen === s.generation && distribution.state === 'enforcing';
  return onNode ? s : undefined;
}

function tally<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const out = new Map<string, number>();
  for (const item of items) out.set(key(item), (out.get(key(item)) ?? 0) + 1);
  return out;
}

describe('agent behind an apiserver answering 429 and 500 for a while', () => {
  beforeAll(async () => {
    mkdirSync(sysfs);
    writeFileSync(join(sysfs, 'state'), 'disabled\n');
    cp = await startControlPlane({ controllers: false, nodeName: 'apifaults-node' });
    core = cp.kc.makeApiClient(CoreV1Api);
    proxy = await startFaultProxy(cp.kc);
    const kubeconfig = join(dir, 'agent.kubeconfig');
    writeFileSync(kubeconfig, proxy.kubeconfig(), { mode: 0o600 });
    // Per-pod clauses: each pod change below is a generation, so restarts can be counted
    // against them (with the default, hints, these priority-0 pods change no config).
    writeFileSync(join(dir, 'cgroup.toml'), '[node]\nplacement = "cgroup"\n');
    child = spawn(process.execPath, [join(repo, 'agent', 'main.ts'),
      '--kubeconfig', kubeconfig, '--node', cp.nodeName, '--config', join(dir, 'cgroup.toml'),
      '--scx-binary', process.execPath, '--scx-arg', join(repo, 'test', 'fixtures', 'fake-scx.ts'),
      '--state-dir', join(dir, 'state'), '--sched-ext-dir', sysfs, '--task-hint-map', join(dir, 'hints'),
      '--grpc-address', `unix://${join(dir, 'agent.sock')}`, '--http-port', '0', '--stop-scheduler-on-exit'],
    { env: { ...process.env, FAKE_SCX_DIR: dir, FAKE_SCX_SCHED_EXT: sysfs }, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (c: string) => { stderr = (stderr + c).slice(-500_000); });
    url = await until('the agent to listen', async () => /"msg":"agent running".*?"http":"([^"]+)"/.exec(stderr)?.[1], 60_000);
  }, 120_000);

  afterAll(async () => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await proxy?.close();
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('converges once the faults end: the right generation, no pod event lost, no restart storm, backed off meanwhile', async () => {
    const pods = new Set<string>();
    const create = async (name: string): Promise<void> => { await core.createNamespacedPod({ namespace: 'default', body: podBody(name) }); pods.add(name); };
    const remove = async (name: string): Promise<void> => { await core.deleteNamespacedPod({ namespace: 'default', name, gracePeriodSeconds: 0 }); pods.delete(name); };
    for (const name of ['steady-0', 'steady-1', 'steady-2']) await create(name);
    const before = await until('convergence before the faults', () => convergedOn(pods), 60_000);
    const startsBefore = runs().length;

    // Each phase: the fault starts (open watches are cut), pods change at the given offsets.
    const phases: { name: string; fault: Fault; changes: [number, () => Promise<void>][] }[] = [
      { name: '500 for half', fault: { status: 500, fraction: 0.5 }, changes: [[1000, () => create('half-a')], [3000, () => remove('steady-0')]] },
      { name: '429 for all', fault: { status: 429, retryAfterSeconds: 1 }, changes: [[500, () => create('shed-a')], [1500, () => create('flash')], [2500, () => remove('flash')], [3500, () => remove('half-a')]] },
      { name: '500 for all', fault: { status: 500 }, changes: [[1000, () => create('fail-a')], [3000, () => remove('steady-1')]] },
    ];
    const podOperations = phases.reduce((n, p) => n + p.changes.length, 0);
    // The agent must stay up (and keep the last config running) throughout: sample its status.
    const sampled: string[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        sampled.push(await status().then((s) => s.state, () => 'unreachable'));
        await sleep(250);
      }
    })();
    const windows: { name: string; from: number; to: number }[] = [];
    const faultsFrom = Date.now();
    for (const phase of phases) {
      const from = Date.now();
      proxy.fail(phase.fault);
      for (const [at, change] of phase.changes) {
        await sleep(Math.max(0, from + at - Date.now()));
        await change();
      }
      await sleep(Math.max(0, from + PHASE_MS - Date.now()));
      windows.push({ name: phase.name, from, to: Date.now() });
    }
    proxy.heal();
    const faultsTo = Date.now();
    sampling = false;
    await sampler;

    const healed = Date.now();
    const after = await until('convergence after the faults ended', () => convergedOn(pods), 90_000).catch(async (err: Error) => {
      throw new Error(`${err.message}\nwant pods ${JSON.stringify([...pods].sort())}; agent status ${JSON.stringify(await status().catch(() => 'unreachable'))}; scheduler runs ${runs().length}`);
    });
    const convergeMs = Date.now() - healed;

    // The faults were served, and the agent backed off: requests per second while they lasted.
    const seen = (from: number, to: number): ProxiedRequest[] => proxy.requests().filter((r) => r.at >= from && r.at < to);
    const served = (rs: readonly ProxiedRequest[], code: number): number => rs.filter((r) => r.injected && r.status === code).length;
    const during = seen(faultsFrom, faultsTo);
    const seconds = (faultsTo - faultsFrom) / 1000;
    const peak = Math.max(0, ...tally(during, (r) => String(Math.floor((r.at - faultsFrom) / 1000))).values());
    const kinds = tally(during, (r) => `${r.method} ${r.path}${r.watch ? ' (watch)' : ''} → ${r.status}`);
    // The phases where every request fails: no retry can succeed, so no delay is reset.
    const allFailing = { from: windows[1]?.from ?? 0, to: windows.at(-1)?.to ?? 0 };
    const failingRate = seen(allFailing.from, allFailing.to).length / ((allFailing.to - allFailing.from) / 1000);
    const starts = runs().slice(startsBefore);
    const newGenerations = (after.generation ?? 0) - (before.generation ?? 0);
    const reasons = new Set([...stderr.matchAll(/"msg":"watch restarting".*?"reason":"([^"]*)"/g)].map((m) => m[1]));
    process.stdout.write([
      `apiserver faults for ${seconds.toFixed(1)} s: ${served(during, 429)} × 429 and ${served(during, 500)} × 500 served, ${proxy.cutWatches()} watch streams cut`,
      ...windows.map((w) => { const rs = seen(w.from, w.to); return `  ${w.name}: ${rs.length} requests, ${served(rs, 429)} × 429, ${served(rs, 500)} × 500`; }),
      `  agent requests during the faults: ${during.length} (${(during.length / seconds).toFixed(2)}/s, peak ${peak} in one second; ${failingRate.toFixed(2)}/s while all failed)`,
      ...[...kinds].sort().map(([k, n]) => `    ${n} × ${k}`),
      `  watch restart reasons: ${[...reasons].join(' | ')}`,
      `  agent status while faulted: ${sampled.filter((s) => s === 'enforcing').length}/${sampled.length} samples enforcing`,
      `converged ${convergeMs} ms after the faults ended: generation ${before.generation} → ${after.generation} (${newGenerations} new for ${podOperations} pod operations), ${starts.length} scheduler starts`,
    ].join('\n') + '\n');

    expect(served(during, 429), 'the agent\'s requests never met a 429').toBeGreaterThan(0);
    expect(served(during, 500), 'the agent\'s requests never met a 500').toBeGreaterThan(0);
    expect(proxy.cutWatches(), 'no watch stream was open to cut').toBeGreaterThan(0);
    // While everything fails, three informers whose retry delay doubles from 1 s send at most
    // 5 requests each in 10 s (at 0, 1, 3 and 7 s, one more if a cut ends cleanly), plus a Node
    // patch or two: ≤ 1.7/s. A fixed 1 s delay sends about 3/s; no delay, hundreds.
    expect(failingRate, 'requests per second while every request failed: the agent is not backing off').toBeLessThanOrEqual(2);
    expect(peak, 'requests in the busiest second of the faults').toBeLessThanOrEqual(10);

    // No pod event lost: convergedOn(pods) compared the generation with the pods that exist, and
    // the published distribution counts them (all three are in ordinary tiers).
    expect([...pods].sort()).toEqual(['fail-a', 'shed-a', 'steady-2']);
    const published = JSON.parse((await core.readNode({ name: cp.nodeName })).metadata?.annotations?.[distributionKey] ?? '{}') as Record<string, { pods?: number }>;
    expect(Object.values(published).reduce((n, t) => n + (typeof t === 'object' && t !== null ? t.pods ?? 0 : 0), 0)).toBe(pods.size);
    // No restart storm: one start per new generation at most, each with a config unlike the one before.
    expect(newGenerations).toBeGreaterThan(0);
    expect(newGenerations).toBeLessThanOrEqual(podOperations);
    expect(starts.length).toBeLessThanOrEqual(newGenerations);
    const shas = [runs()[startsBefore - 1]?.sha256, ...starts.map((r) => r.sha256)];
    expect(shas.slice(1).every((sha, i) => sha !== shas[i]), 'the scheduler was restarted with an unchanged config').toBe(true);

    // No crash, and it answered throughout.
    expect(sampled).not.toContain('unreachable');
    expect(child.exitCode).toBeNull();
    expect(child.signalCode).toBeNull();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(stderr).not.toMatch(/uncaught|unhandled/i);
    expect(stderr).not.toContain('recompute failed');
    // Its credentials stay out of its log.
    const token = (() => { const kc = new KubeConfig(); kc.loadFromString(proxy.kubeconfig()); return kc.getCurrentUser()?.token ?? ''; })();
    expect(token.length).toBeGreaterThan(20);
    expect(stderr).not.toContain(token);

    // Settled: nothing else starts, the generation stays.
    await sleep(3000);
    expect(runs()).toHaveLength(startsBefore + starts.length);
    expect(await convergedOn(pods)).toEqual(after);
  }, 180_000);
});
