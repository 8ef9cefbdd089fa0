import { assert, InvariantError } from './assert.js';
import type { BookListener } from './book-listener.js';
import { OrderBook } from './book.js';
import { ClientOrders } from './client-orders.js';
import { CommandRecord, CommandType, FLAG_POST_ONLY, STP_ACCOUNT_DEFAULT } from './command.js';
import { EventRecord, EventType, type EventSink } from './event.js';
import { priceBand, type Instrument } from './instrument.js';
import { ReplayVenue, type FillLiquidity, type MarketTradeKind, type QueueModel, type ReplayListener } from './replay-venue.js';
import { CancelReason, NO_PRICE, OrderType, RejectReason, Side, StpMode, TimeInForce } from './types.js';

/**
 * The venue: one writer of state. It takes commands in virtual-time order,
 * checks them, routes them to the instrument's book, triggers stops, expires
 * DAY orders at the close, and reports every state change as a sequenced event.
 *
 * The book knows nothing of accounts' client ids, stops, bands or sessions;
 * those venue rules live here so the matching loop stays small and fast.
 */

export interface ExchangeAccount {
  readonly name: string;
  readonly stp: StpMode;
}

/**
 * Stages beside the book (pre-trade risk before it, clearing after it), kept out of the
 * exchange so the venue stays generic: with no hooks the exchange behaves exactly as before.
 * Primitive arguments only, so a call allocates nothing. Hooks may publish their own events
 * through `beginExtra`/`publishExtra` (one sequence), but must not apply commands.
 */
export interface OrderHooks {
  /**
   * After the venue's own checks, before the book: 0 to pass, or a RejectReason. `orderId` is
   * the id the order gets if it passes, so a hook may book the order here, while it has the
   * figures the booking moves at hand (risk does); `onRefused` undoes that if the book then
   * refuses the order.
   */
  check(c: CommandRecord, orderId: number): number;
  /**
   * Order `orderId` passed `check`, but the book refused it (a FOK it cannot fill, a post-only
   * that would cross, a market order with no liquidity): it was never accepted, and no other
   * hook is called for it. Optional.
   */
  onRefused?(orderId: number): void;
  /** The order was accepted (its accepted event is out) with `sizeLots` open. Optional: risk books an order at its check. */
  onAccepted?(orderId: number, account: number, instrument: number, side: number, orderType: number, sizeLots: number): void;
  /** One fill, after its trade event. */
  onTrade(tradeId: number, instrument: number, takerOrderId: number, makerOrderId: number, takerAccount: number, makerAccount: number, takerSide: number, priceTicks: number, sizeLots: number): void;
  /**
   * One fill of an own order against a recorded market (a replayed instrument), after its
   * `fill` event: the counterparty is the recorded market, not an account. `liquidity` is the
   * FillLiquidity (1 taker: the order crossed; otherwise it rested and was reached). Required
   * when any instrument is replayed: without it those fills would bypass clearing.
   */
  onFill?(tradeId: number, instrument: number, orderId: number, account: number, side: number, priceTicks: number, sizeLots: number, liquidity: number): void;
  /** `lots` of the order left without trading (cancel, expiry, IOC remainder, STP, refused stop). */
  onReduced(orderId: number, lots: number): void;
  /** The order now has `leavesLots` open at `priceTicks` (0 for orders without a limit price). */
  onModified(orderId: number, priceTicks: number, leavesLots: number): void;
  /**
   * A modify the venue accepts, before the book acts: 0 to pass, or a RejectReason (then a
   * modify-rejected event, and the order stands unchanged). `priceTicks` is 0 for orders
   * without a limit price; `sizeLots` the new open size. Optional: without it modifies are not checked.
   */
  checkModify?(orderId: number, priceTicks: number, sizeLots: number): number;
  /**
   * A stop order has triggered (its stop-triggered event is out) and is about to go to the
   * book with `sizeLots`: 0 to let it, or a RejectReason (then it is cancelled, reason `Risk`
   * with the RejectReason in flags, and `onReduced` follows). Optional.
   */
  onTriggered?(orderId: number, instrument: number, side: number, orderType: number, sizeLots: number): number;
}

export interface ExchangeConfig {
  readonly instruments: readonly Instrument[];
  readonly accounts: readonly ExchangeAccount[];
  /** Publish L1 quote events when the best bid/offer changes. */
  readonly quotes: boolean;
  /**
   * Depth of the published L2 view: after each command, every change within the top
   * `levels` price levels of a side is a level event (a level entering the view is
   * published with its size, one leaving it with size 0), with a per-instrument
   * sequence number. 0 turns L2 off.
   */
  readonly levels: number;
  /** Orders the venue can hold over a run (ids are never reused); a named limit, not a guess. */
  readonly ordersMax?: number;
  /**
   * Per instrument: a queue model if its market is replayed from recorded data
   * (a ReplayVenue instead of an order book, fed by Hist* commands), else null.
   */
  readonly replay?: readonly (QueueModel | null)[];
  /** Pre-trade risk and post-trade clearing (engine/back-office.ts); absent = none. */
  readonly orderHooks?: OrderHooks;
}

export const ORDERS_MAX_DEFAULT = 50_000_000;
/** Deepest L2 view the venue publishes. */
export const L2_LEVELS_MAX = 50;
/** Per-order arrays at start; they double when full. */
const ORDER_CHUNK = 1 << 16;

/** Per-order lifecycle, kept by the exchange beside the book. */
const enum OrderState {
  None = 0,
  PendingStop = 1,
  Live = 2,
  Done = 3,
}

export interface InstrumentStats {
  trades: number;
  volumeLots: number;
  openTicks: number;
  highTicks: number;
  lowTicks: number;
  closeTicks: number;
}

export interface L2Snapshot {
  instrument: number;
  mdSeq: number;
  bids: { priceTicks: number; sizeLots: number; orders: number }[];
  asks: { priceTicks: number; sizeLots: number; orders: number }[];
}

export interface L3Order {
  orderId: number;
  account: number;
  side: Side;
  priceTicks: number;
  leavesLots: number;
}

