// The shared test control plane (test/setup/globalSetup.ts) is a real kube-apiserver + etcd,
// kube-controller-manager and kube-scheduler: admission computes QoS classes and resolves
// priorities, controllers turn Deployments into pods and the scheduler binds them, exactly as in a
// cluster (only without a kubelet, so pods stay Pending).
import { availableParallelism } from 'node:os';
import { randomBytes } from 'node:crypto';
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  SchedulingV1Api,
  VersionApi,
  type V1Container,
  type V1Pod,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { ensureNamespace } from '../dev/controlplane/controlplane.ts';

const kc = new KubeConfig();
kc.loadFromFile(inject('kubeconfig'));
const core = kc.makeApiClient(CoreV1Api);
const scheduling = kc.makeApiClient(SchedulingV1Api);
const apps = kc.makeApiClient(AppsV1Api);
const nodeName = inject('nodeName');
const suffix = randomBytes(3).toString('hex');
const namespace = `cp-test-${suffix}`;
const neverClass = `temper-test-never-${suffix}`;

function pod(name: string, container: Partial<V1Container> = {}, spec: Partial<V1Pod['spec']> = {}): V1Pod {
  return {
    metadata: { name, namespace },
    spec: { nodeName, containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10', ...container }], ...spec },
  };
}

/** Polls until `check` stops throwing; the controllers react within a second or so. */
function eventually<T>(check: () => Promise<T>, timeout = 30_000): Promise<T> {
  return vi.waitFor(check, { timeout, interval: 100 });
}

const guaranteed = { resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '250m', memory: '64Mi' } } };

