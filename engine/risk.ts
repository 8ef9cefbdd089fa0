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
 *     cash account, buys: reserve(order) <= settled + unsettledUse * receivable
 *                                             - payable - reserved(open buys)
 *     (receivable and payable: the account's unsettled trade sides that will pay it and that
 *     it will pay, kept apart: a haircut on sale proceeds must not be undone by netting them
 *     against purchases)
 *                                                          -> InsufficientBuyingPower
 *     margin account: growth of the reserved IM <= equity - IM(positions) - reserved IM(open orders)
 *                                                          -> InsufficientMargin
 *     (reserved IM per instrument: the margin of the open lots that would open or grow a
 *     position, see `Risk.opening`; an order that only closes part of the position needs none)
 * A passing check counts towards the rate limit; nothing else changes until the order is
 * booked (`checkOrder` books it at once, `onOrder(Accepted, …)` later).
 *
 * Cash reservations are linear in lots so that partial fills release exactly what was reserved:
 * cash reserve per lot = ceil(notional of one lot) + fee on it at the instrument's highest rate.
 * Margin is kept per (account, instrument) as the linear margin of the open buys and of the
 * open sells (`Margin.initialPerLotMinor` per lot at each order's price); a margin account's
 * reservation is a function of those and the position in each instrument, summed over its
 * cells when a check needs it, so it returns to 0 with the orders. A market order must be
 * checked and reported with the same price each time (the price it may trade at worst, e.g.
 * the band edge).
 *
 * Exposure is valued when a check needs it, at the reference prices of that moment: each
 * (entity, instrument) contributes max(|pos + openBuys|, |pos - openSells|) lots to gross
 * exposure, and pos + openBuys and pos - openSells to net long and net short, each times the
 * notional of one lot at the instrument's reference price. An entity with an exposure limit
 * (and a margin account) keeps a list of the cells that hold lots: a cell joins it when an
 * order is booked in it and leaves when a check finds it empty (no position, no open lots).
 *
 * Firm limits: a firm's position and open-order limits bound sums over its accounts. Far from
 * its limits a firm keeps no sums: each account holds a share of each firm limit (its cells a
 * worst-case long and short, the account its open orders). While every account is within its
 * share the shares add up to no more than the limit, so a check that stays within the
 * account's share passes the firm's limit without reading the firm, and an update moves only
 * the account's figures. Past its share, the check sums the firm's accounts; if the firm's
 * limit still holds with more than a quarter of it free, it shares the headroom out again
 * (each account's new share: what it holds, the order included, plus an equal part, rounded
 * down). Near the limit (less than a quarter free), a firm of 9 accounts or more switches to
 * running sums, moved by every update of its accounts, so that a check costs O(1) there too;
 * once in 64 of its checks it looks for half of every limit free, and then shares again (a
 * smaller firm keeps summing its accounts past a share: cheaper than sums on every update).
 * Only a booking can raise what an account holds (fills and cancels lower it), and checks keep
 * to the shares, so only a booking no check passed (a modify's new size, the venue's own
 * orders) can take an account past its share; it then sends the firm's accounts to the sum
 * until a check shares again. A firm with an exposure limit keeps running sums for good:
 * exposure is valued over them.
 *
 * Why at the check rather than on every order event: an order causes ~2.4 events (its accept,
 * fills as taker and maker, cancels) for each check, and an account holds a few instruments, so
 * summing at the check does less work. It also makes exposure exact at current prices, where a
 * running sum is valued at the reference of each cell's last event and must be revalued.
 *
 * API (allocation-free except config, a firm's kill switch (O(accounts): each account keeps
 * the combined flag) and the order records and cell lists growing; every call O(1) except
 * checks of an entity with an exposure limit and a margin account's, which are O(its cells
 * holding lots), checks past an account's share of a firm limit and a firm's switches
 * between shares and running sums, O(the firm's accounts), and the readers of those figures)
 * - `new Risk(config: RiskConfig, view: RiskAccountView)`
 * - `check(account, instrument, side, priceTicks, sizeLots, tsNs)` -> 0 | RejectReason (books nothing)
 * - `checkOrder(orderId, account, instrument, side, priceTicks, sizeLots)` -> 0 | RejectReason:
 *   the same check at virtual time `nowNs` (set it first), and an order that passes is booked as
 *   accepted at once (as `onOrder(Accepted, …)` would book it); if the book then refuses it,
 *   `onOrder(Reduced, orderId, …, its lots)` releases it
 * - by venue order id (risk keeps a record per open order: account, instrument, side,
 *   reservation price and per-lot reservation, open lots; it is dropped when the order's last
 *   lot goes, and an update or reader for an order that is not open is an InvariantError):
 *   - `onOrder(change, orderId, account, instrument, side, priceTicks, lots)`: accepted (the
 *     order passed risk and entered matching), filled (taker or maker) or reduced (cancel,
 *     expiry, IOC remainder) by `lots`
 *   - `onTrade(takerId, makerId, lots)`: a trade's two fills in one call
 *   - `checkModifyOrder(orderId, priceTicks, sizeLots)` -> 0 | RejectReason, then `modifyOrder(orderId, priceTicks, leavesLots)`
 *   - `checkReserveAt(orderId, priceTicks)` -> 0 | RejectReason: buying power or margin only, for
 *     a new reservation price of the same open lots (a triggered stop-market), then `modifyOrder`
 *   - readers `reservationPrice(orderId)`, `openLotsOf(orderId)`
 * - by account, for callers without order ids (the same update, through a scratch record):
 *   - `checkModify(account, instrument, side, oldPriceTicks, oldLeavesLots, priceTicks, sizeLots)` -> 0 | RejectReason:
 *     a modify as a cancel-replace (see the method); the caller then reports it with onCancelled + onAccepted
 *   - `onAccepted(account, instrument, side, priceTicks, sizeLots)`
 *   - `onFilled(account, instrument, side, orderPriceTicks, fillLots, leavesLots)`
 *   - `onCancelled(account, instrument, side, orderPriceTicks, cancelledLots, leavesLots)`
 * - `setReferencePrice(instrument, ticks)`, `setKillSwitch(account, on)`, `setFirmKillSwitch(firm, on)`
 * - readers: `openOrders(a)`, `position(a, i)`, `reservedMinor(a)`, `firmOpenOrders(f)`, `grossExposureMinor(a)`,
 *   `firmKeepsSums(f)` (whether the firm keeps running sums now rather than shares)
 */
import { assert, InvariantError } from './assert.js';
import { bpsCeil, MinorAmount, mulDivCeil, notionalMinor } from './money.js';
import { NO_PRICE, RejectReason, Side } from './types.js';

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

/**
 * Where risk reads money it does not own. Called once per check on buying-power paths only.
 * The margin figure is asked as a yes/no, about an amount passed by reference: a number that
 * is not a small integer (money in minor units rarely is), passed to or returned from a call
 * V8 does not inline, is boxed in a new heap object, and this runs on every margin account's
 * order.
 */
export interface RiskAccountView {
  /**
   * Cash accounts: whether settled cash (available + held), plus `unsettledUseBps` of the
   * unsettled cash the account will receive (its unsettled sales' proceeds, fees off; rounded
   * down), less the unsettled cash it will pay (its unsettled purchases, fees on), is at least
   * `amount.minor`.
   */
  buyingPowerCovers(account: number, unsettledUseBps: number, amount: Readonly<MinorAmount>): boolean;
  /** Margin accounts: whether equity minus the initial margin requirement of current positions is at least `amount.minor`. */
  marginExcessCovers(account: number, amount: Readonly<MinorAmount>): boolean;
}

const NS_PER_SECOND = 1_000_000_000;
const NONE = Number.POSITIVE_INFINITY;
/** Entries per instrument of the reservation cache (a power of two: indexed by price & mask). */
const RESERVE_CACHE = 256;

const LIMITS_OPEN = 1;
/** The account limits its order rate (LIMITS_FIRM_RATE: its firm does); only then is that entity's rate counted. */
const LIMITS_RATE = 2;
const LIMITS_FIRM_RATE = 8;
const LIMITS_EXPOSURE = 4;

// Risk's figures live in objects made once at construction, one per instrument, per entity
// (account or firm) and per (entity, instrument) cell, linked to each other by reference;
// only the per-order records are typed arrays (one per order: no objects there). In V8 a
// numeric field of a known object costs two loads, where a typed-array element also costs a
// bounds check, an index computation and the array's base pointer: a check and an order
// update each touch ~45 figures, and as typed-array blocks those accesses were most of their
// instructions (under valgrind, 610 instructions an order update and 880 a check; as objects
// ~360 and ~480). The price is more cache lines (a double field is a box of its own), which
// is why flags and counts are small-integer fields, kept in the object itself.
//
// V8 fixes a field's representation when the field is first stored. The figures that hold
// money or lots start at 0.5 (a double) and are then set: a field that began as a small
// integer would be re-shaped, and the code using it deoptimized, the first time it held money
// beyond 2^31 (or -0, which the side arithmetic of an order update can produce).

/** Per instrument: its notional rule, reference price and fee reserve rate. */
class InstrumentFigures {
  num = 0.5;
  den = 0.5;
  fee = 0.5;
  ref = 0.5;
  /** Notional of one lot at the reference price, set with the reference (from the reservation cache). */
  refPerLot = 0.5;
  constructor(
    x: RiskInstrument,
    readonly index: number,
  ) {
    this.num = x.num;
    this.den = x.den;
    this.fee = x.feeReserveCentiBps;
    this.ref = x.referencePriceTicks;
    this.refPerLot = 0;
  }
}

/** An account or a firm: what a check and an order update read first, then the static limits, then exposure. */
class Entity {
  // Flags and counts: small integers, in the object itself.
  /** 1 when the entity's own kill switch, or (for an account) its firm's, is on. */
  killed = 0;
  /** The entity's own kill switch. */
  ownKill = 0;
  /** Open orders: an account's always; a firm's only while it keeps running sums (`sums`), else summed over its accounts when needed. */
  open = 0;
  /** 1 when the entity has a gross or net exposure limit: only then are its exposure figures kept. */
  exposure = 0;
  margin = 0;
  /** Bits: the account or its firm limits open orders (1) or exposure (4); the account (2) or its firm (8) limits the order rate; else those checks are skipped. */
  limits = 0;
  rateCnt = 0;
  rateWin = -1;
  unsettledUse = 0;
  reserved = 0.5;
  /** Entities with `held`: their cells that may hold lots (the first `nX`), joined at a booking, pruned by the checks' walks. */
  xCells: Cell[] = [];
  nX = 0;
  /** 1 when the entity lists its cells: it has an exposure limit or is a margin account. */
  held = 0;
  // Static limits of account and firm combined (the tighter of the two), so a check reads one.
  orderLots = 0.5;
  collar = 0.5;
  notional = 0.5;
  maxOpen = 0.5;
  maxRate = 0.5;
  maxGross = 0.5;
  maxNet = 0.5;
  /**
   * Accounts: the open orders up to which the account's own count decides a check: the tighter
   * of `maxOpen` and the account's share of its firm's limit (see "Firm limits").
   */
  openQuota = 0.5;
  /** Accounts: 1 while the firm keeps running sums (`sums`): an update of the account moves them, a check reads them. */
  firmSums = 0;
  /** Accounts: 1 when the firm has an exposure limit. */
  firmExposure = 0;
  /** The account's firm (a firm's is itself). */
  firm: Entity = this;
  /** Firms: their accounts, and their own cells (one per instrument). */
  members: Entity[] = [];
  cells: Cell[] = [];
  /**
   * Firms: 1 while the firm keeps running sums of its accounts' lots (in its cells) and open
   * orders (`open`), near its limits or for good (`pinned`: it has an exposure limit, valued
   * over its cells); 0 while its accounts hold shares of its limits. See "Firm limits".
   */
  sums = 0;
  pinned = 0;
  /** Firms: its accounts' checks while it keeps running sums, counted to look for a way back to shares now and then. */
  sumsChecks = 0;
  constructor(l: RiskLimits) {
    this.reserved = 0;
    this.orderLots = l.maxOrderLots ?? NONE;
    this.notional = l.maxOrderNotionalMinor ?? NONE;
    this.collar = l.collarBps ?? NONE;
    this.maxOpen = l.maxOpenOrders ?? NONE;
    this.maxRate = l.maxOrdersPerSecond ?? NONE;
    this.maxGross = l.maxGrossExposureMinor ?? NONE;
    this.maxNet = l.maxNetExposureMinor ?? NONE;
    this.exposure = this.maxGross !== NONE || this.maxNet !== NONE ? 1 : 0;
    this.openQuota = this.maxOpen;
  }
}

/** Per (entity, instrument): lots and margin, position limits, and the cell's exposure contribution. */
class Cell {
  pos = 0.5;
  buy = 0.5;
  sell = 0.5;
  /** Margin accounts: the linear initial margin of the open buys / sells at their order prices. */
  buyIm = 0.5;
  sellIm = 0.5;
  maxLong = 0.5;
  maxShort = 0.5;
  /**
   * Account cells: the worst-case long and short lots up to which the cell's own figures decide
   * a check: the tighter of the account's limit and its share of the firm's (see "Firm limits").
   * A firm's cells hold its accounts' summed lots only while the firm keeps sums (`Entity.sums`).
   */
  longQuota = 0.5;
  shortQuota = 0.5;
  /** 1 while the cell is in its entity's `xCells`. */
  listed = 0;
  /** The same instrument's cell of the entity's firm (a firm's is itself). */
  firmCell: Cell = this;
  /** Firm cells: the same instrument's cells of the firm's accounts. */
  members: Cell[] = [];
  constructor(
    readonly entity: Entity,
    readonly instrument: InstrumentFigures,
    maxLong: number,
    maxShort: number,
  ) {
    this.pos = this.buy = this.sell = this.buyIm = this.sellIm = 0;
    this.maxLong = this.longQuota = maxLong;
    this.maxShort = this.shortQuota = maxShort;
  }
}

// Reservation cache entry: price, cash per lot, margin per lot, notional per lot. A
// reservation is a pure function of (instrument, price) and orders cluster on a few prices,
// so the divisions behind it run once per price instead of on every check, accept, fill and
// cancel.
const RS = 4;
const R_PX = 0;
const R_CASH = 1;
const R_MARGIN = 2;
/** Notional of one lot, rounded up (exposure values lots at the reference price with it). */
const R_NOTIONAL = 3;

// Per-order record: what risk reserved for an open order, 32 bytes in one buffer seen as
// doubles and as int32s, so that a maker's fill reads one cache line. Records live in slots
// reused once their order closes (`slotOf` maps a venue order id to its slot): a run's records
// are as many as its orders open at once and stay cached, where one record per order id
// would write a new line of fresh memory for every other order and grow by copying.
const OS = 4;
// As doubles (index k = slot * OS):
const O_LEAVES = 0;
/** The reservation price. */
const O_PX = 1;
/** What one open lot reserves: a margin account's initial margin, a cash account's buy cash, else 0. */
const O_PER_LOT = 2;
// As int32s (index 2k):
/** The account's cell (index in `cells`) * 2 + the order's side. */
const O_CELL_SIDE = 6;
const ORDER_CHUNK = 1 << 16;
/** Record slots to start with (grown by doubling). */
const SLOT_CHUNK = 1 << 10;
/**
 * The order id whose record the by-account methods (`onAccepted`, `onFilled`, `onCancelled`)
 * use as scratch, in slot 0: venue order ids start at 1, and an order id mapped to slot 0 has
 * no open record.
 */
const SCRATCH_ORDER = 0;
/** No order (settle's `otherId` when there is no maker). */
const NO_ORDER = -1;

/** What happened to an order, for `Risk.onOrder`. */
export enum OrderChange {
  /** It passed risk and entered matching with `lots` open. */
  Accepted = 0,
  /** `lots` of it traded. */
  Filled = 1,
  /** `lots` of it left without trading: cancelled, expired, an IOC's rest, a modify's old size. */
  Reduced = 2,
}

// The hot paths compare with these rather than with enum members: V8 reads an enum member
// through the enum object on every use (a module cell, a hole check, a map check and a load),
// where a module-local constant is folded into the code.
const BUY = Side.Buy;
const ACCEPTED = OrderChange.Accepted;
const FILLED = OrderChange.Filled;

/** Products up to this are exact in a double (see Risk.opening). */
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/**
 * Check 8 for entity `e` with `buy` / `sell` more lots in cell `c`: its gross and net exposure,
 * summed over its cells at each instrument's reference notional a lot now. Cells that hold
 * nothing are dropped from the list on the way.
 */
const exposureAfter = (e: Entity, c: Cell, buy: number, sell: number): 0 | RejectReason => {
  let g = 0;
  let nl = 0;
  let ns = 0;
  const list = e.xCells;
  let n = e.nX;
  for (let j = 0; j < n; ) {
    const k = list[j]!;
    let longW = k.pos + k.buy;
    let shortW = k.pos - k.sell;
    if (k === c) {
      longW += buy;
      shortW -= sell;
    } else if (longW === 0 && shortW === 0) {
      // pos + buy = 0 and pos - sell = 0 with both sides >= 0: no position and no open lots.
      list[j] = list[--n]!;
      k.listed = 0;
      continue;
    }
    const perLot = k.instrument.refPerLot;
    g += Math.max(Math.abs(longW), Math.abs(shortW)) * perLot;
    nl += longW * perLot;
    ns += shortW * perLot;
    j++;
  }
  e.nX = n;
  if (c.listed === 0) {
    const perLot = c.instrument.refPerLot;
    const longW = c.pos + c.buy + buy;
    const shortW = c.pos - c.sell - sell;
    g += Math.max(Math.abs(longW), Math.abs(shortW)) * perLot;
    nl += longW * perLot;
    ns += shortW * perLot;
  }
  if (g > e.maxGross) return RejectReason.GrossExposureLimit;
  if (Math.max(Math.abs(nl), Math.abs(ns)) > e.maxNet) return RejectReason.NetExposureLimit;
  return 0;
};

/** Puts cell `c` on its entity's list of cells that hold lots (an order is being booked in it). */
const list = (c: Cell): void => {
  const e = c.entity;
  c.listed = 1;
  if (e.nX === e.xCells.length) e.xCells.push(c);
  else e.xCells[e.nX] = c;
  e.nX++;
};

/** Account cell `k`'s worst-case lots on one side: long (`long` 1: position + open buys) or short (open sells - position). */
const worst = (k: Cell, long: number): number => (long === 1 ? k.pos + k.buy : k.sell - k.pos);

/** A firm in the running-sums mode looks for a way back to shares once in this many checks (a power of two). */
const LEAVE_SUMS_EVERY = 64;
/**
 * Accounts a firm needs for running sums near its limits. With fewer, summing them at a check
 * past a share costs less than moving the sums on every update: in the risk bench with firm
 * limits near (4 accounts a firm), sums gave ~1.51x against ~1.47x with shares only (sums then
 * read through a call per check; read in line, ~0.01 less, still the dearer).
 */
const SUMS_FROM_ACCOUNTS = 9;

/** A firm's `limit` with `held` taken: whether the headroom left is below a quarter of it (the firm goes to running sums). */
const near = (limit: number, held: number): boolean => limit - held < limit / 4;

/** Within half of it: the firm may go back to shares. */
const wellWithin = (limit: number, held: number): boolean => limit === NONE || limit - held >= limit / 2;

/**
 * Shares one side of firm cell `fc`'s position limit out among its accounts' cells, the firm
 * holding `held` worst-case lots on it: each gets what it holds (`extra` more for cell `c`, an
 * order being checked) plus an equal part of the headroom, rounded down, within its own limit.
 */
const sharePosition = (fc: Cell, long: number, held: number, c: Cell | null, extra: number): void => {
  const m = fc.members;
  // With no firm limit on the side the part is infinite, and each cell's own limit is left.
  const part = Math.floor(((long === 1 ? fc.maxLong : fc.maxShort) - held) / m.length);
  for (let j = 0; j < m.length; j++) {
    const k = m[j]!;
    const upTo = worst(k, long) + (k === c ? extra : 0) + part;
    if (long === 1) k.longQuota = Math.min(upTo, k.maxLong);
    else k.shortQuota = Math.min(upTo, k.maxShort);
  }
};

/** As sharePosition, for firm `f`'s open-order limit, its accounts holding `held` open orders (`extra` more for account `e`). */
const shareOpen = (f: Entity, held: number, e: Entity | null, extra: number): void => {
  const m = f.members;
  const part = Math.floor((f.maxOpen - held) / m.length);
  for (let j = 0; j < m.length; j++) {
    const k = m[j]!;
    k.openQuota = Math.min(k.open + (k === e ? extra : 0) + part, k.maxOpen);
  }
};

/**
 * Firm `f` starts keeping running sums: its cells' lots and its open orders summed over its
 * accounts once, then moved by every update of theirs and read by every check of theirs (see
 * `firmSums`); its accounts' quotas go back to their own limits.
 */
const enterSums = (f: Entity): void => {
  let open = 0;
  for (const e of f.members) {
    open += e.open;
    e.firmSums = 1;
    e.openQuota = e.maxOpen;
  }
  f.open = open;
  for (const fc of f.cells) {
    let pos = 0;
    let buy = 0;
    let sell = 0;
    for (const k of fc.members) {
      pos += k.pos;
      buy += k.buy;
      sell += k.sell;
      k.longQuota = k.maxLong;
      k.shortQuota = k.maxShort;
    }
    fc.pos = pos;
    fc.buy = buy;
    fc.sell = sell;
  }
  f.sums = 1;
};

/**
 * Firm `f`, keeping running sums and not pinned to them, goes back to shares if every one of
 * its limits has half its headroom or more (a check looks once in LEAVE_SUMS_EVERY).
 */
const leaveSums = (f: Entity): void => {
  if (!wellWithin(f.maxOpen, f.open)) return;
  for (const fc of f.cells) if (!wellWithin(fc.maxLong, worst(fc, 1)) || !wellWithin(fc.maxShort, worst(fc, 0))) return;
  for (const fc of f.cells) {
    sharePosition(fc, 1, worst(fc, 1), null, 0);
    sharePosition(fc, 0, worst(fc, 0), null, 0);
  }
  shareOpen(f, f.open, null, 0);
  for (const e of f.members) e.firmSums = 0;
  f.sums = 0;
};

/**
 * A firm's position limit, for a firm whose accounts hold shares, past account cell `c`'s
 * quota: `c` would hold `size` more worst-case lots on one side (long if `long` is 1). Summed
 * over the firm's accounts' cells, and then either shared out again or, near the limit in a
 * firm of many accounts, the start of running sums.
 */
const firmPositionRefuses = (c: Cell, size: number, long: number): boolean => {
  const fc = c.firmCell;
  const limit = long === 1 ? fc.maxLong : fc.maxShort;
  const m = fc.members;
  let held = 0;
  for (let j = 0; j < m.length; j++) held += worst(m[j]!, long);
  if (near(limit, held + size) && m.length >= SUMS_FROM_ACCOUNTS) {
    enterSums(fc.entity);
    return held + size > limit;
  }
  if (held + size > limit) return true;
  sharePosition(fc, long, held + size, c, size);
  return false;
};

/** As firmPositionRefuses, for a firm's open orders: account `e` would have one more. */
const firmOpenRefuses = (e: Entity): boolean => {
  const f = e.firm;
  const limit = f.maxOpen;
  const m = f.members;
  let held = 0;
  for (let j = 0; j < m.length; j++) held += m[j]!.open;
  if (near(limit, held + 1) && m.length >= SUMS_FROM_ACCOUNTS) {
    enterSums(f);
    return held + 1 > limit;
  }
  if (held + 1 > limit) return true;
  shareOpen(f, held + 1, e, 1);
  return false;
};

/**
 * After a booking no check passed (a modify's new size, the venue's own orders), in a firm
 * holding shares: if account cell `c` or its account went past its quota, every account of the
 * firm checks against the firm's sum until a check shares the headroom out again.
 */
const afterUncheckedBooking = (c: Cell): void => {
  if (worst(c, 1) > c.longQuota || worst(c, 0) > c.shortQuota) {
    const m = c.firmCell.members;
    for (let j = 0; j < m.length; j++) m[j]!.longQuota = m[j]!.shortQuota = -NONE;
  }
  const e = c.entity;
  if (e.open > e.openQuota) {
    const m = e.firm.members;
    for (let j = 0; j < m.length; j++) m[j]!.openQuota = -NONE;
  }
};

/**
 * Checks 7 and 8 for `sizeLots` more on `side` in account cell `c`: position limits of the
 * account, then its firm (from its running sums if it keeps them, else summed over its
 * accounts only past the account's share, see "Firm limits"); then, if `exposure`, gross and
 * net exposure of the account, then its firm.
 */
const positionAndExposure = (c: Cell, side: Side, sizeLots: number, exposure: boolean): 0 | RejectReason => {
  const e = c.entity;
  const fc = c.firmCell;
  if (side === BUY) {
    const w = c.pos + c.buy + sizeLots;
    if (w > c.longQuota && (w > c.maxLong || firmPositionRefuses(c, sizeLots, 1))) return RejectReason.LongPositionLimit;
    if (e.firmSums !== 0 && fc.pos + fc.buy + sizeLots > fc.maxLong) return RejectReason.LongPositionLimit;
  } else {
    const w = c.sell - c.pos + sizeLots;
    if (w > c.shortQuota && (w > c.maxShort || firmPositionRefuses(c, sizeLots, 0))) return RejectReason.ShortPositionLimit;
    if (e.firmSums !== 0 && fc.sell - fc.pos + sizeLots > fc.maxShort) return RejectReason.ShortPositionLimit;
  }
  if (!exposure) return 0;
  const buy = side === BUY ? sizeLots : 0;
  const sell = sizeLots - buy;
  if (e.exposure !== 0) {
    const reason = exposureAfter(e, c, buy, sell);
    if (reason !== 0) return reason;
  }
  if (e.firmExposure !== 0) return exposureAfter(e.firm, fc, buy, sell);
  return 0;
};

export class Risk {
  private readonly nA: number;
  private readonly nI: number;
  private readonly imPerLot: ((priceTicks: number) => number)[];
  private readonly ins: InstrumentFigures[];
  /** Accounts 0..nA-1, then firms. */
  private readonly ents: Entity[];
  /** Per (entity, instrument), at entity * nI + instrument. */
  private readonly cells: Cell[];
  private readonly rc: Float64Array;
  /** Per record slot (OS doubles each, and the same bytes as int32s in ordI), grown by doubling; slot 0 is the scratch record. */
  private ord: Float64Array = new Float64Array(SLOT_CHUNK * OS);
  private ordI: Int32Array = new Int32Array(this.ord.buffer);
  /** Per venue order id: the slot of its record while risk has it open, else 0. Grown by doubling. */
  private slotOf: Int32Array = new Int32Array(ORDER_CHUNK);
  /** Slots free for reuse, last freed first (the likeliest still cached); slots 1..nSlots-1 are in use or free. */
  private free: Int32Array = new Int32Array(SLOT_CHUNK);
  private nFree = 0;
  private nSlots = 1;
  // The current virtual second of the rate windows: [secStartNs, secStartNs + 1 s).
  private secStartNs = Number.POSITIVE_INFINITY;
  private sec = -1;
  /**
   * Virtual time (ns) of the order `checkOrder` checks, set by the caller before the call. A
   * field rather than an argument: a timestamp of a trading day (~3.4e13 ns at the open) is no
   * small integer, and passed to a call V8 does not inline it was boxed in a new heap number on
   * every check, where a store to a double field writes the field's box in place. Initialised
   * with a fraction so that the field is a double from the start (see the note above Entity).
   */
  nowNs = 0.5;
  /**
   * The amount risk's own helpers take and give: a side's margin in and its reservation out of
   * `opening`, the margin `marginGrowth` reads and the growth it writes. A field rather than an argument and a return
   * value: V8 does not inline those calls everywhere, and an amount passed to or returned from
   * a call it does not inline is boxed in a new heap number whenever it is no small integer (an
   * order's cash or margin in minor units rarely is).
   */
  private amountMinor = 0.5;
  /**
   * The amount the margin and buying-power checks ask the view about (by reference, see
   * RiskAccountView): the order's growth plus what the account's open orders already reserve.
   */
  private readonly asked = new MinorAmount();

  constructor(
    config: RiskConfig,
    private readonly view: RiskAccountView,
  ) {
    const nA = (this.nA = config.accounts.length);
    const nF = config.firms.length;
    const nI = (this.nI = config.instruments.length);
    this.ins = config.instruments.map((x, i) => new InstrumentFigures(x, i));
    this.imPerLot = config.instruments.map((x) => x.initialPerLotMinor ?? (() => 0));
    config.accounts.forEach((a, k) => {
      assert(a.firm >= 0 && a.firm < nF, `risk: account ${k} names unknown firm ${a.firm}`);
      const use = a.unsettledUseBps ?? 0;
      assert(use >= 0 && use <= 10_000, `risk: account ${k}: unsettledUseBps must be 0..10000`);
    });
    const ents = (this.ents = [...config.accounts.map((a) => new Entity(a.limits ?? {})), ...config.firms.map((f) => new Entity(f.limits ?? {}))]);
    const cells: Cell[] = (this.cells = []);
    const addCells = (e: Entity, limits: RiskLimits | undefined, perInstrument: readonly InstrumentPositionLimits[] | undefined, noShort: boolean) => {
      for (const o of perInstrument ?? []) assert(o.instrument >= 0 && o.instrument < nI, `risk: unknown instrument ${o.instrument}`);
      for (let i = 0; i < nI; i++) {
        let maxLong = limits?.maxLongLots ?? NONE;
        let maxShort = noShort ? 0 : (limits?.maxShortLots ?? NONE);
        // Overrides apply in order, a later one for the same instrument winning.
        for (const o of perInstrument ?? []) {
          if (o.instrument !== i) continue;
          if (o.maxLongLots !== undefined) maxLong = o.maxLongLots;
          if (o.maxShortLots !== undefined && !noShort) maxShort = o.maxShortLots;
        }
        cells.push(new Cell(e, this.ins[i]!, maxLong, maxShort));
      }
    };
    config.accounts.forEach((a, k) => addCells(ents[k]!, a.limits, a.instrumentLimits, a.type === 'cash'));
    config.firms.forEach((f, k) => addCells(ents[nA + k]!, f.limits, f.instrumentLimits, false));
    for (const e of ents) e.held = e.exposure;
    config.accounts.forEach((a, k) => {
      const e = ents[k]!;
      const f = ents[nA + a.firm]!;
      e.firm = f;
      f.members.push(e);
      e.margin = a.type === 'margin' ? 1 : 0;
      e.held = e.margin | e.exposure;
      e.firmExposure = f.exposure;
      e.unsettledUse = a.unsettledUseBps ?? 0;
      for (let i = 0; i < nI; i++) {
        const c = cells[k * nI + i]!;
        c.firmCell = cells[(nA + a.firm) * nI + i]!;
        c.firmCell.members.push(c);
      }
      // Accounts carry the tighter of their own and their firm's static limits.
      e.orderLots = Math.min(e.orderLots, f.orderLots);
      e.notional = Math.min(e.notional, f.notional);
      e.collar = Math.min(e.collar, f.collar);
      let bits = 0;
      if (e.maxOpen !== NONE || f.maxOpen !== NONE) bits |= LIMITS_OPEN;
      if (e.maxRate !== NONE) bits |= LIMITS_RATE;
      if (f.maxRate !== NONE) bits |= LIMITS_FIRM_RATE;
      if (e.exposure === 1 || f.exposure === 1) bits |= LIMITS_EXPOSURE;
      e.limits = bits;
    });
    // A firm with an exposure limit keeps running sums for good; the others start with equal
    // shares (nothing is held yet).
    for (let k = 0; k < nF; k++) {
      const f = ents[nA + k]!;
      for (let i = 0; i < nI; i++) f.cells.push(cells[(nA + k) * nI + i]!);
      if (f.members.length === 0) continue;
      if (f.exposure !== 0) {
        f.pinned = 1;
        enterSums(f);
        continue;
      }
      for (const fc of f.cells) {
        sharePosition(fc, 1, 0, null, 0);
        sharePosition(fc, 0, 0, null, 0);
      }
      shareOpen(f, 0, null, 0);
    }
    this.rc = new Float64Array(nI * RESERVE_CACHE * RS);
    for (let k = 0; k < nI * RESERVE_CACHE; k++) this.rc[k * RS + R_PX] = -1;
    for (let i = 0; i < nI; i++) this.ins[i]!.refPerLot = this.rc[this.reserveSlot(i, this.ins[i]!.ref) + R_NOTIONAL]!;
    this.nowNs = 0;
    this.amountMinor = 0;
  }

  setReferencePrice(instrument: number, priceTicks: number): void {
    this.moveReference(this.ins[instrument]!, priceTicks);
  }

  /** setReferencePrice on the instrument's figures; also onTrade's (private, so a subclass that records calls does not see it twice). */
  private moveReference(x: InstrumentFigures, priceTicks: number): void {
    if (x.ref === priceTicks) return;
    x.ref = priceTicks;
    // Every trade moves the reference, mostly among a few prices: the cache has their notional.
    x.refPerLot = this.rc[this.reserveSlot(x.index, priceTicks) + R_NOTIONAL]!;
  }

  referencePrice(instrument: number): number {
    return this.ins[instrument]!.ref;
  }

  setKillSwitch(account: number, on: boolean): void {
    const e = this.ents[account]!;
    e.ownKill = on ? 1 : 0;
    e.killed = on || e.firm.ownKill === 1 ? 1 : 0;
  }

  /** Also sets each of the firm's accounts' combined flag, so that a check reads one flag (kill switches move rarely). */
  setFirmKillSwitch(firm: number, on: boolean): void {
    const f = this.ents[this.nA + firm]!;
    f.ownKill = f.killed = on ? 1 : 0;
    for (let a = 0; a < this.nA; a++) {
      const e = this.ents[a]!;
      if (e.firm === f) e.killed = on || e.ownKill === 1 ? 1 : 0;
    }
  }

  isKilled(account: number): boolean {
    return this.ents[account]!.killed === 1;
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
      const x = this.ins[instrument]!;
      const n1 = mulDivCeil(priceTicks, x.num, x.den);
      rc[k + R_NOTIONAL] = n1;
      rc[k + R_CASH] = n1 + bpsCeil(n1, x.fee);
      rc[k + R_MARGIN] = this.imPerLot[instrument]!(priceTicks);
      rc[k + R_PX] = priceTicks;
    }
    return k;
  }

  /**
   * Margin reserved for one side of a margin account's open orders in one instrument: the
   * margin of the lots that would OPEN or grow a position if all of them filled. `closable`
   * is what that side can close first (the short for buys, the long for sells; <= 0: none),
   * `lots` the side's open lots, and `amountMinor` their linear margin on the way in and the
   * reserved margin on the way out (amounts go by field, see amountMinor); the opening lots are
   * valued at the side's average margin per lot, rounded up. The two sides add up
   * (conservative: at most one side can fill against the position), so with no position, or
   * on the side that grows it, this is the linear per-order reservation.
   *
   * The only branch on the flow is the rare side whose orders would close the whole position
   * and open the other way (0 < closable < lots; the sign of a product is exact). Its split
   * makes no call below 2^53: the float quotient's ceiling is exact there (a quotient that is
   * not an integer lies at least 1/lots above one, more than the division's rounding).
   */
  private opening(closable: number, lots: number): void {
    const im = this.amountMinor;
    if (closable * (lots - closable) > 0) {
      const part = lots - closable;
      const p = part * im;
      this.amountMinor = p <= MAX_SAFE ? Math.ceil(p / lots) : mulDivCeil(part, im, lots);
    } else {
      this.amountMinor = im * +(closable <= 0);
    }
  }

  /**
   * Growth of a margin account's reservation if its open orders on `side` in cell `c` changed
   * by `lots` with linear margin `amountMinor` (both signed), the position staying: read from
   * and written to `amountMinor`, not passed, for the reason at `amountMinor`.
   */
  private marginGrowth(c: Cell, side: Side, lots: number): void {
    // The buys can close -position, the sells +position.
    const closable = side === BUY ? -c.pos : c.pos;
    const open = side === BUY ? c.buy : c.sell;
    const openIm = side === BUY ? c.buyIm : c.sellIm;
    this.amountMinor += openIm;
    this.opening(closable, open + lots);
    const after = this.amountMinor;
    this.amountMinor = openIm;
    this.opening(closable, open);
    this.amountMinor = after - this.amountMinor;
  }

  /**
   * What margin account `e`'s open orders reserve, into `amountMinor`: over its listed cells,
   * each side's margin of the lots that would open or grow a position (`opening`).
   */
  private marginReserved(e: Entity): void {
    let sum = 0;
    const list = e.xCells;
    let n = e.nX;
    for (let j = 0; j < n; ) {
      const k = list[j]!;
      const pos = k.pos;
      if (pos === 0 && k.buy === 0 && k.sell === 0) {
        // An empty cell reserves nothing; dropped as in exposureAfter.
        list[j] = list[--n]!;
        k.listed = 0;
        continue;
      }
      let need = k.buyIm;
      if (pos < 0) {
        this.amountMinor = need;
        this.opening(-pos, k.buy);
        need = this.amountMinor;
      }
      if (pos <= 0) need += k.sellIm;
      else {
        this.amountMinor = k.sellIm;
        this.opening(pos, k.sell);
        need += this.amountMinor;
      }
      sum += need;
      j++;
    }
    e.nX = n;
    this.amountMinor = sum;
  }

  /** Checks an order and books nothing (what-if callers, tests). */
  check(account: number, instrument: number, side: Side, priceTicks: number, sizeLots: number, tsNs: number): 0 | RejectReason {
    this.nowNs = tsNs;
    return this.checkOrder(SCRATCH_ORDER, account, instrument, side, priceTicks, sizeLots);
  }

  /**
   * Checks order `orderId` (SCRATCH_ORDER: check only) at virtual time `nowNs` and, if it passes, books it as accepted
   * with `sizeLots` open at `priceTicks`, exactly as `onOrder(Accepted, …)` would. Booking here
   * reuses what the check has just read (the account's cell, its firm's, the per-lot
   * reservation and the reservation's growth), and saves the exchange a second call into risk
   * per order; before, the accept's own call read it all again, ~250 instructions more than a fill.
   */
  checkOrder(orderId: number, account: number, instrument: number, side: Side, priceTicks: number, sizeLots: number): 0 | RejectReason {
    if (!(account >= 0 && account < this.nA)) return RejectReason.UnknownAccount;
    if (!(instrument >= 0 && instrument < this.nI)) return RejectReason.UnknownInstrument;
    const e = this.ents[account]!;
    if (e.killed === 1) return RejectReason.KillSwitch;
    if (sizeLots > e.orderLots) return RejectReason.MaxOrderSize;
    const x = this.ins[instrument]!;
    const collar = e.collar;
    if (collar !== NONE) {
      const ref = x.ref;
      const dev = priceTicks > ref ? priceTicks - ref : ref - priceTicks;
      if (dev * 10_000 > ref * collar) return RejectReason.PriceCollar;
    }
    const maxNotional = e.notional;
    if (maxNotional !== NONE && notionalMinor(priceTicks, sizeLots, x.num, x.den) > maxNotional) return RejectReason.MaxOrderNotional;
    const limits = e.limits;
    const f = e.firm;
    if (e.firmSums !== 0 && f.pinned === 0 && (++f.sumsChecks & (LEAVE_SUMS_EVERY - 1)) === 0) leaveSums(f);
    if ((limits & LIMITS_OPEN) !== 0 && ((e.open + 1 > e.openQuota && (e.open + 1 > e.maxOpen || firmOpenRefuses(e))) || (e.firmSums !== 0 && f.open + 1 > f.maxOpen))) return RejectReason.MaxOpenOrders;
    let sec = 0;
    let rA = 0;
    let rF = 0;
    const rate = limits & (LIMITS_RATE | LIMITS_FIRM_RATE);
    if (rate !== 0) {
      // Virtual time rarely leaves the current second between two checks: no division then.
      const tsNs = this.nowNs;
      if (!(tsNs >= this.secStartNs && tsNs < this.secStartNs + NS_PER_SECOND)) {
        this.sec = Math.floor(tsNs / NS_PER_SECOND);
        this.secStartNs = this.sec * NS_PER_SECOND;
      }
      sec = this.sec;
      if ((rate & LIMITS_RATE) !== 0) {
        rA = e.rateWin === sec ? e.rateCnt : 0;
        if (rA + 1 > e.maxRate) return RejectReason.RateLimit;
      }
      if ((rate & LIMITS_FIRM_RATE) !== 0) {
        rF = f.rateWin === sec ? f.rateCnt : 0;
        if (rF + 1 > f.maxRate) return RejectReason.RateLimit;
      }
    }
    // From Risk's one array of cells rather than an array per entity: one object fewer to fetch.
    const c = this.cells[account * this.nI + instrument]!;
    const limitReason = positionAndExposure(c, side, sizeLots, (limits & LIMITS_EXPOSURE) !== 0);
    if (limitReason !== 0) return limitReason;
    // Check 9. `perLot` is what one lot of the order reserves, `need` the growth of the
    // account's reservation with the order.
    let perLot = 0;
    let need = 0;
    if (e.margin === 1) {
      perLot = this.rc[this.reserveSlot(instrument, priceTicks) + R_MARGIN]!;
      const im = sizeLots * perLot;
      // The side's orders can close -position (buys) or +position (sells); with nothing to
      // close, the growth is the order's whole margin (the rest is marginGrowth's case).
      const closable = side === BUY ? -c.pos : c.pos;
      need = im;
      if (closable > 0) {
        this.amountMinor = im;
        this.marginGrowth(c, side, sizeLots);
        need = this.amountMinor;
      }
      if (need > 0) {
        this.marginReserved(e);
        this.asked.minor = need + this.amountMinor;
        if (!this.view.marginExcessCovers(account, this.asked)) return RejectReason.InsufficientMargin;
      }
    } else if (side === BUY) {
      perLot = this.rc[this.reserveSlot(instrument, priceTicks) + R_CASH]!;
      need = sizeLots * perLot;
      if (need > 0) {
        this.asked.minor = need + e.reserved;
        if (!this.view.buyingPowerCovers(account, e.unsettledUse, this.asked)) return RejectReason.InsufficientBuyingPower;
      }
    }
    if ((rate & LIMITS_RATE) !== 0) {
      e.rateWin = sec;
      e.rateCnt = rA + 1;
    }
    if ((rate & LIMITS_FIRM_RATE) !== 0) {
      f.rateWin = sec;
      f.rateCnt = rF + 1;
    }
    if (orderId === SCRATCH_ORDER) return 0;
    // Booked at once, as onOrder's accept, from the figures the check has just read.
    const k = this.takeSlot(orderId) * OS;
    this.ord[k + O_LEAVES] = sizeLots;
    this.ord[k + O_PX] = priceTicks;
    this.ord[k + O_PER_LOT] = perLot;
    this.ordI[k + k + O_CELL_SIDE] = (account * this.nI + instrument) * 2 + side;
    const buy = side === BUY ? sizeLots : 0;
    const sell = sizeLots - buy;
    const cBuy = c.buy + buy;
    const cSell = c.sell + sell;
    c.buy = cBuy;
    c.sell = cSell;
    e.open += 1;
    if (c.listed === 0 && e.held !== 0) list(c);
    if (e.firmSums !== 0) {
      const fc = c.firmCell;
      fc.buy += buy;
      fc.sell += sell;
      f.open += 1;
      if (fc.listed === 0 && f.held !== 0) list(fc);
    }
    if (e.margin === 1) {
      c.buyIm += buy * perLot;
      c.sellIm += sell * perLot;
    } else {
      e.reserved += need;
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
    const e = this.ents[account]!;
    if (e.killed === 1) return RejectReason.KillSwitch;
    if (sizeLots > e.orderLots) return RejectReason.MaxOrderSize;
    const x = this.ins[instrument]!;
    const collar = e.collar;
    if (collar !== NONE) {
      const ref = x.ref;
      const dev = priceTicks > ref ? priceTicks - ref : ref - priceTicks;
      if (dev * 10_000 > ref * collar) return RejectReason.PriceCollar;
    }
    const maxNotional = e.notional;
    if (maxNotional !== NONE && notionalMinor(priceTicks, sizeLots, x.num, x.den) > maxNotional) return RejectReason.MaxOrderNotional;
    const c = this.cells[account * this.nI + instrument]!;
    const more = sizeLots - oldLeavesLots;
    if (more > 0) {
      const limitReason = positionAndExposure(c, side, more, (e.limits & LIMITS_EXPOSURE) !== 0);
      if (limitReason !== 0) return limitReason;
    }
    return this.reserveGrowthReason(account, instrument, side, c, oldPriceTicks, oldLeavesLots, priceTicks, sizeLots);
  }

  /**
   * Buying power or margin for an order whose `oldLeavesLots` open at `oldPriceTicks` would
   * become `sizeLots` at `priceTicks` (in cell `c`): 0, or the reason its reservation cannot grow.
   */
  private reserveGrowthReason(account: number, instrument: number, side: Side, c: Cell, oldPriceTicks: number, oldLeavesLots: number, priceTicks: number, sizeLots: number): 0 | RejectReason {
    const e = this.ents[account]!;
    if (e.margin === 1) {
      const rc = this.rc;
      const im = sizeLots * rc[this.reserveSlot(instrument, priceTicks) + R_MARGIN]! - oldLeavesLots * rc[this.reserveSlot(instrument, oldPriceTicks) + R_MARGIN]!;
      this.amountMinor = im;
      this.marginGrowth(c, side, sizeLots - oldLeavesLots);
      const need = this.amountMinor;
      if (need > 0) {
        this.marginReserved(e);
        this.asked.minor = need + this.amountMinor;
        if (!this.view.marginExcessCovers(account, this.asked)) return RejectReason.InsufficientMargin;
      }
      return 0;
    }
    // A cash account reserves for its buys only (R_CASH a lot), its sells nothing.
    if (side !== BUY) return 0;
    const rc = this.rc;
    const need = sizeLots * rc[this.reserveSlot(instrument, priceTicks) + R_CASH]! - oldLeavesLots * rc[this.reserveSlot(instrument, oldPriceTicks) + R_CASH]!;
    if (!(need > 0)) return 0;
    this.asked.minor = need + e.reserved;
    if (!this.view.buyingPowerCovers(account, e.unsettledUse, this.asked)) return RejectReason.InsufficientBuyingPower;
    return 0;
  }

  /**
   * Whether accepted order `orderId` can keep its open lots reserved at `priceTicks` instead
   * of its reservation price: buying power or margin for the growth only (nothing else about
   * the order changes). For a triggered stop-market order, whose walk of the book may end
   * beyond its stop price; then `modifyOrder(orderId, priceTicks, leaves)` moves it.
   */
  checkReserveAt(orderId: number, priceTicks: number): 0 | RejectReason {
    const k = this.recordOf(orderId);
    const cs = this.ordI[k + k + O_CELL_SIDE]!;
    const cell = cs >> 1;
    const leaves = this.ord[k + O_LEAVES]!;
    return this.reserveGrowthReason((cell / this.nI) | 0, cell % this.nI, (cs & 1) as Side, this.cells[cell]!, this.ord[k + O_PX]!, leaves, priceTicks, leaves);
  }

  /** The price accepted order `orderId` is reserved at. */
  reservationPrice(orderId: number): number {
    return this.ord[this.recordOf(orderId) + O_PX]!;
  }

  /** Open lots of accepted order `orderId`, as risk counts them. */
  openLotsOf(orderId: number): number {
    return this.ord[this.recordOf(orderId) + O_LEAVES]!;
  }

  /**
   * Accepted, filled or reduced by `lots`: order `orderId`'s record, then its account's and
   * firm's open lots, open orders and position, and the account's reservation or linear
   * margin. `account`, `instrument`, `side` and `priceTicks` (the reservation price) are read
   * for `Accepted` only; a fill or a reduction reads the order's cell and side from its record.
   */
  onOrder(change: OrderChange, orderId: number, account: number, instrument: number, side: Side, priceTicks: number, lots: number): void {
    if (change === ACCEPTED) this.accept(orderId, account, instrument, side, priceTicks, lots);
    else this.settle(change === FILLED ? 1 : 0, orderId, NO_ORDER, lots, NO_PRICE);
  }

  /**
   * A trade of `lots` at `priceTicks` between orders `takerId` and `makerId`: both fills, as
   * `onOrder(Filled, …)` each would book them, and the instrument's reference price moved to
   * the trade's (as `setReferencePrice`), in one call.
   */
  onTrade(takerId: number, makerId: number, lots: number, priceTicks: number): void {
    this.settle(1, takerId, makerId, lots, priceTicks);
  }

  /**
   * Order `orderId` booked with `lots` open at reservation price `priceTicks`, as checkOrder books
   * an order that passes. The booking is written out in both: checkOrder's is on every order's
   * path, and with the cell updates as one helper shared by the two the check ran slower
   * (1.49-1.52x against 1.47-1.51x in 6 alternated rounds, session 17).
   */
  private accept(orderId: number, account: number, instrument: number, side: Side, priceTicks: number, lots: number): void {
    if (!(account >= 0 && account < this.nA && instrument >= 0 && instrument < this.nI)) throw new InvariantError('risk: order accepted for an unknown account or instrument');
    const k = this.takeSlot(orderId) * OS;
    this.ord[k + O_LEAVES] = lots;
    this.ord[k + O_PX] = priceTicks;
    this.writePerLot(k, account, instrument, side, priceTicks);
    this.ordI[k + k + O_CELL_SIDE] = (account * this.nI + instrument) * 2 + side;
    const c = this.cells[account * this.nI + instrument]!;
    const e = c.entity;
    const buy = side === BUY ? lots : 0;
    const sell = lots - buy;
    c.buy += buy;
    c.sell += sell;
    e.open += 1;
    if (c.listed === 0 && e.held !== 0) list(c);
    if (e.firmSums !== 0) {
      const fc = c.firmCell;
      const f = e.firm;
      fc.buy += buy;
      fc.sell += sell;
      f.open += 1;
      if (fc.listed === 0 && f.held !== 0) list(fc);
    } else {
      afterUncheckedBooking(c);
    }
    const perLot = this.ord[k + O_PER_LOT]!;
    if (e.margin === 1) {
      c.buyIm += buy * perLot;
      c.sellIm += sell * perLot;
    } else {
      e.reserved += lots * perLot;
    }
  }

  /**
   * `lots` of order `orderId` filled (`filled` 1) or gone without trading (0), then, unless
   * `otherId` is NO_ORDER, the same for order `otherId` (a trade's maker): each order's record,
   * then its account's and firm's open lots, open orders and position (on a fill), and the
   * account's reservation or linear margin; then, unless `tradePx` is NO_PRICE, the
   * instrument's reference price moves to it.
   *
   * One flat function on purpose, the update path of every fill and cancel. The exchange calls
   * its hooks from its hottest functions (the book's match, cancel), and V8 inlines small
   * callees there out of a fixed bytecode budget per compiled function, the budget that
   * otherwise inlines the exchange's own helpers; a function this size is not inlined, so a
   * hook costs the exchange a call, not its helpers (onOrder and onTrade, each one call here,
   * are what is inlined). Splitting it into small helpers made matching itself slower with
   * risk on.
   */
  private settle(filled: 0 | 1, orderId: number, otherId: number, lots: number, tradePx: number): void {
    const o = this.ord;
    const oi = this.ordI;
    for (;;) {
      const slot = orderId < this.slotOf.length ? this.slotOf[orderId]! : 0;
      if (slot === 0 && orderId !== SCRATCH_ORDER) throw new InvariantError(filled === 1 ? 'risk: fill of an order that is not open' : 'risk: cancel of an order that is not open');
      const k = slot * OS;
      const leaves = o[k + O_LEAVES]! - lots;
      if (!(leaves >= 0)) throw new InvariantError(filled === 1 ? 'risk: fill of more than the order had open' : 'risk: cancel of more than the order had open');
      o[k + O_LEAVES] = leaves;
      const perLot = o[k + O_PER_LOT]!;
      const cellSide = oi[k + k + O_CELL_SIDE]!;
      if (leaves === 0 && slot !== 0) {
        this.free[this.nFree++] = slot;
        this.slotOf[orderId] = 0;
      }
      const sd = cellSide & 1;
      const c = this.cells[cellSide >> 1]!;
      const e = c.entity;
      const orders = leaves === 0 ? -1 : 0;
      // The side picks the open lots by multiplication, and a fill moves the position by
      // multiplication too: the flow's side is no pattern a branch predictor learns.
      const dBuy = -lots * (1 - sd);
      const dSell = -lots * sd;
      const posDelta = filled * (lots - 2 * lots * sd);
      const buy = c.buy + dBuy;
      const sell = c.sell + dSell;
      const open = e.open + orders;
      if (!(buy >= 0 && sell >= 0 && open >= 0)) throw new InvariantError('risk: more lots or orders closed than were open');
      c.pos += posDelta;
      c.buy = buy;
      c.sell = sell;
      e.open = open;
      if (e.firmSums !== 0) {
        const fc = c.firmCell;
        fc.pos += posDelta;
        fc.buy += dBuy;
        fc.sell += dSell;
        fc.entity.open += orders;
      }
      // A margin account's reservation is summed over its cells when a check needs it
      // (marginReserved); a cash account's is linear in its open buys.
      if (e.margin === 1) {
        c.buyIm += dBuy * perLot;
        c.sellIm += dSell * perLot;
      } else {
        e.reserved -= lots * perLot;
      }
      if (otherId === NO_ORDER) {
        // A trade's price becomes the reference (the second order's cell is in the same instrument).
        if (tradePx !== NO_PRICE) this.moveReference(c.instrument, tradePx);
        return;
      }
      orderId = otherId;
      otherId = NO_ORDER;
    }
  }

  /**
   * What one lot of an order reserves, written into its record at offset `k` (O_PER_LOT), not
   * returned: a lot's margin or cash can be beyond 2^31 minor units, and returned from a call
   * V8 does not inline such an amount is boxed.
   */
  private writePerLot(k: number, account: number, instrument: number, side: Side, priceTicks: number): void {
    // A margin account reserves margin on both sides, a cash account cash on its buys only.
    const field = this.ents[account]!.margin === 1 ? R_MARGIN : side === BUY ? R_CASH : -1;
    this.ord[k + O_PER_LOT] = field < 0 ? 0 : this.rc[this.reserveSlot(instrument, priceTicks) + field]!;
  }

  /** The record slot of newly accepted order `orderId` (SCRATCH_ORDER: slot 0), mapped from its id. */
  private takeSlot(orderId: number): number {
    // Doubling: growing by a fixed chunk would copy the map O(orders^2 / chunk) over a run.
    if (!(orderId < this.slotOf.length)) this.growSlotMap(orderId);
    if (this.slotOf[orderId] !== 0) throw new InvariantError(`risk: order ${orderId} accepted while open`);
    const slot = orderId === SCRATCH_ORDER ? 0 : this.nFree > 0 ? this.free[--this.nFree]! : this.newSlot();
    this.slotOf[orderId] = slot;
    return slot;
  }

  /** A slot never used before, the records and the free list grown by doubling when full. */
  private newSlot(): number {
    const slot = this.nSlots++;
    if ((slot + 1) * OS > this.ord.length) {
      const b = new Float64Array(this.ord.length * 2);
      b.set(this.ord);
      this.ord = b;
      this.ordI = new Int32Array(b.buffer);
      const f = new Int32Array(this.free.length * 2);
      f.set(this.free);
      this.free = f;
    }
    return slot;
  }

  private growSlotMap(orderId: number): void {
    const m = new Int32Array(Math.max(orderId + 1, this.slotOf.length * 2));
    m.set(this.slotOf);
    this.slotOf = m;
  }

  /** Offset of open order `orderId`'s record. */
  private recordOf(orderId: number): number {
    const slot = orderId < this.slotOf.length ? this.slotOf[orderId]! : 0;
    if (slot === 0 && orderId !== SCRATCH_ORDER) throw new InvariantError(`risk: order ${orderId} is not open`);
    return slot * OS;
  }

  /**
   * `checkModify` for an accepted order: it would keep `sizeLots` open at `priceTicks`. A
   * modify without a price (a pending stop-market's) keeps the reservation price.
   */
  checkModifyOrder(orderId: number, priceTicks: number, sizeLots: number): 0 | RejectReason {
    const k = this.recordOf(orderId);
    const oldPx = this.ord[k + O_PX]!;
    const cs = this.ordI[k + k + O_CELL_SIDE]!;
    const cell = cs >> 1;
    return this.checkModify((cell / this.nI) | 0, cell % this.nI, (cs & 1) as Side, oldPx, this.ord[k + O_LEAVES]!, priceTicks > 0 ? priceTicks : oldPx, sizeLots);
  }

  /**
   * An accepted order modified to `leavesLots` open at `priceTicks` (0: keeps its reservation
   * price), as risk sees a cancel-replace: the old reservation goes, the new one comes
   * (checked before by checkModifyOrder).
   */
  modifyOrder(orderId: number, priceTicks: number, leavesLots: number): void {
    const k = this.recordOf(orderId);
    const cs = this.ordI[k + k + O_CELL_SIDE]!;
    const cell = cs >> 1;
    const px = priceTicks > 0 ? priceTicks : this.ord[k + O_PX]!;
    // Its slot is freed with its last lot, and taken again by the accept.
    this.onOrder(OrderChange.Reduced, orderId, 0, 0, 0, 0, this.ord[k + O_LEAVES]!);
    this.onOrder(OrderChange.Accepted, orderId, (cell / this.nI) | 0, cell % this.nI, (cs & 1) as Side, px, leavesLots);
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
    this.writePerLot(k, account, instrument, side, priceTicks);
    this.ordI[k + k + O_CELL_SIDE] = (account * this.nI + instrument) * 2 + side;
  }

  openOrders(account: number): number {
    return this.ents[account]!.open;
  }
  /** Whether the firm keeps running sums now (near its limits, or with an exposure limit) rather than shares. */
  firmKeepsSums(firm: number): boolean {
    return this.ents[this.nA + firm]!.sums === 1;
  }
  firmOpenOrders(firm: number): number {
    let n = 0;
    for (const e of this.ents[this.nA + firm]!.members) n += e.open;
    return n;
  }
  position(account: number, instrument: number): number {
    return this.cells[account * this.nI + instrument]!.pos;
  }
  openLots(account: number, instrument: number, side: Side): number {
    const c = this.cells[account * this.nI + instrument]!;
    return side === BUY ? c.buy : c.sell;
  }
  reservedMinor(account: number): number {
    const e = this.ents[account]!;
    if (e.margin === 0) return e.reserved;
    this.marginReserved(e);
    return this.amountMinor;
  }
  grossExposureMinor(account: number): number {
    const e = this.ents[account]!;
    let g = 0;
    for (let j = 0; j < e.nX; j++) {
      const k = e.xCells[j]!;
      g += Math.max(Math.abs(k.pos + k.buy), Math.abs(k.pos - k.sell)) * k.instrument.refPerLot;
    }
    return g;
  }
}
