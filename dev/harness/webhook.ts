// Runs the real webhook (webhook/main.ts) as a child process with a serving certificate from a
// throwaway CA, and registers it with a control plane. Used by the integration tests and the demo.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AdmissionregistrationV1Api, ApiException, CoreV1Api, type KubeConfig, SchedulingV1Api, type V1MutatingWebhookConfiguration, type V1Pod, type V1PriorityClass } from '@kubernetes/client-node';
import type { Policy } from '../../core/config.ts';
import { mutatingWebhookConfiguration, priorityClassObjects } from '../../core/install-objects.ts';
import { DEFAULT_RELEASE, releaseFullname, webhookConfigurationName } from '../../core/names.ts';
import { type CertFiles, createCA, issueCert } from '../pki.ts';
import { stopperOf } from './child.ts';

const repo = join(import.meta.dirname, '..', '..');

export interface WebhookProcess {
  readonly url: string;
  readonly port: number;
  readonly caPem: string;
  /** Everything the process wrote to stderr (its JSON log). */
  readonly log: () => string;
  /** SIGTERM, then waits for the exit; resolves to the exit code. */
  stop(): Promise<number | null>;
}

/** GET a path on the webhook over HTTPS, trusting only its CA. */
export function httpsGet(url: string, caPem: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: caPem, method: 'GET', timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** POST a raw body to the webhook over HTTPS. */
export function httpsPost(url: string, caPem: string, body: string | Buffer, contentType = 'application/json'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: caPem, method: 'POST', timeout: 10_000, headers: { 'content-type': contentType, 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The serving certificate for 127.0.0.1 and localhost, signed by `ca`. */
export function issueServingCert(dir: string, ca: CertFiles, name = 'webhook'): Promise<CertFiles> {
  return issueCert(dir, ca, { name, commonName: 'temper-webhook', dnsNames: ['localhost'], ips: ['127.0.0.1'], usage: 'server' });
}

export interface WebhookProcessOptions {
  kubeconfig: string;
  configToml?: string;
  /** Serve these files (and trust `caPem`) instead of a fresh throwaway pair. */
  tls?: { certFile: string; keyFile: string; caPem: string };
}

export async function startWebhookProcess(opts: WebhookProcessOptions): Promise<WebhookProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'temper-webhook-'));
  let tls = opts.tls;
  if (tls === undefined) {
    const ca = await createCA(dir, 'ca', 'temper-webhook-test-ca');
    const serving = await issueServingCert(dir, ca);
    tls = { certFile: serving.certFile, keyFile: serving.keyFile, caPem: ca.certPem };
  }
  const args = [join(repo, 'webhook', 'main.ts'), '--kubeconfig', opts.kubeconfig, '--tls-cert', tls.certFile, '--tls-key', tls.keyFile, '--host', '127.0.0.1', '--port', '0'];
  if (opts.configToml !== undefined) {
    await writeFile(join(dir, 'config.toml'), opts.configToml);
    args.push('--config', join(dir, 'config.toml'));
  }
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`webhook did not start within 30 s:\n${log}`)), 30_000);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      log += chunk;
      const m = /"msg":"webhook listening".*?"port":(\d+)/.exec(log);
      if (m !== null) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`webhook exited with ${code}:\n${log}`)); });
  });
  const url = `https://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const ready = await httpsGet(`${url}/readyz`, tls.caPem).catch(() => ({ status: 0, body: '' }));
    if (ready.status === 200) break;
    if (i > 100) throw new Error(`webhook never became ready:\n${log}`);
    await sleep(100);
  }
  return {
    url, port, caPem: tls.caPem, log: () => log,
    stop: stopperOf(child, dir),
  };
}

async function createOrReplace<T extends { metadata?: { name?: string; resourceVersion?: string } }>(
  create: () => Promise<T>, read: () => Promise<T>, replace: (rv: string | undefined) => Promise<T>,
): Promise<void> {
  try {
    await create();
  } catch (err) {
    if (!(err instanceof ApiException) || err.code !== 409) throw err;
    const current = await read();
    await replace(current.metadata?.resourceVersion);
  }
}

/** Installs (or updates) the five tier PriorityClasses. Values and policies are immutable, so a changed one fails loudly. */
export async function installPriorityClasses(kc: KubeConfig, policy: Policy): Promise<void> {
  const api = kc.makeApiClient(SchedulingV1Api);
  for (const body of priorityClassObjects(policy) as unknown as V1PriorityClass[]) {
    const name = body.metadata?.name ?? '';
    await createOrReplace(() => api.createPriorityClass({ body }), () => api.readPriorityClass({ name }), (rv) => api.replacePriorityClass({ name, body: { ...body, metadata: { ...body.metadata, resourceVersion: rv } } }));
  }
}

/** Registers the webhook's MutatingWebhookConfiguration pointing at `url`. */
export async function registerWebhook(kc: KubeConfig, policy: Policy, url: string, caPem: string): Promise<void> {
  const api = kc.makeApiClient(AdmissionregistrationV1Api);
  const body = mutatingWebhookConfiguration(policy, { url: `${url}/mutate`, caBundlePem: caPem }) as unknown as V1MutatingWebhookConfiguration;
  const name = body.metadata?.name ?? '';
  await createOrReplace(
    () => api.createMutatingWebhookConfiguration({ body }),
    () => api.readMutatingWebhookConfiguration({ name }),
    (rv) => api.replaceMutatingWebhookConfiguration({ name, body: { ...body, metadata: { ...body.metadata, resourceVersion: rv } } }),
  );
}

/** Removes the registration `registerWebhook` made (named as `helm install temper` names it). */
export async function unregisterWebhook(kc: KubeConfig): Promise<void> {
  const api = kc.makeApiClient(AdmissionregistrationV1Api);
  await api.deleteMutatingWebhookConfiguration({ name: webhookConfigurationName(releaseFullname(DEFAULT_RELEASE)) }).catch(() => undefined);
}

/**
 * Waits until the API server applies the current webhook registration (it propagates within a
 * second or so): probe pods in `namespace` come back defaulted, or not, as expected.
 */
export async function waitUntilWebhookEffective(kc: KubeConfig, policy: Policy, namespace: string, expectDefaulting = true): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  for (let i = 0; i < 100; i++) {
    const body = { metadata: { name: `temper-probe-${randomBytes(3).toString('hex')}` }, spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] } } as V1Pod;
    const probe = await core.createNamespacedPod({ namespace, body });
    await core.deleteNamespacedPod({ namespace, name: probe.metadata?.name ?? '', gracePeriodSeconds: 0 });
    if ((probe.spec?.priorityClassName === policy.naming.priorityClasses.background) === expectDefaulting) return;
    await sleep(200);
  }
  throw new Error('the webhook registration never took effect');
}