export class Exchange implements BookListener, ReplayListener {
  private readonly instruments: readonly Instrument[];
  private readonly accounts: readonly ExchangeAccount[];
  /** One venue per instrument: an order book, or a replay venue for a recorded market. */
  private readonly books: (OrderBook | ReplayVenue)[];
  private readonly ev = new EventRecord();
  private readonly ordersMax: number;
  private readonly hooks: OrderHooks | null;

  private seq = 0;
  private tradeSeq = 0;
  private nextOrderId = 1;
  private nowNs = 0;
  private open = false;
  /** Instrument of the command being applied: book callbacks carry no instrument. */
  private cur = 0;
  /** Order whose accepted event waits for the book's first report (see submit). */
  private pendingAccept = 0;
  /** Modify whose event waits for the book's first report (see modify). */
  private pendingModify = 0;
  private pendingModifyPrice = 0;
  private pendingModifySize = 0;
  private pendingModifyKept = false;
  /** A book level changed since the L2 view was last published. */
  private l2Dirty = false;

  // Per order, indexed by order id (struct of arrays, grown in chunks).
  private oAccount = new Int32Array(0);
  private oInstrument = new Int32Array(0);
  private oClOrdId = new Float64Array(0);
  private oState = new Uint8Array(0);
  private oSide = new Uint8Array(0);
  private oType = new Uint8Array(0);
  private oTif = new Uint8Array(0);
  private oFlags = new Uint8Array(0);
  private oStp = new Uint8Array(0);
  private oPrice = new Float64Array(0);
  private oSize = new Float64Array(0);
  private oStop = new Float64Array(0);

  /** (account, clOrdId) -> live order id; entries leave when the order is done. */
  private readonly clOrd = new ClientOrders();
  /** Pending stop order ids per instrument, in acceptance order (time priority among triggers). */
  private readonly stops: number[][];
  private readonly lastTradeTicks: number[];
  private readonly mdSeq: number[];
  private readonly stats: InstrumentStats[];
  // Last published quote per instrument, to publish only changes.
  private readonly qBid: Float64Array;
  private readonly qBidSize: Float64Array;
  private readonly qAsk: Float64Array;
  private readonly qAskSize: Float64Array;

  constructor(
    cfg: ExchangeConfig,
    private readonly sink: EventSink,
  ) {
    this.instruments = cfg.instruments;
    this.accounts = cfg.accounts;
    this.quotes = cfg.quotes;
    this.levels = cfg.levels;
    this.ordersMax = cfg.ordersMax ?? ORDERS_MAX_DEFAULT;
    this.hooks = cfg.orderHooks ?? null;
    if (this.hooks !== null && this.hooks.onFill === undefined && (cfg.replay ?? []).some((q) => q !== null)) {
      throw new InvariantError('order hooks without onFill on a venue with replayed instruments: own fills against the recorded market would bypass them');
    }
    const n = cfg.instruments.length;
    this.books = cfg.instruments.map((_, i) => {
      const q = cfg.replay?.[i] ?? null;
      return q === null ? new OrderBook(this) : new ReplayVenue(this, q);
    });
    this.stops = cfg.instruments.map(() => []);
    this.lastTradeTicks = cfg.instruments.map(() => NO_PRICE);
    this.mdSeq = cfg.instruments.map(() => 0);
    this.stats = cfg.instruments.map(() => ({ trades: 0, volumeLots: 0, openTicks: NO_PRICE, highTicks: NO_PRICE, lowTicks: NO_PRICE, closeTicks: NO_PRICE }));
    this.qBid = new Float64Array(n).fill(NO_PRICE);
    this.qAsk = new Float64Array(n).fill(NO_PRICE);
    this.qBidSize = new Float64Array(n);
    this.qAskSize = new Float64Array(n);
    if (!Number.isInteger(this.levels) || this.levels < 0 || this.levels > L2_LEVELS_MAX) throw new InvariantError(`levels must be 0..${L2_LEVELS_MAX}, got ${this.levels}`);
    this.l2View = Array.from({ length: n * 2 }, () => new Float64Array(this.levels * 3));
    this.l2Len = new Int32Array(n * 2);
    this.l2Px = new Float64Array(this.levels);
    this.l2Sz = new Float64Array(this.levels);
    this.l2Ct = new Float64Array(this.levels);
    this.grow(ORDER_CHUNK);
  }

  private readonly quotes: boolean;
  private readonly levels: number;
  /** Last published L2 view per instrument and side: [instrument * 2 + side] -> levels * (price, size, count). */
  private readonly l2View: Float64Array[];
  private readonly l2Len: Int32Array;
  private readonly l2Px: Float64Array;
  private readonly l2Sz: Float64Array;
  private readonly l2Ct: Float64Array;

  // ---- queries -------------------------------------------------------------

  get lastSeq(): number {
    return this.seq;
  }
  get isOpen(): boolean {
    return this.open;
  }
  book(instrument: number): OrderBook {
    const b = this.books[instrument]!;
    if (!(b instanceof OrderBook)) throw new InvariantError(`instrument ${instrument} is replayed: it has a replay venue, not an order book`);
    return b;
  }
  /** The replay venue of a replayed instrument, else null. */
  replayVenue(instrument: number): ReplayVenue | null {
    const b = this.books[instrument]!;
    return b instanceof ReplayVenue ? b : null;
  }
  /** Orders resting at the venue for an instrument (own orders only on a replayed one). */
  /**
   * Every book's full consistency check (brute-force BBO, order pool, levels): O(book),
   * for tests and the run's --check-invariants mode, never on the hot path.
   */
  checkInvariants(): void {
    for (const b of this.books) b.checkInvariants();
  }
  restingCount(instrument: number): number {
    return this.books[instrument]!.restingCount();
  }
  instrumentStats(instrument: number): Readonly<InstrumentStats> {
    return this.stats[instrument]!;
  }
  lastTrade(instrument: number): number {
    return this.lastTradeTicks[instrument]!;
  }
  /** The venue order id of an account's live order, or 0. */
  orderIdOf(account: number, clOrdId: number): number {
    return this.clOrd.get(account, clOrdId);
  }
  /** The account's clOrdId of a venue order id (0 if the id was never used). */
  clOrdIdOf(orderId: number): number {
    return orderId > 0 && orderId < this.nextOrderId ? this.oClOrdId[orderId]! : 0;
  }
  /** The account of a venue order id (0 if the id was never used). */
  accountOf(orderId: number): number {
    return orderId > 0 && orderId < this.nextOrderId ? this.oAccount[orderId]! : 0;
  }
  pendingStops(instrument: number): readonly number[] {
    return this.stops[instrument]!;
  }

