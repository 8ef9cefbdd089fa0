import { InvariantError } from '../../engine/assert.js';
import { FeeSchedule } from '../../engine/fees.js';
import type { FillLiquidity } from '../../engine/replay-venue.js';
import type { Instrument } from '../../engine/instrument.js';
import { notionalMinor, notionalRule } from '../../engine/money.js';
import { Portfolio } from '../../engine/portfolio.js';
import { NO_PRICE, Side } from '../../engine/types.js';
import type { FeeRate } from './spec.js';

/**
 * What a strategy really did, at venue time (not as its delayed view saw it):
 * its orders, fills with fees and mark-outs, position and P&L, and samples of
 * equity, inventory and the book. Everything the metrics, files and report are
 * built from. Money in integer minor units (cents of the price currency).
 */

/** Minor units per currency unit: 10^2 (cents). See docs/strategies.md. */
export const MINOR_EXPONENT = 2;
export const MARKOUT_HORIZONS_NS = [1_000_000_000, 10_000_000_000, 60_000_000_000] as const;

export type OrderStatusFinal = 'pending' | 'open' | 'filled' | 'cancelled' | 'rejected' | 'expired';

export interface OrderRecord {
  clOrdId: number;
  orderId: number;
  instrument: number;
  side: Side;
  orderType: number;
  tif: number;
  postOnly: boolean;
  priceTicks: number;
  stopPriceTicks: number;
  sizeLots: number;
  tag: string;
  /** When the strategy sent it. */
  submitNs: number;
  /** When the venue applied it (-1 before). */
  arriveNs: number;
  doneNs: number;
  status: OrderStatusFinal;
  reason: string;
  filledLots: number;
  fills: number;
  /** When the order last took its place in a queue (rested, or a modify that lost priority); -1 if never resting. */
  queueSinceNs: number;
  /** Total time spent resting in the book, for orders that left it. */
  restedNs: number;
  modifies: number;
  cancelsSent: number;
}

export interface FillRecord {
  seq: number;
  tsNs: number;
  instrument: number;
  clOrdId: number;
  orderId: number;
  tradeId: number;
  side: Side;
  priceTicks: number;
  sizeLots: number;
  maker: boolean;
  feeMinor: number;
  notionalMinor: number;
  positionAfterLots: number;
  /** Maker fills: time from taking its place in the queue to this fill; -1 for taker fills. */
  queueNs: number;
  /** On a replayed instrument, how the order met the recorded market (engine/replay-venue.ts); 0 on an order book. */
  replayLiquidity: FillLiquidity | 0;
  /** On a replayed instrument, displayed lots ahead when the order joined its queue; -1 otherwise (and for taker fills). */
  queueAtEntryLots: number;
  /** Twice the mid at the fill (NO_PRICE if a side was empty). */
  mid2AtFill: number;
  /**
   * Mark-outs at MARKOUT_HORIZONS_NS (positive = the fill was good), exact: in units of
   * 1 / (2 * den) minor units of the fill's instrument (the mark is a mid, on a half tick when
   * the spread is odd). null if no mark. Totals are summed from these and rounded once.
   */
  markoutScaled: (number | null)[];
  /** markoutScaled in whole minor units, rounded half away from zero (for the fills table). */
  markoutMinor: (number | null)[];
}

/** n / d rounded to the nearest integer, halves away from zero (the same for a gain and a loss). */
export function divRoundHalfAway(n: number, d: number): number {
  const a = n < 0 ? -n : n;
  const rem = a % d;
  const q = (a - rem) / d;
  const v = rem * 2 >= d ? q + 1 : q;
  return n < 0 ? -v : v;
}

export interface SampleRecord {
  tsNs: number;
  equityMinor: number;
  realizedMinor: number;
  unrealizedMinor: number;
  feesMinor: number;
  /** Per instrument of the strategy, in its instrument order. */
  bidTicks: number[];
  askTicks: number[];
  bidLots: number[];
  askLots: number[];
  bidDepthLots: number[];
  askDepthLots: number[];
  positionLots: number[];
}

export interface ParentOrder {
  instrument: number;
  side: Side;
  sizeLots: number;
  startNs: number;
  /** Twice the arrival mid. */
  arrival2: number;
}

/**
 * The venue's books for a strategy's account, when the scenario has a back office
 * (engine/back-office.ts): fees from the instruments' schedule, positions and P&L from its
 * portfolio, unrealized P&L at its marks. The record then reads instead of keeping its own,
 * so the metrics and `exsim report positions|pnl` are the same figures.
 */
export interface VenueAccount {
  readonly portfolio: Portfolio;
  readonly account: number;
  readonly fees: FeeSchedule;
  readonly num: readonly number[];
  readonly den: readonly number[];
  /** Minor-unit exponent of the account's currency. */
  readonly moneyExponent: number;
  /** The back office's marks now, in ticks per instrument (last trade or mid, per instrument). */
  marks(): ArrayLike<number>;
}

