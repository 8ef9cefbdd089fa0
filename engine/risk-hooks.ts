/**
 * Pre-trade risk as the exchange's OrderHooks: the half of the back office that runs before
 * the book and keeps risk's open orders and positions current after it. The back office
 * delegates to one of these and adds clearing, fees, portfolio and marks around it; the risk
 * bench runs it alone, so what the bench measures is the product's path.
 *
 * Stages per order (exchange-core style): the exchange's own venue checks, then `check`
 * (risk, O(1), plus a book walk for market orders; an order that passes is booked there, by
 * `Risk.checkOrder`, so it costs one call into risk before the book rather than a check and
 * then an accept), the book (`onRefused` releases the booking if the book refuses the order),
 * then `onTrade`/`onFill` (risk's fill bookkeeping and reference price).
 *
 * Reservation prices: risk reserves an order at one price for its whole life, so that fills
 * and cancels release exactly what was reserved. Limit and stop-limit orders use their limit;
 * a market order uses the worst price it can trade at, found by walking the opposite side of
 * the book for its size (nothing can change the book between the check and the match); a
 * stop-market order uses its stop price (a known gap: it may fill worse once triggered).
 *
 * API
 * - `new RiskHooks(risk, referencePriceTicks)`: `referencePriceTicks[i]` is instrument i's
 *   price before its first trade (the fallback of a market order's walk on an empty book)
 * - `attach(exchange)`: before the first command (the walk reads the exchange's books)
 * - the OrderHooks methods (no `onAccepted`: the order was booked by its check);
 *   `bypass` (set by the venue around its own liquidation orders: they skip the checks but
 *   are still booked)
 * - `lastPx`: per instrument, the last trade through these hooks (NO_PRICE before the first);
 *   the back office marks to it
 *
 * Hot path (`check`, `checkModify`, `onModified`, `onTrade`, `onFill`, `onReduced`): no
 * allocation beyond Risk's order records growing by doubling; the per-order state is Risk's
 * (`Risk.checkOrder`, `Risk.onOrder`, `Risk.onTrade`), so these hooks keep none of their own.
 */
import { InvariantError } from './assert.js';
import type { CommandRecord } from './command.js';
import type { Exchange, OrderHooks } from './exchange.js';
import type { ReplayVenue } from './replay-venue.js';
import { OrderChange, type Risk } from './risk.js';
import { NO_PRICE, OrderType, Side } from './types.js';

// Enum members used on every order, as module constants: V8 folds these, where it reads an
// enum member through the enum object at every use.
const ACCEPTED = OrderChange.Accepted;
const FILLED = OrderChange.Filled;
const REDUCED = OrderChange.Reduced;
const LIMIT = OrderType.Limit;
const STOP_LIMIT = OrderType.StopLimit;
const STOP_MARKET = OrderType.StopMarket;

export class RiskHooks implements OrderHooks {
  readonly risk: Risk;
  /** Per instrument: the last trade (NO_PRICE before the first). */
  readonly lastPx: Float64Array;
  /** Set while the venue submits its own liquidation orders: they skip the pre-trade checks. */
  bypass = false;
  private readonly refPx: Float64Array;
  private exchange: Exchange | null = null;
  /** Per instrument: its replay venue when the market is recorded data (set by attach). */
  private replayed: (ReplayVenue | null)[] = [];

  constructor(risk: Risk, referencePriceTicks: ArrayLike<number>) {
    this.risk = risk;
    this.refPx = Float64Array.from(referencePriceTicks);
    this.lastPx = new Float64Array(this.refPx.length).fill(NO_PRICE);
  }

  /** The exchange whose hooks these are: the book walk of market orders reads its books. */
  attach(exchange: Exchange): void {
    this.exchange = exchange;
    this.replayed = Array.from(this.refPx, (_, i) => exchange.replayVenue(i));
  }

  private ex(): Exchange {
    const x = this.exchange;
    if (x === null) throw new InvariantError('risk hooks used before attach(exchange)');
    return x;
  }

  check(c: CommandRecord, orderId: number): number {
    const type = c.orderType;
    let px: number;
    if (type === LIMIT || type === STOP_LIMIT) px = c.priceTicks;
    else if (type === STOP_MARKET) px = c.stopPriceTicks;
    else px = this.worstPrice(c.instrument, c.side, c.sizeLots);
    if (this.bypass) {
      this.risk.onOrder(ACCEPTED, orderId, c.account, c.instrument, c.side as Side, px, c.sizeLots);
      return 0;
    }
    // The time goes by field, not argument: an argument would be boxed (see Risk.nowNs).
    this.risk.nowNs = c.tsNs;
    return this.risk.checkOrder(orderId, c.account, c.instrument, c.side as Side, px, c.sizeLots);
  }

