/**
 * Integer money arithmetic: notional of a trade in minor units, multiply-divide
 * with an explicit rounding direction, basis points.
 *
 * API
 * - `notionalRule(tickSize, lotSize, minorExponent, multiplier = '1')` -> `{ num, den }`:
 *   notional minor units = priceTicks * sizeLots * num / den, with num/den reduced.
 *   Precompute once per instrument at load time; the hot path is one multiply and,
 *   when den > 1, one division.
 * - `notionalMinor(priceTicks, sizeLots, num, den)`: exact when den divides the product,
 *   otherwise rounded half up (prices and sizes are positive, so "up" is away from zero).
 *   Buyer and seller always use the same figure, so rounding never unbalances the ledger.
 * - `mulDivFloor(a, b, c)`, `mulDivCeil(a, b, c)`, `mulDivTrunc(a, b, c)`: a*b/c without
 *   float error; fall back to BigInt only when a*b is not a safe integer (rare, allocates).
 * - `bpsCeil(amount, centiBps)`: amount * rate, where rate is in hundredths of a basis point
 *   (1 bp = 100 centi-bps), rounded toward +infinity (the venue's favour, for fees and rebates alike).
 * - `rateBpsCeil(amount, bps)`, `rateBpsFloor(amount, bps)`: amount * bps / 10,000 rounded up or
 *   down, for rates in whole basis points of at most 100% (margin rates, the usable share of
 *   unsettled cash): exact for any safe amount, with no BigInt.
 * - `toCentiBps(bps)`: config-time conversion of a bps number with at most 2 decimals.
 * - Hot paths, where an amount must not cross a call (V8 boxes a number passed to or returned
 *   from a call it does not inline whenever it is no small integer): `notionalOut(…)` leaves
 *   the notional in `MONEY_OUT[0]`, `feeOnNotionalOut(centiBps)` is the fee on it, and a
 *   `MinorAmount` carries an amount by reference.
 */
import { assert, assertSafeInt } from './assert.js';
import { decimalScale, parseScaled } from './decimal.js';

/** A currency: ISO code and how many digits its minor unit has (USD 2, JPY 0, BTC 8). */
export interface Currency {
  readonly code: string;
  readonly minorExponent: number;
}

export interface NotionalRule {
  /** Numerator, a positive safe integer. */
  readonly num: number;
  /** Denominator, a positive safe integer; 1 means every notional is exact. */
  readonly den: number;
}

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/**
 * One tick is tickSize currency units, one lot is lotSize * multiplier instrument units
 * (the multiplier is a futures contract's size, "1" for shares). A currency unit is
 * 10^minorExponent minor units. So one tick-lot is worth
 * tickSize * lotSize * multiplier * 10^minorExponent minor units, reduced to num/den.
 */
export function notionalRule(tickSize: string, lotSize: string, minorExponent: number, multiplier = '1'): NotionalRule {
  assert(Number.isInteger(minorExponent) && minorExponent >= 0 && minorExponent <= 12, `minorExponent out of range: ${minorExponent}`);
  const ts = decimalScale(tickSize);
  const ls = decimalScale(lotSize);
  const ms = decimalScale(multiplier);
  let num = parseScaled(tickSize, ts) * parseScaled(lotSize, ls) * parseScaled(multiplier, ms);
  assert(num > 0 && Number.isSafeInteger(num), `tick/lot/multiplier product must be a positive safe integer`);
  let scaleDiff = minorExponent - ts - ls - ms;
  let den = 1;
  while (scaleDiff > 0) {
    num *= 10;
    scaleDiff--;
  }
  while (scaleDiff < 0) {
    den *= 10;
    scaleDiff++;
  }
  assert(Number.isSafeInteger(num) && Number.isSafeInteger(den), 'notional rule overflows');
  const g = gcd(num, den);
  return { num: num / g, den: den / g };
}

/**
 * An amount in minor units passed by reference, where an amount crosses a call on a hot path
 * (risk's margin question to the account view, and on to the margin). A number passed to a call
 * V8 does not inline is boxed in a new heap number whenever it is no small integer (money in
 * minor units rarely is); a double field is written in place. Starts as a fraction so that the
 * field is a double from the start.
 */
export class MinorAmount {
  minor = 0.5;
  constructor(minor = 0) {
    this.minor = minor;
  }
}

/**
 * Where `notionalOut` leaves the notional it computes: a trade's clearing and a fill's
 * portfolio update read it from here rather than from a return value. A notional returned from
 * a call V8 does not inline is boxed in a new heap number whenever it is no small integer;
 * an element of a typed array is written in place. One slot, overwritten by every call.
 */
export const MONEY_OUT = new Float64Array(1);

/** `notionalMinor(…)` into MONEY_OUT[0] (prices, lots and the rule are small integers: nothing is boxed). */
export function notionalOut(priceTicks: number, sizeLots: number, num: number, den: number): void {
  const p = priceTicks * sizeLots * num;
  if (!Number.isSafeInteger(p)) {
    MONEY_OUT[0] = bigNotional(priceTicks, sizeLots, num, den);
  } else if (den === 1) {
    MONEY_OUT[0] = p;
  } else {
    const q = Math.floor(p / den);
    MONEY_OUT[0] = (p - q * den) * 2 >= den ? q + 1 : q;
  }
}

