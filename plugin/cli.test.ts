import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { main } from './cli.ts';

const repo = join(import.meta.dirname, '..');
const PODS = join(repo, 'manifests/examples/pods.yaml');
const NODE = join(repo, 'manifests/examples/node.yaml');
const tmp = mkdtempSync(join(tmpdir(), 'temper-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => { out += t; }, stderr: (t) => { err += t; } });
  return { code, out, err };
}

describe('tiers --from-file', () => {
  it('-o json: one object per live pod with exactly the contract\'s keys', async () => {
    const r = await run('tiers', '--from-file', PODS, '-o', 'json');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.out) as Record<string, unknown>[];
    expect(rows).toHaveLength(10); // 11 pods in the file, one Succeeded
    for (const row of rows) expect(Object.keys(row)).toEqual(['namespace', 'name', 'uid', 'tier', 'layer', 'priority', 'qosClass', 'reason', 'hint']);
    expect(rows.find((x) => x.name === 'payments-api-0')).toMatchObject({ tier: 'critical', layer: 'critical', priority: 1000000, qosClass: 'Guaranteed', hint: 2 });
    expect(rows.find((x) => x.name === 'kube-proxy-x7k2p')).toMatchObject({ tier: 'system', layer: 'nodecritical', hint: 7 });
    expect(rows.find((x) => x.name === 'temper-agent-q9w8e')).toMatchObject({ tier: 'system', layer: 'system', hint: 1 });
    // placement = "cgroup": the pod clauses place every pod, so no row has a hint
    const cgroup = JSON.parse((await run('tiers', '--from-file', PODS, '-o', 'json', '--config', file('cgroup.toml', '[node]\nplacement = "cgroup"\n'))).out) as Record<string, unknown>[];
    expect(cgroup.map((x) => x.hint)).toEqual(rows.map(() => null));
    expect(cgroup.find((x) => x.name === 'kube-proxy-x7k2p')).toMatchObject({ tier: 'system', layer: 'catchall' });
  });
  it('table, wide and yaml output; -n and --node filter', async () => {
    const table = await run('tiers', '--from-file', PODS, '-n', 'analytics');
    expect(table.out.split('\n')[0]).toMatch(/^NAME\s+TIER\s+LAYER\s+PRIORITY\s+QOS$/);
    expect(table.out).toContain('nightly-report-29xyz');
    expect(table.out).not.toContain('payments');
    const wide = await run('tiers', '--from-file', PODS, '-o', 'wide', '--node', 'worker-2');
    expect(wide.out.split('\n')[0]).toMatch(/^NAMESPACE\s+NAME\s+TIER\s+LAYER\s+PRIORITY\s+QOS\s+HINT\s+UID\s+REASON$/);
    expect(wide.out.trim().split('\n')).toHaveLength(2);
    const yaml = await run('tiers', '--from-file', PODS, '-o', 'yaml', '-n', 'media');
    expect(yaml.out).toContain('tier: background');
    expect((await run('tiers', '--from-file', PODS, '-n', 'nowhere')).out).toBe('No pods found.\n');
  });
});

