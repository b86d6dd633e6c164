// The mutating webhook as users meet it: the real webhook process behind a real kube-apiserver,
// whose Priority plugin runs before the webhook and again after it mutates.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, CoreV1Api, KubeConfig, SchedulingV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultPolicy } from '../core/config.ts';
import { podFromObject } from '../core/objects.ts';
import { computeQosClass } from '../core/resources.ts';
import { type WebhookProcess, httpsGet, httpsPost, installPriorityClasses, registerWebhook, startWebhookProcess, unregisterWebhook, waitUntilWebhookEffective } from '../dev/harness/webhook.ts';
import { ensureNamespace } from '../dev/controlplane/controlplane.ts';

const kubeconfig = inject('kubeconfig');
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const core = kc.makeApiClient(CoreV1Api);
const scheduling = kc.makeApiClient(SchedulingV1Api);
const policy = defaultPolicy();
const suffix = randomBytes(3).toString('hex');
const ns = `wh-${suffix}`;
let webhook: WebhookProcess;

const guaranteed = { requests: { cpu: '100m', memory: '32Mi' }, limits: { cpu: '100m', memory: '32Mi' } };
const burstable = { requests: { cpu: '50m' } };

function podBody(name: string, resources: Record<string, unknown> = {}, spec: Record<string, unknown> = {}, labels: Record<string, string> = {}): V1Pod {
  return { metadata: { name, labels }, spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10', resources }], ...spec } } as V1Pod;
}

async function create(body: V1Pod, namespace = ns): Promise<V1Pod> {
  return core.createNamespacedPod({ namespace, body });
}

describe('mutating webhook against a real kube-apiserver', () => {
  beforeAll(async () => {
    await ensureNamespace(kc, ns);
    await installPriorityClasses(kc, policy);
    webhook = await startWebhookProcess({ kubeconfig });
    await registerWebhook(kc, policy, webhook.url, webhook.caPem);
    await waitUntilWebhookEffective(kc, policy, ns);
  }, 120_000);

  afterAll(async () => {
    await unregisterWebhook(kc);
    await webhook?.stop();
  });

  it.each([
    ['guaranteed', guaranteed, 'Guaranteed', 'infera-normal', 0, 'PreemptLowerPriority'],
    ['burstable', burstable, 'Burstable', 'infera-normal', 0, 'PreemptLowerPriority'],
    ['besteffort', {}, 'BestEffort', 'infera-background', -101, 'Never'],
  ] as const)('a %s pod without a class is admitted with its QoS default class, priority and preemptionPolicy', async (name, resources, qos, cls, priority, preemption) => {
    const pod = await create(podBody(name, resources));
    expect(pod.status?.qosClass).toBe(qos);
    expect(pod.spec?.priorityClassName).toBe(cls);
    expect(pod.spec?.priority).toBe(priority);
    expect(pod.spec?.preemptionPolicy).toBe(preemption);
    // The webhook's own QoS computation agrees with the API server's.
    expect(computeQosClass(podFromObject({ ...pod, status: {} }, 'api'))).toBe(qos);
  });

  it('leaves pods that name a class untouched', async () => {
    const high = await create(podBody('explicit-high', {}, { priorityClassName: 'infera-high' }));
    expect([high.spec?.priorityClassName, high.spec?.priority, high.spec?.preemptionPolicy]).toEqual(['infera-high', 100_000, 'PreemptLowerPriority']);
    const sys = await create(podBody('explicit-system', {}, { priorityClassName: 'system-cluster-critical' }));
    expect([sys.spec?.priorityClassName, sys.spec?.priority]).toEqual(['system-cluster-critical', 2_000_000_000]);
  });

  it('a class with preemptionPolicy Never works, named explicitly or defaulted', async () => {
    const name = `batch-never-${suffix}`;
    await scheduling.createPriorityClass({ body: { metadata: { name }, value: -500, preemptionPolicy: 'Never' } });
    try {
      const pod = await create(podBody('never', burstable, { priorityClassName: name }));
      expect([pod.spec?.priorityClassName, pod.spec?.priority, pod.spec?.preemptionPolicy]).toEqual([name, -500, 'Never']);
    } finally {
      await scheduling.deletePriorityClass({ name });
    }
  });

  it('skips Temper\'s namespace and pods or namespaces labelled to opt out', async () => {
    await ensureNamespace(kc, policy.naming.namespace);
    const own = await create(podBody(`own-${suffix}`), policy.naming.namespace);
    expect(own.spec?.priorityClassName ?? '').toBe('');
    const optOut = await create(podBody('opted-out', {}, {}, { 'infera.io/qos-defaulting': 'disabled' }));
    expect([optOut.spec?.priorityClassName ?? '', optOut.spec?.priority]).toEqual(['', 0]);
  });

  it('a globalDefault class is kept by default, and replaced with replace_global_default = true', async () => {
    const name = `cluster-default-${suffix}`;
    await scheduling.createPriorityClass({ body: { metadata: { name }, value: 1000, globalDefault: true } });
    let replacing: WebhookProcess | undefined;
    try {
      // The Priority plugin names the global default before the webhook runs; by default it stays.
      let pod: V1Pod | undefined;
      for (let i = 0; i < 50 && pod?.spec?.priorityClassName !== name; i++) {
        if (pod !== undefined) await sleep(200); // the Priority plugin's class cache catches up
        pod = await create(podBody(`gd-keep-${i}`));
      }
      expect([pod?.spec?.priorityClassName, pod?.spec?.priority]).toEqual([name, 1000]);

      replacing = await startWebhookProcess({ kubeconfig, configToml: '[webhook]\nreplace_global_default = true\n' });
      const replacingPolicy = { ...policy, webhook: { replaceGlobalDefault: true } };
      await registerWebhook(kc, replacingPolicy, replacing.url, replacing.caPem);
      let replaced: V1Pod | undefined;
      for (let i = 0; i < 50 && replaced?.spec?.priorityClassName !== 'infera-background'; i++) {
        if (replaced !== undefined) await sleep(200);
        replaced = await create(podBody(`gd-replace-${i}`));
      }
      expect([replaced?.spec?.priorityClassName, replaced?.spec?.priority, replaced?.spec?.preemptionPolicy]).toEqual(['infera-background', -101, 'Never']);
    } finally {
      await scheduling.deletePriorityClass({ name });
      await registerWebhook(kc, policy, webhook.url, webhook.caPem);
      await replacing?.stop();
    }
  }, 60_000);

  it('defaults the pods a Deployment creates', async () => {
    const apps = kc.makeApiClient(AppsV1Api);
    await apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'web' } },
          template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'registry.k8s.io/pause:3.10', resources: burstable }] } },
        },
      },
    });
    let pods: V1Pod[] = [];
    for (let i = 0; i < 150 && pods.length < 2; i++) {
      await sleep(200);
      pods = (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' })).items;
    }
    expect(pods).toHaveLength(2);
    for (const p of pods) {
      expect(p.metadata?.ownerReferences?.[0]?.kind).toBe('ReplicaSet');
      expect([p.spec?.priorityClassName, p.spec?.priority, p.spec?.preemptionPolicy]).toEqual(['infera-normal', 0, 'PreemptLowerPriority']);
    }
  }, 60_000);

  it('answers bad input with HTTP 400 (413 when too large) and a clear message, and keeps serving', async () => {
    const mutate = `${webhook.url}/mutate`;
    const cases: [string | Buffer, number, string][] = [
      ['{not json', 400, 'request body is not JSON'],
      [JSON.stringify({ kind: 'Pod', apiVersion: 'v1' }), 400, 'expected kind AdmissionReview'],
      [JSON.stringify({ kind: 'AdmissionReview', apiVersion: 'admission.k8s.io/v1', request: { operation: 'CREATE' } }), 400, 'request.uid is required'],
      [Buffer.alloc(4 * 1024 * 1024, 0x20), 413, 'request body exceeds'],
    ];
    for (const [body, status, message] of cases) {
      const r = await httpsPost(mutate, webhook.caPem, body);
      expect(r.status, String(body).slice(0, 40)).toBe(status);
      expect(JSON.parse(r.body).error).toContain(message);
    }
    expect((await httpsGet(`${webhook.url}/healthz`, webhook.caPem)).status).toBe(200);
  });

  it('serves Prometheus metrics: admissions by outcome and a latency histogram', async () => {
    const metrics = (await httpsGet(`${webhook.url}/metrics`, webhook.caPem)).body;
    expect(metrics).toMatch(/temper_webhook_admissions_total\{outcome="mutated"\} [1-9]/);
    expect(metrics).toMatch(/temper_webhook_admissions_total\{outcome="invalid"\} [1-9]/);
    expect(metrics).toContain('temper_webhook_admission_duration_seconds_bucket{le="0.005",outcome="mutated"}');
  });

  it('with the webhook stopped, pods are still admitted (failurePolicy Ignore)', async () => {
    expect(await webhook.stop()).toBe(0); // graceful shutdown on SIGTERM
    const pod = await create(podBody('while-down'));
    expect(pod.metadata?.uid).toBeTruthy();
    expect([pod.spec?.priorityClassName ?? '', pod.spec?.priority]).toEqual(['', 0]);
  }, 30_000);
});
