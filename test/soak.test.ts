// Two minutes of random pod churn and faults against the agent process (dev/harness/soak.ts):
// it must converge afterwards, keep its scheduler starts to what the changes and faults explain,
// and not grow its memory. The 30-minute run is `npm run bench:soak`.
import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, inject, it } from 'vitest';
import { describeSoak, soak } from '../dev/harness/soak.ts';

const kubeconfig = inject('kubeconfig');
const seconds = Number(process.env.TEMPER_SOAK_SECONDS ?? 120);

describe('agent soak', () => {
  it(`${seconds} s of pod churn and faults: converges, no restart storm, memory flat`, async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const r = await soak(kc, kubeconfig, seconds, (l) => process.stdout.write(`${l}\n`));
    process.stdout.write(`${describeSoak(r)}\n`);
    expect(r.converged).toBe(true);
    const faults = Object.values(r.faults).reduce((a, b) => a + b, 0);
    expect(faults).toBeGreaterThan(0);
    // A start per new generation at most, plus a few per scheduler-exit fault (each exit is
    // restarted with backoff, the next start may exit once more).
    expect(r.schedulerStarts).toBeLessThanOrEqual(r.generations + 3 * (r.faults['scheduler exit'] ?? 0) + 1);
    expect(r.heapAfterMiB - r.heapBeforeMiB).toBeLessThan(40);
    expect(r.rssAfterMiB - r.rssBeforeMiB).toBeLessThan(80);
  }, (seconds + 180) * 1000);
});
