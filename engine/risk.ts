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
 * API (all O(1) and allocation-free except config and revalue)
 * - `new Risk(config: RiskConfig, view: RiskAccountView)`
 * - `check(account, instrument, side, priceTicks, sizeLots, tsNs)` -> 0 | RejectReason
 * - `checkModify(account, instrument, side, oldPriceTicks, oldLeavesLots, priceTicks, sizeLots)` -> 0 | RejectReason:
 *   a modify as a cancel-replace (see the method); the caller then reports it with onCancelled + onAccepted
 * - `onAccepted(account, instrument, side, priceTicks, sizeLots)`: the order passed risk and entered matching
 * - `onFilled(account, instrument, side, orderPriceTicks, fillLots, leavesLots)`: called for taker and maker fills
 * - `onCancelled(account, instrument, side, orderPriceTicks, cancelledLots, leavesLots)`: cancel, expiry, IOC remainder
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

  /** After a change of a margin account's cell `k` (entity offset `a`): the account's reservation follows the cell's. */
  private marginSync(a: number, k: number): void {
    const c = this.cell;
    const p = c[k + C_POS]!;
    const need = Risk.opening(-p, c[k + C_BUY]!, c[k + C_BUY_IM]!) + Risk.opening(p, c[k + C_SELL]!, c[k + C_SELL_IM]!);
    this.ent[a + E_RESERVED] += need - c[k + C_RESERVED]!;
    c[k + C_RESERVED] = need;
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
    const posReason = this.checkPosition(account, instrument, side, sizeLots) || this.checkPosition(firmE, instrument, side, sizeLots);
    if (posReason !== 0) return posReason;
    if ((limits & LIMITS_EXPOSURE) !== 0) {
      const expReason = this.checkExposure(account, instrument, side, sizeLots) || this.checkExposure(firmE, instrument, side, sizeLots);
      if (expReason !== 0) return expReason;
    }
    const fundsReason = this.checkFunds(account, instrument, side, priceTicks, sizeLots);
    if (fundsReason !== 0) return fundsReason;
    if ((limits & LIMITS_RATE) !== 0) {
      ent[a + E_RATE_WIN] = sec;
      ent[a + E_RATE_CNT] = rA + 1;
      ent[f + E_RATE_WIN] = sec;
      ent[f + E_RATE_CNT] = rF + 1;
    }
    return 0;
  }

  /** Check 9: buying power or margin for a new order. Out of `check` to keep that small enough to inline into the exchange's submit. */
  private checkFunds(account: number, instrument: number, side: Side, priceTicks: number, sizeLots: number): 0 | RejectReason {
    const ent = this.ent;
    const a = account * ES;
    const slot = this.reserveSlot(instrument, priceTicks);
    if (ent[a + E_MARGIN] === 1) {
      const need = this.marginGrowth((account * this.nI + instrument) * CS, side, sizeLots, sizeLots * this.rc[slot + R_MARGIN]!);
      if (need > 0 && need > this.view.marginExcessMinor(account) - ent[a + E_RESERVED]!) return RejectReason.InsufficientMargin;
    } else if (side === Side.Buy) {
      const need = sizeLots * this.rc[slot + R_CASH]!;
      if (need > 0) {
        const u = this.view.unsettledCashMinor(account);
        const usable = u > 0 ? Math.floor((u * ent[a + E_UNSETTLED_USE]!) / 10_000) : u;
        if (need > this.view.settledCashMinor(account) + usable - ent[a + E_RESERVED]!) return RejectReason.InsufficientBuyingPower;
      }
    }
    return 0;
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
      const posReason = this.checkPosition(account, instrument, side, more) || this.checkPosition(firmE, instrument, side, more);
      if (posReason !== 0) return posReason;
      if ((ent[a + E_LIMITS]! & LIMITS_EXPOSURE) !== 0) {
        const expReason = this.checkExposure(account, instrument, side, more) || this.checkExposure(firmE, instrument, side, more);
        if (expReason !== 0) return expReason;
      }
    }
    if (ent[a + E_MARGIN] === 1) {
      const rc = this.rc;
      const im = sizeLots * rc[this.reserveSlot(instrument, priceTicks) + R_MARGIN]! - oldLeavesLots * rc[this.reserveSlot(instrument, oldPriceTicks) + R_MARGIN]!;
      const need = this.marginGrowth((account * this.nI + instrument) * CS, side, sizeLots - oldLeavesLots, im);
      if (need > 0 && need > this.view.marginExcessMinor(account) - ent[a + E_RESERVED]!) return RejectReason.InsufficientMargin;
      return 0;
    }
    const need = this.cashReserveOf(instrument, side, priceTicks, sizeLots) - this.cashReserveOf(instrument, side, oldPriceTicks, oldLeavesLots);
    if (need > 0) {
      const u = this.view.unsettledCashMinor(account);
      const usable = u > 0 ? Math.floor((u * ent[a + E_UNSETTLED_USE]!) / 10_000) : u;
      if (need > this.view.settledCashMinor(account) + usable - ent[a + E_RESERVED]!) return RejectReason.InsufficientBuyingPower;
    }
    return 0;
  }

  private checkPosition(e: number, instrument: number, side: Side, sizeLots: number): 0 | RejectReason {
    const c = this.cell;
    const k = (e * this.nI + instrument) * CS;
    if (side === Side.Buy) {
      if (c[k + C_POS]! + c[k + C_BUY]! + sizeLots > c[k + C_MAX_LONG]!) return RejectReason.LongPositionLimit;
    } else if (-(c[k + C_POS]! - c[k + C_SELL]! - sizeLots) > c[k + C_MAX_SHORT]!) {
      return RejectReason.ShortPositionLimit;
    }
    return 0;
  }

  private checkExposure(e: number, instrument: number, side: Side, sizeLots: number): 0 | RejectReason {
    if (this.ent[e * ES + E_EXPOSURE] === 0) return 0;
    const c = this.cell;
    const x = e * XS;
    const k = (e * this.nI + instrument) * CS;
    const buy = side === Side.Buy ? sizeLots : 0;
    const sell = side === Side.Sell ? sizeLots : 0;
    const longW = c[k + C_POS]! + c[k + C_BUY]! + buy;
    const shortW = c[k + C_POS]! - c[k + C_SELL]! - sell;
    const perLot = this.perLotAtRef(instrument);
    const g = Math.max(Math.abs(longW), Math.abs(shortW)) * perLot;
    if (this.xp[x + X_GROSS]! - c[k + C_GROSS]! + g > this.xp[x + X_MAX_GROSS]!) return RejectReason.GrossExposureLimit;
    const nl = this.xp[x + X_NET_LONG]! - c[k + C_LONG]! + longW * perLot;
    const ns = this.xp[x + X_NET_SHORT]! - c[k + C_SHORT]! + shortW * perLot;
    if (Math.max(Math.abs(nl), Math.abs(ns)) > this.xp[x + X_MAX_NET]!) return RejectReason.NetExposureLimit;
    return 0;
  }

  private refresh(e: number, instrument: number): void {
    // Limits are fixed at construction, so an entity without exposure limits never needs the figures.
    if (this.ent[e * ES + E_EXPOSURE] === 0) return;
    const c = this.cell;
    const x = e * XS;
    const k = (e * this.nI + instrument) * CS;
    const longW = c[k + C_POS]! + c[k + C_BUY]!;
    const shortW = c[k + C_POS]! - c[k + C_SELL]!;
    const perLot = this.perLotAtRef(instrument);
    const g = Math.max(Math.abs(longW), Math.abs(shortW)) * perLot;
    this.xp[x + X_GROSS] += g - c[k + C_GROSS]!;
    this.xp[x + X_NET_LONG] += longW * perLot - c[k + C_LONG]!;
    this.xp[x + X_NET_SHORT] += shortW * perLot - c[k + C_SHORT]!;
    c[k + C_GROSS] = g;
    c[k + C_LONG] = longW * perLot;
    c[k + C_SHORT] = shortW * perLot;
  }

  /** Re-values every entity's exposure in `instrument` at the current reference price. */
  revalue(instrument: number): void {
    for (let e = 0; e < this.nA + this.nF; e++) this.refresh(e, instrument);
  }

  onAccepted(account: number, instrument: number, side: Side, priceTicks: number, sizeLots: number): void {
    this.move(account, instrument, side, priceTicks, sizeLots, 1, 0);
  }

  onFilled(account: number, instrument: number, side: Side, orderPriceTicks: number, fillLots: number, leavesLots: number): void {
    this.move(account, instrument, side, orderPriceTicks, -fillLots, leavesLots === 0 ? -1 : 0, side === Side.Buy ? fillLots : -fillLots);
    const kA = (account * this.nI + instrument) * CS;
    if (!(this.cell[kA + C_BUY]! >= 0 && this.cell[kA + C_SELL]! >= 0 && this.ent[account * ES + E_OPEN]! >= 0)) throw new InvariantError('risk: fill of more than was open');
  }

  onCancelled(account: number, instrument: number, side: Side, orderPriceTicks: number, cancelledLots: number, leavesLots: number): void {
    this.move(account, instrument, side, orderPriceTicks, -cancelledLots, leavesLots === 0 ? -1 : 0, 0);
    if (!(this.ent[account * ES + E_OPEN]! >= 0)) throw new InvariantError('risk: cancel of more than was open');
  }

  /**
   * One accept, fill or cancel: the account's and its firm's open lots on `side` change by
   * `lots`, their open orders by `orders`, their positions by `posDelta`; then exposure is
   * refreshed where it is kept and the account's reservation follows. Account and firm in one
   * flat pass: this runs for every order event, and helper calls V8 does not inline (the
   * caller's inlining budget is spent in the exchange) cost more than the arithmetic.
   */
  private move(account: number, instrument: number, side: Side, priceTicks: number, lots: number, orders: number, posDelta: number): void {
    const cell = this.cell;
    const ent = this.ent;
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
    if (ent[a + E_EXPOSURE] !== 0) this.refresh(account, instrument);
    if (ent[f + E_EXPOSURE] !== 0) this.refresh(firmE, instrument);
    const slot = this.reserveSlot(instrument, priceTicks);
    if (ent[a + E_MARGIN] === 1) {
      cell[kA + C_BUY_IM + side] += lots * this.rc[slot + R_MARGIN]!;
      this.marginSync(a, kA);
    } else if (side === Side.Buy) {
      ent[a + E_RESERVED] += lots * this.rc[slot + R_CASH]!;
    }
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
