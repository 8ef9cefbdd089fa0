/**
 * Pre-trade risk: runs before the book; every refusal carries one RejectReason.
 *
 * Checks, in this order (the first failing one is reported), each applied to the account
 * and then to its firm (a firm groups accounts; firm limits bound the sum over its accounts):
 *  1. kill switch (account, firm)                         -> KillSwitch
 *  2. order size in lots                                   -> MaxOrderSize
 *  3. price collar: |price - reference| <= reference * collarBps / 10_000  -> PriceCollar
 *  4. order notional in minor units                        -> MaxOrderNotional
 *  5. open orders + 1 <= maxOpenOrders                     -> MaxOpenOrders
 *  6. orders per virtual second, fixed window [k s, (k+1) s) -> RateLimit
 *  7. worst-case position per instrument, counting open orders on the order's side:
 *     position + open buys + size <= maxLong; -(position - open sells - size) <= maxShort
 *     (cash accounts never go short: their short limit is 0)  -> Long/ShortPositionLimit
 *  8. gross and net exposure (worst-case lots valued at the reference price, see below)
 *                                                          -> Gross/NetExposureLimit
 *  9. buying power (account only):
 *     cash account, buys: reserve(order) <= settled + unsettledUse * max(unsettled, 0)
 *                                             + min(unsettled, 0) - reserved(open buys)
 *                                                          -> InsufficientBuyingPower
 *     margin account, any side: initial margin(order) <= equity - IM(positions) - reserved IM(open orders)
 *                                                          -> InsufficientMargin
 * A passing check counts towards the rate limit; nothing else changes until `onAccepted`.
 *
 * Reservations are linear in lots so that partial fills release exactly what was reserved:
 * cash reserve per lot = ceil(notional of one lot) + fee on it at the instrument's highest rate;
 * margin reserve per lot = `Margin.initialPerLotMinor`. A market order must be checked and
 * reported with the same price each time (the price it may trade at worst, e.g. the band edge).
 *
 * Exposure is maintained incrementally: each (entity, instrument) contributes
 * max(|pos + openBuys|, |pos - openSells|) * notional-per-lot at the reference price current
 * when that contribution was last refreshed (on accept, fill, cancel, and `revalue`). This keeps
 * every call O(1); call `revalue(instrument)` (O(entities)) after moving a reference price far,
 * e.g. at the end of the day.
 *
 * API (all O(1) and allocation-free except config and revalue)
 * - `new Risk(config: RiskConfig, view: RiskAccountView)`
 * - `check(account, instrument, side, priceTicks, sizeLots, tsNs)` -> 0 | RejectReason
 * - `onAccepted(account, instrument, side, priceTicks, sizeLots)`: the order passed risk and entered matching
 * - `onFilled(account, instrument, side, orderPriceTicks, fillLots, leavesLots)`: called for taker and maker fills
 * - `onCancelled(account, instrument, side, orderPriceTicks, cancelledLots, leavesLots)`: cancel, expiry, IOC remainder
 * - `setReferencePrice(instrument, ticks)`, `setKillSwitch(account, on)`, `setFirmKillSwitch(firm, on)`
 * - readers: `openOrders(a)`, `position(a, i)`, `reservedMinor(a)`, `firmOpenOrders(f)`, `grossExposureMinor(a)`
 */
import { assert } from './assert.js';
import { bpsCeil, mulDivCeil, notionalMinor } from './money.js';
import { RejectReason, Side } from './types.js';

export interface RiskLimits {
  readonly maxOrderLots?: number;
  readonly maxOrderNotionalMinor?: number;
  readonly collarBps?: number;
  /** Per instrument, for every instrument unless overridden in `instrumentLimits`. */
  readonly maxLongLots?: number;
  readonly maxShortLots?: number;
  readonly maxGrossExposureMinor?: number;
  readonly maxNetExposureMinor?: number;
  readonly maxOpenOrders?: number;
  readonly maxOrdersPerSecond?: number;
}

export interface InstrumentPositionLimits {
  readonly instrument: number;
  readonly maxLongLots?: number;
  readonly maxShortLots?: number;
}

