import { describe, expect, it } from 'vitest';
import { formatCpuMillis, nanoToMillis, parseQuantity, QuantityError } from './quantity.ts';

describe('parseQuantity', () => {
  it.each([
    ['1', 1_000_000_000n],
    ['500m', 500_000_000n],
    ['0.5', 500_000_000n],
    ['1.5', 1_500_000_000n],
    ['.25', 250_000_000n],
    ['2k', 2_000_000_000_000n],
    ['1Ki', 1024_000_000_000n],
    ['1Gi', 1073741824_000_000_000n],
    ['1e3', 1000_000_000_000n],
    ['1E-3', 1_000_000n],
    ['100u', 100_000n],
    ['7n', 7n],
    ['+3', 3_000_000_000n],
    ['-2', -2_000_000_000n],
    [2, 2_000_000_000n],
    [0.1, 100_000_000n],
  ] as const)('%s → %s nano', (input, want) => {
    expect(parseQuantity(input)).toBe(want);
  });

  it('rounds sub-nano precision up, as Kubernetes does', () => {
    expect(parseQuantity('0.0000000001')).toBe(1n);
    expect(parseQuantity('1.0000000001')).toBe(1_000_000_001n);
  });

  it.each(['', 'abc', '1.2.3', '1 Gi', '1gi', 'm', '1mi', '--1', '1e', 'Infinity'])('rejects %j', (input) => {
    expect(() => parseQuantity(input)).toThrow(QuantityError);
  });

  it('names the bad value', () => {
    expect(() => parseQuantity('12cores')).toThrow(/"12cores" is not a valid quantity/);
  });
});

describe('nanoToMillis / formatCpuMillis', () => {
  it('rounds up to the next milli like MilliValue()', () => {
    expect(nanoToMillis(1n)).toBe(1);
    expect(nanoToMillis(1_000_000n)).toBe(1);
    expect(nanoToMillis(1_000_001n)).toBe(2);
    expect(nanoToMillis(0n)).toBe(0);
  });
  it('formats like kubectl', () => {
    expect(formatCpuMillis(2000)).toBe('2');
    expect(formatCpuMillis(1500)).toBe('1500m');
    expect(formatCpuMillis(0)).toBe('0');
  });
});
