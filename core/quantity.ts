/**
 * Kubernetes resource quantities ("500m", "1.5", "2Gi", "1e3") as exact integers.
 *
 * Kubernetes keeps quantities as arbitrary-precision decimals and rounds anything finer than
 * 10^-9 up to the next nano unit; we do the same, so every value is an exact `bigint` count of
 * nano-units and sums and comparisons are exact (as `resource.Quantity.Cmp` is).
 */

const DECIMAL_SUFFIXES: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};

const BINARY_SUFFIXES: Readonly<Record<string, bigint>> = {
  Ki: 1n << 10n,
  Mi: 1n << 20n,
  Gi: 1n << 30n,
  Ti: 1n << 40n,
  Pi: 1n << 50n,
  Ei: 1n << 60n,
};

// <sign><digits>[.<digits>]<suffix>, suffix one of the SI/binary suffixes or e/E<exponent>.
const QUANTITY_RE = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:([numkMGTPE]|[KMGTPE]i)|[eE]([+-]?\d+))?$/;

/** A quantity that failed to parse; `message` says what was wrong with it. */
export class QuantityError extends Error {
  override name = 'QuantityError';
}

function ceilDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a > 0n === b > 0n ? q + 1n : q;
}

/**
 * Parses a Kubernetes quantity (a string or a JSON number) into exact nano-units.
 * Sub-nano precision is rounded up (away from zero for negatives), as Kubernetes does.
 * Throws QuantityError for anything Kubernetes' own parser would reject.
 */
export function parseQuantity(input: string | number): bigint {
  const text = typeof input === 'number' ? numberToQuantityText(input) : input.trim();
  const match = QUANTITY_RE.exec(text);
  if (match === null) {
    throw new QuantityError(`"${String(input)}" is not a valid quantity (expected e.g. 500m, 2, 1.5, 4Gi)`);
  }
  const [, sign = '', number = '', suffix, exponentText] = match;
  const [intPart = '', fracPart = ''] = number.split('.');
  const digits = BigInt((intPart + fracPart) || '0');
  let scale = -fracPart.length; // value = digits * 10^scale
  let multiplier = 1n;
  if (exponentText !== undefined) {
    const exponent = Number(exponentText);
    if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 64) {
      throw new QuantityError(`"${String(input)}": exponent out of range`);
    }
    scale += exponent;
  } else if (suffix !== undefined && suffix in BINARY_SUFFIXES) {
    multiplier = BINARY_SUFFIXES[suffix] ?? 1n;
  } else {
    scale += DECIMAL_SUFFIXES[suffix ?? ''] ?? 0;
  }
  // nano = digits * multiplier * 10^(scale + 9), rounded up when scale + 9 < 0.
  const shift = scale + 9;
  const magnitude = shift >= 0
    ? digits * multiplier * 10n ** BigInt(shift)
    : ceilDiv(digits * multiplier, 10n ** BigInt(-shift));
  return sign === '-' ? -magnitude : magnitude;
}

function numberToQuantityText(value: number): string {
  if (!Number.isFinite(value)) throw new QuantityError(`${value} is not a valid quantity`);
  // JSON numbers in manifests are plain decimals; avoid exponent formatting surprises.
  return Number.isInteger(value) ? value.toFixed(0) : String(value);
}

/** Milli-units of a nano-unit value, rounded up like `Quantity.MilliValue()`. */
export function nanoToMillis(nano: bigint): number {
  return Number(ceilDiv(nano, 1_000_000n));
}

/** Renders CPU millis the way kubectl does: whole cores as "2", otherwise "1500m". */
export function formatCpuMillis(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}
