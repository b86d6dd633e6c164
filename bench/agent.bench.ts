// Agent benchmark on a real local control plane, with the agent as a process and a fast
// stand-in scheduler (test/fixtures/fake-scx.sh) so the agent, not the scheduler, is measured.
// - pod change → config applied (the scheduler restarted with the new config): p50/p99, side by
//   side with a baseline: the same pod creation seen by a bare watch (the floor any watcher has);
// - restarts (generations) for a burst of 100 pod creations;
// - the idle agent's CPU (share of one core over a quiet window) and RSS, beside a bare `node`.
// Run: npm run bench:agent [-- --samples 30 --idle-seconds 20]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, Watch, type V1Pod } from '@kubernetes/client-node';
import { startControlPlane } from '../dev/controlplane/controlplane.ts';

const { values } = parseArgs({ options: { samples: { type: 'string', default: '30' }, 'idle-seconds': { type: 'string', default: '20' } } });
const samples = Number(values.samples);
const idleSeconds = Number(values['idle-seconds']);
const repo = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'temper-agent-bench-'));
const sysfs = join(dir, 'sched_ext');
mkdirSync(sysfs);
writeFileSync(join(sysfs, 'state'), 'disabled\n');
const runs = (): string[] => { try { return readFileSync(join(dir, 'runs.txt'), 'utf8').trim().split('\n').filter(Boolean); } catch { return []; } };
const pct = (s: number[], p: number): number => [...s].sort((a, b) => a - b)[Math.min(s.length - 1, Math.floor(s.length * p))] ?? NaN;
const proc = (pid: number): { cpuTicks: number; rssKb: number } => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return { cpuTicks: Number(stat[11]) + Number(stat[12]), rssKb: Number(rss) };
};

const cp = await startControlPlane({ controllers: false, nodeName: 'bench-node' });
const core = cp.kc.makeApiClient(CoreV1Api);
// The agent's runtime flags, as the chart runs it (docs/agent.md): a small young generation.
export const AGENT_NODE_FLAGS = ['--max-semi-space-size=1', '--optimize-for-size'];
const agent = spawn(process.execPath, [...AGENT_NODE_FLAGS, join(repo, 'agent', 'main.ts'), '--kubeconfig', cp.kubeconfigPath, '--node', cp.nodeName,
  '--scx-binary', join(repo, 'test', 'fixtures', 'fake-scx.sh'), '--state-dir', join(dir, 'state'), '--sched-ext-dir', sysfs,
  '--grpc-address', `unix://${join(dir, 'agent.sock')}`, '--http-port', '0', '--stop-scheduler-on-exit'],
{ env: { ...process.env, FAKE_SCX_DIR: dir, FAKE_SCX_SCHED_EXT: sysfs }, stdio: ['ignore', 'ignore', 'ignore'] });
agent.once('exit', (code) => {
  if (!stopping) { console.error(`the agent exited early (code ${code})`); process.exit(1); }
});
let stopping = false;
const bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
try {
  while (runs().length === 0) await sleep(50);
  const pod = (name: string): V1Pod => ({ metadata: { name }, spec: { nodeName: cp.nodeName, containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '10m' } } }] } }) as V1Pod;

  // A bare watch on the same pods: when could anyone have known about the change?
  const seen = new Map<string, number>();
  const watch = await new Watch(cp.kc).watch('/api/v1/pods', { fieldSelector: `spec.nodeName=${cp.nodeName}` }, (type, obj: V1Pod) => {
    if (type === 'ADDED' && obj.metadata?.name !== undefined) seen.set(obj.metadata.name, performance.now());
  }, () => {});

  const applied: number[] = [];
  const watched: number[] = [];
  for (let i = 0; i < samples; i++) {
    const before = runs().length;
    const t0 = performance.now();
    await core.createNamespacedPod({ namespace: 'default', body: pod(`lat-${i}`) });
    while (runs().length === before) await sleep(2);
    applied.push(performance.now() - t0);
    watched.push((seen.get(`lat-${i}`) ?? NaN) - t0);
    await sleep(300); // let the debounce window close so samples stay independent
  }
  watch.abort();

  const beforeBurst = runs().length;
  await Promise.all(Array.from({ length: 100 }, (_, i) => core.createNamespacedPod({ namespace: 'default', body: pod(`burst-${i}`) })));
  await sleep(3000);
  const burstRestarts = runs().length - beforeBurst;

  await sleep(2000);
  const a0 = proc(agent.pid ?? 0);
  const b0 = proc(bare.pid ?? 0);
  await sleep(idleSeconds * 1000);
  const a1 = proc(agent.pid ?? 0);
  const b1 = proc(bare.pid ?? 0);
  const hz = 100; // USER_HZ
  const share = (x: number, y: number): number => ((y - x) / hz / idleSeconds) * 100;

  console.log(`agent benchmark: ${samples} single-pod changes, node ${process.version}`);
  console.log('measure                                  p50 ms    p99 ms');
  console.log(`bare watch sees the pod (baseline)     ${pct(watched, 0.5).toFixed(1).padStart(8)}  ${pct(watched, 0.99).toFixed(1).padStart(8)}`);
  console.log(`agent applies the new config           ${pct(applied, 0.5).toFixed(1).padStart(8)}  ${pct(applied, 0.99).toFixed(1).padStart(8)}   (goal p99 < 1000 ms)`);
  console.log(`ratio applied/watch: p50 ${(pct(applied, 0.5) / pct(watched, 0.5)).toFixed(1)}x, p99 ${(pct(applied, 0.99) / pct(watched, 0.99)).toFixed(1)}x (the difference is mostly the 100 ms debounce)`);
  console.log(`burst of 100 pod creations: ${burstRestarts} scheduler restarts (goal ≤ 3)`);
  console.log(`idle over ${idleSeconds}s: agent CPU ${share(a0.cpuTicks, a1.cpuTicks).toFixed(3)}% of a core (bare node ${share(b0.cpuTicks, b1.cpuTicks).toFixed(3)}%), RSS ${(a1.rssKb / 1024).toFixed(0)} MB (bare node ${(b1.rssKb / 1024).toFixed(0)} MB); goals < 0.2%, < 120 MB`);
} finally {
  stopping = true;
  agent.kill('SIGTERM');
  bare.kill('SIGKILL');
  await new Promise((r) => agent.once('exit', r));
  await cp.stop();
  rmSync(dir, { recursive: true, force: true });
}