describe('test control plane', () => {
  beforeAll(() => ensureNamespace(kc, namespace));
  afterAll(() => scheduling.deletePriorityClass({ name: neverClass }).catch(() => undefined));

  it('serves the API to the admin kubeconfig, stamped with the built version', async () => {
    const version = await kc.makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).toBe('v1.37.2');
    expect(version.major).toBe('1');
  });

  it('has the Node object for this machine with its CPU capacity', async () => {
    const node = await core.readNode({ name: nodeName });
    expect(node.status?.capacity?.cpu).toBe(String(availableParallelism()));
    expect(node.status?.allocatable?.cpu).toBe(String(availableParallelism()));
  });

  it('keeps the Node Ready, untainted and with allocatable resources, so the scheduler can use it', async () => {
    const node = await core.readNode({ name: nodeName });
    // The admission-time not-ready taint was lifted, and no node-lifecycle controller re-adds it.
    expect(node.spec?.taints ?? []).toEqual([]);
    expect(node.spec?.unschedulable).toBeFalsy();
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(node.status?.allocatable).toMatchObject({ cpu: String(availableParallelism()), pods: '110' });
    expect(node.status?.allocatable?.memory).toMatch(/^\d+Ki$/);
  });

  it('has the built-in PriorityClasses, created by the apiserver itself', async () => {
    const node = await scheduling.readPriorityClass({ name: 'system-node-critical' });
    const cluster = await scheduling.readPriorityClass({ name: 'system-cluster-critical' });
    expect(node.value).toBe(2000001000);
    expect(cluster.value).toBe(2000000000);
  });

  it('computes BestEffort QoS and priority 0 for a pod without requests or class', async () => {
    const created = await core.createNamespacedPod({ namespace, body: pod('best-effort') });
    expect(created.status?.qosClass).toBe('BestEffort');
    expect(created.spec?.priority).toBe(0);
    expect(created.spec?.nodeName).toBe(nodeName);
    // ServiceAccount admission is on: the pod is bound to the namespace's default account.
    expect(created.spec?.serviceAccountName).toBe('default');
  });

  it('computes Guaranteed QoS and resolves system-node-critical to 2000001000', async () => {
    const created = await core.createNamespacedPod({
      namespace,
      body: pod('guaranteed', guaranteed, { priorityClassName: 'system-node-critical' }),
    });
    expect(created.status?.qosClass).toBe('Guaranteed');
    expect(created.spec?.priority).toBe(2000001000);
  });

  it('copies value and preemptionPolicy Never from a custom PriorityClass', async () => {
    await scheduling.createPriorityClass({
      body: { metadata: { name: neverClass }, value: 1000, preemptionPolicy: 'Never', description: 'test' },
    });
    // the apiserver's Priority admission reads classes from its informer, which can lag a
    // just-created class on a loaded host ("no PriorityClass with name … was found"): retry
    const created = await eventually(() => core.createNamespacedPod({
      namespace,
      body: pod('never-preempts', { resources: { requests: { cpu: '100m' } } }, { priorityClassName: neverClass }),
    }));
    expect(created.status?.qosClass).toBe('Burstable');
    expect(created.spec?.priority).toBe(1000);
    expect(created.spec?.preemptionPolicy).toBe('Never');
  });

  it('gives a fresh namespace its default ServiceAccount and kube-root-ca.crt (kube-controller-manager)', async () => {
    const fresh = `cp-test-fresh-${suffix}`;
    await core.createNamespace({ body: { metadata: { name: fresh } } }); // no ensureNamespace
    const sa = await eventually(() => core.readNamespacedServiceAccount({ namespace: fresh, name: 'default' }));
    expect(sa.metadata?.name).toBe('default');
    // root-ca-certificate-publisher-controller: the CA pods use to trust the apiserver.
    const rootCa = await eventually(() => core.readNamespacedConfigMap({ namespace: fresh, name: 'kube-root-ca.crt' }));
    const caPem = Buffer.from(kc.getCurrentCluster()!.caData!, 'base64').toString();
    expect(rootCa.data?.['ca.crt']).toBe(caPem);
    // So pods are admitted there (the ServiceAccount admission plugin needs the account).
    const created = await core.createNamespacedPod({
      namespace: fresh,
      body: { ...pod('first'), metadata: { name: 'first', namespace: fresh } },
    });
    expect(created.spec?.serviceAccountName).toBe('default');
  });

  describe('a Deployment', () => {
    const name = `web-${suffix}`;
    const labelSelector = `app=${name}`;

    it('gets a ReplicaSet whose 2 pods the scheduler binds to the Node', async () => {
      const deployment = await apps.createNamespacedDeployment({
        namespace,
        body: {
          metadata: { name },
          spec: {
            replicas: 2,
            selector: { matchLabels: { app: name } },
            template: {
              metadata: { labels: { app: name } },
              // No nodeName: kube-scheduler has to place them.
              spec: { containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10' }] },
            },
          },
        },
      });

      const rs = await eventually(async () => {
        const { items } = await apps.listNamespacedReplicaSet({ namespace, labelSelector });
        expect(items).toHaveLength(1);
        return items[0]!;
      });
      expect(rs.spec?.replicas).toBe(2);
      expect(rs.metadata?.ownerReferences).toEqual([
        expect.objectContaining({ kind: 'Deployment', name, uid: deployment.metadata?.uid, controller: true }),
      ]);

      const pods = await eventually(async () => {
        const { items } = await core.listNamespacedPod({ namespace, labelSelector });
        expect(items).toHaveLength(2);
        for (const p of items) expect(p.spec?.nodeName).toBe(nodeName);
        return items;
      });
      const rsName = rs.metadata!.name!;
      for (const p of pods) {
        expect(p.metadata?.generateName).toBe(`${rsName}-`);
        expect(p.metadata?.name?.startsWith(`${rsName}-`)).toBe(true);
        expect(p.metadata?.ownerReferences).toEqual([
          expect.objectContaining({
            apiVersion: 'apps/v1',
            kind: 'ReplicaSet',
            name: rsName,
            uid: rs.metadata?.uid,
            controller: true,
            blockOwnerDeletion: true,
          }),
        ]);
        expect(p.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status).toBe('True');
        expect(p.status?.phase).toBe('Pending'); // no kubelet runs them
      }
      expect(new Set(pods.map((p) => p.metadata?.name)).size).toBe(2);
    });

    it('is garbage-collected with its ReplicaSet and pods when deleted', async () => {
      await apps.deleteNamespacedDeployment({ namespace, name, propagationPolicy: 'Background' });
      await eventually(async () => {
        const { items } = await apps.listNamespacedReplicaSet({ namespace, labelSelector });
        expect(items).toHaveLength(0);
      });
      // Bound pods are deleted gracefully, i.e. left to a kubelet that is not there: they stay
      // Terminating until removed with grace period 0.
      const pods = await eventually(async () => {
        const { items } = await core.listNamespacedPod({ namespace, labelSelector });
        expect(items).toHaveLength(2);
        for (const p of items) expect(p.metadata?.deletionTimestamp).toBeDefined();
        return items;
      });
      for (const p of pods) {
        await core.deleteNamespacedPod({ namespace, name: p.metadata!.name!, gracePeriodSeconds: 0 });
      }
    });
  });
});
