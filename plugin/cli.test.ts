import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
    expect(wide.out.split('\n')[0]).toMatch(/^NAMESPACE\s+NAME\s+TIER\s+LAYER\s+PRIORITY\s+QOS\s+HINT\s+PROFILE\s+UID\s+REASON$/);
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
    expect(wide[0]).toMatch(/^NAME\s+TIER\s+LAYER\s+PRIORITY\s+QOS\s+HINT\s+PROFILE\s+UID\s+REASON$/);
    expect(wide.find((l) => l.startsWith('api-0'))).toMatch(/^api-0\s+high\s+high\s+100000\s+Burstable\s+3\s+-\s+/);
    expect(wide.find((l) => l.startsWith('web-0'))).toMatch(/^web-0\s+normal\s+normal\s+0\s+Burstable\s+-\s+-\s+/);
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

describe('workload profiles (docs/profiles.md)', () => {
  const dir = (name: string, files: Record<string, string>): string => {
    const path = join(tmp, name);
    mkdirSync(path, { recursive: true });
    for (const [f, text] of Object.entries(files)) writeFileSync(join(path, f), text);
    return path;
  };
  // A redis variant for big SMT nodes (overriding the built-in there), and a profile for the examples' payments-api-0.
  const BIG_REDIS = '[[profile]]\nname = "redis"\nimages = ["redis"]\nshape = { min_cpus = 16, smt = true }\n  [[profile.group]]\n  name = "event-loop"\n  treatment = "exclusive"\n  threads = ["redis-server"]\n  cores = 2\n';
  const PAYMENTS = '[[profile]]\nname = "payments"\nimages = ["registry.example/payments-api"]\n  [[profile.group]]\n  name = "io"\n  treatment = "latency"\n  threads = ["api-io"]\n';
  const overrides = dir('profiles', { 'big-redis.toml': BIG_REDIS, 'payments.toml': PAYMENTS, 'README.md': 'not a profile' });
  const bigRedis = join(overrides, 'big-redis.toml');
  const payments = join(overrides, 'payments.toml');

  it('profiles: the built-ins as a kubectl table, one row per variant', async () => {
    const r = await run('profiles');
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+SOURCE\s+SHAPE\s+IMAGES\s+GROUPS$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['cassandra', 'envoy', 'kafka', 'mysql-innodb', 'postgresql', 'pytorch-dataloader', 'redis']);
    expect(lines.find((l) => l.startsWith('redis'))).toMatch(/^redis\s+built-in\s+any node\s+redis,\*\/redis,\*\/valkey\S*\s+4$/);
    expect((await run('profiles', '--no-headers')).out).toBe(`${lines.slice(1).join('\n')}\n`);
  });

  it('profiles -o wide lists each group with its treatment and selectors; -o json|yaml the full rows', async () => {
    const wide = (await run('profiles', '-o', 'wide')).out.split('\n');
    expect(wide[0]).toMatch(/^NAME\s+SOURCE\s+SHAPE\s+IMAGES\s+GROUPS\s+THREAD-GROUPS$/);
    expect(wide.find((l) => l.startsWith('redis'))).toContain('event-loop (exclusive): threads redis-server*, valkey-server*, io_thd_*; aof-fsync (latency): threads bio_aof*');
    const rows = JSON.parse((await run('profiles', '-o', 'json', '--profiles-dir', overrides)).out) as Record<string, unknown>[];
    for (const row of rows) expect(Object.keys(row)).toEqual(['name', 'source', 'shape', 'images', 'groups', 'description']);
    // the built-in first, then the file's variant; files in a directory are read in name order
    expect(rows.filter((x) => x.name === 'redis').map((x) => x.source)).toEqual(['built-in', `${bigRedis} profile[0]`]);
    expect(rows.find((x) => x.source === `${bigRedis} profile[0]`)).toEqual({
      name: 'redis', source: `${bigRedis} profile[0]`, shape: '≥ 16 CPUs, SMT', images: ['redis'], groups: ['event-loop (exclusive): threads redis-server*'], description: '',
    });
    expect(rows.find((x) => x.name === 'payments')).toMatchObject({ source: `${payments} profile[0]`, groups: ['io (latency): threads api-io*'] });
    expect((await run('profiles', '-o', 'yaml', '--profiles', payments)).out).toContain(`- name: payments\n  source: ${payments} profile[0]\n  shape: any node\n`);
  });

  it('profiles --cpus/--smt/--node marks the variants in effect on that node shape', async () => {
    const inEffect = async (...argv: string[]): Promise<string[]> => {
      const r = await run('profiles', '--profiles-dir', overrides, ...argv);
      expect(r.code).toBe(0);
      expect(r.out.split('\n')[0]).toMatch(/\sIN-EFFECT$/);
      return r.out.trimEnd().split('\n').slice(1).filter((l) => l.startsWith('redis')).map((l) => `${l.split(/\s{3,}/)[1] ?? ''} ${l.split(/\s+/).at(-1) ?? ''}`);
    };
    expect(await inEffect('--cpus', '32', '--smt')).toEqual(['built-in -', `${bigRedis} profile[0] yes`]);
    expect(await inEffect('--cpus', '32')).toEqual(['built-in yes', `${bigRedis} profile[0] -`]); // no SMT: the file's shape does not fit
    expect(await inEffect('--cpus', '8', '--smt')).toEqual(['built-in yes', `${bigRedis} profile[0] -`]);
    expect(await inEffect('--node', NODE)).toEqual(['built-in yes', `${bigRedis} profile[0] -`]); // the example node: 8 CPUs
    const rows = JSON.parse((await run('profiles', '--profiles', bigRedis, '--cpus', '16', '--smt', '-o', 'json')).out) as Record<string, unknown>[];
    expect(rows.filter((x) => x.name === 'redis').map((x) => x.inEffect)).toEqual([false, true]);
    expect(rows.find((x) => x.name === 'kafka')?.inEffect).toBe(true);
    expect((await run('profiles', '--smt')).code).toBe(2);
    expect((await run('profiles', '--cpus', '8', '--node', NODE)).err).toBe('error: profiles: give --node or --cpus, not both\n');
    expect((await run('profiles', '--cpus', 'many')).err).toContain('want a CPU count');
  });

  it('bad profile files: every problem of every file, each naming the file and key; nothing on stdout', async () => {
    const bad = dir('bad-profiles', {
      'a.toml': '[[profile]]\nname = "none"\ncolour = 1\n  [[profile.group]]\n  name = "g"\n  treatment = "fast"\n  threads = ["a-very-long-thread-name"]\n',
      'b.toml': '[[profile]\nname = "x"\n',
    });
    for (const command of [['profiles'], ['render', '--node', NODE, '--pods', PODS], ['tiers', '--from-file', PODS], ['explain', 'pod', 'redis-0', '-n', 'shop', '--from-file', PODS]]) {
      const r = await run(...command, '--profiles-dir', bad);
      expect(r.code).toBe(1);
      expect(r.out).toBe('');
      expect(r.err.trimEnd().split('\n')).toEqual([
        `error: ${bad}/a.toml: profile[0].name: "none" is reserved: the annotation value that turns profiles off for a pod (got "none")`,
        `error: ${bad}/a.toml: profile[0].colour: unknown key (keys here are name, description, images, shape, group)`,
        `error: ${bad}/a.toml: profile[0].group[0].treatment: must be one of exclusive, latency, yield (got "fast")`,
        `error: ${bad}/a.toml: profile[0].group[0].threads[0]: must be at most 15 bytes, as the kernel stores a thread name (got 23 bytes; write the truncated name) (got "a-very-long-thread-name")`,
        `error: ${bad}/b.toml:2:1: invalid TOML: Invalid TOML document: each key-value declaration must be followed by an end-of-line`,
      ]);
    }
    expect((await run('profiles', '--profiles-dir', join(tmp, 'nowhere'))).err).toBe(`error: ${join(tmp, 'nowhere')}: cannot read profiles directory: no such file\n`);
    expect((await run('profiles', '--profiles', join(tmp, 'nowhere.toml'))).err).toBe(`error: ${join(tmp, 'nowhere.toml')}: cannot read profile file: no such file\n`);
  });

  it('explain pod: the examples\' redis-0 gets the built-in redis profile, each group with where it runs', async () => {
    const r = await run('explain', 'pod', 'redis-0', '-n', 'shop', '--from-file', PODS, '--node', NODE);
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    const at = lines.findIndex((l) => l.startsWith('Profile:'));
    expect(at).toBeGreaterThan(lines.findIndex((l) => l.startsWith('Demotion:'))); // after the tier and layer lines
    expect(lines.slice(at, at + 5)).toEqual([
      'Profile:     redis (container redis\'s image redis:7 matches redis\'s pattern "redis": built-in)',
      '  snapshots (yield): processes whose title contains "rdb-bgsave" or "aof-rewrite" → background: task hint 6: Background\'s layer, runs when the tiers above leave a CPU idle',
      '  event-loop (exclusive): threads redis-server*, valkey-server*, io_thd_* → [treatment-unavailable] stays in normal: exclusive cores are Critical\'s alone (the specification\'s tier table), and a normal pod\'s threads never rise above its tier',
      '  aof-fsync (latency): threads bio_aof* → [cores] stays in normal: the pod\'s request leaves 1 whole core, and a latency group never takes a pod\'s last: its main threads keep it',
      '  background-io (yield): threads bio_close_file*, bio_lazy_free* → background: task hint 6: Background\'s layer, runs when the tiers above leave a CPU idle',
    ]);
    expect(lines[at + 5]).toMatch(/^Config:/);
    // the plan's profile warnings say the same: the Profile lines are not repeated as warnings
    expect(r.out).not.toContain('[profile-degraded]');
    // without a node: the same selection, placement unknown
    const offline = await run('explain', 'pod', 'redis-0', '-n', 'shop', '--from-file', PODS);
    expect(offline.out).toContain('Profile:     redis (container redis\'s image redis:7 matches redis\'s pattern "redis": built-in)\n  snapshots (yield): processes whose title contains "rdb-bgsave" or "aof-rewrite" → placement depends on the node\n');
  });

  it('explain pod: "none" for a pod no profile matches, and no other pod\'s profile warnings', async () => {
    const r = await run('explain', 'pod', 'catalog-5c6d7-fghij', '-n', 'shop', '--from-file', PODS, '--node', NODE);
    expect(r.out).toContain('\nProfile:     none (no workload-profile annotation, and no container image matches a profile\'s patterns)\nConfig:');
    expect(r.out).not.toContain('redis'); // redis-0 is Normal too; its degraded groups are not about this pod
  });

  it('the workload-profile annotation: none opts out, an unknown name is a warning and falls back to the images', async () => {
    const pod = (name: string, value: string, n: number): string => `---\nkind: Pod\nmetadata: {name: ${name}, namespace: shop, uid: 00000000-0000-4000-8000-00000000000${n}, annotations: {infera.io/workload-profile: ${value}}}\nspec:\n  nodeName: worker-1\n  containers: [{name: redis, image: "redis:7", resources: {limits: {cpu: "1", memory: 1Gi}}}]\n`;
    const pods = file('annotated.yaml', pod('cache-off', 'none', 1) + pod('cache-typo', 'mysq', 2) + pod('cache-kafka', 'kafka', 3));
    const off = await run('explain', 'pod', 'cache-off', '-n', 'shop', '--from-file', pods, '--node', NODE);
    expect(off.out).toContain('\nProfile:     none (annotation infera.io/workload-profile is "none": no profile applies to this pod)\n');
    const typo = await run('explain', 'pod', 'cache-typo', '-n', 'shop', '--from-file', pods, '--node', NODE);
    expect(typo.out).toContain('\nProfile:     redis (annotation infera.io/workload-profile names "mysq", which is not a profile (profiles: cassandra, envoy, kafka, mysql-innodb, postgresql, pytorch-dataloader, redis); falling back to image patterns: container redis\'s image redis:7 matches redis\'s pattern "redis": built-in)\n');
    const named = await run('explain', 'pod', 'cache-kafka', '-n', 'shop', '--from-file', pods, '--node', NODE);
    expect(named.out).toContain('\nProfile:     kafka (annotation infera.io/workload-profile names kafka: built-in)\n');
    const render = await run('render', '--node', NODE, '--pods', pods);
    expect(render.code).toBe(0);
    expect(render.err).toContain('warning: [profile-annotation] pod shop/cache-typo: annotation infera.io/workload-profile names "mysq", which is not a profile (profiles: cassandra, envoy, kafka, mysql-innodb, postgresql, pytorch-dataloader, redis)\n');
    expect(render.err).not.toContain('cache-off');
    const wide = (await run('tiers', '--from-file', pods, '-o', 'wide')).out.split('\n');
    expect(wide.slice(1, 4).map((l) => `${l.split(/\s+/)[1] ?? ''} ${l.split(/\s+/)[7] ?? ''}`)).toEqual(['cache-kafka kafka', 'cache-off -', 'cache-typo redis']);
  });

  it('render, tiers and explain read --profiles-dir/--profiles; a shape-dependent profile needs the node', async () => {
    const base = JSON.parse((await run('render', '--node', NODE, '--pods', PODS)).out) as { name: string }[];
    const r = await run('render', '--node', NODE, '--pods', PODS, '--profiles-dir', overrides);
    expect(r.code).toBe(0);
    const cfg = JSON.parse(r.out) as { name: string; matches: unknown; kind: { Confined?: { cpus_range: number[] } } }[];
    // payments-api-0 (Critical, 2 CPUs) carves one core for its latency group, out of critical's two
    expect(cfg.map((l) => l.name)).toEqual(['system', 'nodecritical', 'critical-latency', ...base.map((l) => l.name).slice(2)]);
    expect(cfg.find((l) => l.name === 'critical-latency')?.matches).toEqual([[{ HintEquals: 9 }]]);
    expect((await run('render', '--node', NODE, '--pods', PODS, '--profiles', payments)).out).toBe(r.out);
    const explain = await run('explain', 'pod', 'payments-api-0', '-n', 'shop', '--from-file', PODS, '--node', NODE, '--profiles-dir', overrides);
    expect(explain.out).toContain(`\nProfile:     payments (container api's image registry.example/payments-api:1.4 matches payments's pattern "registry.example/payments-api": ${payments} profile[0] (for any node))\n  io (latency): threads api-io* → critical-latency: task hint 9; 1 whole core (1 CPU) carved from critical, slice 1000µs, preempt\n`);
    const tiers = (await run('tiers', '--from-file', PODS, '-o', 'wide', '-n', 'shop', '--profiles', payments)).out.split('\n');
    expect(tiers.find((l) => l.startsWith('payments-api-0'))).toMatch(/\s2\s+payments\s/);
    // redis with a variant for ≥ 16 CPUs and SMT: which one applies depends on the node
    const depends = await run('explain', 'pod', 'redis-0', '-n', 'shop', '--from-file', PODS, '--profiles', bigRedis);
    expect(depends.out).toContain(`\nProfile:     depends on the node's CPUs and SMT: redis built-in or redis from ${bigRedis} profile[0] (for ≥ 16 CPUs, SMT); pass --node NODE to see which\n`);
    const dependsRow = (await run('tiers', '--from-file', PODS, '-o', 'wide', '-n', 'shop', '--profiles', bigRedis)).out.split('\n').find((l) => l.startsWith('redis-0'));
    expect(dependsRow).toMatch(/\s-\s+redis\s/); // the name is redis on every node
    const smt = file('smt.toml', '[node]\nthreads_per_core = 2\n');
    const bigNode = file('big-node.yaml', 'kind: Node\nmetadata: {name: worker-1}\nstatus:\n  capacity: {cpu: "32"}\n  allocatable: {cpu: "32"}\n');
    const onBig = await run('explain', 'pod', 'redis-0', '-n', 'shop', '--from-file', PODS, '--node', bigNode, '--config', smt, '--profiles', bigRedis);
    expect(onBig.out).toContain(`\nProfile:     redis (container redis's image redis:7 matches redis's pattern "redis": ${bigRedis} profile[0] (for ≥ 16 CPUs, SMT), overriding the built-in)\n  event-loop (exclusive): threads redis-server* → `);
    // a variant named differently: the shape decides between two profiles, and the table says `?` without the node
    const onlyBig = file('only-big.toml', BIG_REDIS.replace('name = "redis"', 'name = "redis-big"').replace('images = ["redis"]', 'images = ["redis:7"]'));
    const unsure = await run('explain', 'pod', 'redis-0', '-n', 'shop', '--from-file', PODS, '--profiles', onlyBig);
    expect(unsure.out).toContain(`\nProfile:     depends on the node's CPUs and SMT: redis built-in or redis-big from ${onlyBig} profile[0] (for ≥ 16 CPUs, SMT); pass --node NODE to see which\n`);
    const unsureRow = (await run('tiers', '--from-file', PODS, '-o', 'wide', '-n', 'shop', '--profiles', onlyBig)).out.split('\n').find((l) => l.startsWith('redis-0'));
    expect(unsureRow).toMatch(/^redis-0\s+normal\s+normal\s+0\s+Guaranteed\s+-\s+\?\s/);
    // the Node in the same input tells its shape
    const withNode = file('pods-and-node.yaml', `${readFileSync(PODS, 'utf8')}\n---\n${readFileSync(bigNode, 'utf8')}`);
    const known = (await run('tiers', '--from-file', withNode, '-o', 'wide', '-n', 'shop', '--profiles', onlyBig, '--config', smt)).out.split('\n').find((l) => l.startsWith('redis-0'));
    expect(known).toMatch(/\s-\s+redis-big\s/);
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
