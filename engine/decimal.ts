/**
 * Decimal strings <-> integer units, without ever going through a float.
 * Used only at the edges: scenario files, readers, reports.
 */

const DECIMAL_RE = /^(-?)(\d+)(?:\.(\d+))?$/;

/** Number of digits after the point in a decimal string ("0.01" -> 2). */
export function decimalScale(s: string): number {
  const m = DECIMAL_RE.exec(s);
  if (!m) throw new RangeError(`not a decimal string: ${JSON.stringify(s)}`);
  return m[3] ? m[3].length : 0;
}

export function isDecimalString(s: unknown): s is string {
  return typeof s === 'string' && DECIMAL_RE.test(s);
}

/**
 * Parse a decimal string as an integer number of 10^-scale units.
 * Throws when the string has more fractional digits than `scale` allows (unless they are zeros)
 * or when the result is not a safe integer.
 */
export function parseScaled(s: string, scale: number): number {
  const m = DECIMAL_RE.exec(s);
  if (!m) throw new RangeError(`not a decimal string: ${JSON.stringify(s)}`);
  const neg = m[1] === '-';
  const intPart = m[2]!;
  let frac = m[3] ?? '';
  if (frac.length > scale) {
    const extra = frac.slice(scale);
    if (!/^0*$/.test(extra)) throw new RangeError(`${s} has more than ${scale} decimal places`);
    frac = frac.slice(0, scale);
  }
  frac = frac.padEnd(scale, '0');
  const n = Number(intPart + frac);
  if (!Number.isSafeInteger(n)) throw new RangeError(`${s} is too large`);
  return neg ? -n : n;
}

/** Format an integer number of 10^-scale units as a decimal string with exactly `scale` places. */
export function formatScaled(n: number, scale: number): string {
  if (!Number.isSafeInteger(n)) throw new RangeError(`not a safe integer: ${n}`);
  if (scale === 0) return String(n);
  const neg = n < 0;
  let digits = String(neg ? -n : n);
  if (digits.length <= scale) digits = '0'.repeat(scale - digits.length + 1) + digits;
  const cut = digits.length - scale;
  return (neg ? '-' : '') + digits.slice(0, cut) + '.' + digits.slice(cut);
}

/**
 * Convert a decimal amount to an integer count of `unit` (e.g. price "100.25" in ticks of "0.05").
 * Returns NaN when the amount is not a whole multiple of the unit.
 */
export function toUnits(amount: string, unit: string): number {
  const scale = Math.max(decimalScale(amount), decimalScale(unit));
  const a = parseScaled(amount, scale);
  const u = parseScaled(unit, scale);
  if (u <= 0) throw new RangeError(`unit must be positive: ${unit}`);
  if (a % u !== 0) return Number.NaN;
  return a / u;
}

/** Convert an integer count of `unit` back to a decimal string (ticks -> price). */
export function fromUnits(count: number, unit: string): string {
  const scale = decimalScale(unit);
  const u = parseScaled(unit, scale);
  return formatScaled(count * u, scale);
}