describe('placement = "hints" (test/golden/hints-systemd)', () => {
  const g = join(repo, 'test/golden/hints-systemd');
  const args = ['--from-file', join(g, 'pods.yaml'), '--config', join(g, 'config.toml')];
  it('-o json rows carry the task hint; -o wide shows it, - for a pod the static QoS match places', async () => {
    const rows = JSON.parse((await run('tiers', ...args, '-o', 'json')).out) as Record<string, unknown>[];
    for (const row of rows) expect(Object.keys(row)).toEqual(['namespace', 'name', 'uid', 'tier', 'layer', 'priority', 'qosClass', 'reason', 'hint']);
    expect(rows.find((x) => x.name === 'api-0')).toMatchObject({ tier: 'high', hint: 3 });
    expect(rows.find((x) => x.name === 'kube-proxy-0')).toMatchObject({ tier: 'system', layer: 'nodecritical', hint: 7 });
    expect(rows.find((x) => x.name === 'web-0')).toMatchObject({ tier: 'normal', hint: null });
    const wide = (await run('tiers', ...args, '-o', 'wide', '-n', 'shop')).out.split('\n');
    expect(wide[0]).toMatch(/^NAME\s+TIER\s+LAYER\s+PRIORITY\s+QOS\s+HINT\s+UID\s+REASON$/);
    expect(wide.find((l) => l.startsWith('api-0'))).toMatch(/^api-0\s+high\s+high\s+100000\s+Burstable\s+3\s+/);
    expect(wide.find((l) => l.startsWith('web-0'))).toMatch(/^web-0\s+normal\s+normal\s+0\s+Burstable\s+-\s+/);
    expect((await run('tiers', ...args, '-n', 'shop')).out.split('\n')[0]).toMatch(/^NAME\s+TIER\s+LAYER\s+PRIORITY\s+QOS$/);
  });
  it('explain says which mechanism places the pod', async () => {
    const node = ['--node', join(g, 'node.yaml')];
    const hinted = await run('explain', 'pod', 'api-0', '-n', 'shop', ...args, ...node);
    expect(hinted.out).toContain('match:     task hint 3 written by the agent for each of its threads (HintEquals 3); until a thread\'s hint is written, the static match (Burstable prefix kubepods.slice/kubepods-burstable.slice/) puts it in layer normal');
    const placed = await run('explain', 'pod', 'web-0', '-n', 'shop', ...args, ...node);
    expect(placed.out).toContain('match:     static match (QoS fallback): CgroupPrefix kubepods.slice/kubepods-burstable.slice/ takes every Burstable pod without a task hint (systemd driver); no clause of its own');
    const offline = await run('explain', 'pod', 'kube-proxy-0', '-n', 'kube-system', ...args);
    expect(offline.out).toContain('Layer:       nodecritical');
    expect(offline.out).toContain('match:     task hint 7 written by the agent for each of its threads (HintEquals 7); until a thread\'s hint is written, the static matches place it');
  });
});

describe('render and distribution', () => {
  it('render prints a bare JSON array ending in the catch-all', async () => {
    const r = await run('render', '--node', NODE, '--pods', PODS);
    expect(r.code).toBe(0);
    const cfg = JSON.parse(r.out) as { name: string; matches: unknown }[];
    expect(cfg.map((l) => l.name)).toEqual(['system', 'nodecritical', 'critical', 'high', 'low', 'normal', 'background', 'catchall']); // hints order (docs/layers.md)
    expect(cfg.at(-1)?.matches).toEqual([[]]);
    expect(r.out).not.toContain('frontend'); // worker-2's pod is not on worker-1
  });
  it('--cgroup-driver overrides the config', async () => {
    const r = await run('render', '--node', NODE, '--pods', PODS, '--cgroup-driver', 'cgroupfs');
    expect(r.out).toContain('"CgroupPrefix": "kubepods/burstable/"');
    expect(r.out).not.toContain('kubepods.slice');
    expect((await run('render', '--node', NODE, '--pods', PODS, '--cgroup-driver', 'docker')).code).toBe(2);
  });
  it('distribution prints the compact annotation value', async () => {
    const r = await run('distribution', '--node', NODE, '--pods', PODS);
    expect(r.out).toBe('{"critical":{"pods":1,"cpuMillis":2000},"high":{"pods":1,"cpuMillis":1500},"normal":{"pods":2,"cpuMillis":1500},"low":{"pods":1,"cpuMillis":250},"background":{"pods":2,"cpuMillis":1000}}\n');
  });
  it('warns on stderr when the node cannot guarantee a tier; stdout stays the exact config', async () => {
    const g = join(repo, 'test/golden/two-cpu-fence');
    const r = await run('render', '--node', join(g, 'node.yaml'), '--pods', join(g, 'pods.yaml'), '--config', join(g, 'config.toml'));
    expect(r.code).toBe(0);
    expect(r.out).toBe(readFileSync(join(g, 'want.layered.json'), 'utf8'));
    expect(r.err).toBe('warning: [tier-unowned] Normal owns no CPU and runs in the shared layer with the other tiers that own none and with Low and Background, on the unowned CPUs: no core is left for it to own (edge-1: 2 CPUs, 1 core may be owned, 1 core always unowned (node.reserved_cpus = 1), all held by higher tiers)\n');
    // the examples' only warnings: redis-0 (Normal, 1 CPU) cannot have its profile's exclusive and latency groups
    expect((await run('render', '--node', NODE, '--pods', PODS)).err.split('\n').filter((l) => l !== '').map((l) => l.slice(0, 42)))
      .toEqual(['warning: [profile-degraded] pod shop/redis', 'warning: [profile-degraded] pod shop/redis']);
  });
  it('--config changes the result', async () => {
    const cfg = file('c.toml', '[priority_mapping]\nhigh = 1000\n[node]\nreserved_cpus = 2\n');
    const r = await run('render', '--node', NODE, '--pods', PODS, '--config', cfg);
    // two CPUs kept unowned leave High no room to grow to its limits (3 CPUs without the config)
    expect(JSON.parse(r.out).find((l: { name: string }) => l.name === 'high').kind.Grouped.cpus_range).toEqual([2, 2]);
  });
});

