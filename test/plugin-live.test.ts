// `kubectl temper` against a real kube-apiserver: the same JSON as offline, the same
// classification as core, and kubectl-like errors.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultPolicy } from '../core/config.ts';
import { podFromObject } from '../core/objects.ts';
import { classifyPods, tierRowOf } from '../core/plan.ts';
import { main } from '../plugin/cli.ts';
import { installPriorityClasses } from '../dev/harness/webhook.ts';
import { ensureNamespace } from '../dev/controlplane/controlplane.ts';

const kubeconfig = inject('kubeconfig');
const nodeName = inject('nodeName');
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const core = kc.makeApiClient(CoreV1Api);
const ns = `live-${randomBytes(3).toString('hex')}`;
const tmp = mkdtempSync(join(tmpdir(), 'temper-live-'));

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => { out += t; }, stderr: (t) => { err += t; } });
  return { code, out, err };
}

const pods: [string, Record<string, unknown>, Record<string, unknown>][] = [
  ['crit', { priorityClassName: 'infera-critical' }, { requests: { cpu: '1', memory: '64Mi' }, limits: { cpu: '1', memory: '64Mi' } }],
  ['high', { priorityClassName: 'infera-high' }, { requests: { cpu: '200m' } }],
  ['plain-burstable', {}, { requests: { cpu: '100m' } }],
  ['plain-besteffort', {}, {}],
  ['low', { priorityClassName: 'infera-low' }, {}],
  ['node-daemon', { priorityClassName: 'system-node-critical' }, { requests: { cpu: '50m' } }],
];

