// The agent as users run it: `node agent/main.ts` as a process against the real control plane,
// with the stand-in scheduler; observed only through its HTTP API, gRPC socket and the Node.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ProtoGrpcType } from '../agent/proto/gen/agent.ts';
import { loadAgentProto } from '../agent/proto/load.ts';
import { main as kubectlTemper } from '../plugin/cli.ts';

const repo = join(import.meta.dirname, '..');
const kubeconfig = inject('kubeconfig');
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const core = kc.makeApiClient(CoreV1Api);
const suffix = randomBytes(3).toString('hex');
const nodeName = `proc-node-${suffix}`;
const dir = mkdtempSync(join(tmpdir(), 'temper-agent-proc-'));
const sysfs = join(dir, 'sched_ext');
const socket = join(dir, 'agent.sock');
const configPath = join(dir, 'config.toml');
let child: ChildProcess;
let stderr = '';
let url = '';

async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${stderr.slice(-3000)}`);
    await sleep(100);
  }
}

describe('temper-agent process', () => {
  beforeAll(async () => {
    mkdirSync(sysfs);
    writeFileSync(join(sysfs, 'state'), 'disabled\n');
    await core.createNode({ body: { metadata: { name: nodeName }, status: { capacity: { cpu: '4', memory: '8Gi', pods: '110' }, allocatable: { cpu: '4', memory: '8Gi', pods: '110' } } } });
    writeFileSync(configPath, '[node]\nreserved_cpus = 1\n');
    child = spawn(process.execPath, [join(repo, 'agent', 'main.ts'),
      '--kubeconfig', kubeconfig, '--node', nodeName, '--config', configPath,
      '--scx-binary', process.execPath, '--scx-arg', join(repo, 'test', 'fixtures', 'fake-scx.ts'),
      '--state-dir', join(dir, 'state'), '--sched-ext-dir', sysfs, '--task-hint-map', join(dir, 'hints'),
      '--grpc-address', `unix://${socket}`, '--http-port', '0', '--stop-scheduler-on-exit'],
    { env: { ...process.env, FAKE_SCX_DIR: dir, FAKE_SCX_SCHED_EXT: sysfs }, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (c: string) => { stderr += c; });
    url = await until('the agent to listen', () => /"msg":"agent running".*?"http":"([^"]+)"/.exec(stderr)?.[1]);
    await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: `p-${suffix}` }, spec: { nodeName, priorityClassName: 'system-cluster-critical', containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '100m' } } }] } } as V1Pod });
    await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: `q-${suffix}` }, spec: { nodeName, containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '100m' } } }] } } as V1Pod });
  }, 60_000);

  afterAll(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await core.deleteNode({ name: nodeName }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves health, readiness, metrics and the JSON API', async () => {
    await until('ready', async () => (await fetch(`${url}/readyz`)).status === 200);
    const status = await until('enforcing', async () => {
      const s = await (await fetch(`${url}/api/v1/status`)).json() as { state: string };
      return s.state === 'enforcing' ? s : undefined;
    });
    expect(status).toMatchObject({ node: nodeName, state: 'enforcing' });
    const pods = await until('both pods', async () => {
      const p = await (await fetch(`${url}/api/v1/pods`)).json() as { name: string; tier: string; layer: string }[];
      return p.length === 2 ? p : undefined;
    });
    expect(pods.map((p) => [p.name, p.tier, p.layer]).sort()).toEqual([[`p-${suffix}`, 'system', 'nodecritical'], [`q-${suffix}`, 'normal', 'normal']]);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/temper_agent_generations_total [1-9]/);
    expect(metrics).toContain('temper_agent_enforcement_state{state="enforcing"} 1');
    expect(metrics).toContain('temper_agent_pods{tier="normal"} 1');
    // placement "hints" (the default): the node-critical pod p is hinted; no helper runs before the map exists
    expect(metrics).toContain('temper_agent_misplaced_threads');
  });

  it('answers GetLayeredConfig on a 0600 unix socket', async () => {
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    const proto = grpc.loadPackageDefinition(loadAgentProto()) as unknown as ProtoGrpcType;
    const client = new proto.temper.v1.Agent(`unix://${socket}`, grpc.credentials.createInsecure());
    const cfg = await new Promise<{ number: string; sha256: string; configJson: string }>((resolve, reject) => {
      client.GetLayeredConfig({}, (err, v) => (err !== null || v === undefined ? reject(err ?? new Error('empty answer')) : resolve(v)));
    });
    client.close();
    const api = await (await fetch(`${url}/api/v1/config`)).json() as { number: number; sha256: string };
    expect([Number(cfg.number), cfg.sha256]).toEqual([api.number, api.sha256]);
    expect(JSON.parse(cfg.configJson).map((l: { name: string }) => l.name)).toEqual(['system', 'nodecritical', 'low', 'normal', 'background', 'catchall']); // placement "hints", the default
  });

  it('kubectl temper config reaches it', async () => {
    let out = '';
    const code = await kubectlTemper(['config', '--agent-url', url], { stdout: (t) => { out += t; }, stderr: (t) => { out += t; } });
    expect(code).toBe(0);
    expect(out).toContain('"name": "normal"');
  });

  it('a bad config change keeps the last good config and is reported; a good one applies', async () => {
    const before = await (await fetch(`${url}/api/v1/config`)).json() as { number: number; configJson: string };
    writeFileSync(configPath, '[node]\nreserved_cpus = "two"\n');
    const status = await until('the rejection in the status', async () => {
      const st = await (await fetch(`${url}/api/v1/status`)).json() as { state: string; message: string };
      return st.message.includes('config rejected') ? st : undefined;
    });
    expect(status.message).toContain(`node.reserved_cpus: must be an integer (got "two")`);
    expect(status.state).toBe('enforcing');
    expect(await (await fetch(`${url}/metrics`)).text()).toContain('temper_agent_config_errors_total 1');
    expect(((await (await fetch(`${url}/api/v1/config`)).json()) as { number: number }).number).toBe(before.number);

    writeFileSync(configPath, '[node]\nreserved_cpus = 2\n');
    const after = await until('the new config applied', async () => {
      const cfg = await (await fetch(`${url}/api/v1/config`)).json() as { number: number; configJson: string };
      return cfg.number > before.number ? cfg : undefined;
    });
    // two CPUs kept unowned (was one): Normal may grow to 2 of the 4 CPUs instead of 3
    expect(JSON.parse(before.configJson).find((l: { name: string }) => l.name === 'normal').kind.Grouped.cpus_range).toEqual([1, 3]);
    expect(JSON.parse(after.configJson).find((l: { name: string }) => l.name === 'normal').kind.Grouped.cpus_range).toEqual([1, 2]);
    expect(((await (await fetch(`${url}/api/v1/status`)).json()) as { message: string }).message).not.toContain('config rejected');
  });

  it('an invalid config file stops the agent at start with a clear message', () => {
    const bad = join(dir, 'bad.toml');
    writeFileSync(bad, '[priority_mapping]\nhigh = "x"\n');
    const r = spawnSync(process.execPath, [join(repo, 'agent', 'main.ts'), '--config', bad, '--node', 'n', '--kubeconfig', kubeconfig], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`temper-agent: invalid config:\n  ${bad}: priority_mapping.high: must be an integer (got "x")`);
    const missing = spawnSync(process.execPath, [join(repo, 'agent', 'main.ts'), '--config', join(dir, 'nope.toml'), '--node', 'n'], { encoding: 'utf8', timeout: 20_000 });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('cannot read config');
  });

  it('SIGTERM shuts it down cleanly and stops the scheduler when asked to', async () => {
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await sleep(200);
    expect(spawnSync('cat', [join(sysfs, 'state')], { encoding: 'utf8' }).stdout.trim()).toBe('disabled');
  });
});
