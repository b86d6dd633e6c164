import { describe, expect, it } from 'vitest';
import { node } from '../test/builders.ts';
import { coresNeeded, coresOf, criticalFits, fenceCapacity } from './capacity.ts';
import { defaultPolicy, parsePolicy } from './config.ts';

const withNode = (toml: string) => parsePolicy(`[node]\n${toml}\n`, 't');

describe('fenceCapacity: one core always stays unowned', () => {
  it.each([
    // cpus, policy, cores, unowned, ownable
    ['1', '', 1, 1, 0],
    ['2', '', 2, 1, 1],
    ['3', '', 3, 1, 2],
    ['8', '', 8, 1, 7],
    ['8', 'reserved_cpus = 0', 8, 1, 7],
    ['8', 'reserved_cpus = 3', 8, 3, 5],
    ['64', 'reserved_cpus = 512', 64, 64, 0],
    ['2', 'threads_per_core = 2', 1, 1, 0],
    ['4', 'threads_per_core = 2', 2, 1, 1],
    ['5', 'threads_per_core = 2', 2, 1, 1],
    ['16', 'threads_per_core = 2\nreserved_cpus = 3', 8, 2, 6],
  ] as const)('%s CPUs, %j', (cpus, toml, cores, unownedCores, ownableCores) => {
    const cap = fenceCapacity(node('n', cpus), toml === '' ? defaultPolicy() : withNode(toml));
    expect(cap).toMatchObject({ cpus: Number(cpus), cores, unownedCores, ownableCores });
  });
  it('a fractional capacity counts whole CPUs only', () => {
    expect(fenceCapacity(node('n', '2500m'), defaultPolicy()).cpus).toBe(2);
    expect(fenceCapacity(node('n', '1500m'), defaultPolicy())).toMatchObject({ cpus: 1, ownableCores: 0 });
  });
});

describe('coresNeeded, coresOf, criticalFits', () => {
  it('rounds requests up to whole cores, at least one', () => {
    expect([coresNeeded(0, 1), coresNeeded(1, 1), coresNeeded(1000, 1), coresNeeded(1001, 1), coresNeeded(3000, 2)]).toEqual([1, 1, 1, 2, 2]);
    expect([coresOf(1, 2), coresOf(2, 2), coresOf(3, 2)]).toEqual([1, 1, 2]);
  });
  it('a Critical request fits when its whole cores fit in the ownable ones', () => {
    const two = fenceCapacity(node('n', '2'), defaultPolicy());
    expect(criticalFits(two, 1000)).toBe(true);
    expect(criticalFits(two, 1001)).toBe(false);
    expect(criticalFits(fenceCapacity(node('n', '1'), defaultPolicy()), 100)).toBe(false);
  });
});