  snapshotL2(instrument: number, maxLevels: number): L2Snapshot {
    const book = this.books[instrument]!;
    const side = (s: Side) => {
      const px = new Float64Array(maxLevels);
      const sz = new Float64Array(maxLevels);
      const ct = new Float64Array(maxLevels);
      const k = book.depth(s, maxLevels, px, sz, ct);
      const out: L2Snapshot['bids'] = [];
      for (let i = 0; i < k; i++) out.push({ priceTicks: px[i]!, sizeLots: sz[i]!, orders: ct[i]! });
      return out;
    };
    return { instrument, mdSeq: this.mdSeq[instrument]!, bids: side(Side.Buy), asks: side(Side.Sell) };
  }

  /** Every resting order, best price first and in queue order within a price. */
  snapshotL3(instrument: number): { bids: L3Order[]; asks: L3Order[] } {
    const book = this.books[instrument]!;
    const collect = (s: Side) => {
      const out: L3Order[] = [];
      book.forEachOrder(s, (orderId, priceTicks, leavesLots) => {
        out.push({ orderId, account: this.oAccount[orderId]!, side: s, priceTicks, leavesLots });
      });
      return out;
    };
    return { bids: collect(Side.Buy), asks: collect(Side.Sell) };
  }

  // ---- session -------------------------------------------------------------

  openSession(tsNs: number): void {
    this.setTime(tsNs);
    assert(!this.open, 'session already open');
    this.open = true;
    this.begin(EventType.SessionOpen);
    this.ev.instrument = -1;
    this.publish();
  }

  /** Close: every DAY order, resting or pending stop, expires; then the session-close event. */
  closeSession(tsNs: number): void {
    this.setTime(tsNs);
    assert(this.open, 'session not open');
    for (let i = 0; i < this.books.length; i++) {
      this.cur = i;
      const book = this.books[i]!;
      const day: number[] = [];
      const pick = (orderId: number) => {
        if (this.oTif[orderId] === TimeInForce.DAY) day.push(orderId);
      };
      book.forEachOrder(Side.Buy, pick);
      book.forEachOrder(Side.Sell, pick);
      // Expire in order-id (arrival) order so the stream does not depend on book layout.
      day.sort((a, b) => a - b);
      for (const id of day) book.cancel(id, CancelReason.Expired);
      const stops = this.stops[i]!;
      for (let k = 0; k < stops.length; ) {
        const id = stops[k]!;
        if (this.oTif[id] === TimeInForce.DAY) {
          stops.splice(k, 1);
          this.finishExpired(id, this.oSize[id]!);
        } else k++;
      }
      this.publishQuote();
    }
    this.open = false;
    this.begin(EventType.SessionClose);
    this.ev.instrument = -1;
    this.publish();
  }

  /** A scenario action is about to be applied: audited as its own event. */
  noteAction(tsNs: number, actionIndex: number, account: number, clOrdId: number): void {
    this.setTime(tsNs);
    this.begin(EventType.Action);
    this.ev.actionIndex = actionIndex;
    this.ev.account = account;
    this.ev.clOrdId = clOrdId;
    this.ev.instrument = -1;
    this.publish();
  }

  /**
   * For stages beside the book (back office, payments): start an event of `type` at `tsNs`
   * (not before the current time), in the venue's one sequence; fill the returned record
   * (instrument starts at -1, "none"), then `publishExtra()`. The record is the exchange's
   * own: nothing else may be published in between, and never from inside onEvent.
   */
  beginExtra(type: EventType, tsNs: number): EventRecord {
    this.setTime(tsNs);
    return this.beginExtraNow(type);
  }

  /** `beginExtra` at the current virtual time: what a hook emits about the command being applied (no time argument to box). */
  beginExtraNow(type: EventType): EventRecord {
    this.begin(type);
    this.ev.instrument = -1;
    return this.ev;
  }

  publishExtra(): void {
    this.publish();
  }

  /** Virtual time of the last command, session change or extra event. */
  get timeNs(): number {
    return this.nowNs;
  }

  // ---- commands ------------------------------------------------------------

  apply(c: CommandRecord): void {
    this.setTime(c.tsNs);
    switch (c.type) {
      case CommandType.Submit:
        this.submit(c);
        break;
      case CommandType.Cancel:
        this.cancel(c);
        break;
      case CommandType.Modify:
        this.modify(c);
        break;
      case CommandType.HistAdd:
      case CommandType.HistReduce:
      case CommandType.HistExecute:
      case CommandType.HistTrade:
      case CommandType.HistClear:
        this.applyHistory(c);
        break;
      case CommandType.EndOfStream:
        break;
      default:
        assert(false, `unknown command type ${c.type as number}`);
    }
  }

  /** A recorded market event: applies whether or not the session is open (history happened). */
  private applyHistory(c: CommandRecord): void {
    const v = this.books[c.instrument];
    if (!(v instanceof ReplayVenue)) throw new InvariantError(`recorded market event for instrument ${c.instrument}, which is not replayed`);
    this.cur = c.instrument;
    v.nowNs = this.nowNs;
    const side = c.side as Side;
    switch (c.type) {
      case CommandType.HistAdd:
        v.histAdd(side, c.priceTicks, c.sizeLots);
        break;
      case CommandType.HistReduce:
        v.histReduce(side, c.priceTicks, c.sizeLots);
        break;
      case CommandType.HistExecute:
        v.histExecute(side, c.priceTicks, c.sizeLots, c.clOrdId);
        break;
      case CommandType.HistTrade:
        v.histTrade(c.side, c.priceTicks, c.sizeLots, c.flags as MarketTradeKind, c.clOrdId);
        break;
      default:
        v.histClear(c.side);
    }
    this.triggerStops();
    this.publishQuote();
  }

