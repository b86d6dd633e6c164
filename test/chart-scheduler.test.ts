// The chart's temper-scheduler (scheduler.enabled) with the real helm: off by default; what it
// renders; its objects accepted by the real API server; and its KubeSchedulerConfiguration and
// extender arguments run for real: the stock kube-scheduler with the chart's profile and
// extenders block, the extender process (scheduler/main.ts) with the chart's flags.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, KubeConfig, KubernetesObjectApi, type KubernetesObject, PatchStrategy, type V1ConfigMap, type V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { defaultPolicy } from '../core/config.ts';
import { nodeReportOf, serializeNodeReport } from '../core/node-report.ts';
import { nodeFromObject } from '../core/objects.ts';
import { plan } from '../core/plan.ts';
import { type ExtraScheduler, createSchedulableNode, ensureNamespace, freePort, startExtraScheduler } from '../dev/controlplane/controlplane.ts';
import { ensureHelm } from '../dev/install-helm.ts';
import { runCommand as run } from './run-command.ts';
import { installPriorityClasses } from '../dev/harness/webhook.ts';
import { URL_PREFIX } from '../scheduler/extender.ts';

const repo = join(import.meta.dirname, '..');
const chart = join(repo, 'manifests', 'chart', 'temper');
const kc = new KubeConfig();
kc.loadFromFile(inject('kubeconfig'));
const core = kc.makeApiClient(CoreV1Api);
const suffix = randomBytes(3).toString('hex');
const work = mkdtempSync(join(tmpdir(), 'temper-chart-sched-'));
let helmBin = '';
type Obj = KubernetesObject & Record<string, unknown>;

async function template(values: Record<string, unknown>, namespace = 'temper-system'): Promise<Obj[]> {
  const file = join(work, `values-${randomBytes(3).toString('hex')}.yaml`);
  writeFileSync(file, stringify(values));
  const r = await run(helmBin, ['template', 'temper', chart, '--namespace', namespace, '--kube-version', '1.36.2', '-f', file]);
  if (r.code !== 0) throw new Error(r.stderr);
  return parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj | null).filter((o): o is Obj => o !== null);
}

const named = (docs: Obj[], kind: string, name: string): Obj | undefined => docs.find((d) => d.kind === kind && d.metadata?.name === name);

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

