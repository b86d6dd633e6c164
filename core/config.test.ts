import { describe, expect, it } from 'vitest';
import { defaultPolicy, parsePolicy, tierClassValue } from './config.ts';
import { LAYER_DEFAULTS } from './layers.ts';
import { distributionAnnotation } from './names.ts';
import { LAYER_NAMES } from './types.ts';
import { problemsOf } from '../test/builders.ts';

describe('parsePolicy', () => {
  it('an empty file is the shipped defaults', () => {
    expect(parsePolicy('', 'temper.toml')).toEqual(defaultPolicy());
  });

  it('the defaults are the spec\'s table', () => {
    const p = defaultPolicy();
    expect(p.priorityMapping).toEqual({ critical: 1_000_000, high: 100_000, normal: 0, low: -100, system: 2_000_000_000, systemToCatchall: true });
    expect(p.node).toEqual({ reservedCpus: 1, cgroupDriver: 'systemd', threadsPerCore: 1, placement: 'hints' });
    expect(p.naming.priorityClasses.critical).toBe('infera-critical');
    expect(distributionAnnotation(p)).toBe('infera.io/qos-distribution');
    expect(tierClassValue(p, 'low')).toBe(-100);
    expect(tierClassValue(p, 'background')).toBe(-101);
  });

  it('reads every section', () => {
    const p = parsePolicy(`
[priority_mapping]
critical = 2000000
high = 200000
normal = 10
low = -10
system = 1000000000
system_to_catchall = true

[node]
reserved_cpus = 2
cgroup_driver = "cgroupfs"
threads_per_core = 2
placement = "hints"

[naming]
annotation_prefix = "temper.codes"
namespace = "temper"
[naming.priority_classes]
critical = "temper-critical"

[layers.critical]
slice_us = 2000
util_range = [0.2, 0.5]
growth_algo = "Topo"
[layers.low]
preempt = false
`, 'temper.toml');
    expect(p.priorityMapping.critical).toBe(2_000_000);
    expect(p.node).toEqual({ reservedCpus: 2, cgroupDriver: 'cgroupfs', threadsPerCore: 2, placement: 'hints' });
    expect(distributionAnnotation(p)).toBe('temper.codes/qos-distribution');
    expect(p.naming.priorityClasses).toMatchObject({ critical: 'temper-critical', high: 'infera-high' });
    expect(p.layers.critical).toEqual({ slice_us: 2000, util_range: [0.2, 0.5], growth_algo: 'Topo' });
    expect(p.layers.low).toEqual({ preempt: false });
  });

  it('reports every problem at once, each naming its key and value', () => {
    const problems = problemsOf(`
[priority_mapping]
critical = "high"
high = 2000000
low = 5
critcal = 3

[node]
reserved_cpus = -1
cgroup_driver = "docker"
placement = "ebpf"
colour = "blue"

[naming]
annotation_prefix = "Not_A_Domain"
[naming.priority_classes]
high = "system-high"

[layers.critical]
util_range = [0.9, 0.1]
slice = 5
[layers.low]
util_range = [0.1, 0.2]
[layers.gold]
slice_us = 1
`);
    expect(problems).toEqual(expect.arrayContaining([
      'temper.toml: priority_mapping.critical: must be an integer (got "high")',
      'temper.toml: priority_mapping.high: must be below critical (got 2000000 ≥ 1000000); thresholds must strictly decrease',
      'temper.toml: priority_mapping.low: must be below normal (got 5 ≥ 0); thresholds must strictly decrease',
      'temper.toml: priority_mapping.critcal: unknown key',
      'temper.toml: node.reserved_cpus: must be between 0 and 512 (got -1)',
      'temper.toml: node.cgroup_driver: must be one of systemd, cgroupfs (got "docker")',
      'temper.toml: node.placement: must be one of cgroup, hints (got "ebpf")',
      'temper.toml: node.colour: unknown key',
      'temper.toml: naming.annotation_prefix: must be a lowercase DNS subdomain (e.g. infera.io) (got "Not_A_Domain")',
      'temper.toml: naming.priority_classes.high: must not start with "system-" (reserved for built-in classes) (got "system-high")',
      'temper.toml: layers.critical.util_range: must satisfy 0 ≤ low < high ≤ 1 (got [0.9, 0.1])',
      'temper.toml: layers.critical.slice: unknown key',
      'temper.toml: layers.low.util_range: layer low is an Open layer, which has no CPU allocation and so no util_range',
      'temper.toml: layers.gold: unknown layer (layers are system, critical, high, normal, shared, low, background, nodecritical, catchall)',
    ]));
    expect(problems).toHaveLength(14);
  });

  it('placement is validated like the other node keys: a string, one of the two', () => {
    expect(problemsOf('[node]\nplacement = true\n')).toEqual(['temper.toml: node.placement: must be one of cgroup, hints (got true)']);
    expect(problemsOf('[node]\nplacement = "Hints"\n')).toEqual(['temper.toml: node.placement: must be one of cgroup, hints (got "Hints")']);
    expect(parsePolicy('[node]\nplacement = "hints"\n', 't')).toEqual(defaultPolicy());
    expect(parsePolicy('[node]\nplacement = "cgroup"\n', 't').node.placement).toBe('cgroup');
  });

  it('rejects wrong types for tables and values', () => {
    expect(problemsOf('node = 3\n')).toEqual(['temper.toml: node: must be a table (got 3)']);
    expect(problemsOf('[priority_mapping]\nsystem_to_catchall = "yes"\n')).toEqual(['temper.toml: priority_mapping.system_to_catchall: must be true or false (got "yes")']);
    expect(problemsOf('[layers.high]\nutil_range = [0.5]\n')).toEqual(['temper.toml: layers.high.util_range: must be two numbers [low, high] (got [0.5])']);
    expect(problemsOf('[layers.high]\ngrowth_algo = "Fast"\n')[0]).toMatch(/^temper.toml: layers.high.growth_algo: must be one of Sticky, Linear/);
    expect(problemsOf('[naming.priority_classes]\nlow = "same"\nbackground = "same"\n')).toEqual(['temper.toml: naming.priority_classes.background: duplicates low\'s class "same"']);
  });

  it('requires system above critical unless switched off', () => {
    expect(problemsOf('[priority_mapping]\nsystem = 5\n')).toEqual(['temper.toml: priority_mapping.system: must be above critical (got 5 ≤ 1000000)']);
    expect(() => parsePolicy('[priority_mapping]\nsystem = 5\nsystem_to_catchall = false\n', 't')).not.toThrow();
  });

  it('reports TOML syntax errors with their position', () => {
    expect(problemsOf('[node]\nreserved_cpus = = 2\n')[0]).toMatch(/^temper.toml:2:\d+: invalid TOML: /);
  });

  it('accepts util_range exactly on the layers whose default kind has an allocation (one rule with core/layers.ts)', () => {
    for (const name of LAYER_NAMES) {
      const sized = LAYER_DEFAULTS[name].kind !== 'Open';
      if (sized) expect(() => parsePolicy(`[layers.${name}]\nutil_range = [0.1, 0.2]\n`, 't')).not.toThrow();
      else expect(() => parsePolicy(`[layers.${name}]\nutil_range = [0.1, 0.2]\n`, 't')).toThrow('is an Open layer');
    }
  });
});
