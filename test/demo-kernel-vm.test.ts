// `npm run demo:kernel` end to end (scripts/demo-kernel.ts): the agent's config for the example
// pods, loaded by the real scx_layered in the sched_ext VM, with scx_layered's per-layer counts
// showing each pod's task in its tier's layer. Skips (saying why) only when the VM prerequisites
// are missing and TEMPER_REQUIRE_VM != 1.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { vmAvailability, vmRequired } from '../bpf/vm.ts';

const avail = vmAvailability();
const run = avail.ok || vmRequired();
if (!run) console.warn(`demo-kernel-vm.test.ts skipped: ${avail.ok ? '' : avail.reason} (TEMPER_REQUIRE_VM=1 makes this a failure)`);

describe.runIf(run)('npm run demo:kernel', () => {
  it('scx_layered runs the agent-rendered config with every example pod\'s task in its layer', () => {
    const r = spawnSync(process.execPath, [join(import.meta.dirname, '..', 'scripts', 'demo-kernel.ts')], { encoding: 'utf8', timeout: 540_000 });
    expect(r.status, `${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`).toBe(0);
    expect(r.stdout).toMatch(/The agent rendered generation \d+ \(sha256 [0-9a-f]{12}…\) for 10 pods/);
    expect(r.stdout).toMatch(/scx_layered enabled the agent's config in [\d.]+ s/);
    const rows = new Map(r.stdout.split('\n').filter((l) => /^(system|nodecritical|critical|high|normal|shared|low|background|catchall)\s+\d+\s+\d+\s/.test(l)).map((l) => {
      const [layer = '', tasks = '0'] = l.split(/\s+/);
      return [layer, { tasks: Number(tasks), line: l }] as const;
    }));
    // every layer of the agent's config, in its order (on a 2-CPU node High, Normal, Low and
    // Background share one layer, docs/layers.md)
    const layers = /\(\d+ CPUs\): layers (.+)$/m.exec(r.stdout)?.[1]?.split(', ') ?? [];
    expect(layers.length, r.stdout.slice(0, 2000)).toBeGreaterThanOrEqual(3);
    expect([...rows.keys()]).toEqual(layers);
    // scx_layered's own counts: at least the example pods' tasks in each tier layer.
    expect(rows.get('critical')?.tasks).toBeGreaterThanOrEqual(1);
    expect(rows.get('critical')?.line).toContain('shop/payments-api-0');
    expect(rows.get(rows.has('background') ? 'background' : 'shared')?.tasks).toBeGreaterThanOrEqual(2);
    expect(rows.get('system')?.line).toContain('temper-system/temper-agent-q9w8e');
    expect(r.stdout).not.toContain('(IN ');
    // placement "hints" (the default): the pods whose tier is not their QoS default are hinted
    expect(r.stdout).toMatch(/Task hints written by temper-hints for the \d+ pods whose tier is not their QoS class's default\.\n/);
    expect(r.stdout).toContain('Every recorded pod task is in its tier\'s layer.');
  }, 600_000);
});
