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
 *     margin account: growth of the reserved IM <= equity - IM(positions) - reserved IM(open orders)
 *                                                          -> InsufficientMargin
 *     (reserved IM per instrument: the margin of the open lots that would open or grow a
 *     position, see `opening`; an order that only closes part of the position needs none)
 * A passing check counts towards the rate limit; nothing else changes until `onAccepted`.
 *
 * Cash reservations are linear in lots so that partial fills release exactly what was reserved:
 * cash reserve per lot = ceil(notional of one lot) + fee on it at the instrument's highest rate.
 * Margin is kept per (account, instrument) as the linear margin of the open buys and of the
 * open sells (`Margin.initialPerLotMinor` per lot at each order's price); the reservation is
 * a function of those and the position, and every accept, fill and cancel moves the account's
 * reservation by that function's change, so it returns to 0 with the orders. A market order
 * must be checked and reported with the same price each time (the price it may trade at worst,
 * e.g. the band edge).
 *
 * Exposure is maintained incrementally: each (entity, instrument) contributes
 * max(|pos + openBuys|, |pos - openSells|) * notional-per-lot at the reference price current
 * when that contribution was last refreshed (on accept, fill, cancel, and `revalue`). This keeps
 * every call O(1); call `revalue(instrument)` (O(entities)) after moving a reference price far,
 * e.g. at the end of the day.
 *
 * API (all O(1) and allocation-free except config, revalue and the order records growing by doubling)
 * - `new Risk(config: RiskConfig, view: RiskAccountView)`
 * - `check(account, instrument, side, priceTicks, sizeLots, tsNs)` -> 0 | RejectReason
 * - by venue order id (risk keeps a record per order: account, instrument, side, reservation
 *   price and per-lot reservation, open lots):
 *   - `onOrder(change, orderId, account, instrument, side, priceTicks, lots)`: accepted (the
 *     order passed risk and entered matching), filled (taker or maker) or reduced (cancel,
 *     expiry, IOC remainder) by `lots`
 *   - `checkModifyOrder(orderId, priceTicks, sizeLots)` -> 0 | RejectReason, then `modifyOrder(orderId, priceTicks, leavesLots)`
 * - by account, for callers without order ids (the same update, through a scratch record):
 *   - `checkModify(account, instrument, side, oldPriceTicks, oldLeavesLots, priceTicks, sizeLots)` -> 0 | RejectReason:
 *     a modify as a cancel-replace (see the method); the caller then reports it with onCancelled + onAccepted
 *   - `onAccepted(account, instrument, side, priceTicks, sizeLots)`
 *   - `onFilled(account, instrument, side, orderPriceTicks, fillLots, leavesLots)`
 *   - `onCancelled(account, instrument, side, orderPriceTicks, cancelledLots, leavesLots)`
 * - `setReferencePrice(instrument, ticks)`, `setKillSwitch(account, on)`, `setFirmKillSwitch(firm, on)`
 * - readers: `openOrders(a)`, `position(a, i)`, `reservedMinor(a)`, `firmOpenOrders(f)`, `grossExposureMinor(a)`
 */
import { assert, InvariantError } from './assert.js';
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
  /**
   * Initial margin per lot at a price (Margin.initialPerLotMinor); needed only with margin
   * accounts. Must be a pure function of the price: risk caches it by price.
   */
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
/** Entries per instrument of the reservation cache (a power of two: indexed by price & mask). */
const RESERVE_CACHE = 256;

// State is packed into a few Float64Arrays, one block per entity, per (entity, instrument)
// and per instrument, so that a check touches a handful of cache lines instead of one line in
// each of ~40 arrays: between two orders the book's matching has evicted most of them, and a
// miss per array made a check cost three times its arithmetic.

// Entity block (accounts 0..nA-1, then firms). Fields a firm's own check reads come first.
const ES = 16;
const E_KILLED = 0;
const E_OPEN = 1;
const E_MAX_OPEN = 2;
const E_RATE_WIN = 3;
const E_RATE_CNT = 4;
const E_MAX_RATE = 5;
/** 1 when the entity has a gross or net exposure limit: only then are its exposure figures kept. */
const E_EXPOSURE = 6;
const E_MARGIN = 8;
const E_RESERVED = 9;
// Static limits of account and firm combined (the tighter of the two), so a check reads one.
const E_ORDER_LOTS = 10;
const E_NOTIONAL = 11;
const E_COLLAR = 12;
/** Bits: the account or its firm limits open orders (1), the order rate (2), exposure (4); else those checks are skipped. */
const E_LIMITS = 13;
const E_UNSETTLED_USE = 14;
const LIMITS_OPEN = 1;
const LIMITS_RATE = 2;
const LIMITS_EXPOSURE = 4;

// Exposure block per entity.
const XS = 8;
const X_GROSS = 0;
const X_NET_LONG = 1;
const X_NET_SHORT = 2;
const X_MAX_GROSS = 3;
const X_MAX_NET = 4;

// Cell per (entity, instrument). What a check reads comes first, in the first 64 bytes; the
// exposure figures (kept only under exposure limits) follow; 16 fields keep a cell on whole
// cache lines.
const CS = 16;
const C_POS = 0;
const C_BUY = 1;
const C_SELL = 2;
const C_MAX_LONG = 3;
const C_MAX_SHORT = 4;
/** Margin accounts: the linear initial margin of the open buys / sells at their order prices. */
const C_BUY_IM = 5;
const C_SELL_IM = 6;
/** Margin accounts: what the cell reserves now (`opening` of both sides). */
const C_RESERVED = 7;
if (C_SELL !== C_BUY + Side.Sell || C_SELL_IM !== C_BUY_IM + Side.Sell) throw new InvariantError('risk: cell layout indexes the sides by Side');
const C_GROSS = 8;
const C_LONG = 9;
const C_SHORT = 10;

// Instrument block.
const IS = 8;
const I_NUM = 0;
const I_DEN = 1;
const I_REF = 2;
const I_FEE = 3;
/** Notional of one lot at the reference price (NaN: not computed since the reference moved). */
const I_REF_PER_LOT = 4;

// Reservation cache entry: price, cash per lot, margin per lot. A reservation is a pure
// function of (instrument, price) and orders cluster on a few prices, so the divisions behind
// it run once per price instead of on every check, accept, fill and cancel.
const RS = 4;
const R_PX = 0;
const R_CASH = 1;
const R_MARGIN = 2;

// Per-order record (by venue order id): what risk reserved for the order, 32 bytes in one
// buffer seen as doubles and as int32s, so that a maker's fill reads one cache line (matching
// has evicted it since the order was accepted), and account and instrument come back as
// integers (index arithmetic on doubles costs a conversion per use).
const OS = 4;
// As doubles (index k = orderId * OS):
const O_LEAVES = 0;
/** The reservation price. */
const O_PX = 1;
/** What one open lot reserves: a margin account's initial margin, a cash account's buy cash, else 0. */
const O_PER_LOT = 2;
// As int32s (index 2k):
const O_ACCOUNT = 6;
/** instrument * 2 + side */
const O_INSTRUMENT_SIDE = 7;
const ORDER_CHUNK = 1 << 16;
/**
 * The order id whose record the by-account methods (`onAccepted`, `onFilled`, `onCancelled`)
 * use as scratch: venue order ids start at 1.
 */
const SCRATCH_ORDER = 0;

/** What happened to an order, for `Risk.onOrder`. */
export enum OrderChange {
  /** It passed risk and entered matching with `lots` open. */
  Accepted = 0,
  /** `lots` of it traded. */
  Filled = 1,
  /** `lots` of it left without trading: cancelled, expired, an IOC's rest, a modify's old size. */
  Reduced = 2,
}

export class Risk {
  private readonly nA: number;
  private readonly nF: number;
  private readonly nI: number;
  private readonly imPerLot: ((priceTicks: number) => number)[];
  private readonly ent: Float64Array;
  /** Per account: its firm's entity index (nA + firm). Int32, not a field of `ent`: index arithmetic on doubles costs a conversion per use. */
  private readonly firmOf: Int32Array;
  private readonly xp: Float64Array;
  private readonly cell: Float64Array;
  private readonly ins: Float64Array;
  private readonly rc: Float64Array;
  /** Per order (OS doubles each, and the same bytes as int32s in ordI), grown by doubling. */
  private ord: Float64Array = new Float64Array(ORDER_CHUNK * OS);
  private ordI: Int32Array = new Int32Array(this.ord.buffer);
  // The current virtual second of the rate windows: [secStartNs, secStartNs + 1 s).
  private secStartNs = Number.POSITIVE_INFINITY;
  private sec = -1;

  constructor(
    config: RiskConfig,
    private readonly view: RiskAccountView,
  ) {
    const nA = (this.nA = config.accounts.length);
    const nF = (this.nF = config.firms.length);
    const nI = (this.nI = config.instruments.length);
    const nE = nA + nF;
    const ins = (this.ins = new Float64Array(nI * IS));
    config.instruments.forEach((x, i) => {
      ins[i * IS + I_NUM] = x.num;
      ins[i * IS + I_DEN] = x.den;
      ins[i * IS + I_REF] = x.referencePriceTicks;
      ins[i * IS + I_FEE] = x.feeReserveCentiBps;
      ins[i * IS + I_REF_PER_LOT] = Number.NaN;
    });
    this.imPerLot = config.instruments.map((x) => x.initialPerLotMinor ?? (() => 0));
    const ent = (this.ent = new Float64Array(nE * ES));
    this.firmOf = Int32Array.from(config.accounts, (a) => nA + a.firm);
    const xp = (this.xp = new Float64Array(nE * XS));
    const cell = (this.cell = new Float64Array(nE * nI * CS));
    const apply = (e: number, limits: RiskLimits | undefined, perInstrument: readonly InstrumentPositionLimits[] | undefined, noShort: boolean) => {
      const l = limits ?? {};
      const b = e * ES;
      ent[b + E_ORDER_LOTS] = l.maxOrderLots ?? NONE;
      ent[b + E_NOTIONAL] = l.maxOrderNotionalMinor ?? NONE;
      ent[b + E_COLLAR] = l.collarBps ?? NONE;
      ent[b + E_MAX_OPEN] = l.maxOpenOrders ?? NONE;
      ent[b + E_MAX_RATE] = l.maxOrdersPerSecond ?? NONE;
      ent[b + E_RATE_WIN] = -1;
      xp[e * XS + X_MAX_GROSS] = l.maxGrossExposureMinor ?? NONE;
      xp[e * XS + X_MAX_NET] = l.maxNetExposureMinor ?? NONE;
      ent[b + E_EXPOSURE] = xp[e * XS + X_MAX_GROSS] !== NONE || xp[e * XS + X_MAX_NET] !== NONE ? 1 : 0;
      for (let i = 0; i < nI; i++) {
        cell[(e * nI + i) * CS + C_MAX_LONG] = l.maxLongLots ?? NONE;
        cell[(e * nI + i) * CS + C_MAX_SHORT] = noShort ? 0 : (l.maxShortLots ?? NONE);
      }
      for (const o of perInstrument ?? []) {
        assert(o.instrument >= 0 && o.instrument < nI, `risk: unknown instrument ${o.instrument}`);
        if (o.maxLongLots !== undefined) cell[(e * nI + o.instrument) * CS + C_MAX_LONG] = o.maxLongLots;
        if (o.maxShortLots !== undefined && !noShort) cell[(e * nI + o.instrument) * CS + C_MAX_SHORT] = o.maxShortLots;
      }
    };
    config.accounts.forEach((a, k) => {
      assert(a.firm >= 0 && a.firm < nF, `risk: account ${k} names unknown firm ${a.firm}`);
      const use = a.unsettledUseBps ?? 0;
      assert(use >= 0 && use <= 10_000, `risk: account ${k}: unsettledUseBps must be 0..10000`);
      apply(k, a.limits, a.instrumentLimits, a.type === 'cash');
      ent[k * ES + E_MARGIN] = a.type === 'margin' ? 1 : 0;
      ent[k * ES + E_UNSETTLED_USE] = use;
    });
    config.firms.forEach((fc, k) => {
      apply(nA + k, fc.limits, fc.instrumentLimits, false);
    });
    // Accounts carry the tighter of their own and their firm's static limits.
    for (let a = 0; a < nA; a++) {
      const b = a * ES;
      const f = this.firmOf[a]! * ES;
      ent[b + E_ORDER_LOTS] = Math.min(ent[b + E_ORDER_LOTS]!, ent[f + E_ORDER_LOTS]!);
      ent[b + E_NOTIONAL] = Math.min(ent[b + E_NOTIONAL]!, ent[f + E_NOTIONAL]!);
      ent[b + E_COLLAR] = Math.min(ent[b + E_COLLAR]!, ent[f + E_COLLAR]!);
      let bits = 0;
      if (ent[b + E_MAX_OPEN] !== NONE || ent[f + E_MAX_OPEN] !== NONE) bits |= LIMITS_OPEN;
      if (ent[b + E_MAX_RATE] !== NONE || ent[f + E_MAX_RATE] !== NONE) bits |= LIMITS_RATE;
      if (ent[b + E_EXPOSURE] === 1 || ent[f + E_EXPOSURE] === 1) bits |= LIMITS_EXPOSURE;
      ent[b + E_LIMITS] = bits;
    }
    this.rc = new Float64Array(nI * RESERVE_CACHE * RS);
    for (let k = 0; k < nI * RESERVE_CACHE; k++) this.rc[k * RS + R_PX] = -1;
  }

  setReferencePrice(instrument: number, priceTicks: number): void {
    const b = instrument * IS;
    if (this.ins[b + I_REF] === priceTicks) return;
    this.ins[b + I_REF] = priceTicks;
    this.ins[b + I_REF_PER_LOT] = Number.NaN;
  }

  referencePrice(instrument: number): number {
    return this.ins[instrument * IS + I_REF]!;
  }

  setKillSwitch(account: number, on: boolean): void {
    this.ent[account * ES + E_KILLED] = on ? 1 : 0;
  }

  setFirmKillSwitch(firm: number, on: boolean): void {
    this.ent[(this.nA + firm) * ES + E_KILLED] = on ? 1 : 0;
  }

  isKilled(account: number): boolean {
    return this.ent[account * ES + E_KILLED] === 1 || this.ent[this.firmOf[account]! * ES + E_KILLED] === 1;
  }

  /** Linear per-lot cash reservation of a buy at `priceTicks` in a cash account. */
  cashReservePerLot(instrument: number, priceTicks: number): number {
    return this.rc[this.reserveSlot(instrument, priceTicks) + R_CASH]!;
  }

  /** Offset of (instrument, price) in the reservation cache, filled on a miss. */
  private reserveSlot(instrument: number, priceTicks: number): number {
    const k = (instrument * RESERVE_CACHE + (priceTicks & (RESERVE_CACHE - 1))) * RS;
    const rc = this.rc;
    if (rc[k + R_PX] !== priceTicks) {
      const b = instrument * IS;
      const n1 = mulDivCeil(priceTicks, this.ins[b + I_NUM]!, this.ins[b + I_DEN]!);
      rc[k + R_CASH] = n1 + bpsCeil(n1, this.ins[b + I_FEE]!);
      rc[k + R_MARGIN] = this.imPerLot[instrument]!(priceTicks);
      rc[k + R_PX] = priceTicks;
    }
    return k;
  }

  /** A cash account's reservation: buys only, linear in lots. */
  private cashReserveOf(instrument: number, side: Side, priceTicks: number, lots: number): number {
    return side === Side.Buy ? lots * this.rc[this.reserveSlot(instrument, priceTicks) + R_CASH]! : 0;
  }

  /**
   * Margin reserved for one side of a margin account's open orders in one instrument: the
   * margin of the lots that would OPEN or grow a position if all of them filled. `closable`
   * is what that side can close first (the short for buys, the long for sells; <= 0: none),
   * `lots` and `im` the side's open lots and their linear margin; the opening lots are valued
   * at the side's average margin per lot, rounded up. The two sides add up (conservative: at
   * most one side can fill against the position), so with no position, or on the side that
   * grows it, this is the linear per-order reservation.
   *
   * Written for the branch predictor: whether a side grows or closes the position follows the
   * order flow's side, which a predictor cannot guess, so that choice is a multiplication by
   * the comparison's 0/1; the only branch is the rare side whose orders would close the whole
   * position and open the other way (0 < closable < lots; the sign of a product is exact).
   */
  private static opening(closable: number, lots: number, im: number): number {
    if (closable * (lots - closable) > 0) return mulDivCeil(lots - closable, im, lots);
    return im * +(closable <= 0);
  }

  /**
   * Growth of a margin account's reservation if its open orders on `side` in the instrument
   * (cell `k`) changed by `lots` with linear margin `im` (both signed), the position staying.
   */
  private marginGrowth(k: number, side: Side, lots: number, im: number): number {
    const c = this.cell;
    // Buy = 0, Sell = 1: the buys can close -position, the sells +position; C_SELL* = C_BUY* + 1.
    const closable = (side + side - 1) * c[k + C_POS]!;
    const open = c[k + C_BUY + side]!;
    const openIm = c[k + C_BUY_IM + side]!;
    return Risk.opening(closable, open + lots, openIm + im) - Risk.opening(closable, open, openIm);
  }

  /** Notional of one lot at the instrument's reference price (for exposure), recomputed only after the reference moved. */
  private perLotAtRef(instrument: number): number {
    const b = instrument * IS;
    let v = this.ins[b + I_REF_PER_LOT]!;
    if (v !== v) v = this.ins[b + I_REF_PER_LOT] = mulDivCeil(this.ins[b + I_REF]!, this.ins[b + I_NUM]!, this.ins[b + I_DEN]!);
    return v;
  }

  check(account: number, instrument: number, side: Side, priceTicks: number, sizeLots: number, tsNs: number): 0 | RejectReason {
    if (!(account >= 0 && account < this.nA)) return RejectReason.UnknownAccount;
    if (!(instrument >= 0 && instrument < this.nI)) return RejectReason.UnknownInstrument;
    const ent = this.ent;
    const a = account * ES;
    const firmE = this.firmOf[account]!;
    const f = firmE * ES;
    if (ent[a + E_KILLED] === 1 || ent[f + E_KILLED] === 1) return RejectReason.KillSwitch;
    if (sizeLots > ent[a + E_ORDER_LOTS]!) return RejectReason.MaxOrderSize;
    const ib = instrument * IS;
    const collar = ent[a + E_COLLAR]!;
    if (collar !== NONE) {
      const ref = this.ins[ib + I_REF]!;
      const dev = priceTicks > ref ? priceTicks - ref : ref - priceTicks;
      if (dev * 10_000 > ref * collar) return RejectReason.PriceCollar;
    }
    const maxNotional = ent[a + E_NOTIONAL]!;
    if (maxNotional !== NONE && notionalMinor(priceTicks, sizeLots, this.ins[ib + I_NUM]!, this.ins[ib + I_DEN]!) > maxNotional) return RejectReason.MaxOrderNotional;
    const limits = ent[a + E_LIMITS]!;
    if ((limits & LIMITS_OPEN) !== 0 && (ent[a + E_OPEN]! + 1 > ent[a + E_MAX_OPEN]! || ent[f + E_OPEN]! + 1 > ent[f + E_MAX_OPEN]!)) return RejectReason.MaxOpenOrders;
    let sec = 0;
    let rA = 0;
    let rF = 0;
    if ((limits & LIMITS_RATE) !== 0) {
      // Virtual time rarely leaves the current second between two checks: no division then.
      if (!(tsNs >= this.secStartNs && tsNs < this.secStartNs + NS_PER_SECOND)) {
        this.sec = Math.floor(tsNs / NS_PER_SECOND);
        this.secStartNs = this.sec * NS_PER_SECOND;
      }
      sec = this.sec;
      rA = ent[a + E_RATE_WIN] === sec ? ent[a + E_RATE_CNT]! : 0;
      rF = ent[f + E_RATE_WIN] === sec ? ent[f + E_RATE_CNT]! : 0;
      if (rA + 1 > ent[a + E_MAX_RATE]! || rF + 1 > ent[f + E_MAX_RATE]!) return RejectReason.RateLimit;
    }
    const limitReason = this.positionAndExposure(account, firmE, instrument, side, sizeLots, (limits & LIMITS_EXPOSURE) !== 0);
    if (limitReason !== 0) return limitReason;
    // Check 9.
    if (ent[a + E_MARGIN] === 1) {
      const kA = (account * this.nI + instrument) * CS;
      const im = sizeLots * this.rc[this.reserveSlot(instrument, priceTicks) + R_MARGIN]!;
      // The side's orders can close -position (buys) or +position (sells); with nothing to
      // close, the growth is the order's whole margin (the rest is marginGrowth's case).
      const closable = (side + side - 1) * this.cell[kA + C_POS]!;
      const need = closable <= 0 ? im : this.marginGrowth(kA, side, sizeLots, im);
      if (need > 0 && need > this.view.marginExcessMinor(account) - ent[a + E_RESERVED]!) return RejectReason.InsufficientMargin;
    } else if (side === Side.Buy) {
      const need = sizeLots * this.rc[this.reserveSlot(instrument, priceTicks) + R_CASH]!;
      if (need > 0 && need > this.cashAvailable(account)) return RejectReason.InsufficientBuyingPower;
    }
    if ((limits & LIMITS_RATE) !== 0) {
      ent[a + E_RATE_WIN] = sec;
      ent[a + E_RATE_CNT] = rA + 1;
      ent[f + E_RATE_WIN] = sec;
      ent[f + E_RATE_CNT] = rF + 1;
    }
    return 0;
  }

  /** A cash account's buying power left: settled cash, the usable share of unsettled, less what its open buys reserve. */
  private cashAvailable(account: number): number {
    const u = this.view.unsettledCashMinor(account);
    const usable = u > 0 ? Math.floor((u * this.ent[account * ES + E_UNSETTLED_USE]!) / 10_000) : u;
    return this.view.settledCashMinor(account) + usable - this.ent[account * ES + E_RESERVED]!;
  }

  /**
   * A modify, as a cancel-replace: the order's open `oldLeavesLots` at `oldPriceTicks` would
   * become `sizeLots` at `priceTicks`. A pure reduction (same price, no more lots) always
   * passes. Otherwise the new order is checked like a new one, against the state without the
   * old one: kill switch, size, collar, notional, then position and exposure if lots grow,
   * and buying power for the growth of the reservation. Open-order count and the order rate
   * are not touched (the order is already open and counted).
   */
  checkModify(account: number, instrument: number, side: Side, oldPriceTicks: number, oldLeavesLots: number, priceTicks: number, sizeLots: number): 0 | RejectReason {
    if (priceTicks === oldPriceTicks && sizeLots <= oldLeavesLots) return 0;
    const ent = this.ent;
    const a = account * ES;
    const firmE = this.firmOf[account]!;
    if (ent[a + E_KILLED] === 1 || ent[firmE * ES + E_KILLED] === 1) return RejectReason.KillSwitch;
    if (sizeLots > ent[a + E_ORDER_LOTS]!) return RejectReason.MaxOrderSize;
    const ib = instrument * IS;
    const collar = ent[a + E_COLLAR]!;
    if (collar !== NONE) {
      const ref = this.ins[ib + I_REF]!;
      const dev = priceTicks > ref ? priceTicks - ref : ref - priceTicks;
      if (dev * 10_000 > ref * collar) return RejectReason.PriceCollar;
    }
    const maxNotional = ent[a + E_NOTIONAL]!;
    if (maxNotional !== NONE && notionalMinor(priceTicks, sizeLots, this.ins[ib + I_NUM]!, this.ins[ib + I_DEN]!) > maxNotional) return RejectReason.MaxOrderNotional;
    const more = sizeLots - oldLeavesLots;
    if (more > 0) {
      const limitReason = this.positionAndExposure(account, firmE, instrument, side, more, (ent[a + E_LIMITS]! & LIMITS_EXPOSURE) !== 0);
      if (limitReason !== 0) return limitReason;
    }
    if (ent[a + E_MARGIN] === 1) {
      const rc = this.rc;
      const im = sizeLots * rc[this.reserveSlot(instrument, priceTicks) + R_MARGIN]! - oldLeavesLots * rc[this.reserveSlot(instrument, oldPriceTicks) + R_MARGIN]!;
      const need = this.marginGrowth((account * this.nI + instrument) * CS, side, sizeLots - oldLeavesLots, im);
      if (need > 0 && need > this.view.marginExcessMinor(account) - ent[a + E_RESERVED]!) return RejectReason.InsufficientMargin;
      return 0;
    }
    const need = this.cashReserveOf(instrument, side, priceTicks, sizeLots) - this.cashReserveOf(instrument, side, oldPriceTicks, oldLeavesLots);
    if (need > 0 && need > this.cashAvailable(account)) return RejectReason.InsufficientBuyingPower;
    return 0;
  }

  /**
   * Checks 7 and 8 for `sizeLots` more on `side`: position limits of the account, then its
   * firm; then, with `exposure`, gross and net exposure of the account, then its firm. One
   * flat pass rather than a helper per entity and check: V8 inlined some of those into
   * `check` and called the rest, and a check runs for every order.
   */
  private positionAndExposure(account: number, firmE: number, instrument: number, side: Side, sizeLots: number, exposure: boolean): 0 | RejectReason {
    const cell = this.cell;
    const nI = this.nI;
    const kA = (account * nI + instrument) * CS;
    const kF = (firmE * nI + instrument) * CS;
    if (side === Side.Buy) {
      if (cell[kA + C_POS]! + cell[kA + C_BUY]! + sizeLots > cell[kA + C_MAX_LONG]!) return RejectReason.LongPositionLimit;
      if (cell[kF + C_POS]! + cell[kF + C_BUY]! + sizeLots > cell[kF + C_MAX_LONG]!) return RejectReason.LongPositionLimit;
    } else {
      if (-(cell[kA + C_POS]! - cell[kA + C_SELL]! - sizeLots) > cell[kA + C_MAX_SHORT]!) return RejectReason.ShortPositionLimit;
      if (-(cell[kF + C_POS]! - cell[kF + C_SELL]! - sizeLots) > cell[kF + C_MAX_SHORT]!) return RejectReason.ShortPositionLimit;
    }
    if (!exposure) return 0;
    const perLot = this.perLotAtRef(instrument);
    const buy = side === Side.Buy ? sizeLots : 0;
    const sell = sizeLots - buy;
    const ent = this.ent;
    const xp = this.xp;
    for (let j = 0; j < 2; j++) {
      const e = j === 0 ? account : firmE;
      if (ent[e * ES + E_EXPOSURE] === 0) continue;
      const x = e * XS;
      const k = j === 0 ? kA : kF;
      const longW = cell[k + C_POS]! + cell[k + C_BUY]! + buy;
      const shortW = cell[k + C_POS]! - cell[k + C_SELL]! - sell;
      if (xp[x + X_GROSS]! - cell[k + C_GROSS]! + Math.max(Math.abs(longW), Math.abs(shortW)) * perLot > xp[x + X_MAX_GROSS]!) return RejectReason.GrossExposureLimit;
      const nl = xp[x + X_NET_LONG]! - cell[k + C_LONG]! + longW * perLot;
      const ns = xp[x + X_NET_SHORT]! - cell[k + C_SHORT]! + shortW * perLot;
      if (Math.max(Math.abs(nl), Math.abs(ns)) > xp[x + X_MAX_NET]!) return RejectReason.NetExposureLimit;
    }
    return 0;
  }

  private refresh(e: number, instrument: number): void {
    // Limits are fixed at construction, so an entity without exposure limits never needs the figures.
    if (this.ent[e * ES + E_EXPOSURE] === 0) return;
    this.revalueCell(e * XS, (e * this.nI + instrument) * CS, this.perLotAtRef(instrument));
  }

  /** Cell `c`'s contribution to the exposure block `x`, revalued from its lots at `perLot` minor units a lot. */
  private revalueCell(x: number, c: number, perLot: number): void {
    const cell = this.cell;
    const xp = this.xp;
    const longW = cell[c + C_POS]! + cell[c + C_BUY]!;
    const shortW = cell[c + C_POS]! - cell[c + C_SELL]!;
    const g = Math.max(Math.abs(longW), Math.abs(shortW)) * perLot;
    xp[x + X_GROSS] += g - cell[c + C_GROSS]!;
    xp[x + X_NET_LONG] += longW * perLot - cell[c + C_LONG]!;
    xp[x + X_NET_SHORT] += shortW * perLot - cell[c + C_SHORT]!;
    cell[c + C_GROSS] = g;
    cell[c + C_LONG] = longW * perLot;
    cell[c + C_SHORT] = shortW * perLot;
  }

  /** Re-values every entity's exposure in `instrument` at the current reference price. */
  revalue(instrument: number): void {
    for (let e = 0; e < this.nA + this.nF; e++) this.refresh(e, instrument);
  }

  /**
   * Accepted, filled or reduced by `lots`: order `orderId`'s record, then its account's and
   * firm's open lots, open orders and position, exposure where it is kept, and the account's
   * reservation. `account`, `instrument`, `side` and `priceTicks` (the reservation price) are
   * read for `Accepted` only; later changes read them from the order's record.
   *
   * One flat function on purpose, the one update path of every order event. The exchange calls
   * its hooks from its hottest functions (submit, the book's match, cancel), and V8 inlines
   * small callees there out of a fixed bytecode budget per compiled function, the budget that
   * otherwise inlines the exchange's own helpers; a function this size (beyond V8's 460
   * bytecodes for one inlining) is never inlined, so a hook costs the exchange a call, not
   * its helpers. Splitting it into small helpers made matching itself slower with risk on.
   */
  onOrder(change: OrderChange, orderId: number, account: number, instrument: number, side: Side, priceTicks: number, lots: number): void {
    const k = orderId * OS;
    let o = this.ord;
    let oi = this.ordI;
    const ent = this.ent;
    let orders: number;
    let posDelta = 0;
    let perLot: number;
    if (change === OrderChange.Accepted) {
      if (!(account >= 0 && account < this.nA && instrument >= 0 && instrument < this.nI)) throw new InvariantError('risk: order accepted for an unknown account or instrument');
      // Doubling: growing by a fixed chunk would copy the records O(orders^2 / chunk) over a run.
      if (k >= o.length) {
        o = this.growOrders(orderId);
        oi = this.ordI;
      }
      perLot = this.perLotReserve(account, instrument, side, priceTicks);
      o[k + O_LEAVES] = lots;
      o[k + O_PX] = priceTicks;
      o[k + O_PER_LOT] = perLot;
      oi[k + k + O_ACCOUNT] = account;
      oi[k + k + O_INSTRUMENT_SIDE] = instrument * 2 + side;
      orders = 1;
    } else {
      const leaves = o[k + O_LEAVES]! - lots;
      if (!(leaves >= 0)) throw new InvariantError(change === OrderChange.Filled ? 'risk: fill of more than the order had open' : 'risk: cancel of more than the order had open');
      o[k + O_LEAVES] = leaves;
      perLot = o[k + O_PER_LOT]!;
      account = oi[k + k + O_ACCOUNT]!;
      const is = oi[k + k + O_INSTRUMENT_SIDE]!;
      instrument = is >> 1;
      side = (is & 1) as Side;
      orders = leaves === 0 ? -1 : 0;
      if (change === OrderChange.Filled) posDelta = side === Side.Buy ? lots : -lots;
      lots = -lots;
    }
    const cell = this.cell;
    const nI = this.nI;
    const firmE = this.firmOf[account]!;
    const a = account * ES;
    const f = firmE * ES;
    const kA = (account * nI + instrument) * CS;
    const kF = (firmE * nI + instrument) * CS;
    cell[kA + C_POS] += posDelta;
    cell[kF + C_POS] += posDelta;
    cell[kA + C_BUY + side] += lots;
    cell[kF + C_BUY + side] += lots;
    ent[a + E_OPEN] += orders;
    ent[f + E_OPEN] += orders;
    if (!(cell[kA + C_BUY + side]! >= 0 && ent[a + E_OPEN]! >= 0)) throw new InvariantError('risk: more lots or orders closed than were open');
    if (ent[a + E_EXPOSURE] !== 0) this.revalueCell(account * XS, kA, this.perLotAtRef(instrument));
    if (ent[f + E_EXPOSURE] !== 0) this.revalueCell(firmE * XS, kF, this.perLotAtRef(instrument));
    if (ent[a + E_MARGIN] === 1) {
      cell[kA + C_BUY_IM + side] += lots * perLot;
      // Buys can close a short, sells a long: a side with nothing to close reserves all its
      // margin (see opening; the partial case is the rare one).
      const p = cell[kA + C_POS]!;
      const need = (p >= 0 ? cell[kA + C_BUY_IM]! : Risk.opening(-p, cell[kA + C_BUY]!, cell[kA + C_BUY_IM]!)) + (p <= 0 ? cell[kA + C_SELL_IM]! : Risk.opening(p, cell[kA + C_SELL]!, cell[kA + C_SELL_IM]!));
      ent[a + E_RESERVED] += need - cell[kA + C_RESERVED]!;
      cell[kA + C_RESERVED] = need;
    } else {
      ent[a + E_RESERVED] += lots * perLot;
    }
  }

  /** What one lot of an order reserves (O_PER_LOT). */
  private perLotReserve(account: number, instrument: number, side: Side, priceTicks: number): number {
    if (this.ent[account * ES + E_MARGIN] === 1) return this.rc[this.reserveSlot(instrument, priceTicks) + R_MARGIN]!;
    return side === Side.Buy ? this.rc[this.reserveSlot(instrument, priceTicks) + R_CASH]! : 0;
  }

  private growOrders(orderId: number): Float64Array {
    const b = new Float64Array(Math.max((orderId + 1) * OS, this.ord.length * 2));
    b.set(this.ord);
    this.ord = b;
    this.ordI = new Int32Array(b.buffer);
    return b;
  }

  /**
   * `checkModify` for an accepted order: it would keep `sizeLots` open at `priceTicks`. A
   * modify without a price (a pending stop-market's) keeps the reservation price.
   */
  checkModifyOrder(orderId: number, priceTicks: number, sizeLots: number): 0 | RejectReason {
    const k = orderId * OS;
    const oldPx = this.ord[k + O_PX]!;
    const is = this.ordI[k + k + O_INSTRUMENT_SIDE]!;
    return this.checkModify(this.ordI[k + k + O_ACCOUNT]!, is >> 1, (is & 1) as Side, oldPx, this.ord[k + O_LEAVES]!, priceTicks > 0 ? priceTicks : oldPx, sizeLots);
  }

  /**
   * An accepted order modified to `leavesLots` open at `priceTicks` (0: keeps its reservation
   * price), as risk sees a cancel-replace: the old reservation goes, the new one comes
   * (checked before by checkModifyOrder).
   */
  modifyOrder(orderId: number, priceTicks: number, leavesLots: number): void {
    const k = orderId * OS;
    const account = this.ordI[k + k + O_ACCOUNT]!;
    const is = this.ordI[k + k + O_INSTRUMENT_SIDE]!;
    const px = priceTicks > 0 ? priceTicks : this.ord[k + O_PX]!;
    this.onOrder(OrderChange.Reduced, orderId, 0, 0, 0, 0, this.ord[k + O_LEAVES]!);
    this.onOrder(OrderChange.Accepted, orderId, account, is >> 1, (is & 1) as Side, px, leavesLots);
  }

  // By account, for callers that keep no order ids (tests, what-if tools): the same update
  // through a scratch order record.

  onAccepted(account: number, instrument: number, side: Side, priceTicks: number, sizeLots: number): void {
    this.onOrder(OrderChange.Accepted, SCRATCH_ORDER, account, instrument, side, priceTicks, sizeLots);
  }

  onFilled(account: number, instrument: number, side: Side, orderPriceTicks: number, fillLots: number, leavesLots: number): void {
    this.scratch(account, instrument, side, orderPriceTicks, fillLots + leavesLots);
    this.onOrder(OrderChange.Filled, SCRATCH_ORDER, 0, 0, 0, 0, fillLots);
  }

  onCancelled(account: number, instrument: number, side: Side, orderPriceTicks: number, cancelledLots: number, leavesLots: number): void {
    this.scratch(account, instrument, side, orderPriceTicks, cancelledLots + leavesLots);
    this.onOrder(OrderChange.Reduced, SCRATCH_ORDER, 0, 0, 0, 0, cancelledLots);
  }

  private scratch(account: number, instrument: number, side: Side, priceTicks: number, leavesLots: number): void {
    if (!(account >= 0 && account < this.nA && instrument >= 0 && instrument < this.nI)) throw new InvariantError('risk: unknown account or instrument');
    const k = SCRATCH_ORDER * OS;
    this.ord[k + O_LEAVES] = leavesLots;
    this.ord[k + O_PX] = priceTicks;
    this.ord[k + O_PER_LOT] = this.perLotReserve(account, instrument, side, priceTicks);
    this.ordI[k + k + O_ACCOUNT] = account;
    this.ordI[k + k + O_INSTRUMENT_SIDE] = instrument * 2 + side;
  }

  openOrders(account: number): number {
    return this.ent[account * ES + E_OPEN]!;
  }
  firmOpenOrders(firm: number): number {
    return this.ent[(this.nA + firm) * ES + E_OPEN]!;
  }
  position(account: number, instrument: number): number {
    return this.cell[(account * this.nI + instrument) * CS + C_POS]!;
  }
  openLots(account: number, instrument: number, side: Side): number {
    const k = (account * this.nI + instrument) * CS;
    return side === Side.Buy ? this.cell[k + C_BUY]! : this.cell[k + C_SELL]!;
  }
  reservedMinor(account: number): number {
    return this.ent[account * ES + E_RESERVED]!;
  }
  grossExposureMinor(account: number): number {
    return this.xp[account * XS + X_GROSS]!;
  }
}