export function notionalMinor(priceTicks: number, sizeLots: number, num: number, den: number): number {
  notionalOut(priceTicks, sizeLots, num, den);
  return MONEY_OUT[0]!;
}

/**
 * The fee at `centiBps` on the notional in MONEY_OUT[0], rounded up (bpsCeil), with no call
 * below 2^53 (see mulDivCeil): the notional is read from there, never passed. Call it right
 * after `notionalOut`: every notional computed since (`notionalMinor` too) overwrites the slot.
 */
export function feeOnNotionalOut(centiBps: number): number {
  const n = MONEY_OUT[0]!;
  const p = n * centiBps;
  return Number.isSafeInteger(p) ? Math.ceil(p / CENTI_BPS_PER_UNIT) + 0 : bpsCeil(n, centiBps);
}

/**
 * notionalMinor beyond 2^53, exact in BigInt. A function of its own so that notionalMinor stays
 * small: V8 inlines callees out of a fixed bytecode budget per compiled function, and the
 * margin check inlines a notional, a rounding division and the ledger's balances; when the
 * budget ran out, a division was called out of line and boxed its argument.
 */
function bigNotional(priceTicks: number, sizeLots: number, num: number, den: number): number {
  const bp = BigInt(priceTicks) * BigInt(sizeLots) * BigInt(num);
  const bd = BigInt(den);
  let q = bp / bd;
  if ((bp % bd) * 2n >= bd) q += 1n;
  const n = Number(q);
  assertSafeInt(n, 'notional');
  return n;
}

// a * b / c rounded, for integers with c > 0. While the product is a safe integer the float
// quotient, rounded, is exact: a quotient that is not an integer lies at least 1/c from one,
// and the division's rounding error, at most |p / c| * 2^-53, is smaller while |p| < 2^53.
// So these make no call on that path (an amount passed to a call V8 does not inline is boxed
// in a new heap number whenever it is no small integer, and these run on every trade), and
// `+ 0` turns a -0 (a negative quotient rounded to zero) into 0: it would print as "-0".
// Beyond 2^53, and for other divisors, BigInt.

export function mulDivFloor(a: number, b: number, c: number): number {
  const p = a * b;
  if (Number.isSafeInteger(p) && c > 0) return Math.floor(p / c) + 0;
  return bigDiv(a, b, c, -1);
}

export function mulDivCeil(a: number, b: number, c: number): number {
  const p = a * b;
  if (Number.isSafeInteger(p) && c > 0) return Math.ceil(p / c) + 0;
  return bigDiv(a, b, c, 1);
}

/** Rounds toward zero: the remainder stays with whoever keeps the rest (e.g. a position's cost basis). */
export function mulDivTrunc(a: number, b: number, c: number): number {
  const p = a * b;
  if (Number.isSafeInteger(p) && c > 0) return Math.trunc(p / c) + 0;
  return bigDiv(a, b, c, 0);
}

/** Products beyond 2^53 (and negative divisors) take the exact BigInt path. */
function bigDiv(a: number, b: number, c: number, dir: -1 | 0 | 1): number {
  assertSafeInt(a, 'mulDiv a');
  assertSafeInt(b, 'mulDiv b');
  assertSafeInt(c, 'mulDiv c');
  assert(c !== 0, 'mulDiv by zero');
  const p = BigInt(a) * BigInt(b);
  const d = BigInt(c);
  let q = p / d; // truncates toward zero
  const r = p % d;
  if (r !== 0n) {
    const positive = (p < 0n) === (d < 0n);
    if (dir === 1 && positive) q += 1n;
    if (dir === -1 && !positive) q -= 1n;
  }
  const n = Number(q);
  assertSafeInt(n, 'mulDiv result');
  return n;
}

/**
 * `amount` * `bps` / 10,000, rounded up, for |bps| <= 10,000 (a margin rate): exact for any safe
 * `amount`, with no BigInt. mulDivCeil's product would pass 2^53 from ~9e11 minor units at
 * 100% (a margin account holding 9 billion dollars), and BigInt allocates on every margin check
 * of such an account. Split at the divisor instead, amount = q * 10,000 + r with 0 <= r < 10,000:
 * |q * bps| is at most |amount| + 10,000 (and q * 10,000 a multiple of 16 there, so exact), r * bps
 * is below 1e8, and both float quotients are exact (see mulDivCeil), so the sum is the exact
 * ceiling. money.test.ts checks it against BigInt up to +-2^53.
 */
export function rateBpsCeil(amount: number, bps: number): number {
  const q = Math.floor(amount / 10_000);
  return q * bps + Math.ceil(((amount - q * 10_000) * bps) / 10_000) + 0;
}

/** As rateBpsCeil, rounded down. */
export function rateBpsFloor(amount: number, bps: number): number {
  const q = Math.floor(amount / 10_000);
  return q * bps + Math.floor(((amount - q * 10_000) * bps) / 10_000) + 0;
}

/** Rates are kept in hundredths of a basis point: 1% = 100 bp = 10_000 centi-bps. */
export const CENTI_BPS_PER_UNIT = 1_000_000;

export function bpsCeil(amountMinor: number, centiBps: number): number {
  return mulDivCeil(amountMinor, centiBps, CENTI_BPS_PER_UNIT);
}

export function toCentiBps(bps: number): number {
  const c = Math.round(bps * 100);
  assert(Math.abs(c - bps * 100) < 1e-6, `a rate in bps may have at most 2 decimals: ${bps}`);
  return c;
}