export class BacktestRecord {
  readonly orders: OrderRecord[] = [];
  readonly fills: FillRecord[] = [];
  readonly samples: SampleRecord[] = [];
  readonly parents: ParentOrder[] = [];
  readonly portfolio: Portfolio;
  /** The strategy's account in `portfolio` (0 in its own portfolio). */
  readonly account: number;
  readonly fees: FeeSchedule;
  readonly num: readonly number[];
  readonly den: readonly number[];
  readonly moneyExponent: number;
  /** Fills whose position after is read once the back office has cleared their trade. */
  private unsettledFrom = -1;
  /** The venue position before the unsettled trade, and what the strategy's fills in it add. */
  private unsettledBeforeLots = 0;
  private unsettledDeltaLots = 0;
  // Venue-truth L1 per instrument, from quote events.
  readonly bid: Float64Array;
  readonly ask: Float64Array;
  readonly bidLots: Float64Array;
  readonly askLots: Float64Array;
  readonly last: Float64Array;
  private readonly reference: Float64Array;
  /** Per instrument and horizon: fill indices waiting for their mark (FIFO, due times increase). */
  private readonly markoutQueues: number[][][];
  private readonly markoutHeads: number[][];
  lastTsNs = 0;

  constructor(
    readonly instruments: readonly Instrument[],
    feeRates: readonly FeeRate[],
    readonly venue: VenueAccount | null = null,
  ) {
    const n = instruments.length;
    if (venue !== null) {
      this.num = venue.num;
      this.den = venue.den;
      this.portfolio = venue.portfolio;
      this.account = venue.account;
      this.fees = venue.fees;
      this.moneyExponent = venue.moneyExponent;
    } else {
      const rules = instruments.map((i) => notionalRule(i.tickSize, i.lotSize, MINOR_EXPONENT));
      this.num = rules.map((r) => r.num);
      this.den = rules.map((r) => r.den);
      this.portfolio = new Portfolio(1, rules.map((r) => ({ num: r.num, den: r.den, isFuture: false })), [0]);
      this.account = 0;
      this.fees = new FeeSchedule(n);
      instruments.forEach((_, i) => this.fees.set(i, { makerBps: feeRates[i]!.makerBps, takerBps: feeRates[i]!.takerBps, num: rules[i]!.num, den: rules[i]!.den }));
      this.moneyExponent = MINOR_EXPONENT;
    }
    this.bid = new Float64Array(n).fill(NO_PRICE);
    this.ask = new Float64Array(n).fill(NO_PRICE);
    this.bidLots = new Float64Array(n);
    this.askLots = new Float64Array(n);
    this.last = new Float64Array(n).fill(NO_PRICE);
    this.reference = Float64Array.from(instruments.map((i) => i.referencePriceTicks));
    this.markoutQueues = instruments.map(() => MARKOUT_HORIZONS_NS.map(() => []));
    this.markoutHeads = instruments.map(() => MARKOUT_HORIZONS_NS.map(() => 0));
  }

  /** Twice the mark price in ticks: the mid, else the last trade, else the reference price. */
  mark2(i: number): number {
    const b = this.bid[i]!;
    const a = this.ask[i]!;
    if (b !== NO_PRICE && a !== NO_PRICE) return b + a;
    const l = this.last[i]!;
    return 2 * (l !== NO_PRICE ? l : this.reference[i]!);
  }

  mid2(i: number): number {
    const b = this.bid[i]!;
    const a = this.ask[i]!;
    return b !== NO_PRICE && a !== NO_PRICE ? b + a : NO_PRICE;
  }

  /** Notional of `lots` at a doubled price (half ticks are exact here; rounding is notionalMinor's half up). */
  notional2(i: number, price2: number, lots: number): number {
    return notionalMinor(price2, lots, this.num[i]!, this.den[i]! * 2);
  }

  onQuote(tsNs: number, i: number, bid: number, bidLots: number, ask: number, askLots: number): void {
    // A mark due before this quote is the mid that stood until now.
    this.resolveMarkouts(i, tsNs, false);
    this.bid[i] = bid;
    this.ask[i] = ask;
    this.bidLots[i] = bidLots;
    this.askLots[i] = askLots;
    this.lastTsNs = tsNs;
  }

  onTrade(tsNs: number, i: number, priceTicks: number): void {
    this.last[i] = priceTicks;
    this.lastTsNs = tsNs;
  }

  position(i: number): number {
    return this.portfolio.position(this.account, i);
  }