describe('explain pod', () => {
  it('explains the rule, layer parameters and demotion', async () => {
    const r = await run('explain', 'pod', 'payments-api-0', '-n', 'shop', '--from-file', PODS, '--node', NODE);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Tier:        critical');
    expect(r.out).toContain('Rule:        priority-threshold: priority 1000000 (class infera-critical, from spec.priority) ≥ critical threshold 1000000');
    expect(r.out).toContain('kind:      Confined (protected, preempt, exclusive)');
    expect(r.out).toContain('Demotion:    none');
  });
  it('shows a demotion', async () => {
    const g = join(repo, 'test/golden/demotion');
    const r = await run('explain', 'pod', 'trading-0', '-n', 'fin', '--from-file', join(g, 'pods.yaml'), '--node', join(g, 'node.yaml'));
    expect(r.out).toMatch(/Demotion:\s+demoted to Grouped: requests 3 need 3 whole cores but only 2 can be fenced/);
    expect(r.out).toMatch(/\nWarning:\s+\[critical-demoted\] Critical is not fenced \(Grouped, not exclusive\): requests 3 need 3 whole cores/);
    expect(r.out).not.toContain('[tier-unowned]'); // Normal's warning is not about this pod
  });
  it('shows the warnings about the pod\'s own tier and the node', async () => {
    const g = join(repo, 'test/golden/two-cpu-fence');
    const r = await run('explain', 'pod', 'web-0', '-n', 'shop', '--from-file', join(g, 'pods.yaml'), '--node', join(g, 'node.yaml'));
    expect(r.out).toContain('kind:      Open (not protected, no preemption, shared cores)');
    expect(r.out).toContain('Warning:     [tier-unowned] Normal owns no CPU and runs in the shared layer with the other tiers that own none and with Low and Background, on the unowned CPUs');
    const critical = await run('explain', 'pod', 'quote-0', '-n', 'shop', '--from-file', join(g, 'pods.yaml'), '--node', join(g, 'node.yaml'));
    expect(critical.out).toContain('kind:      Confined (protected, preempt, exclusive)');
    expect(critical.out).not.toContain('Warning:');
  });
  it('a finished pod takes no part', async () => {
    expect((await run('explain', 'pod', 'db-migrate-2kq9x', '-n', 'shop', '--from-file', PODS)).out).toContain('finished pods take no part');
  });
});

