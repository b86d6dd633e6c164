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