beforeAll(async () => {
  helmBin = await ensureHelm();
}, 900_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('chart: temper-scheduler', () => {
  it('is off by default, and the webhook then never touches schedulerName', async () => {
    const docs = await template({});
    expect(docs.filter((d) => String(d.metadata?.name ?? '').includes('scheduler'))).toEqual([]);
    const webhook = named(docs, 'Deployment', 'temper-webhook') as V1Deployment;
    expect(webhook.spec?.template.spec?.containers[0]?.args?.join(' ')).not.toContain('scheduler');
  });

  it('renders the stock kube-scheduler of the cluster\'s version with the extender on loopback', async () => {
    const docs = await template({ scheduler: { enabled: true } });
    const dep = named(docs, 'Deployment', 'temper-scheduler') as V1Deployment;
    const [ks, ext] = dep.spec?.template.spec?.containers ?? [];
    expect(ks?.image).toBe('registry.k8s.io/kube-scheduler:v1.36.2');
    expect(ks?.command).toEqual(['kube-scheduler', '--config=/etc/temper-scheduler/config.yaml']);
    expect(ext?.args).toEqual(['--config=/etc/temper/config/config.toml', '--host=127.0.0.1', '--port=10270', '--stale-after-seconds=900', '--margin-ttl-ms=5000']);
    expect(ext?.ports).toBeUndefined(); // nothing exposed beyond the pod's loopback
    for (const c of [ks, ext]) expect(c?.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    const config = parse((named(docs, 'ConfigMap', 'temper-scheduler') as V1ConfigMap).data?.['config.yaml'] ?? '');
    expect(config).toEqual({
      apiVersion: 'kubescheduler.config.k8s.io/v1', kind: 'KubeSchedulerConfiguration',
      leaderElection: { leaderElect: true, resourceName: 'temper-scheduler', resourceNamespace: 'temper-system' },
      profiles: [{ schedulerName: 'temper-scheduler' }],
      extenders: [{ urlPrefix: `http://127.0.0.1:10270${URL_PREFIX}`, filterVerb: 'filter', prioritizeVerb: 'prioritize', weight: 5, nodeCacheCapable: true, ignorable: true, httpTimeout: '1s' }],
    });
    const bindings = docs.filter((d) => d.kind === 'ClusterRoleBinding' && String(d.metadata?.name).startsWith('temper-scheduler')).map((d) => (d.roleRef as { name: string }).name).sort();
    expect(bindings).toEqual(['system:kube-scheduler', 'system:volume-scheduler', 'temper-scheduler-extender']);
    expect((named(docs, 'ClusterRole', 'temper-scheduler-extender') as { rules: unknown }).rules).toEqual([{ apiGroups: ['scheduling.k8s.io'], resources: ['priorityclasses'], verbs: ['get', 'list', 'watch'] }]);
    const webhook = named(docs, 'Deployment', 'temper-webhook') as V1Deployment;
    expect(webhook.spec?.template.spec?.containers[0]?.args).toContain('--critical-scheduler-name=temper-scheduler');
    const off = await template({ scheduler: { enabled: true, setSchedulerNameForCritical: false } });
    expect((named(off, 'Deployment', 'temper-webhook') as V1Deployment).spec?.template.spec?.containers[0]?.args?.join(' ')).not.toContain('scheduler');
  });

  it('the schema refuses bad scheduler values, naming the field', async () => {
    await expect(template({ scheduler: { enabled: true, extender: { httpTimeout: 'soon' } } })).rejects.toThrow(/httpTimeout/);
    await expect(template({ scheduler: { enabld: true } })).rejects.toThrow(/enabld/);
  });

  describe('on the real control plane', () => {
    const ns = `chart-sched-${suffix}`;
    // Pods in Temper's own namespace are tier `system`: the workloads live elsewhere.
    const workloads = `chart-sched-pods-${suffix}`;
    const group = `temper-test/chart-sched-${suffix}`;
    const nodes = [`cs-full-${suffix}`, `cs-free-${suffix}`];
    let scheduler: ExtraScheduler | undefined;
    let extender: ChildProcess | undefined;
    let extenderLog = '';

    afterAll(async () => {
      await scheduler?.stop();
      extender?.kill('SIGTERM');
      for (const name of [ns, workloads]) await core.deleteNamespace({ name }).catch(() => undefined);
      for (const name of nodes) await core.deleteNode({ name }).catch(() => undefined);
    });

    it('the rendered objects are accepted by the API server (server-side dry run)', async () => {
      await ensureNamespace(kc, ns);
      const objects = KubernetesObjectApi.makeApiClient(kc);
      const docs = (await template({ scheduler: { enabled: true } }, ns)).filter((d) => String(d.metadata?.name ?? '').startsWith('temper-scheduler'));
      expect(docs.map((d) => d.kind).sort()).toEqual(['ClusterRole', 'ClusterRoleBinding', 'ClusterRoleBinding', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'Role', 'RoleBinding', 'RoleBinding', 'ServiceAccount']);
      for (const d of docs) await objects.patch(d, undefined, 'All', 'temper-chart-test', true, PatchStrategy.ServerSideApply);
    });

    it('its scheduler config and extender flags schedule a Critical pod where it can be fenced', async () => {
      const docs = await template({ scheduler: { enabled: true } }, ns);
      const config = parse((named(docs, 'ConfigMap', 'temper-scheduler') as V1ConfigMap).data?.['config.yaml'] ?? '') as Record<string, unknown> & { extenders: Record<string, unknown>[] };
      const toml = (named(docs, 'ConfigMap', 'temper-config') as V1ConfigMap).data?.['config.toml'] ?? '';
      const args = (named(docs, 'Deployment', 'temper-scheduler') as V1Deployment).spec?.template.spec?.containers[1]?.args ?? [];
      const port = await freePort();
      writeFileSync(join(work, 'config.toml'), toml);
      const flags = args.map((a) => (a.startsWith('--config=') ? `--config=${join(work, 'config.toml')}` : a.startsWith('--port=') ? `--port=${port}` : a));
      extender = spawn(process.execPath, [join(repo, 'scheduler', 'main.ts'), ...flags, `--kubeconfig=${inject('kubeconfig')}`], { stdio: ['ignore', 'ignore', 'pipe'] });
      extender.stderr?.setEncoding('utf8').on('data', (c: string) => { extenderLog += c; });
      await until('the extender to be ready', async () => ((await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status === 200 ? true : undefined));

      const policy = defaultPolicy();
      await installPriorityClasses(kc, policy);
      await ensureNamespace(kc, workloads);
      // Both nodes enforce; on the first, Critical is already demoted (its fence cannot take more).
      for (const [i, name] of nodes.entries()) {
        const n = nodeFromObject({ kind: 'Node', metadata: { name }, status: { capacity: { cpu: '8' } } }, name);
        const report = nodeReportOf(plan(policy, n, []), { state: 'enforcing', generation: 1, at: new Date().toISOString() });
        const value = serializeNodeReport(i === 0 ? { ...report, tiers: { ...report.tiers, critical: { pods: 3, cpuMillis: 9000, demoted: true } } } : report);
        const resources = { cpu: '8', memory: '16Gi', pods: '110' };
        await createSchedulableNode(core, { metadata: { name, labels: { [group]: 'yes' }, annotations: { 'infera.io/qos-distribution': value } }, status: { capacity: resources, allocatable: resources } });
      }
      scheduler = await startExtraScheduler({
        controlPlaneDir: dirname(inject('kubeconfig')), logName: 'chart-temper-scheduler.log',
        config: { profiles: config.profiles, extenders: config.extenders.map((e) => ({ ...e, urlPrefix: String(e.urlPrefix).replace(':10270/', `:${port}/`) })) },
      });
      for (const i of [1, 2, 3]) {
        await core.createNamespacedPod({
          namespace: workloads,
          body: {
            metadata: { name: `crit-${i}` },
            spec: {
              schedulerName: (config.profiles as { schedulerName: string }[])[0]?.schedulerName, priorityClassName: 'infera-critical', nodeSelector: { [group]: 'yes' },
              containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '1' }, limits: { cpu: '1' } } }],
            },
          },
        });
      }
      for (const i of [1, 2, 3]) {
        const node = await until(`crit-${i} bound`, async () => (await core.readNamespacedPod({ namespace: workloads, name: `crit-${i}` })).spec?.nodeName || undefined).catch((err: unknown) => {
          throw new Error(`${String(err)}\nextender log:\n${extenderLog.slice(-3000)}`);
        });
        expect(node).toBe(nodes[1]);
      }
    });
  });
});