  /** The book refused an order its check had booked: all of it is released. */
  onRefused(orderId: number): void {
    this.risk.onOrder(REDUCED, orderId, 0, 0, 0, 0, this.risk.openLotsOf(orderId));
  }

  /** The worst price a market order of `sizeLots` can trade at now: where its walk of the book ends. */
  private worstPrice(instrument: number, side: number, sizeLots: number): number {
    const rv = this.replayed[instrument];
    if (rv) return this.worstReplayPrice(rv, instrument, side, sizeLots);
    const p = this.ex().book(instrument).priceToFill(side === Side.Buy ? Side.Sell : Side.Buy, sizeLots);
    if (p !== NO_PRICE) return p;
    return this.lastPx[instrument] !== NO_PRICE ? this.lastPx[instrument]! : this.refPx[instrument]!;
  }

  /** As worstPrice, on a recorded market: the displayed levels own orders can take (own resting orders are not liquidity there). */
  private worstReplayPrice(rv: ReplayVenue, instrument: number, side: number, sizeLots: number): number {
    const opp = side === Side.Buy ? Side.Sell : Side.Buy;
    let left = sizeLots;
    let last = NO_PRICE;
    for (let k = 0; ; k++) {
      const p = rv.hist.price(opp, k);
      if (p === NO_PRICE) break;
      last = p;
      left -= rv.hist.size(opp, k);
      if (left <= 0) return p;
    }
    if (last !== NO_PRICE) return last;
    return this.lastPx[instrument] !== NO_PRICE ? this.lastPx[instrument]! : this.refPx[instrument]!;
  }

  // The update hooks are one call each into Risk (onTrade for a trade's two fills, onOrder
  // otherwise), which keeps the per-order records: small enough that V8 inlines them into the
  // exchange for little of its inlining budget.

  onTrade(_tradeId: number, instrument: number, takerOrderId: number, makerOrderId: number, _takerAccount: number, _makerAccount: number, _takerSide: number, priceTicks: number, sizeLots: number): void {
    this.lastPx[instrument] = priceTicks;
    // Risk moves its reference price (collars and exposure follow the market) in the same call.
    this.risk.onTrade(takerOrderId, makerOrderId, sizeLots, priceTicks);
  }

  /** An own fill against a recorded market: the order's open lots and position, and the reference price. */
  onFill(_tradeId: number, instrument: number, orderId: number, _account: number, _side: number, priceTicks: number, sizeLots: number, _liquidity: number): void {
    this.risk.onOrder(FILLED, orderId, 0, 0, 0, 0, sizeLots);
    this.traded(instrument, priceTicks);
  }

  private traded(instrument: number, priceTicks: number): void {
    this.lastPx[instrument] = priceTicks;
    // Collars and exposure follow the market, like the venue's price bands.
    this.risk.setReferencePrice(instrument, priceTicks);
  }

  onReduced(orderId: number, lots: number): void {
    this.risk.onOrder(REDUCED, orderId, 0, 0, 0, 0, lots);
  }

  /**
   * A triggered stop-market order walks the book as a market order from here: when that walk
   * ends beyond its stop price (where it was reserved), it is reserved again where the walk
   * ends, or refused if buying power or margin cannot cover the growth. Nothing can change the
   * book between this and the match, so the reservation covers every fill, as for a market order.
   */
  onTriggered(orderId: number, instrument: number, side: number, orderType: number, sizeLots: number): number {
    if (orderType !== STOP_MARKET) return 0;
    const risk = this.risk;
    const px = this.worstPrice(instrument, side, sizeLots);
    const reserved = risk.reservationPrice(orderId);
    if (side === Side.Buy ? px <= reserved : px >= reserved) return 0;
    const reason = risk.checkReserveAt(orderId, px);
    if (reason !== 0) return reason;
    risk.modifyOrder(orderId, px, risk.openLotsOf(orderId));
    return 0;
  }

  checkModify(orderId: number, priceTicks: number, sizeLots: number): number {
    return this.risk.checkModifyOrder(orderId, priceTicks, sizeLots);
  }

  onModified(orderId: number, priceTicks: number, leavesLots: number): void {
    this.risk.modifyOrder(orderId, priceTicks, leavesLots);
  }
}