describe('bad input: a clear message naming the file and the problem, non-zero exit', () => {
  it.each([
    [['tiers', '--from-file', '/nope/pods.yaml'], 1, 'error: /nope/pods.yaml: cannot read manifest file: no such file'],
    [['render', '--node', NODE, '--pods', 'BAD_YAML'], 1, 'bad.yaml: invalid YAML: line 3, column 1: Flow sequence in block collection'],
    [['render', '--node', NODE, '--pods', 'BAD_QTY'], 1, 'spec.containers[0].resources.requests.cpu: "lots" is not a valid quantity'],
    [['render', '--node', 'NOT_NODE', '--pods', PODS], 1, 'expected exactly one Node object, found 0'],
    [['render', '--node', NODE, '--pods', PODS, '--config', 'BAD_CFG'], 1, 'node.cgroup_driver: must be one of systemd, cgroupfs (got "docker")'],
    [['tiers', '--from-file', 'DEPLOY'], 1, 'deploy.yaml (Deployment web): spec.template: required (the pod template)'],
    [['explain', 'pod', 'ghost', '--from-file', PODS], 1, 'error: pods "ghost" not found in namespace default'],
    [['explain', 'deployment', 'x', '--from-file', PODS], 2, 'unsupported kind "deployment"'],
    [['tiers', '--from-file', 'UNKNOWN_CLASS'], 1, 'priorityClassName "gold" has no spec.priority'],
    [['render', '--node', NODE, '--pods', 'UNKNOWN_CLASS_ON_NODE'], 1, 'error: pod default/a: priorityClassName "gold" has no spec.priority'],
    [['render', '--node', NODE, '--pods', 'NO_UID'], 1, "error: pod default/a on node worker-1: metadata.uid: missing, so the pod's cgroup path cannot be known"],
    [['render', '--pods', PODS], 2, "required option '--node <node-file>' not specified"],
    [['frobnicate'], 2, "unknown command 'frobnicate'"],
  ])('%j', async (argv, code, message) => {
    const fixtures: Record<string, string> = {
      BAD_YAML: file('bad.yaml', 'kind: Pod\nmetadata: [\n'),
      BAD_QTY: file('qty.yaml', 'kind: Pod\nmetadata: {name: a, uid: 00000000-0000-4000-8000-000000000001}\nspec:\n  nodeName: worker-1\n  containers: [{name: c, resources: {requests: {cpu: lots}}}]\n'),
      NOT_NODE: PODS,
      BAD_CFG: file('bad.toml', '[node]\ncgroup_driver = "docker"\n'),
      DEPLOY: file('deploy.yaml', 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {}\n'),
      UNKNOWN_CLASS: file('gold.yaml', 'kind: Pod\nmetadata: {name: a}\nspec:\n  priorityClassName: gold\n  containers: [{name: c}]\n'),
      UNKNOWN_CLASS_ON_NODE: file('gold-on-node.yaml', 'kind: Pod\nmetadata: {name: a, uid: 00000000-0000-4000-8000-000000000001}\nspec:\n  nodeName: worker-1\n  priorityClassName: gold\n  containers: [{name: c}]\n'),
      NO_UID: file('no-uid.yaml', 'kind: Pod\nmetadata: {name: a}\nspec:\n  nodeName: worker-1\n  containers: [{name: c}]\n'),
    };
    const r = await run(...argv.map((a) => fixtures[a] ?? a));
    expect(r.code).toBe(code);
    expect(r.err).toContain(message);
    expect(r.out).toBe('');
  });

  it('reports every problem in a file at once', async () => {
    const bad = file('many.yaml', 'kind: Pod\nmetadata: {name: a}\nspec:\n  priority: "high"\n  containers: [{name: c, resources: {limits: {cpu: "-1", memory: x}}}]\n');
    const r = await run('tiers', '--from-file', bad);
    expect(r.err.trim().split('\n')).toEqual([
      `error: ${bad}: spec.containers[0].resources.limits.cpu: must not be negative (got "-1")`,
      `error: ${bad}: spec.containers[0].resources.limits.memory: "x" is not a valid quantity (expected e.g. 500m, 2, 1.5, 4Gi)`,
      `error: ${bad}: spec.priority: must be a 32-bit integer (got "high")`,
    ]);
  });
});

describe('as a process (what npx kubectl-temper and kubectl temper run)', () => {
  const bin = join(repo, 'plugin/kubectl-temper.ts');
  it('prints JSON on stdout and exits 0', () => {
    const out = execFileSync(process.execPath, [bin, 'tiers', '--from-file', PODS, '-o', 'json'], { encoding: 'utf8' });
    expect(JSON.parse(out)).toHaveLength(10);
  });
  it('errors go to stderr with a non-zero exit', () => {
    const r = spawnSync(process.execPath, [bin, 'render', '--node', NODE, '--pods', '/nope.yaml'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('error: /nope.yaml: cannot read manifest file: no such file\n');
  });
});