  private submit(c: CommandRecord): void {
    const instrument = c.instrument;
    const account = c.account;
    const reject = this.checkSubmit(c);
    if (reject !== 0) {
      this.emitRejected(c, reject);
      return;
    }
    const id = this.nextOrderId++;
    // Doubling: a fixed chunk copied every per-order array O(orders^2 / chunk) times over a run
    // (0.29 s of a 1M-order day in a profile, the 16th growth copying ~60 MB).
    if (id >= this.oState.length) this.grow(this.oState.length * 2);
    this.oAccount[id] = account;
    this.oInstrument[id] = instrument;
    this.oClOrdId[id] = c.clOrdId;
    this.oSide[id] = c.side;
    this.oType[id] = c.orderType;
    // A stop's tif governs its life while pending (DAY stops expire at the close);
    // orders without a limit price never rest, so the book gets IOC or FOK for them.
    this.oTif[id] = c.tif;
    this.oFlags[id] = c.flags;
    this.oStp[id] = c.stp === STP_ACCOUNT_DEFAULT ? this.accounts[account]!.stp : c.stp;
    this.oPrice[id] = c.orderType === OrderType.Market || c.orderType === OrderType.StopMarket ? 0 : c.priceTicks;
    this.oSize[id] = c.sizeLots;
    this.oStop[id] = c.orderType === OrderType.StopMarket || c.orderType === OrderType.StopLimit ? c.stopPriceTicks : 0;
    this.clOrd.add(account, c.clOrdId, id);

    this.cur = instrument;
    if (c.orderType === OrderType.StopMarket || c.orderType === OrderType.StopLimit) {
      this.emitAccepted(id);
      this.oState[id] = OrderState.PendingStop;
      this.stops[instrument]!.push(id);
    } else {
      // Announced lazily: the book may still refuse it (FOK cannot fill, post-only
      // would cross, no liquidity) and then the order was never accepted at all.
      this.pendingAccept = id;
      const r = this.toBook(id);
      if (r !== 0) {
        assert(this.pendingAccept === id, 'book refused an order after reporting on it');
        this.pendingAccept = 0;
        this.clOrd.delete(account, c.clOrdId);
        this.nextOrderId--;
        if (this.hooks !== null && this.hooks.onRefused !== undefined) this.hooks.onRefused(id);
        this.emitRejected(c, r);
        return;
      }
      this.flushAccept();
      this.oState[id] = OrderState.Live;
      this.triggerStops();
    }
    this.publishQuote();
  }

  private emitRejected(c: CommandRecord, reason: number): void {
    this.begin(EventType.OrderRejected);
    this.ev.instrument = c.instrument;
    this.ev.account = c.account;
    this.ev.clOrdId = c.clOrdId;
    this.ev.side = c.side;
    this.ev.orderType = c.orderType;
    this.ev.tif = c.tif;
    this.ev.priceTicks = Number.isSafeInteger(c.priceTicks) ? c.priceTicks : 0;
    this.ev.sizeLots = Number.isSafeInteger(c.sizeLots) ? c.sizeLots : 0;
    this.ev.stopPriceTicks = Number.isSafeInteger(c.stopPriceTicks) ? c.stopPriceTicks : 0;
    this.ev.reason = reason;
    this.publish();
  }

  private emitAccepted(id: number): void {
    this.begin(EventType.OrderAccepted);
    this.fillOrderFields(id);
    this.ev.orderType = this.oType[id]!;
    this.ev.tif = this.oTif[id]!;
    this.ev.priceTicks = this.oPrice[id]!;
    this.ev.sizeLots = this.oSize[id]!;
    this.ev.stopPriceTicks = this.oStop[id]!;
    this.ev.flags = this.oFlags[id]!;
    this.publish();
    const h = this.hooks;
    if (h !== null && h.onAccepted !== undefined) h.onAccepted(id, this.oAccount[id]!, this.oInstrument[id]!, this.oSide[id]!, this.oType[id]!, this.oSize[id]!);
  }

  /** Emit the accepted event held back in submit(), before the first thing the book reports. */
  private flushAccept(): void {
    const id = this.pendingAccept;
    if (id === 0) return;
    this.pendingAccept = 0;
    this.emitAccepted(id);
  }

  /** Venue rules checked before the book, then the hooks' check. 0 = acceptable. */
  private checkSubmit(c: CommandRecord): number {
    const inst = this.instruments[c.instrument];
    if (inst === undefined || !Number.isInteger(c.instrument)) return RejectReason.UnknownInstrument;
    if (this.accounts[c.account] === undefined || !Number.isInteger(c.account)) return RejectReason.UnknownAccount;
    if (!this.open) return RejectReason.MarketClosed;
    if (!Number.isFinite(c.sizeLots) || c.sizeLots <= 0) return RejectReason.BadSize;
    if (!Number.isSafeInteger(c.sizeLots)) return RejectReason.BadLot;
    const type = c.orderType as OrderType;
    if (type !== OrderType.Limit && type !== OrderType.Market && type !== OrderType.StopMarket && type !== OrderType.StopLimit) return RejectReason.BadOrderType;
    const tif = c.tif as TimeInForce;
    if (tif !== TimeInForce.GTC && tif !== TimeInForce.DAY && tif !== TimeInForce.IOC && tif !== TimeInForce.FOK) return RejectReason.BadOrderType;
    if (c.side !== Side.Buy && c.side !== Side.Sell) return RejectReason.BadOrderType;
    const postOnly = (c.flags & FLAG_POST_ONLY) !== 0;
    if (postOnly && (type !== OrderType.Limit || tif === TimeInForce.IOC || tif === TimeInForce.FOK)) return RejectReason.BadOrderType;
    const priced = type === OrderType.Limit || type === OrderType.StopLimit;
    if (priced) {
      const r = this.checkPrice(c.instrument, c.priceTicks);
      if (r !== 0) return r;
    }
    if (type === OrderType.StopMarket || type === OrderType.StopLimit) {
      if (!Number.isFinite(c.stopPriceTicks)) return RejectReason.BadStopPrice;
      if (!Number.isSafeInteger(c.stopPriceTicks)) return RejectReason.BadTick;
      if (c.stopPriceTicks <= 0) return RejectReason.BadStopPrice;
      // A stop that would trigger at once is almost always a mistake; venues refuse it.
      const last = this.lastTradeTicks[c.instrument]!;
      if (last !== NO_PRICE && (c.side === Side.Buy ? c.stopPriceTicks <= last : c.stopPriceTicks >= last)) return RejectReason.BadStopPrice;
    }
    if (c.stp !== STP_ACCOUNT_DEFAULT && (c.stp < StpMode.None || c.stp > StpMode.CancelBoth)) return RejectReason.BadOrderType;
    if (this.clOrd.has(c.account, c.clOrdId)) return RejectReason.DuplicateClientOrderId;
    if (this.nextOrderId > this.ordersMax) return RejectReason.PoolFull;
    // The hooks' check (pre-trade risk) is called from here, not from submit: checkSubmit is
    // too big for V8 to inline, so what it inlines comes out of its own budget. Called from
    // submit, risk's check took the budget that inlines publishQuote and the book's depth
    // there, and matching slowed down by more than risk's own cost.
    return this.hooks !== null ? this.hooks.check(c, this.nextOrderId) : 0;
  }