  addFill(f: Omit<FillRecord, 'feeMinor' | 'notionalMinor' | 'positionAfterLots' | 'mid2AtFill' | 'markoutScaled' | 'markoutMinor'>): FillRecord {
    const i = f.instrument;
    // The same schedule and rounding the back office's clearing charges (engine/fees.ts).
    const feeMinor = this.fees.fee(i, f.maker, f.priceTicks, f.sizeLots);
    const k = this.fills.length;
    // With a back office the venue clears the trade right after this event; the position
    // after it is read then (settle), from the venue's portfolio.
    if (this.venue === null) this.portfolio.onFill(0, i, f.side, f.priceTicks, f.sizeLots, feeMinor);
    else {
      if (this.unsettledFrom < 0) {
        this.unsettledFrom = k;
        this.unsettledBeforeLots = this.position(i);
        this.unsettledDeltaLots = 0;
      }
      this.unsettledDeltaLots += f.side === Side.Buy ? f.sizeLots : -f.sizeLots;
    }
    const rec: FillRecord = {
      ...f,
      feeMinor,
      notionalMinor: this.portfolio.notional(i, f.priceTicks, f.sizeLots),
      positionAfterLots: this.venue === null ? this.portfolio.position(0, i) : 0,
      mid2AtFill: this.mid2(i),
      markoutScaled: MARKOUT_HORIZONS_NS.map(() => null),
      markoutMinor: MARKOUT_HORIZONS_NS.map(() => null),
    };
    this.fills.push(rec);
    for (const q of this.markoutQueues[i]!) q.push(k);
    return rec;
  }

  private resolveMarkouts(i: number, nowNs: number, final: boolean): void {
    const queues = this.markoutQueues[i]!;
    const heads = this.markoutHeads[i]!;
    for (let h = 0; h < queues.length; h++) {
      const q = queues[h]!;
      let head = heads[h]!;
      if (head === q.length) continue;
      const horizon = MARKOUT_HORIZONS_NS[h]!;
      const m2 = this.mark2(i);
      while (head < q.length) {
        const f = this.fills[q[head]!]!;
        if (!final && f.tsNs + horizon >= nowNs) break;
        // Exact: (mark - price) * size in half ticks, never the difference of two rounded notionals.
        const diff2 = f.side === Side.Buy ? m2 - 2 * f.priceTicks : 2 * f.priceTicks - m2;
        const scaled = diff2 * f.sizeLots * this.num[i]!;
        if (!Number.isSafeInteger(scaled)) throw new InvariantError(`mark-out of fill ${f.tradeId} is not a safe integer (${diff2} half ticks x ${f.sizeLots} lots x ${this.num[i]})`);
        f.markoutScaled[h] = scaled;
        f.markoutMinor[h] = divRoundHalfAway(scaled, 2 * this.den[i]!);
        head++;
      }
      heads[h] = head;
      // Drop resolved entries now and then so the queue does not keep the whole day.
      if (head > 4096 && head * 2 > q.length) {
        q.splice(0, head);
        heads[h] = 0;
      }
    }
  }

  /** Whether fills wait for the back office to clear them (settle() before reading positions). */
  get unsettled(): boolean {
    return this.unsettledFrom >= 0;
  }

  /** Reads the position after each fill the back office has cleared since the last call. */
  settle(): void {
    const from = this.unsettledFrom;
    if (from < 0) return;
    this.unsettledFrom = -1;
    const first = this.fills[from]!;
    // Never a silent wrong P&L: a fill the back office did not clear (say, a venue whose
    // replayed fills bypass its hooks) stops the run.
    if (this.position(first.instrument) - this.unsettledBeforeLots !== this.unsettledDeltaLots) {
      throw new InvariantError(
        `strategy fill (trade ${first.tradeId}, ${this.instruments[first.instrument]!.symbol}) was not cleared by the back office: its position moved by ${this.position(first.instrument) - this.unsettledBeforeLots} lots, the fill by ${this.unsettledDeltaLots}`,
      );
    }
    for (let k = from; k < this.fills.length; k++) {
      const f = this.fills[k]!;
      f.positionAfterLots = this.portfolio.position(this.account, f.instrument);
    }
  }

  /** At the end of the run: marks still due take the last mark (the close for horizons past it). */
  finish(): void {
    this.settle();
    for (let i = 0; i < this.instruments.length; i++) this.resolveMarkouts(i, Infinity, true);
  }

  unrealizedMinor(): number {
    if (this.venue !== null) return this.portfolio.accountUnrealizedMinor(this.account, this.venue.marks());
    let s = 0;
    const p = this.portfolio;
    for (let i = 0; i < this.instruments.length; i++) {
      const pos = p.position(0, i);
      if (pos === 0) continue;
      const v = this.notional2(i, this.mark2(i), pos > 0 ? pos : -pos);
      s += (pos > 0 ? v : -v) - p.costMinor(0, i);
    }
    return s;
  }

  /** P&L now: with a back office, its account's (realized + unrealized at its marks - fees), as `exsim report pnl` prints it. */
  equityMinor(): { equityMinor: number; realizedMinor: number; unrealizedMinor: number; feesMinor: number } {
    const realizedMinor = this.portfolio.accountRealizedMinor(this.account);
    const feesMinor = this.portfolio.accountFeesMinor(this.account);
    const unrealizedMinor = this.unrealizedMinor();
    return { equityMinor: realizedMinor + unrealizedMinor - feesMinor, realizedMinor, unrealizedMinor, feesMinor };
  }
}