export interface RiskAccountConfig {
  readonly firm: number;
  readonly type: 'cash' | 'margin';
  readonly limits?: RiskLimits;
  readonly instrumentLimits?: readonly InstrumentPositionLimits[];
  /** Share of unsettled receivables a cash account may spend, in bps (0..10_000); 0 by default. */
  readonly unsettledUseBps?: number;
}

export interface RiskFirmConfig {
  readonly limits?: RiskLimits;
  readonly instrumentLimits?: readonly InstrumentPositionLimits[];
}

export interface RiskInstrument {
  /** Notional rule (engine/money.ts). */
  readonly num: number;
  readonly den: number;
  readonly referencePriceTicks: number;
  /** Highest fee rate in centi-bps (FeeSchedule.maxRateCentiBps), reserved with a cash buy. */
  readonly feeReserveCentiBps: number;
  /** Initial margin per lot at a price (Margin.initialPerLotMinor); needed only with margin accounts. */
  readonly initialPerLotMinor?: (priceTicks: number) => number;
}

export interface RiskConfig {
  readonly instruments: readonly RiskInstrument[];
  readonly accounts: readonly RiskAccountConfig[];
  readonly firms: readonly RiskFirmConfig[];
}

/** Where risk reads money it does not own. Called once per check on buying-power paths only. */
export interface RiskAccountView {
  /** Settled cash (available + held) in minor units. */
  settledCashMinor(account: number): number;
  /** Net unsettled cash: receivable (+) or payable (-). */
  unsettledCashMinor(account: number): number;
  /** Margin accounts: equity minus the initial margin requirement of current positions. */
  marginExcessMinor(account: number): number;
}

const NS_PER_SECOND = 1_000_000_000;
const NONE = Number.POSITIVE_INFINITY;

export class Risk {
  private readonly nA: number;
  private readonly nF: number;
  private readonly nI: number;
  private readonly num: Float64Array;
  private readonly den: Float64Array;
  private readonly ref: Float64Array;
  private readonly feeRate: Float64Array;
  private readonly imPerLot: ((priceTicks: number) => number)[];
  // Per account.
  private readonly firmOf: Int32Array;
  private readonly isMargin: Uint8Array;
  private readonly unsettledUse: Float64Array;
  private readonly reserved: Float64Array;
  // Per entity (accounts, then firms).
  private readonly killed: Uint8Array;
  private readonly maxOrderLots: Float64Array;
  private readonly maxNotional: Float64Array;
  private readonly collarBps: Float64Array;
  private readonly maxGross: Float64Array;
  private readonly maxNet: Float64Array;
  private readonly maxOpen: Float64Array;
  private readonly maxRate: Float64Array;
  private readonly open: Float64Array;
  private readonly rateWindow: Float64Array;
  private readonly rateCount: Float64Array;
  private readonly gross: Float64Array;
  private readonly netLong: Float64Array;
  private readonly netShort: Float64Array;
  // Per entity x instrument.
  private readonly maxLong: Float64Array;
  private readonly maxShort: Float64Array;
  private readonly pos: Float64Array;
  private readonly openBuy: Float64Array;
  private readonly openSell: Float64Array;
  private readonly cGross: Float64Array;
  private readonly cLong: Float64Array;
  private readonly cShort: Float64Array;