  private checkPrice(instrument: number, priceTicks: number): number {
    if (!Number.isFinite(priceTicks)) return RejectReason.BadPrice;
    // A price off the tick grid arrives as a fractional tick count.
    if (!Number.isInteger(priceTicks)) return RejectReason.BadTick;
    if (priceTicks <= 0 || priceTicks > 0x7fffffff) return RejectReason.BadPrice;
    const inst = this.instruments[instrument]!;
    if (inst.priceBandBps > 0) {
      const last = this.lastTradeTicks[instrument]!;
      const band = priceBand(last === NO_PRICE ? inst.referencePriceTicks : last, inst.priceBandBps);
      if (priceTicks < band.lo || priceTicks > band.hi) return RejectReason.OutsidePriceBand;
    }
    return 0;
  }

  /** Hand an order to its book; 0 or the book's RejectReason (then the book is unchanged). */
  private toBook(id: number): number {
    const type = this.oType[id]!;
    const bookType = type === OrderType.Market || type === OrderType.StopMarket ? OrderType.Market : OrderType.Limit;
    const b = this.books[this.oInstrument[id]!]!;
    if (b instanceof ReplayVenue) b.nowNs = this.nowNs;
    return b.submit(
      id,
      this.oAccount[id]!,
      this.oSide[id]!,
      bookType,
      this.oPrice[id]!,
      this.oSize[id]!,
      bookType === OrderType.Market ? (this.oTif[id] === TimeInForce.FOK ? TimeInForce.FOK : TimeInForce.IOC) : this.oTif[id]!,
      (this.oFlags[id]! & FLAG_POST_ONLY) !== 0,
      this.oStp[id]!,
    );
  }

  private cancel(c: CommandRecord): void {
    const id = this.clOrd.get(c.account, c.clOrdId);
    if (id === 0 || this.oInstrument[id] !== c.instrument) {
      this.rejectCancel(EventType.CancelRejected, c, 0, RejectReason.UnknownOrder);
      return;
    }
    this.cur = this.oInstrument[id]!;
    if (this.oState[id] === OrderState.PendingStop) {
      const stops = this.stops[this.cur]!;
      stops.splice(stops.indexOf(id), 1);
      this.begin(EventType.OrderCancelled);
      this.fillOrderFields(id);
      this.ev.sizeLots = this.oSize[id]!;
      this.ev.reason = CancelReason.User;
      this.publish();
      if (this.hooks !== null) this.hooks.onReduced(id, this.oSize[id]!);
      this.done(id);
      return;
    }
    const b = this.books[this.cur]!;
    if (b instanceof ReplayVenue) b.nowNs = this.nowNs;
    const ok = b.cancel(id, CancelReason.User);
    if (!ok) throw new InvariantError(`order ${id} is live at the venue but not resting in its book`);
    this.publishQuote();
  }

  private modify(c: CommandRecord): void {
    const id = this.clOrd.get(c.account, c.clOrdId);
    if (id === 0 || this.oInstrument[id] !== c.instrument) {
      this.rejectCancel(EventType.ModifyRejected, c, 0, RejectReason.UnknownOrder);
      return;
    }
    if (!this.open) {
      this.rejectCancel(EventType.ModifyRejected, c, id, RejectReason.MarketClosed);
      return;
    }
    const instrument = this.oInstrument[id]!;
    this.cur = instrument;
    if (!Number.isFinite(c.sizeLots) || c.sizeLots <= 0) return this.rejectCancel(EventType.ModifyRejected, c, id, RejectReason.BadSize);
    if (!Number.isSafeInteger(c.sizeLots)) return this.rejectCancel(EventType.ModifyRejected, c, id, RejectReason.BadLot);
    const type = this.oType[id]!;
    const priced = type === OrderType.Limit || type === OrderType.StopLimit;
    // Orders without a limit price keep none; a modify can only resize them.
    const newPrice = priced ? c.priceTicks : 0;
    if (priced) {
      const r = this.checkPrice(instrument, newPrice);
      if (r !== 0) return this.rejectCancel(EventType.ModifyRejected, c, id, r);
    }
    if (this.oState[id] === OrderState.PendingStop) {
      if (newPrice === this.oPrice[id] && c.sizeLots === this.oSize[id]) return this.rejectCancel(EventType.ModifyRejected, c, id, RejectReason.ModifyNoChange);
      const refused = this.checkModifyHook(id, newPrice, c.sizeLots);
      if (refused !== 0) return this.rejectCancel(EventType.ModifyRejected, c, id, refused);
      this.oPrice[id] = newPrice;
      this.oSize[id] = c.sizeLots;
      this.emitModified(id, newPrice, c.sizeLots, false);
      return;
    }
    const book = this.books[instrument]!;
    if (book instanceof ReplayVenue) book.nowNs = this.nowNs;
    // Checked here, not by the book, because the modified event must precede any
    // trades a price change causes: announce first, then let the book act.
    const price = book.priceOf(id);
    const leaves = book.leavesOf(id);
    if (newPrice === price && c.sizeLots === leaves) return this.rejectCancel(EventType.ModifyRejected, c, id, RejectReason.ModifyNoChange);
    if ((this.oFlags[id]! & FLAG_POST_ONLY) !== 0 && newPrice !== price && this.wouldCross(instrument, this.oSide[id]!, newPrice)) {
      return this.rejectCancel(EventType.ModifyRejected, c, id, RejectReason.PostOnlyWouldCross);
    }
    const refused = this.checkModifyHook(id, newPrice, c.sizeLots);
    if (refused !== 0) return this.rejectCancel(EventType.ModifyRejected, c, id, refused);
    const kept = newPrice === price && c.sizeLots < leaves;
    // Announced lazily like an accept: the book may still refuse (no room for a new
    // level), and then the order must stand unchanged with no modified event.
    this.pendingModify = id;
    this.pendingModifyPrice = newPrice;
    this.pendingModifySize = c.sizeLots;
    this.pendingModifyKept = kept;
    const r = book.modify(id, newPrice, c.sizeLots);
    if (r !== 0) {
      assert(this.pendingModify === id, 'book refused a modify after reporting on it');
      this.pendingModify = 0;
      return this.rejectCancel(EventType.ModifyRejected, c, id, r);
    }
    this.flushModify();
    if (book.lastModifyKeptPriority !== kept) throw new InvariantError(`book and exchange disagree on priority for order ${id}`);
    this.oPrice[id] = newPrice;
    this.triggerStops();
    this.publishQuote();
  }

