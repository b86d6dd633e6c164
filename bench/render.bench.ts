// Render benchmark: plan() (classify + size + render + validate + hash) for 110 and 500 pods,
// run side by side with a baseline that only deep-copies the same pods (the floor of touching
// the input once). Prints per-op medians, p95, and the ratio plan/baseline. Run: npm run bench
import { defaultPolicy } from '../core/config.ts';
import { nodeFromObject, podFromObject } from '../core/objects.ts';
import { plan } from '../core/plan.ts';
import type { PodInfo } from '../core/types.ts';

const policy = defaultPolicy();
const node = nodeFromObject({ kind: 'Node', metadata: { name: 'bench-1' }, status: { capacity: { cpu: '64' } } }, 'bench');
const classes = ['infera-critical', 'infera-high', 'infera-normal', 'infera-low', 'infera-background', undefined];

/** A realistic node: mixed tiers and QoS classes, sidecars on some pods. */
function pods(n: number): PodInfo[] {
  return Array.from({ length: n }, (_, i) => podFromObject({
    kind: 'Pod',
    metadata: { name: `app-${i}`, namespace: `ns-${i % 7}`, uid: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}` },
    spec: {
      nodeName: 'bench-1',
      ...(classes[i % classes.length] === undefined ? {} : { priorityClassName: classes[i % classes.length] }),
      containers: [{ name: 'c', resources: i % 3 === 0 ? {} : { requests: { cpu: `${50 + (i % 9) * 25}m`, memory: '128Mi' }, limits: i % 2 === 0 ? { cpu: '1', memory: '256Mi' } : {} } }],
      ...(i % 10 === 0 ? { initContainers: [{ name: 'proxy', restartPolicy: 'Always', resources: { requests: { cpu: '10m' } } }] } : {}),
    },
    status: { phase: 'Running' },
  }, 'bench'));
}

function sample(fn: () => unknown, iterations: number): number[] {
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b);
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;

console.log('case       op         median ms    p95 ms   ratio vs baseline');
for (const n of [110, 500]) {
  const input = pods(n);
  for (let i = 0; i < 200; i++) plan(policy, node, input); // warm-up (JIT)
  const planTimes: number[] = [];
  const baseTimes: number[] = [];
  for (let round = 0; round < 10; round++) { // interleave so drift hits both arms alike
    planTimes.push(...sample(() => plan(policy, node, input), 50));
    baseTimes.push(...sample(() => structuredClone(input), 50));
  }
  planTimes.sort((a, b) => a - b);
  baseTimes.sort((a, b) => a - b);
  const ratio = pct(planTimes, 0.5) / pct(baseTimes, 0.5);
  console.log(`${String(n).padStart(3)} pods   baseline  ${pct(baseTimes, 0.5).toFixed(3).padStart(9)} ${pct(baseTimes, 0.95).toFixed(3).padStart(9)}`);
  console.log(`${String(n).padStart(3)} pods   plan()    ${pct(planTimes, 0.5).toFixed(3).padStart(9)} ${pct(planTimes, 0.95).toFixed(3).padStart(9)}   ${ratio.toFixed(2)}x`);
}
console.log(`goal: plan() for 110 pods under 2 ms (median); node ${process.version}`);
