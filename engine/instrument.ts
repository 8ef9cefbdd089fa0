import { assert } from './assert.js';

/**
 * A tradable instrument as the core sees it: everything in integer ticks and lots.
 * The decimal tick and lot sizes travel along only so the edges can print prices.
 */
export interface Instrument {
  /** Position in the scenario's instruments array; the core's InstrumentIdx. */
  readonly index: number;
  readonly symbol: string;
  /** Decimal string, e.g. "0.01": one tick. */
  readonly tickSize: string;
  /** Decimal string, e.g. "1" or "0.001": one lot. */
  readonly lotSize: string;
  /** Reference price in ticks before the first trade (for price bands and synthetic flow). */
  readonly referencePriceTicks: number;
  /** Limit prices further than this many basis points from the reference (last trade, else referencePriceTicks) are rejected; 0 disables. */
  readonly priceBandBps: number;
}

export function checkInstrument(i: Instrument): void {
  assert(Number.isSafeInteger(i.referencePriceTicks) && i.referencePriceTicks > 0, `${i.symbol}: referencePriceTicks must be a positive safe integer`);
  assert(Number.isSafeInteger(i.priceBandBps) && i.priceBandBps >= 0, `${i.symbol}: priceBandBps must be a non-negative integer`);
}

/** Inclusive band [lo, hi] in ticks around a reference; integer arithmetic only. */
export function priceBand(referenceTicks: number, bandBps: number): { lo: number; hi: number } {
  const width = Math.floor((referenceTicks * bandBps) / 10_000);
  return { lo: referenceTicks - width, hi: referenceTicks + width };
}