  /** Pre-trade risk of a modify (OrderHooks.checkModify), after the venue's own checks. */
  private checkModifyHook(id: number, priceTicks: number, sizeLots: number): number {
    const h = this.hooks;
    return h !== null && h.checkModify !== undefined ? h.checkModify(id, priceTicks, sizeLots) : 0;
  }

  private flushModify(): void {
    const id = this.pendingModify;
    if (id === 0) return;
    this.pendingModify = 0;
    this.emitModified(id, this.pendingModifyPrice, this.pendingModifySize, this.pendingModifyKept);
  }

  private wouldCross(instrument: number, side: number, priceTicks: number): boolean {
    const book = this.books[instrument]!;
    if (side === Side.Buy) {
      const ask = book.bestAsk();
      return ask !== NO_PRICE && priceTicks >= ask;
    }
    const bid = book.bestBid();
    return bid !== NO_PRICE && priceTicks <= bid;
  }

  private emitModified(id: number, priceTicks: number, sizeLots: number, kept: boolean): void {
    this.begin(EventType.OrderModified);
    this.fillOrderFields(id);
    this.ev.priceTicks = priceTicks;
    this.ev.sizeLots = sizeLots;
    this.ev.flags = kept ? 1 : 0;
    this.publish();
    if (this.hooks !== null) this.hooks.onModified(id, priceTicks, sizeLots);
  }

  private rejectCancel(type: EventType, c: CommandRecord, id: number, reason: number): void {
    this.begin(type);
    this.ev.instrument = c.instrument;
    this.ev.account = c.account;
    this.ev.orderId = id;
    this.ev.clOrdId = c.clOrdId;
    this.ev.reason = reason;
    this.publish();
  }

  // ---- stops ---------------------------------------------------------------

  /** Trigger every stop the last trade price has reached, in time priority, until none is left to trigger. */
  private triggerStops(): void {
    const instrument = this.cur;
    const stops = this.stops[instrument]!;
    if (stops.length === 0) return;
    for (;;) {
      const last = this.lastTradeTicks[instrument]!;
      if (last === NO_PRICE) return;
      let k = 0;
      for (; k < stops.length; k++) {
        const id = stops[k]!;
        const stop = this.oStop[id]!;
        if (this.oSide[id] === Side.Buy ? last >= stop : last <= stop) break;
      }
      if (k === stops.length) return;
      const id = stops[k]!;
      stops.splice(k, 1);
      this.begin(EventType.StopTriggered);
      this.fillOrderFields(id);
      this.ev.stopPriceTicks = this.oStop[id]!;
      this.ev.priceTicks = last;
      this.publish();
      this.oState[id] = OrderState.Live;
      this.cur = instrument;
      const h = this.hooks;
      const refused = h !== null && h.onTriggered !== undefined ? h.onTriggered(id, instrument, this.oSide[id]!, this.oType[id]!, this.oSize[id]!) : 0;
      if (refused !== 0) {
        this.cancelTriggered(id, CancelReason.Risk, refused);
        continue;
      }
      const r = this.toBook(id);
      // Accepted long ago, refused by the book now (FOK cannot fill, no liquidity for the
      // triggered market order): it ends cancelled, the book's reason in flags.
      if (r !== 0) this.cancelTriggered(id, CancelReason.ImmediateRemainder, r);
    }
  }

  /** A triggered stop that never reached the book ends cancelled, why in `flags` (a RejectReason). */
  private cancelTriggered(id: number, reason: CancelReason, flags: number): void {
    this.begin(EventType.OrderCancelled);
    this.fillOrderFields(id);
    this.ev.sizeLots = this.oSize[id]!;
    this.ev.reason = reason;
    this.ev.flags = flags;
    this.publish();
    if (this.hooks !== null) this.hooks.onReduced(id, this.oSize[id]!);
    this.done(id);
  }

  // ---- book callbacks (BookListener) -----------------------------------------

