/**
 * Maker/taker fee schedule per instrument, in integer minor units.
 *
 * Rates are basis points of notional (config may use up to 2 decimals, e.g. -0.25 bp);
 * a negative rate is a rebate paid to the liquidity provider. Internally a rate is kept
 * in hundredths of a basis point.
 *
 * Rounding rule: fee = ceil(notionalMinor * rate), i.e. toward +infinity, always in the
 * venue's favour: a positive fee is rounded up, a rebate (negative fee) is rounded down in
 * magnitude (-1.7 minor units -> -1). Notional is `notionalMinor(priceTicks, lots, num, den)`
 * of engine/money.ts, the same figure the cash movement uses.
 *
 * API
 * - `new FeeSchedule(instrumentCount)`; `set(instrument, { makerBps, takerBps, num, den })`
 * - `fee(instrument, isMaker, priceTicks, sizeLots)` -> signed minor units (negative = rebate); O(1), no allocation.
 * - `rateCentiBps(instrument, isMaker)`: the rate, for a fee on a notional (`feeOnNotionalOut` in money.ts on the hot path, `bpsCeil` elsewhere).
 * - `maxRateCentiBps(instrument)`: the larger of the two rates, for reserving buying power.
 */
import { assert } from './assert.js';
import { bpsCeil, notionalMinor, toCentiBps } from './money.js';

export interface FeeTerms {
  readonly makerBps: number;
  readonly takerBps: number;
  /** Notional rule of the instrument (engine/money.ts notionalRule). */
  readonly num: number;
  readonly den: number;
}

/** A fee above 100% of notional is a configuration error. */
export const FEE_BPS_MAX = 10_000;

export class FeeSchedule {
  private readonly maker: Int32Array;
  private readonly taker: Int32Array;
  private readonly num: Float64Array;
  private readonly den: Float64Array;

  constructor(readonly instrumentCount: number) {
    this.maker = new Int32Array(instrumentCount);
    this.taker = new Int32Array(instrumentCount);
    this.num = new Float64Array(instrumentCount).fill(1);
    this.den = new Float64Array(instrumentCount).fill(1);
  }

  set(instrument: number, terms: FeeTerms): void {
    assert(instrument >= 0 && instrument < this.instrumentCount, `unknown instrument ${instrument}`);
    for (const bps of [terms.makerBps, terms.takerBps]) assert(Math.abs(bps) <= FEE_BPS_MAX, `fee rate out of range: ${bps} bp`);
    // A rebate larger than the taker fee would let two colluding accounts mint money from the venue.
    assert(terms.makerBps + terms.takerBps >= 0, `maker rebate exceeds taker fee on instrument ${instrument}`);
    this.maker[instrument] = toCentiBps(terms.makerBps);
    this.taker[instrument] = toCentiBps(terms.takerBps);
    this.num[instrument] = terms.num;
    this.den[instrument] = terms.den;
  }

  fee(instrument: number, isMaker: boolean, priceTicks: number, sizeLots: number): number {
    const n = notionalMinor(priceTicks, sizeLots, this.num[instrument]!, this.den[instrument]!);
    return bpsCeil(n, isMaker ? this.maker[instrument]! : this.taker[instrument]!);
  }

  rateCentiBps(instrument: number, isMaker: boolean): number {
    return isMaker ? this.maker[instrument]! : this.taker[instrument]!;
  }

  maxRateCentiBps(instrument: number): number {
    return Math.max(0, this.maker[instrument]!, this.taker[instrument]!);
  }
}