  constructor(
    config: RiskConfig,
    private readonly view: RiskAccountView,
  ) {
    const nA = (this.nA = config.accounts.length);
    const nF = (this.nF = config.firms.length);
    const nI = (this.nI = config.instruments.length);
    const nE = nA + nF;
    this.num = Float64Array.from(config.instruments, (x) => x.num);
    this.den = Float64Array.from(config.instruments, (x) => x.den);
    this.ref = Float64Array.from(config.instruments, (x) => x.referencePriceTicks);
    this.feeRate = Float64Array.from(config.instruments, (x) => x.feeReserveCentiBps);
    this.imPerLot = config.instruments.map((x) => x.initialPerLotMinor ?? (() => 0));
    this.firmOf = Int32Array.from(config.accounts, (a) => a.firm);
    this.isMargin = Uint8Array.from(config.accounts, (a) => (a.type === 'margin' ? 1 : 0));
    this.unsettledUse = Float64Array.from(config.accounts, (a) => a.unsettledUseBps ?? 0);
    this.reserved = new Float64Array(nA);
    const f = () => new Float64Array(nE);
    this.killed = new Uint8Array(nE);
    this.maxOrderLots = f();
    this.maxNotional = f();
    this.collarBps = f();
    this.maxGross = f();
    this.maxNet = f();
    this.maxOpen = f();
    this.maxRate = f();
    this.open = f();
    this.rateWindow = f().fill(-1);
    this.rateCount = f();
    this.gross = f();
    this.netLong = f();
    this.netShort = f();
    const g = () => new Float64Array(nE * nI);
    this.maxLong = g();
    this.maxShort = g();
    this.pos = g();
    this.openBuy = g();
    this.openSell = g();
    this.cGross = g();
    this.cLong = g();
    this.cShort = g();
    const apply = (e: number, limits: RiskLimits | undefined, perInstrument: readonly InstrumentPositionLimits[] | undefined, noShort: boolean) => {
      const l = limits ?? {};
      this.maxOrderLots[e] = l.maxOrderLots ?? NONE;
      this.maxNotional[e] = l.maxOrderNotionalMinor ?? NONE;
      this.collarBps[e] = l.collarBps ?? NONE;
      this.maxGross[e] = l.maxGrossExposureMinor ?? NONE;
      this.maxNet[e] = l.maxNetExposureMinor ?? NONE;
      this.maxOpen[e] = l.maxOpenOrders ?? NONE;
      this.maxRate[e] = l.maxOrdersPerSecond ?? NONE;
      for (let i = 0; i < nI; i++) {
        this.maxLong[e * nI + i] = l.maxLongLots ?? NONE;
        this.maxShort[e * nI + i] = noShort ? 0 : (l.maxShortLots ?? NONE);
      }
      for (const o of perInstrument ?? []) {
        assert(o.instrument >= 0 && o.instrument < nI, `risk: unknown instrument ${o.instrument}`);
        if (o.maxLongLots !== undefined) this.maxLong[e * nI + o.instrument] = o.maxLongLots;
        if (o.maxShortLots !== undefined && !noShort) this.maxShort[e * nI + o.instrument] = o.maxShortLots;
      }
    };
    config.accounts.forEach((a, k) => {
      assert(a.firm >= 0 && a.firm < nF, `risk: account ${k} names unknown firm ${a.firm}`);
      const use = a.unsettledUseBps ?? 0;
      assert(use >= 0 && use <= 10_000, `risk: account ${k}: unsettledUseBps must be 0..10000`);
      apply(k, a.limits, a.instrumentLimits, a.type === 'cash');
    });
    config.firms.forEach((fc, k) => apply(nA + k, fc.limits, fc.instrumentLimits, false));
  }

  setReferencePrice(instrument: number, priceTicks: number): void {
    this.ref[instrument] = priceTicks;
  }

  referencePrice(instrument: number): number {
    return this.ref[instrument]!;
  }

  setKillSwitch(account: number, on: boolean): void {
    this.killed[account] = on ? 1 : 0;
  }

  setFirmKillSwitch(firm: number, on: boolean): void {
    this.killed[this.nA + firm] = on ? 1 : 0;
  }

  isKilled(account: number): boolean {
    return this.killed[account] === 1 || this.killed[this.nA + this.firmOf[account]!] === 1;
  }

  /** Linear per-lot cash reservation of a buy at `priceTicks` in a cash account. */
  cashReservePerLot(instrument: number, priceTicks: number): number {
    const n1 = mulDivCeil(priceTicks, this.num[instrument]!, this.den[instrument]!);
    return n1 + bpsCeil(n1, this.feeRate[instrument]!);
  }

  private reserveOf(account: number, instrument: number, side: Side, priceTicks: number, lots: number): number {
    if (this.isMargin[account] === 1) return lots * this.imPerLot[instrument]!(priceTicks);
    return side === Side.Buy ? lots * this.cashReservePerLot(instrument, priceTicks) : 0;
  }