  onTrade(takerId: number, makerId: number, priceTicks: number, sizeLots: number, takerLeavesLots: number, makerLeavesLots: number): void {
    if (this.pendingAccept !== 0) this.flushAccept();
    if (this.pendingModify !== 0) this.flushModify();
    const i = this.cur;
    this.begin(EventType.Trade);
    this.ev.instrument = i;
    this.ev.tradeId = ++this.tradeSeq;
    this.ev.priceTicks = priceTicks;
    this.ev.sizeLots = sizeLots;
    this.ev.side = this.oSide[takerId]!;
    this.ev.orderId = takerId;
    this.ev.account = this.oAccount[takerId]!;
    this.ev.clOrdId = this.oClOrdId[takerId]!;
    this.ev.leavesLots = takerLeavesLots;
    this.ev.makerOrderId = makerId;
    this.ev.makerAccount = this.oAccount[makerId]!;
    this.ev.makerLeavesLots = makerLeavesLots;
    this.publish();
    this.noteTrade(i, priceTicks, sizeLots);
    if (this.hooks !== null) {
      this.hooks.onTrade(this.tradeSeq, i, takerId, makerId, this.oAccount[takerId]!, this.oAccount[makerId]!, this.oSide[takerId]!, priceTicks, sizeLots);
    }
    if (makerLeavesLots === 0) this.done(makerId);
    if (takerLeavesLots === 0) this.done(takerId);
  }

  /** Last price and day statistics: every print counts, own or recorded. */
  private noteTrade(i: number, priceTicks: number, sizeLots: number): void {
    this.lastTradeTicks[i] = priceTicks;
    const s = this.stats[i]!;
    if (s.trades === 0) {
      s.openTicks = s.highTicks = s.lowTicks = priceTicks;
    } else {
      if (priceTicks > s.highTicks) s.highTicks = priceTicks;
      if (priceTicks < s.lowTicks) s.lowTicks = priceTicks;
    }
    s.closeTicks = priceTicks;
    s.trades++;
    s.volumeLots += sizeLots;
  }

  onFill(orderId: number, priceTicks: number, sizeLots: number, leavesLots: number, liquidity: FillLiquidity, queueAtEntryLots: number, queueNs: number): void {
    if (this.pendingAccept !== 0) this.flushAccept();
    if (this.pendingModify !== 0) this.flushModify();
    const i = this.cur;
    this.begin(EventType.Fill);
    this.fillOrderFields(orderId);
    this.ev.tradeId = ++this.tradeSeq;
    this.ev.priceTicks = priceTicks;
    this.ev.sizeLots = sizeLots;
    this.ev.leavesLots = leavesLots;
    this.ev.code = liquidity;
    this.ev.makerLeavesLots = queueAtEntryLots;
    this.ev.ref = queueNs;
    this.publish();
    this.noteTrade(i, priceTicks, sizeLots);
    if (this.hooks !== null) this.hooks.onFill!(this.tradeSeq, i, orderId, this.oAccount[orderId]!, this.oSide[orderId]!, priceTicks, sizeLots, liquidity);
    if (leavesLots === 0) this.done(orderId);
  }

  onMarketTrade(restingSide: number, priceTicks: number, sizeLots: number, kind: MarketTradeKind, dataId: number): void {
    const i = this.cur;
    this.begin(EventType.MarketTrade);
    this.ev.instrument = i;
    this.ev.priceTicks = priceTicks;
    this.ev.sizeLots = sizeLots;
    this.ev.side = restingSide === Side.Buy ? Side.Sell : restingSide === Side.Sell ? Side.Buy : restingSide;
    this.ev.code = kind;
    this.ev.ref = dataId;
    this.publish();
    this.noteTrade(i, priceTicks, sizeLots);
  }

  onRest(orderId: number, side: Side, priceTicks: number, leavesLots: number): void {
    if (this.pendingAccept !== 0) this.flushAccept();
    if (this.pendingModify !== 0) this.flushModify();
    this.begin(EventType.OrderRested);
    this.fillOrderFields(orderId);
    this.ev.side = side;
    this.ev.priceTicks = priceTicks;
    this.ev.leavesLots = leavesLots;
    this.publish();
  }

  onCancel(orderId: number, cancelledLots: number, reason: CancelReason): void {
    if (this.pendingAccept !== 0) this.flushAccept();
    if (this.pendingModify !== 0) this.flushModify();
    if (reason === CancelReason.Expired) {
      this.finishExpired(orderId, cancelledLots);
      return;
    }
    this.begin(EventType.OrderCancelled);
    this.fillOrderFields(orderId);
    this.ev.sizeLots = cancelledLots;
    this.ev.reason = reason;
    this.publish();
    if (this.hooks !== null) this.hooks.onReduced(orderId, cancelledLots);
    this.done(orderId);
  }

  onLevel(_side: Side, _priceTicks: number, _sizeLots: number, _orderCount: number): void {
    if (this.pendingAccept !== 0) this.flushAccept();
    if (this.pendingModify !== 0) this.flushModify();
    if (this.levels > 0) this.l2Dirty = true;
  }

  /**
   * Publish what changed in the top-N view of each side since the last command.
   * A diff of two short sorted arrays: cheap, and it gives the consumer exactly
   * the window it asked for, including levels that enter it from below.
   */
  private publishLevels(): void {
    if (!this.l2Dirty) return;
    this.l2Dirty = false;
    const i = this.cur;
    const book = this.books[i]!;
    const n = this.levels;
    for (let side = 0; side < 2; side++) {
      const k = book.depth(side, n, this.l2Px, this.l2Sz, this.l2Ct);
      const view = this.l2View[i * 2 + side]!;
      const len = this.l2Len[i * 2 + side]!;
      // Walk both lists best-first; "better" is higher for bids, lower for asks.
      const better = (a: number, b: number) => (side === Side.Buy ? a > b : a < b);
      let a = 0;
      let b = 0;
      while (a < len || b < k) {
        const oldPx = a < len ? view[a * 3]! : NaN;
        const newPx = b < k ? this.l2Px[b]! : NaN;
        if (b >= k || (a < len && better(oldPx, newPx))) {
          this.emitLevel(i, side, oldPx, 0, 0);
          a++;
        } else if (a >= len || better(newPx, oldPx)) {
          this.emitLevel(i, side, newPx, this.l2Sz[b]!, this.l2Ct[b]!);
          b++;
        } else {
          if (view[a * 3 + 1] !== this.l2Sz[b] || view[a * 3 + 2] !== this.l2Ct[b]) this.emitLevel(i, side, newPx, this.l2Sz[b]!, this.l2Ct[b]!);
          a++;
          b++;
        }
      }
      for (let j = 0; j < k; j++) {
        view[j * 3] = this.l2Px[j]!;
        view[j * 3 + 1] = this.l2Sz[j]!;
        view[j * 3 + 2] = this.l2Ct[j]!;
      }
      this.l2Len[i * 2 + side] = k;
    }
  }

