// The README's main command, end to end: `node scripts/demo.ts --once` sets up its own control
// plane, webhook and example pods, prints `kubectl temper tiers -A`, starts the node agent for the
// demo node and prints its state, generation, node annotations, gRPC answer and dashboard URL,
// cleans up and exits 0.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('npm start (scripts/demo.ts)', () => {
  it('sets up the control plane and webhook, and prints every tier', () => {
    const r = spawnSync(process.execPath, [join(import.meta.dirname, '..', 'scripts', 'demo.ts'), '--once'], { encoding: 'utf8', timeout: 280_000 });
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    expect(r.stdout).toContain('PriorityClasses and the QoS-defaulting webhook');
    const rows = r.stdout.split('\n').filter((l) => /^\S+\s+\S+\s+(critical|high|normal|low|background|system)\s/.test(l));
    const tiers = new Set(rows.map((l) => l.split(/\s+/)[2]));
    expect([...tiers].sort()).toEqual(['background', 'critical', 'high', 'low', 'normal', 'system']);
    // log-compactor has no class and no resources: the webhook made it Background (-101)
    expect(r.stdout).toMatch(/log-compactor-8k2lm\s+background\s+background\s+-101\s+BestEffort/);

    // The agent: honest about the kernel it runs on.
    const state = /^Agent on \S+: state (\S+)/m.exec(r.stdout)?.[1];
    expect(state, r.stdout).toBe(existsSync('/sys/kernel/sched_ext/state') ? 'enforcing' : 'unavailable');
    if (state === 'unavailable') expect(r.stdout).toContain('the kernel has no sched_ext');
    const generation = Number(/rendered generation (\d+) \(sha256 [0-9a-f]{12}…\) for 10 pods, layers: system, (?:nodecritical, )?critical, [a-z, ]+, catchall/.exec(r.stdout)?.[1]);
    expect(generation).toBeGreaterThanOrEqual(1);
    const status = JSON.parse(/node annotation infera\.io\/agent-status: (.*)$/m.exec(r.stdout)?.[1] ?? 'null') as { state: string; generation: number };
    expect(status).toMatchObject({ state });
    expect(status.generation).toBeGreaterThanOrEqual(1);
    const distribution = JSON.parse(/node annotation infera\.io\/qos-distribution: (.*)$/m.exec(r.stdout)?.[1] ?? 'null') as Record<string, { pods: number }>;
    const tierKeys = ['critical', 'high', 'normal', 'low', 'background'];
    expect(Object.keys(distribution).slice(0, 5)).toEqual(tierKeys); // the tier entries come first (docs/distribution.md)
    expect(tierKeys.reduce((n, t) => n + (distribution[t]?.pods ?? 0), 0)).toBeGreaterThan(0);
    expect(r.stdout).toMatch(/gRPC GetLayeredConfig \(unix:\/\/\S+\): generation \d+, sha256 the same/);
    expect(r.stdout).toMatch(/dashboard: http:\/\/127\.0\.0\.1:\d+\//);
  }, 300_000);
});