  check(account: number, instrument: number, side: Side, priceTicks: number, sizeLots: number, tsNs: number): 0 | RejectReason {
    if (!(account >= 0 && account < this.nA)) return RejectReason.UnknownAccount;
    if (!(instrument >= 0 && instrument < this.nI)) return RejectReason.UnknownInstrument;
    const firmE = this.nA + this.firmOf[account]!;
    if (this.killed[account] === 1 || this.killed[firmE] === 1) return RejectReason.KillSwitch;
    if (sizeLots > this.maxOrderLots[account]! || sizeLots > this.maxOrderLots[firmE]!) return RejectReason.MaxOrderSize;
    const ref = this.ref[instrument]!;
    const collar = Math.min(this.collarBps[account]!, this.collarBps[firmE]!);
    if (collar !== NONE) {
      const dev = priceTicks > ref ? priceTicks - ref : ref - priceTicks;
      if (dev * 10_000 > ref * collar) return RejectReason.PriceCollar;
    }
    const notional = notionalMinor(priceTicks, sizeLots, this.num[instrument]!, this.den[instrument]!);
    if (notional > this.maxNotional[account]! || notional > this.maxNotional[firmE]!) return RejectReason.MaxOrderNotional;
    if (this.open[account]! + 1 > this.maxOpen[account]! || this.open[firmE]! + 1 > this.maxOpen[firmE]!) return RejectReason.MaxOpenOrders;
    const sec = Math.floor(tsNs / NS_PER_SECOND);
    const rA = this.rateWindow[account] === sec ? this.rateCount[account]! : 0;
    const rF = this.rateWindow[firmE] === sec ? this.rateCount[firmE]! : 0;
    if (rA + 1 > this.maxRate[account]! || rF + 1 > this.maxRate[firmE]!) return RejectReason.RateLimit;
    const posReason = this.checkPosition(account, instrument, side, sizeLots) || this.checkPosition(firmE, instrument, side, sizeLots);
    if (posReason !== 0) return posReason;
    const expReason = this.checkExposure(account, instrument, side, sizeLots) || this.checkExposure(firmE, instrument, side, sizeLots);
    if (expReason !== 0) return expReason;
    const need = this.reserveOf(account, instrument, side, priceTicks, sizeLots);
    if (need > 0) {
      if (this.isMargin[account] === 1) {
        if (need > this.view.marginExcessMinor(account) - this.reserved[account]!) return RejectReason.InsufficientMargin;
      } else {
        const u = this.view.unsettledCashMinor(account);
        const usable = u > 0 ? Math.floor((u * this.unsettledUse[account]!) / 10_000) : u;
        if (need > this.view.settledCashMinor(account) + usable - this.reserved[account]!) return RejectReason.InsufficientBuyingPower;
      }
    }
    this.rateWindow[account] = sec;
    this.rateCount[account] = rA + 1;
    this.rateWindow[firmE] = sec;
    this.rateCount[firmE] = rF + 1;
    return 0;
  }

  private checkPosition(e: number, instrument: number, side: Side, sizeLots: number): 0 | RejectReason {
    const k = e * this.nI + instrument;
    if (side === Side.Buy) {
      if (this.pos[k]! + this.openBuy[k]! + sizeLots > this.maxLong[k]!) return RejectReason.LongPositionLimit;
    } else if (-(this.pos[k]! - this.openSell[k]! - sizeLots) > this.maxShort[k]!) {
      return RejectReason.ShortPositionLimit;
    }
    return 0;
  }

  private checkExposure(e: number, instrument: number, side: Side, sizeLots: number): 0 | RejectReason {
    if (this.maxGross[e] === NONE && this.maxNet[e] === NONE) return 0;
    const k = e * this.nI + instrument;
    const buy = side === Side.Buy ? sizeLots : 0;
    const sell = side === Side.Sell ? sizeLots : 0;
    const longW = this.pos[k]! + this.openBuy[k]! + buy;
    const shortW = this.pos[k]! - this.openSell[k]! - sell;
    const perLot = mulDivCeil(this.ref[instrument]!, this.num[instrument]!, this.den[instrument]!);
    const g = Math.max(Math.abs(longW), Math.abs(shortW)) * perLot;
    if (this.gross[e]! - this.cGross[k]! + g > this.maxGross[e]!) return RejectReason.GrossExposureLimit;
    const nl = this.netLong[e]! - this.cLong[k]! + longW * perLot;
    const ns = this.netShort[e]! - this.cShort[k]! + shortW * perLot;
    if (Math.max(Math.abs(nl), Math.abs(ns)) > this.maxNet[e]!) return RejectReason.NetExposureLimit;
    return 0;
  }

