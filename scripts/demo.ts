// The README's main command, the whole chain: a real local control plane (kube-apiserver, etcd,
// controller-manager, scheduler) with Temper's PriorityClasses and mutating webhook, example pods
// of every tier, `kubectl temper tiers`, and the real node agent for the demo node: its rendering
// and generation, the node annotations it publishes, its gRPC answer and the dashboard URL. On a
// kernel without sched_ext the agent says `unavailable`: pods are tiered, nothing is enforced.
// Runs until Ctrl-C; `--once` sets everything up, prints, and exits.
import { parseArgs } from 'node:util';
import { CoreV1Api } from '@kubernetes/client-node';
import { defaultPolicy } from '../core/config.ts';
import { main as kubectlTemper } from '../plugin/cli.ts';
import { temperKeys } from '../core/names.ts';
import { grpcLayeredConfig, startAgentProcess, until } from '../dev/harness/agent.ts';
import { createExamplePods } from '../dev/harness/examples.ts';
import { installPriorityClasses, registerWebhook, startWebhookProcess, waitUntilWebhookEffective } from '../dev/harness/webhook.ts';
import { startControlPlane } from '../dev/controlplane/controlplane.ts';
import { ensureK8sBinaries } from '../dev/controlplane/install-k8s.ts';

const { values } = parseArgs({ options: { once: { type: 'boolean', default: false } } });
const say = (s: string): void => { process.stdout.write(s); };
const policy = defaultPolicy();

say('Temper demo: building or reusing kube-apiserver and etcd (the first run builds them from Go modules, about 10-15 minutes)...\n');
const binaries = await ensureK8sBinaries();
const cp = await startControlPlane({ binaries });
let webhook: Awaited<ReturnType<typeof startWebhookProcess>> | undefined;
let agent: Awaited<ReturnType<typeof startAgentProcess>> | undefined;
let stopping = false;
async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await agent?.stop();
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

  const core = cp.kc.makeApiClient(CoreV1Api);
  const created = await createExamplePods(cp.kc, cp.nodeName);
  say(`Created ${created} example pods on ${cp.nodeName}; pods without a class were defaulted by the webhook.\n\n$ kubectl temper tiers -A\n`);
  const code = await kubectlTemper(['tiers', '-A', '--kubeconfig', cp.kubeconfigPath], { stdout: say, stderr: (s) => process.stderr.write(s) });
  if (code !== 0) await shutdown(code);

  // The node agent for the demo node, as the DaemonSet runs it (the host's own kernel decides enforcement).
  say(`\nStarting the node agent for ${cp.nodeName} (agent/main.ts)...\n`);
  agent = await startAgentProcess({ kubeconfig: cp.kubeconfigPath, nodeName: cp.nodeName });
  const api = async <T>(path: string): Promise<T> => {
    const r = await fetch(`${agent?.url ?? ''}${path}`);
    if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
    return await r.json() as T;
  };
  type Placed = { namespace: string; name: string; tier: string; layer: string };
  const placed = await until(`the agent to place all ${created} pods`, async () => {
    const pods = await api<Placed[]>('/api/v1/pods');
    return pods.length >= created ? pods : undefined;
  });
  const generation = await until('the agent\'s first generation', async () => {
    const g = await api<{ number: number; sha256: string; configJson: string }>('/api/v1/config');
    return JSON.parse(g.configJson).length > 0 ? g : undefined;
  });
  const status = await api<{ state: string; message: string }>('/api/v1/status');
  const keys = temperKeys(policy);
  const annotations = await until('the agent\'s node annotations', async () => {
    const a = (await core.readNode({ name: cp.nodeName })).metadata?.annotations ?? {};
    return a[keys.agentStatus] !== undefined && a[keys.qosDistribution] !== undefined ? a : undefined;
  });
  const viaGrpc = await grpcLayeredConfig(agent.grpcAddress);
  const layers = (JSON.parse(generation.configJson) as { name: string }[]).map((l) => l.name);
  say(`Agent on ${cp.nodeName}: state ${status.state}${status.state === 'unavailable' ? ' (this kernel has no sched_ext: pods are tiered, nothing is enforced)' : ''}\n`);
  say(`  ${status.message}\n`);
  say(`  rendered generation ${generation.number} (sha256 ${generation.sha256.slice(0, 12)}…) for ${placed.length} pods, layers: ${layers.join(', ')}\n`);
  say(`  node annotation ${keys.agentStatus}: ${annotations[keys.agentStatus] ?? ''}\n`);
  say(`  node annotation ${keys.qosDistribution}: ${annotations[keys.qosDistribution] ?? ''}\n`);
  say(`  gRPC GetLayeredConfig (${agent.grpcAddress}): generation ${viaGrpc.number}, sha256 ${viaGrpc.sha256 === generation.sha256 ? 'the same' : `DIFFERENT: ${viaGrpc.sha256}`}\n`);
  say(`  dashboard: ${agent.url}/\n`);
  if (values.once) await shutdown(0);
  say(`\nThe control plane keeps running. In another shell:\n  export KUBECONFIG=${cp.kubeconfigPath}\n  kubectl get pods -A -o custom-columns=NS:.metadata.namespace,NAME:.metadata.name,CLASS:.spec.priorityClassName,PRIORITY:.spec.priority\n  npx kubectl-temper tiers -A\n  npx kubectl-temper explain pod redis-0 -n shop\n  npx kubectl-temper config --agent-url ${agent.url}\nOpen the dashboard at ${agent.url}/ . Press Ctrl-C to stop and clean up.\n`);
  await new Promise(() => {}); // until SIGINT/SIGTERM
} catch (err) {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  await shutdown(1);
}
