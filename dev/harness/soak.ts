// A soak of the agent as users run it (`node agent/main.ts`, a process, against a real API
// server) with the stand-in scheduler (test/fixtures/fake-scx.ts): random pod churn on its node
// and, every few seconds, a fault (the scheduler exiting, its Node annotations overwritten, a
// PriorityClass in use deleted and recreated). Measures events applied, scheduler starts, time
// not enforcing and the agent's memory before and after, then waits for convergence. Used by
// test/soak.test.ts (2 minutes in CI) and bench/soak.bench.ts (30 minutes).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, type KubeConfig, PatchStrategy, SchedulingV1Api, type V1Pod, setHeaderOptions } from '@kubernetes/client-node';
import { agentNodeAnnotations } from '../../core/install-objects.ts';
import { defaultPolicy } from '../../core/config.ts';

const repo = join(import.meta.dirname, '..', '..');

export interface SoakResult {
  readonly seconds: number;
  readonly podEvents: number;
  readonly faults: Readonly<Record<string, number>>;
  readonly generations: number;
  readonly schedulerStarts: number;
  readonly unenforcedMs: number;
  readonly rssBeforeMiB: number;
  readonly rssAfterMiB: number;
  readonly heapBeforeMiB: number;
  readonly heapAfterMiB: number;
  /** Time from the end of the churn until the Node showed the final generation, running. */
  readonly convergeMs: number;
  readonly converged: boolean;
}

interface Status { state: string; generation?: number; sha256?: string }

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? NaN);
}

