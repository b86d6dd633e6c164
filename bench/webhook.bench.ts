// Webhook benchmark: the real webhook process (backed by a real local control plane for its
// PriorityClass cache) driven from loopback at fixed open-loop rates. Two arms interleaved in
// half-second slices within every round: POST /mutate with a BestEffort pod AdmissionReview (the
// work) and GET /healthz (the baseline: the same process, TLS and keep-alive connections with no
// admission logic). Per rate it prints each round's p50/p99/max per arm and the p99 ratio, then
// the median over rounds with the spread (min–max), the webhook's own view (its latency histogram
// and the GC time during the run, from /metrics) and the machine's load.
// Run: npm run bench:webhook [-- --rates 200,1000 --rounds 5 --seconds 10 --out bench/results/x.json]
import { writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { defaultPolicy } from '../core/config.ts';
import { httpsGet, installPriorityClasses, startWebhookProcess } from '../dev/harness/webhook.ts';
import { startControlPlane } from '../dev/controlplane/controlplane.ts';

const { values } = parseArgs({ options: {
  rates: { type: 'string', default: '200,1000' }, rounds: { type: 'string', default: '5' }, seconds: { type: 'string', default: '10' }, out: { type: 'string' },
} });
const rates = values.rates.split(',').map(Number);
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
if (rates.some((r) => !(r > 0)) || !(rounds >= 1) || !(seconds > 0)) throw new Error('--rates must be positive numbers, --rounds ≥ 1, --seconds > 0');

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

const pct = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
const median = (xs: readonly number[]): number => pct([...xs].sort((a, b) => a - b), 0.5);
const f = (x: number, w = 7): string => x.toFixed(2).padStart(w);

interface ArmStats { n: number; errors: number; p50: number; p99: number; max: number }
interface Round { healthz: ArmStats; mutate: ArmStats; ratioP99: number; achievedRate: number }

/** One round at `rate` for `secs`: arms alternate every half second; returns each arm's percentiles. */
async function round(agent: Agent, url: string, ca: string, rate: number, secs = seconds): Promise<Round> {
  const samples: Record<Arm, number[]> = { mutate: [], healthz: [] };
  const errors: Record<Arm, number> = { mutate: 0, healthz: 0 };
  const pending: Promise<void>[] = [];
  const interval = 1000 / rate;
  const slice = Math.max(1, Math.round(rate / 2));
  const start = performance.now();
  for (let i = 0; i < secs * rate; i++) {
    const wait = start + i * interval - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const arm: Arm = Math.floor(i / slice) % 2 === 0 ? 'mutate' : 'healthz';
    pending.push(once(agent, url, ca, arm).then((r) => {
      samples[arm].push(r.ms);
      if (!r.ok) errors[arm]++;
    }));
  }
  await Promise.all(pending);
  const achievedRate = (secs * rate) / ((performance.now() - start) / 1000);
  const stats = (arm: Arm): ArmStats => {
    const s = samples[arm].sort((a, b) => a - b);
    return { n: s.length, errors: errors[arm], p50: pct(s, 0.5), p99: pct(s, 0.99), max: s.at(-1) ?? NaN };
  };
  const healthz = stats('healthz');
  const mutate = stats('mutate');
  return { healthz, mutate, ratioP99: mutate.p99 / healthz.p99, achievedRate };
}

/** Sums of a Prometheus metric's samples whose line starts with `prefix`. */
function metricSum(text: string, prefix: string): number {
  return text.split('\n').filter((l) => l.startsWith(prefix)).reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/** The webhook's own p99 estimate from its histogram (the upper bound of the bucket holding the 99th percentile). */
function serverP99(before: string, after: string): string {
  const bucket = (text: string): Map<string, number> => new Map(
    text.split('\n').filter((l) => l.startsWith('temper_webhook_admission_duration_seconds_bucket{') && l.includes('outcome="mutated"'))
      .map((l) => [/le="([^"]+)"/.exec(l)?.[1] ?? '', Number(l.slice(l.lastIndexOf(' ') + 1))]),
  );
  const a = bucket(after);
  const b = bucket(before);
  const total = (a.get('+Inf') ?? 0) - (b.get('+Inf') ?? 0);
  for (const [le, n] of a) if (n - (b.get(le) ?? 0) >= 0.99 * total) return le === '+Inf' ? '> 1 s' : `≤ ${Number(le) * 1000} ms`;
  return 'n/a';
}

const cp = await startControlPlane({ controllers: false });
const webhook = await startWebhookProcess({ kubeconfig: cp.kubeconfigPath });
const report: Record<string, unknown>[] = [];
try {
  await installPriorityClasses(cp.kc, defaultPolicy());
  // The process's cache picks the classes up by watch; wait until a review is defaulted.
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  for (let i = 0; i < 100 && !(await once(agent, webhook.url, webhook.caPem, 'mutate')).ok; i++) await new Promise((r) => setTimeout(r, 100));
  for (let i = 0; i < 1000; i++) await once(agent, webhook.url, webhook.caPem, i % 2 === 0 ? 'mutate' : 'healthz'); // warm-up (JIT, connections)

  console.log(`webhook benchmark: node ${process.version}, ${availableParallelism()} CPUs, ${rounds} rounds × ${seconds} s per rate, arms interleaved every 0.5 s`);
  for (const rate of rates) {
    const load0 = loadavg()[0] ?? NaN;
    const m0 = (await httpsGet(`${webhook.url}/metrics`, webhook.caPem)).body;
    // Warm-up at the rate itself, discarded: the open-loop start opens new TLS connections
    // (handshakes cost milliseconds of CPU on both ends), which a sequential warm-up does not.
    // Left in, that ramp landed in the first (mutate) slice as a 100-200 ms tail.
    await round(agent, webhook.url, webhook.caPem, rate, 2);
    const results: Round[] = [];
    console.log(`\nrate ${rate}/s            healthz p50/p99/max ms        mutate p50/p99/max ms   p99 ratio  errors  achieved/s`);
    for (let r = 0; r < rounds; r++) {
      const x = await round(agent, webhook.url, webhook.caPem, rate);
      results.push(x);
      console.log(`  round ${r + 1}        ${f(x.healthz.p50)} ${f(x.healthz.p99)} ${f(x.healthz.max)}     ${f(x.mutate.p50)} ${f(x.mutate.p99)} ${f(x.mutate.max)}   ${f(x.ratioP99, 6)}x ${String(x.healthz.errors + x.mutate.errors).padStart(7)} ${x.achievedRate.toFixed(0).padStart(11)}`);
    }
    const m1 = (await httpsGet(`${webhook.url}/metrics`, webhook.caPem)).body;
    const load1 = loadavg()[0] ?? NaN;
    const col = (pick: (r: Round) => number): { median: number; min: number; max: number } => {
      const xs = results.map(pick);
      return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) };
    };
    const hp99 = col((r) => r.healthz.p99);
    const mp99 = col((r) => r.mutate.p99);
    const ratio = col((r) => r.ratioP99);
    const mmax = col((r) => r.mutate.max);
    const errors = results.reduce((s, r) => s + r.healthz.errors + r.mutate.errors, 0);
    const gcSeconds = metricSum(m1, 'temper_webhook_nodejs_gc_duration_seconds_sum') - metricSum(m0, 'temper_webhook_nodejs_gc_duration_seconds_sum');
    const gcCount = metricSum(m1, 'temper_webhook_nodejs_gc_duration_seconds_count') - metricSum(m0, 'temper_webhook_nodejs_gc_duration_seconds_count');
    const spread = (c: { min: number; max: number }): string => `${c.min.toFixed(2)}–${c.max.toFixed(2)}`;
    console.log(`  median         healthz p99 ${hp99.median.toFixed(2)} ms (spread ${spread(hp99)}), mutate p50 ${col((r) => r.mutate.p50).median.toFixed(2)} p99 ${mp99.median.toFixed(2)} ms (spread ${spread(mp99)}) max ${mmax.median.toFixed(2)} ms, p99 ratio ${ratio.median.toFixed(2)}x (spread ${spread(ratio)}), errors ${errors}`);
    console.log(`  webhook's own view: mutate p99 ${serverP99(m0, m1)} in its handler; GC ${gcCount} collections, ${(gcSeconds * 1000).toFixed(1)} ms in total during the rounds`);
    console.log(`  machine load (1-min average) ${load0.toFixed(2)} → ${load1.toFixed(2)} on ${availableParallelism()} CPUs`);
    const goal = rate === 200 ? `goal at 200/s: p99 ≤ 2× healthz p99 and < 5 ms: ${mp99.median <= 2 * hp99.median && mp99.median < 5 && errors === 0 ? 'MET' : 'NOT MET'} (median round)` : 'no goal at this rate (reported)';
    console.log(`  ${goal}`);
    report.push({ rate, rounds: results, median: { healthzP99: hp99, mutateP99: mp99, ratioP99: ratio, mutateMax: mmax }, errors, gc: { count: gcCount, ms: gcSeconds * 1000 }, load: [load0, load1], goal });
  }
  agent.destroy();
  if (values.out !== undefined) writeFileSync(values.out, `${JSON.stringify({ node: process.version, cpus: availableParallelism(), seconds, rounds, results: report }, null, 2)}\n`);
} finally {
  await webhook.stop();
  await cp.stop();
}
