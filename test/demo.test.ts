// The README's main command, end to end: `node scripts/demo.ts --once` sets up its own control
// plane, webhook and example pods, prints `kubectl temper tiers -A`, cleans up and exits 0.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('npm start (scripts/demo.ts)', () => {
  it('sets up the control plane and webhook, and prints every tier', () => {
    const r = spawnSync(process.execPath, [join(import.meta.dirname, '..', 'scripts', 'demo.ts'), '--once'], { encoding: 'utf8', timeout: 180_000 });
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    expect(r.stdout).toContain('PriorityClasses and the QoS-defaulting webhook');
    const rows = r.stdout.split('\n').filter((l) => /^\S+\s+\S+\s+(critical|high|normal|low|background|system)\s/.test(l));
    const tiers = new Set(rows.map((l) => l.split(/\s+/)[2]));
    expect([...tiers].sort()).toEqual(['background', 'critical', 'high', 'low', 'normal', 'system']);
    // log-compactor has no class and no resources: the webhook made it Background (-101)
    expect(r.stdout).toMatch(/log-compactor-8k2lm\s+background\s+background\s+-101\s+BestEffort/);
  }, 200_000);
});
