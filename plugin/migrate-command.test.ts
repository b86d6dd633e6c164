import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../core/config.ts';
import { planMigration } from '../core/migration.ts';
import { main } from './cli.ts';
import { formatMigration } from './migrate-command.ts';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => { out += t; }, stderr: (t) => { err += t; } });
  return { code, out, err };
}

describe('kubectl temper migrate', () => {
  it('prints the classes, what still uses former names, numbered steps, and that pods cannot change class in place', () => {
    const policy = parsePolicy('[naming]\nnames = "temper"\nmigration = true\n', 't');
    const text = formatMigration(planMigration(policy, {
      pods: [{ namespace: 'shop', name: 'debug', priorityClassName: 'infera-low', phase: 'Running', owner: null }],
      workloads: [], nodes: [{ name: 'n1', values: { 'infera.io/agent-status': '{}' } }], namespaces: [],
      priorityClasses: [{ name: 'infera-low', value: -100, helmRelease: null }, { name: 'temper-low', value: -100, helmRelease: null }],
    }));
    expect(text).toContain('Temper writes the temper names (temper.codes/…');
    expect(text).toContain('  temper-low               present (-100)');
    expect(text).toContain('  temper-high              MISSING (want 100000)');
    expect(text).toContain('  infera-low               former, -100');
    expect(text).toContain('  pod shop/debug: infera-low → temper-low');
    expect(text).toContain('  node n1: only infera.io/agent-status');
    expect(text).toMatch(/\n {2}1\. Create the temper-critical, temper-high, temper-normal, temper-background PriorityClasses: kubectl temper migrate --apply\n/);
    expect(text).toContain('A pod cannot change priorityClassName in place');
  });

  it('bad usage and a bad configuration are clear errors, non-zero exit', async () => {
    const bad = await run('migrate', '-o', 'table');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("argument 'table' is invalid");
    const noCluster = await run('migrate', '--kubeconfig', '/nonexistent/kubeconfig');
    expect(noCluster.code).toBe(1);
    expect(noCluster.err).toMatch(/^error: /);
  });
});
