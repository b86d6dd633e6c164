// Webhook benchmark: the real webhook process (backed by a real local control plane for its
// PriorityClass cache) driven from loopback at a fixed open-loop rate. Arms, interleaved in
// one-second slices: POST /mutate with a BestEffort pod AdmissionReview (the work), and GET
// /healthz (the baseline: the same TLS, keep-alive and express path with no admission logic).
// Prints p50/p99/max per arm, the ratio, and errors. Run: npm run bench:webhook [-- --seconds 20 --rate 200]
import { Agent, request } from 'node:https';
import { parseArgs } from 'node:util';
import { defaultPolicy } from '../core/config.ts';
import { installPriorityClasses, startWebhookProcess } from '../dev/harness/webhook.ts';
import { startControlPlane } from '../dev/controlplane/controlplane.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '20' }, rate: { type: 'string', default: '200' } } });
const seconds = Number(values.seconds);
const rate = Number(values.rate);

const review = JSON.stringify({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    resource: { group: '', version: 'v1', resource: 'pods' },
    operation: 'CREATE',
    namespace: 'bench',
    userInfo: { username: 'bench' },
    object: {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { generateName: 'web-7d9f8-', namespace: 'bench', labels: { app: 'web' } },
      spec: { containers: [{ name: 'web', image: 'nginx', env: Array.from({ length: 20 }, (_, i) => ({ name: `V${i}`, value: 'x'.repeat(40) })) }], priority: 0, preemptionPolicy: 'PreemptLowerPriority' },
    },
  },
});

type Arm = 'mutate' | 'healthz';

function once(agent: Agent, url: string, ca: string, arm: Arm): Promise<{ ms: number; ok: boolean }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = request(arm === 'mutate' ? `${url}/mutate` : `${url}/healthz`, {
      agent, ca, method: arm === 'mutate' ? 'POST' : 'GET',
      headers: arm === 'mutate' ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(review) } : {},
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => {
        const ok = res.statusCode === 200 && (arm === 'healthz' || body.includes('"patchType":"JSONPatch"'));
        resolve({ ms: performance.now() - t0, ok });
      });
    });
    req.on('error', () => resolve({ ms: performance.now() - t0, ok: false }));
    req.end(arm === 'mutate' ? review : undefined);
  });
}

const pct = (s: number[], p: number): number => s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? NaN;

const cp = await startControlPlane({ controllers: false });
const webhook = await startWebhookProcess({ kubeconfig: cp.kubeconfigPath });
try {
  await installPriorityClasses(cp.kc, defaultPolicy());
  // The process's cache picks the classes up by watch; wait until a review is defaulted.
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  for (let i = 0; i < 100 && !(await once(agent, webhook.url, webhook.caPem, 'mutate')).ok; i++) await new Promise((r) => setTimeout(r, 100));
  for (let i = 0; i < 500; i++) await once(agent, webhook.url, webhook.caPem, i % 2 === 0 ? 'mutate' : 'healthz'); // warm-up

  const results: Record<Arm, number[]> = { mutate: [], healthz: [] };
  const errors: Record<Arm, number> = { mutate: 0, healthz: 0 };
  const pending: Promise<void>[] = [];
  const interval = 1000 / rate;
  const start = performance.now();
  for (let i = 0; i < seconds * rate; i++) {
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const arm: Arm = Math.floor(i / rate) % 2 === 0 ? 'mutate' : 'healthz'; // alternate one-second slices
    pending.push(once(agent, webhook.url, webhook.caPem, arm).then((r) => {
      results[arm].push(r.ms);
      if (!r.ok) errors[arm]++;
    }));
  }
  await Promise.all(pending);
  const achieved = (seconds * rate) / ((performance.now() - start) / 1000);
  agent.destroy();
  console.log(`rate ${rate}/s for ${seconds}s (achieved ${achieved.toFixed(0)}/s), node ${process.version}`);
  console.log('arm        requests   p50 ms   p99 ms   max ms   errors');
  for (const arm of ['healthz', 'mutate'] as const) {
    const s = results[arm].sort((a, b) => a - b);
    console.log(`${arm.padEnd(10)} ${String(s.length).padStart(8)} ${pct(s, 0.5).toFixed(3).padStart(8)} ${pct(s, 0.99).toFixed(3).padStart(8)} ${(s.at(-1) ?? NaN).toFixed(3).padStart(8)} ${String(errors[arm]).padStart(8)}`);
  }
  const m = results.mutate.sort((a, b) => a - b);
  const h = results.healthz.sort((a, b) => a - b);
  console.log(`ratio mutate/healthz: p50 ${(pct(m, 0.5) / pct(h, 0.5)).toFixed(2)}x, p99 ${(pct(m, 0.99) / pct(h, 0.99)).toFixed(2)}x; goal: mutate p99 < 5 ms with no errors`);
} finally {
  await webhook.stop();
  await cp.stop();
}