  private refresh(e: number, instrument: number): void {
    // Limits are fixed at construction, so an entity without exposure limits never needs the figures.
    if (this.maxGross[e] === NONE && this.maxNet[e] === NONE) return;
    const k = e * this.nI + instrument;
    const longW = this.pos[k]! + this.openBuy[k]!;
    const shortW = this.pos[k]! - this.openSell[k]!;
    const perLot = mulDivCeil(this.ref[instrument]!, this.num[instrument]!, this.den[instrument]!);
    const g = Math.max(Math.abs(longW), Math.abs(shortW)) * perLot;
    this.gross[e] += g - this.cGross[k]!;
    this.netLong[e] += longW * perLot - this.cLong[k]!;
    this.netShort[e] += shortW * perLot - this.cShort[k]!;
    this.cGross[k] = g;
    this.cLong[k] = longW * perLot;
    this.cShort[k] = shortW * perLot;
  }

  /** Re-values every entity's exposure in `instrument` at the current reference price. */
  revalue(instrument: number): void {
    for (let e = 0; e < this.nA + this.nF; e++) this.refresh(e, instrument);
  }

  private addOpen(e: number, instrument: number, side: Side, lots: number, orders: number): void {
    const k = e * this.nI + instrument;
    if (side === Side.Buy) this.openBuy[k] += lots;
    else this.openSell[k] += lots;
    this.open[e] += orders;
    this.refresh(e, instrument);
  }

  onAccepted(account: number, instrument: number, side: Side, priceTicks: number, sizeLots: number): void {
    this.addOpen(account, instrument, side, sizeLots, 1);
    this.addOpen(this.nA + this.firmOf[account]!, instrument, side, sizeLots, 1);
    this.reserved[account] += this.reserveOf(account, instrument, side, priceTicks, sizeLots);
  }

  onFilled(account: number, instrument: number, side: Side, orderPriceTicks: number, fillLots: number, leavesLots: number): void {
    const done = leavesLots === 0 ? -1 : 0;
    const d = side === Side.Buy ? fillLots : -fillLots;
    const kA = account * this.nI + instrument;
    const firmE = this.nA + this.firmOf[account]!;
    this.pos[kA] += d;
    this.pos[firmE * this.nI + instrument] += d;
    this.addOpen(account, instrument, side, -fillLots, done);
    this.addOpen(firmE, instrument, side, -fillLots, done);
    this.reserved[account] -= this.reserveOf(account, instrument, side, orderPriceTicks, fillLots);
    assert(this.openBuy[kA]! >= 0 && this.openSell[kA]! >= 0 && this.open[account]! >= 0, 'risk: fill of more than was open');
  }

  onCancelled(account: number, instrument: number, side: Side, orderPriceTicks: number, cancelledLots: number, leavesLots: number): void {
    const done = leavesLots === 0 ? -1 : 0;
    const firmE = this.nA + this.firmOf[account]!;
    this.addOpen(account, instrument, side, -cancelledLots, done);
    this.addOpen(firmE, instrument, side, -cancelledLots, done);
    this.reserved[account] -= this.reserveOf(account, instrument, side, orderPriceTicks, cancelledLots);
    assert(this.open[account]! >= 0, 'risk: cancel of more than was open');
  }

  openOrders(account: number): number {
    return this.open[account]!;
  }
  firmOpenOrders(firm: number): number {
    return this.open[this.nA + firm]!;
  }
  position(account: number, instrument: number): number {
    return this.pos[account * this.nI + instrument]!;
  }
  openLots(account: number, instrument: number, side: Side): number {
    const k = account * this.nI + instrument;
    return side === Side.Buy ? this.openBuy[k]! : this.openSell[k]!;
  }
  reservedMinor(account: number): number {
    return this.reserved[account]!;
  }
  grossExposureMinor(account: number): number {
    return this.gross[account]!;
  }
}