describe('kubectl temper against a live cluster', () => {
  beforeAll(async () => {
    await ensureNamespace(kc, ns);
    await installPriorityClasses(kc, defaultPolicy());
    for (const [name, spec, resources] of pods) {
      await core.createNamespacedPod({ namespace: ns, body: { metadata: { name }, spec: { nodeName, ...spec, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources }] } } as V1Pod });
    }
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('tiers -o json matches core\'s classification of the same pods, in the offline JSON shape', async () => {
    const r = await run('tiers', '--kubeconfig', kubeconfig, '-n', ns, '-o', 'json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.out) as Record<string, unknown>[];
    const fromApi = (await core.listNamespacedPod({ namespace: ns })).items.map((p) => podFromObject(p, 'api'));
    expect(rows).toEqual(classifyPods(defaultPolicy(), fromApi).map(tierRowOf));
    expect(Object.fromEntries(rows.map((x) => [x.name, x.tier]))).toEqual({
      crit: 'critical', high: 'high', 'plain-burstable': 'normal', 'plain-besteffort': 'background', low: 'low', 'node-daemon': 'system',
    });
  });

  it('tiers -A and --node select like kubectl; the table has kubectl\'s columns', async () => {
    const all = await run('tiers', '--kubeconfig', kubeconfig, '-A', '--node', nodeName);
    expect(all.code).toBe(0);
    expect(all.out.split('\n')[0]).toMatch(/^NAMESPACE\s+NAME\s+TIER\s+LAYER\s+PRIORITY\s+QOS$/);
    expect(all.out).toContain(ns);
    const none = await run('tiers', '--kubeconfig', kubeconfig, '-A', '--node', 'no-such-node');
    expect(none.out).toBe('No pods found.\n');
  });

  it('explain pod shows the tier, the rule and the layer as rendered for the pod\'s node', async () => {
    const r = await run('explain', 'pod', 'crit', '-n', ns, '--kubeconfig', kubeconfig);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Tier:        critical');
    expect(r.out).toContain('Rule:        priority-threshold: priority 1000000 (class infera-critical, from spec.priority) ≥ critical threshold 1000000');
    expect(r.out).toMatch(/Layer:\s+critical\n\s+kind:\s+(Confined|Grouped)/);
    expect(r.out).toContain(`(node ${nodeName})`);
  });

  it('workload profiles: tiers -o wide and explain pod select them as offline, with --profiles files too', async () => {
    const pns = `${ns}-profiles`;
    await ensureNamespace(kc, pns);
    const limits = { cpu: '1', memory: '64Mi' };
    await core.createNamespacedPod({ namespace: pns, body: { metadata: { name: 'cache' }, spec: { nodeName, containers: [{ name: 'redis', image: 'redis:7', resources: { limits } }] } } as V1Pod });
    await core.createNamespacedPod({ namespace: pns, body: { metadata: { name: 'plain' }, spec: { nodeName, containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { limits } }] } } as V1Pod });
    const cell = (out: string, pod: string): string | undefined => out.split('\n').find((l) => l.startsWith(`${pod} `))?.split(/\s+/)[6];
    const wide = await run('tiers', '--kubeconfig', kubeconfig, '-n', pns, '-o', 'wide');
    expect(wide.code).toBe(0);
    expect(wide.out.split('\n')[0]).toMatch(/^NAME\s+TIER\s+LAYER\s+PRIORITY\s+QOS\s+HINT\s+PROFILE\s+UID\s+REASON$/);
    expect([cell(wide.out, 'cache'), cell(wide.out, 'plain')]).toEqual(['redis', '-']);
    const explain = await run('explain', 'pod', 'cache', '-n', pns, '--kubeconfig', kubeconfig);
    expect(explain.code).toBe(0);
    // the node's plan is readable: each group says where it runs on this node
    // (the layers depend on the machine's CPUs: background with enough, the shared layer on 2)
    expect(explain.out).toContain('\nProfile:     redis (container redis\'s image redis:7 matches redis\'s pattern "redis": built-in)\n  snapshots (yield): processes whose title contains "rdb-bgsave" or "aof-rewrite" → ');
    expect(explain.out).toMatch(/\n {2}event-loop \(exclusive\): threads redis-server\*, valkey-server\*, io_thd_\* → \[treatment-unavailable\] stays in (normal|shared): exclusive cores are Critical's alone/);
    expect(explain.out).not.toContain('placement depends on the node');
    expect((await run('explain', 'pod', 'plain', '-n', pns, '--kubeconfig', kubeconfig)).out).toContain('\nProfile:     none (no workload-profile annotation, and no container image matches a profile\'s patterns)\n');
    // profile files the plugin reads (the agent reads its own): a profile for pause, and a redis name only for big SMT nodes
    const pause = join(tmp, 'pause.toml');
    writeFileSync(pause, '[[profile]]\nname = "pause"\nimages = ["registry.k8s.io/pause"]\n  [[profile.group]]\n  name = "all"\n  treatment = "yield"\n  process = "pause"\n');
    const big = join(tmp, 'big.toml');
    writeFileSync(big, '[[profile]]\nname = "redis-big"\nimages = ["redis:7"]\nshape = { min_cpus = 4096, smt = true }\n  [[profile.group]]\n  name = "loop"\n  treatment = "exclusive"\n  threads = ["redis-server"]\n');
    const withFiles = await run('tiers', '--kubeconfig', kubeconfig, '-n', pns, '-o', 'wide', '--profiles', pause, '--profiles', big);
    // cache's profile depends on its node's shape, so its Node was read: not big enough for redis-big
    expect([cell(withFiles.out, 'cache'), cell(withFiles.out, 'plain')]).toEqual(['redis', 'pause']);
    const explained = await run('explain', 'pod', 'plain', '-n', pns, '--kubeconfig', kubeconfig, '--profiles', pause);
    expect(explained.out).toContain(`\nProfile:     pause (container c's image registry.k8s.io/pause:3.10 matches pause's pattern "registry.k8s.io/pause": ${pause} profile[0] (for any node))\n  all (yield): every thread of process pause* → `);
    const bad = join(tmp, 'bad.toml');
    writeFileSync(bad, '[[profile]]\nname = "Bad"\n');
    const refused = await run('tiers', '--kubeconfig', kubeconfig, '-n', pns, '--profiles', bad);
    expect([refused.code, refused.out, refused.err]).toEqual([1, '', `error: ${bad}: profile[0].name: must be a lowercase DNS label (at most 63 characters) (got "Bad")\n`]);
  });

  it('pod not found: one line on stderr, non-zero exit', async () => {
    const r = await run('explain', 'pod', 'ghost', '-n', ns, '--kubeconfig', kubeconfig);
    expect(r.code).toBe(1);
    expect(r.err).toBe('error: pods "ghost" not found\n');
  });

  it('no cluster: one line naming the server, non-zero exit', async () => {
    const dead = join(tmp, 'dead.yaml');
    writeFileSync(dead, stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'dead',
      clusters: [{ name: 'dead', cluster: { server: 'https://127.0.0.1:1', 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user: { token: 'x' } }],
      contexts: [{ name: 'dead', context: { cluster: 'dead', user: 'u' } }],
    }));
    const r = await run('tiers', '--kubeconfig', dead, '-n', 'default');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: cannot reach the cluster at https:\/\/127\.0\.0\.1:1: ECONNREFUSED\n$/);
  });

  it('forbidden: a service account without RBAC gets one clear line', async () => {
    const sa = 'nobody';
    await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: sa } } });
    const token = await core.createNamespacedServiceAccountToken({ namespace: ns, name: sa, body: { spec: { audiences: [], expirationSeconds: 600 } } });
    const cluster = kc.getCurrentCluster();
    const file = join(tmp, 'nobody.yaml');
    writeFileSync(file, stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'nobody',
      clusters: [{ name: 'c', cluster: { server: cluster?.server, 'certificate-authority-data': cluster?.caData } }],
      users: [{ name: 'nobody', user: { token: token.status?.token } }],
      contexts: [{ name: 'nobody', context: { cluster: 'c', user: 'nobody', namespace: ns } }],
    }));
    const r = await run('tiers', '--kubeconfig', file);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`error: forbidden: pods is forbidden: User "system:serviceaccount:${ns}:${sa}" cannot list resource "pods" in API group "" in the namespace "${ns}"\n`);
  });

  it('--context must exist; --request-timeout is validated', async () => {
    expect((await run('tiers', '--kubeconfig', kubeconfig, '--context', 'nope')).err).toBe('error: context "nope" does not exist in the kubeconfig\n');
    expect((await run('tiers', '--kubeconfig', kubeconfig, '--request-timeout', 'soon')).err).toContain('invalid --request-timeout "soon"');
    expect((await run('tiers', '--kubeconfig', kubeconfig, '-n', ns, '--request-timeout', '5s')).code).toBe(0);
  });
});