  /**
   * Publish the instrument's whole top-N L2 view as a snapshot in the stream: a
   * book-snapshot header carrying the current mdSeq, then one snapshot-level per
   * level (bids best first, then asks). A consumer that joins here resets its view
   * to the snapshot and applies level events with a higher mdSeq.
   */
  publishSnapshot(instrument: number, tsNs: number): void {
    if (this.levels === 0) return;
    this.setTime(tsNs);
    const i = instrument;
    const nb = this.l2Len[i * 2]!;
    const na = this.l2Len[i * 2 + 1]!;
    this.begin(EventType.BookSnapshot);
    this.ev.instrument = i;
    this.ev.mdSeq = this.mdSeq[i]!;
    this.ev.orderCount = nb;
    this.ev.code = na;
    this.publish();
    for (let side = 0; side < 2; side++) {
      const view = this.l2View[i * 2 + side]!;
      const len = side === 0 ? nb : na;
      for (let k = 0; k < len; k++) {
        this.begin(EventType.SnapshotLevel);
        this.ev.instrument = i;
        this.ev.mdSeq = this.mdSeq[i]!;
        this.ev.side = side;
        this.ev.priceTicks = view[k * 3]!;
        this.ev.sizeLots = view[k * 3 + 1]!;
        this.ev.orderCount = view[k * 3 + 2]!;
        this.publish();
      }
    }
  }

  private emitLevel(instrument: number, side: number, priceTicks: number, sizeLots: number, orderCount: number): void {
    this.begin(EventType.Level);
    this.ev.instrument = instrument;
    this.ev.mdSeq = ++this.mdSeq[instrument]!;
    this.ev.side = side;
    this.ev.priceTicks = priceTicks;
    this.ev.sizeLots = sizeLots;
    this.ev.orderCount = orderCount;
    this.publish();
  }

  /**
   * The book reports a modify through onCancel/onRest only when priority is lost;
   * the exchange learns the outcome from the book's return value. See modify().
   */

  // ---- helpers ---------------------------------------------------------------

  private finishExpired(id: number, lots: number): void {
    this.begin(EventType.OrderExpired);
    this.fillOrderFields(id);
    this.ev.sizeLots = lots;
    this.publish();
    if (this.hooks !== null) this.hooks.onReduced(id, lots);
    this.done(id);
  }

  private fillOrderFields(id: number): void {
    this.ev.instrument = this.oInstrument[id]!;
    this.ev.account = this.oAccount[id]!;
    this.ev.orderId = id;
    this.ev.clOrdId = this.oClOrdId[id]!;
    this.ev.side = this.oSide[id]!;
  }

  private done(id: number): void {
    if (this.oState[id] === OrderState.Done) return;
    this.oState[id] = OrderState.Done;
    this.clOrd.delete(this.oAccount[id]!, this.oClOrdId[id]!);
  }

  /** End of a command on the current instrument: market data out (L2 view, then L1). */
  private publishQuote(): void {
    if (this.levels > 0) this.publishLevels();
    if (!this.quotes) return;
    const i = this.cur;
    const book = this.books[i]!;
    const bid = book.bestPrice(Side.Buy);
    const ask = book.bestPrice(Side.Sell);
    const bidSize = bid === NO_PRICE ? 0 : book.bestSize(Side.Buy);
    const askSize = ask === NO_PRICE ? 0 : book.bestSize(Side.Sell);
    if (bid === this.qBid[i] && bidSize === this.qBidSize[i] && ask === this.qAsk[i] && askSize === this.qAskSize[i]) return;
    this.qBid[i] = bid;
    this.qBidSize[i] = bidSize;
    this.qAsk[i] = ask;
    this.qAskSize[i] = askSize;
    this.begin(EventType.Quote);
    this.ev.instrument = i;
    this.ev.bidPriceTicks = bid;
    this.ev.bidSizeLots = bidSize;
    this.ev.askPriceTicks = ask;
    this.ev.askSizeLots = askSize;
    this.publish();
  }

  private setTime(tsNs: number): void {
    if (!Number.isSafeInteger(tsNs) || tsNs < this.nowNs) {
      throw new InvariantError(`virtual time must be a safe integer that never goes back: ${tsNs} after ${this.nowNs}`);
    }
    this.nowNs = tsNs;
  }

  private begin(type: EventType): void {
    this.ev.clear();
    this.ev.type = type;
  }

  private publish(): void {
    this.ev.seq = ++this.seq;
    this.ev.tsNs = this.nowNs;
    this.sink.emit(this.ev);
  }

  private grow(n: number): void {
    const cap = Math.min(n, this.ordersMax + 1);
    const g = <T extends Int32Array | Float64Array | Uint8Array>(a: T, make: (k: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.oAccount = g(this.oAccount, (k) => new Int32Array(k));
    this.oInstrument = g(this.oInstrument, (k) => new Int32Array(k));
    this.oClOrdId = g(this.oClOrdId, (k) => new Float64Array(k));
    this.oState = g(this.oState, (k) => new Uint8Array(k));
    this.oSide = g(this.oSide, (k) => new Uint8Array(k));
    this.oType = g(this.oType, (k) => new Uint8Array(k));
    this.oTif = g(this.oTif, (k) => new Uint8Array(k));
    this.oFlags = g(this.oFlags, (k) => new Uint8Array(k));
    this.oStp = g(this.oStp, (k) => new Uint8Array(k));
    this.oPrice = g(this.oPrice, (k) => new Float64Array(k));
    this.oSize = g(this.oSize, (k) => new Float64Array(k));
    this.oStop = g(this.oStop, (k) => new Float64Array(k));
  }
}