/** Runs the soak for `seconds`; `log` gets one progress line every 30 s. */
export async function soak(kc: KubeConfig, kubeconfigPath: string, seconds: number, log: (line: string) => void = () => {}): Promise<SoakResult> {
  const core = kc.makeApiClient(CoreV1Api);
  const scheduling = kc.makeApiClient(SchedulingV1Api);
  const policy = defaultPolicy();
  const [distributionKey, statusKey] = agentNodeAnnotations(policy) as [string, string];
  const suffix = randomBytes(3).toString('hex');
  const nodeName = `soak-${suffix}`;
  const namespace = 'default';
  const soakClass = `soak-${suffix}-high`;
  const dir = mkdtempSync(join(tmpdir(), 'temper-soak-'));
  const sysfs = join(dir, 'sched_ext');
  mkdirSync(sysfs);
  writeFileSync(join(sysfs, 'state'), 'disabled\n');
  const runs = (): { sha256: string }[] => {
    try { return readFileSync(join(dir, 'runs.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { sha256: string }); } catch { return []; }
  };
  const resources = { cpu: '8', memory: '32Gi', pods: '500' };
  await core.createNode({ body: { metadata: { name: nodeName }, status: { capacity: resources, allocatable: resources } } });
  await scheduling.createPriorityClass({ body: { metadata: { name: soakClass }, value: 150_000, globalDefault: false } });
  let stderr = '';
  const child: ChildProcess = spawn(process.execPath, [join(repo, 'agent', 'main.ts'),
    '--kubeconfig', kubeconfigPath, '--node', nodeName,
    '--scx-binary', process.execPath, '--scx-arg', join(repo, 'test', 'fixtures', 'fake-scx.ts'),
    '--state-dir', join(dir, 'state'), '--sched-ext-dir', sysfs, '--task-hint-map', join(dir, 'hints'), '--grpc-address', `unix://${join(dir, 'agent.sock')}`, '--http-port', '0', '--stop-scheduler-on-exit'],
  { env: { ...process.env, FAKE_SCX_DIR: dir, FAKE_SCX_SCHED_EXT: sysfs }, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (c: string) => { stderr = (stderr + c).slice(-200_000); });
  const alive: string[] = [];
  try {
    let url = '';
    for (let i = 0; i < 300 && url === ''; i++) {
      url = /"msg":"agent running".*?"http":"([^"]+)"/.exec(stderr)?.[1] ?? '';
      if (url === '') await sleep(100);
    }
    if (url === '') throw new Error(`the agent did not start:\n${stderr.slice(-3000)}`);
    const status = async (): Promise<Status> => await (await fetch(`${url}/api/v1/status`)).json() as Status;
    for (let i = 0; i < 300 && (await status()).state !== 'enforcing'; i++) await sleep(100);
    const rssBefore = await metric(url, 'temper_agent_process_resident_memory_bytes');
    const heapBefore = await metric(url, 'temper_agent_nodejs_heap_size_used_bytes');

    // Time not enforcing, sampled every 100 ms.
    let unenforcedMs = 0;
    let sampling = true;
    const sampler = (async () => {
      let last = Date.now();
      while (sampling) {
        const s = await status().catch(() => ({ state: 'unreachable' }));
        const now = Date.now();
        if (s.state !== 'enforcing') unenforcedMs += now - last;
        last = now;
        await sleep(100);
      }
    })();

    const tiers: Record<string, unknown>[] = [
      {}, { priorityClassName: soakClass }, { priorityClassName: 'system-cluster-critical' },
    ];
    const faults: Record<string, number> = { 'scheduler exit': 0, 'annotations overwritten': 0, 'class deleted and recreated': 0 };
    let podEvents = 0;
    let n = 0;
    const started = Date.now();
    let nextFault = started + 5000;
    let nextLog = started + 30_000;
    while (Date.now() - started < seconds * 1000) {
      if (alive.length > 0 && (alive.length > 40 || Math.random() < 0.4)) {
        const name = alive.splice(Math.floor(Math.random() * alive.length), 1)[0] ?? '';
        await core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 }).catch(() => undefined);
      } else {
        const name = `soak-${suffix}-${n++}`;
        const cpu = `${50 + Math.floor(Math.random() * 500)}m`;
        const guaranteed = Math.random() < 0.3;
        const body = { metadata: { name }, spec: { nodeName, ...tiers[Math.floor(Math.random() * tiers.length)], containers: [{ name: 'c', image: 'x', resources: guaranteed ? { requests: { cpu, memory: '64Mi' }, limits: { cpu, memory: '64Mi' } } : { requests: { cpu } } }] } } as V1Pod;
        const ok = await core.createNamespacedPod({ namespace, body }).then(() => true, () => false); // the class may be mid-recreation
        if (ok) alive.push(name);
      }
      podEvents++;
      if (Date.now() >= nextFault) {
        const which = Object.keys(faults)[Math.floor(Math.random() * 3)] ?? '';
        faults[which] = (faults[which] ?? 0) + 1;
        if (which === 'scheduler exit') {
          // The next start exits after 200-1000 ms; later starts run normally.
          writeFileSync(join(dir, 'behaviour'), `crash:${200 + Math.floor(Math.random() * 800)}`);
          setTimeout(() => writeFileSync(join(dir, 'behaviour'), 'ok'), 1500).unref();
          const pid = /"msg":"scx_layered started","pid":(\d+)/g;
          const pids = [...stderr.matchAll(pid)].map((m) => Number(m[1]));
          try { process.kill(pids.at(-1) ?? -1, 'SIGKILL'); } catch { /* already gone */ }
          // What the kernel does when a sched_ext scheduler dies (SIGKILL leaves the stand-in no chance to).
          writeFileSync(join(sysfs, 'state'), 'disabled\n');
        } else if (which === 'annotations overwritten') {
          await core.patchNode({ name: nodeName, body: { metadata: { annotations: { [distributionKey]: 'forged', [statusKey]: '{"state":"forged"}' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
        } else {
          await scheduling.deletePriorityClass({ name: soakClass });
          await sleep(500);
          await scheduling.createPriorityClass({ body: { metadata: { name: soakClass }, value: 150_000, globalDefault: false } });
        }
        nextFault = Date.now() + 3000 + Math.random() * 7000;
      }
      if (Date.now() >= nextLog) {
        log(`soak: ${Math.round((Date.now() - started) / 1000)} s, ${podEvents} pod events, ${alive.length} pods alive, ${runs().length} scheduler starts, ${Math.round(unenforcedMs)} ms not enforcing`);
        nextLog += 30_000;
      }
      await sleep(50 + Math.random() * 250);
    }
    writeFileSync(join(dir, 'behaviour'), 'ok');

    // Convergence: the agent's generation lists exactly the pods alive, it runs that generation's
    // config, and the Node carries its status and a distribution.
    const endChurn = Date.now();
    let converged = false;
    let last: Status = { state: '' };
    while (Date.now() - endChurn < 60_000 && !converged) {
      await sleep(200);
      last = await status();
      const pods = await (await fetch(`${url}/api/v1/pods`)).json() as { name: string }[];
      const names = pods.map((p) => p.name).filter((x) => x.startsWith(`soak-${suffix}-`)).sort();
      const node = await core.readNode({ name: nodeName });
      const a = node.metadata?.annotations ?? {};
      const published = a[statusKey] === undefined ? null : JSON.parse(a[statusKey]) as Status;
      converged = last.state === 'enforcing' && JSON.stringify(names) === JSON.stringify([...alive].sort())
        && runs().at(-1)?.sha256 === last.sha256 && published?.generation === last.generation && published?.state === 'enforcing'
        && a[distributionKey] !== undefined && a[distributionKey] !== 'forged';
    }
    const convergeMs = Date.now() - endChurn;
    sampling = false;
    await sampler;
    // Let a collection happen before reading memory (the agent runs with default GC settings here).
    await sleep(2000);
    return {
      seconds, podEvents, faults, generations: last.generation ?? 0, schedulerStarts: runs().length, unenforcedMs,
      rssBeforeMiB: rssBefore / 2 ** 20, rssAfterMiB: await metric(url, 'temper_agent_process_resident_memory_bytes') / 2 ** 20,
      heapBeforeMiB: heapBefore / 2 ** 20, heapAfterMiB: await metric(url, 'temper_agent_nodejs_heap_size_used_bytes') / 2 ** 20,
      convergeMs, converged,
    };
  } finally {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await core.deleteCollectionNamespacedPod({ namespace, fieldSelector: `spec.nodeName=${nodeName}`, gracePeriodSeconds: 0 }).catch(() => undefined);
    await core.deleteNode({ name: nodeName }).catch(() => undefined);
    await scheduling.deletePriorityClass({ name: soakClass }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The result as the lines both the test and the benchmark print. */
export function describeSoak(r: SoakResult): string {
  return [
    `soak of ${r.seconds} s: ${r.podEvents} pod events applied, faults ${Object.entries(r.faults).map(([k, v]) => `${k} ×${v}`).join(', ')}`,
    `  generations ${r.generations}, scheduler starts ${r.schedulerStarts}, time not enforcing ${(r.unenforcedMs / 1000).toFixed(1)} s (${((100 * r.unenforcedMs) / (r.seconds * 1000)).toFixed(1)} %)`,
    `  agent memory: rss ${r.rssBeforeMiB.toFixed(1)} → ${r.rssAfterMiB.toFixed(1)} MiB, heap used ${r.heapBeforeMiB.toFixed(1)} → ${r.heapAfterMiB.toFixed(1)} MiB`,
    `  ${r.converged ? `converged ${r.convergeMs} ms after the churn ended` : `NOT converged within ${r.convergeMs} ms`}`,
  ].join('\n');
}
