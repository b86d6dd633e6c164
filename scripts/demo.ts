// The README's main command: a real local control plane (kube-apiserver, etcd, controller-manager,
// scheduler) with Temper's PriorityClasses and mutating webhook, example pods of every tier, and
// `kubectl temper tiers`. Runs until Ctrl-C; `--once` sets everything up, prints, and exits.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { defaultPolicy } from '../core/config.ts';
import { isRecord } from '../core/errors.ts';
import { main as kubectlTemper } from '../plugin/cli.ts';
import { installPriorityClasses, registerWebhook, startWebhookProcess, waitUntilWebhookEffective } from '../dev/harness/webhook.ts';
import { ensureNamespace, startControlPlane } from '../dev/controlplane/controlplane.ts';
import { ensureK8sBinaries } from '../dev/controlplane/install-k8s.ts';

const { values } = parseArgs({ options: { once: { type: 'boolean', default: false } } });
const say = (s: string): void => { process.stdout.write(s); };
const repo = join(import.meta.dirname, '..');
const policy = defaultPolicy();

say('Temper demo: building or reusing kube-apiserver and etcd (the first run builds them from Go modules, about 10-15 minutes)...\n');
const binaries = await ensureK8sBinaries();
const cp = await startControlPlane({ binaries });
let webhook: Awaited<ReturnType<typeof startWebhookProcess>> | undefined;
let stopping = false;
async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await webhook?.stop();
    await cp.stop();
  }
  process.exit(code);
}
process.on('SIGINT', () => { void shutdown(0); });
process.on('SIGTERM', () => { void shutdown(0); });

try {
  await installPriorityClasses(cp.kc, policy);
  webhook = await startWebhookProcess({ kubeconfig: cp.kubeconfigPath });
  await registerWebhook(cp.kc, policy, webhook.url, webhook.caPem);
  await waitUntilWebhookEffective(cp.kc, policy, 'default');
  say(`Control plane ${cp.server}, node ${cp.nodeName}; PriorityClasses and the QoS-defaulting webhook (${webhook.url}) installed.\n`);

  // The example pods, as manifests: no uid, status or priority (the API server and the webhook fill them in).
  const core = cp.kc.makeApiClient(CoreV1Api);
  const docs = parseAllDocuments(readFileSync(join(repo, 'manifests', 'examples', 'pods.yaml'), 'utf8')).map((d) => d.toJS() as unknown);
  let created = 0;
  for (const doc of docs) {
    if (!isRecord(doc) || !isRecord(doc.metadata) || !isRecord(doc.spec) || isRecord(doc.status) && doc.status.phase === 'Succeeded') continue;
    const namespace = String(doc.metadata.namespace ?? 'default');
    await ensureNamespace(cp.kc, namespace);
    const { priority: _priority, ...spec } = doc.spec;
    const body = { metadata: { name: doc.metadata.name, namespace }, spec: { ...spec, nodeName: cp.nodeName } } as V1Pod;
    await core.createNamespacedPod({ namespace, body });
    created++;
  }
  say(`Created ${created} example pods on ${cp.nodeName}; pods without a class were defaulted by the webhook.\n\n$ kubectl temper tiers -A\n`);
  const code = await kubectlTemper(['tiers', '-A', '--kubeconfig', cp.kubeconfigPath], { stdout: say, stderr: (s) => process.stderr.write(s) });
  if (code !== 0) await shutdown(code);
  if (values.once) await shutdown(0);
  say(`\nThe control plane keeps running. In another shell:\n  export KUBECONFIG=${cp.kubeconfigPath}\n  kubectl get pods -A -o custom-columns=NS:.metadata.namespace,NAME:.metadata.name,CLASS:.spec.priorityClassName,PRIORITY:.spec.priority\n  npx kubectl-temper tiers -A\n  npx kubectl-temper explain pod redis-0 -n shop\nPress Ctrl-C to stop and clean up.\n`);
  await new Promise(() => {}); // until SIGINT/SIGTERM
} catch (err) {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  await shutdown(1);
}
