import type { BookListener } from './book-listener.js';
import { ORDERS_MAX_DEFAULT, LEVELS_MAX_DEFAULT, type OrderBookOptions } from './book.js';
import { CancelReason, NO_PRICE, OrderType, RejectReason, Side, StpMode, TimeInForce } from './types.js';

interface NaiveOrder {
  id: number;
  owner: number;
  side: Side;
  price: number;
  leaves: number;
  tif: TimeInForce;
  postOnly: boolean;
  stp: StpMode;
  /** Arrival sequence: time priority. */
  seq: number;
}

/**
 * The test oracle for OrderBook: the same observable behaviour, written as
 * plainly as possible (one array of plain objects, re-sorted on demand) so a
 * reader can check it against the rules by eye. Not for production use.
 */
export class NaiveBook {
  private readonly listener: BookListener;
  private readonly ordersMax: number;
  private readonly levelsMax: number;
  private orders: NaiveOrder[] = [];
  private seq = 0;
  lastModifyKeptPriority = false;

  constructor(listener: BookListener, opts: OrderBookOptions = {}) {
    this.listener = listener;
    this.ordersMax = opts.ordersMax ?? ORDERS_MAX_DEFAULT;
    this.levelsMax = opts.levelsMax ?? LEVELS_MAX_DEFAULT;
  }

  /** Resting orders of a side in priority order: best price first, then arrival. */
  private sorted(side: Side): NaiveOrder[] {
    return this.orders
      .filter((o) => o.side === side)
      .sort((a, b) => (a.price !== b.price ? (side === Side.Buy ? b.price - a.price : a.price - b.price) : a.seq - b.seq));
  }

  private find(orderId: number): NaiveOrder | undefined {
    return this.orders.find((o) => o.id === orderId);
  }

  private remove(o: NaiveOrder): void {
    this.orders = this.orders.filter((x) => x !== o);
  }

  private prices(side: Side): number[] {
    return [...new Set(this.sorted(side).map((o) => o.price))];
  }

  private emitLevel(side: Side, price: number): void {
    const at = this.orders.filter((o) => o.side === side && o.price === price);
    this.listener.onLevel(side, price, at.reduce((s, o) => s + o.leaves, 0), at.length);
  }

  /** Whether a taker with this limit (null: market) would trade against a maker at `price`. */
  private static crosses(side: Side, limit: number | null, price: number): boolean {
    if (limit === null) return true;
    return side === Side.Buy ? price <= limit : price >= limit;
  }

  private static validPrice(p: number): boolean {
    return Number.isInteger(p) && p >= -0x80000000 && p <= 0x7fffffff && p !== NO_PRICE;
  }

  /** Walk makers in priority as matching would; returns fillable quantity and whether STP would end the taker first. */
  private scan(side: Side, limit: number | null, owner: number, stp: StpMode, need: number): { fill: number; stopped: boolean } {
    let fill = 0;
    for (const m of this.sorted(side === Side.Buy ? Side.Sell : Side.Buy)) {
      if (fill >= need || !NaiveBook.crosses(side, limit, m.price)) break;
      if (stp !== StpMode.None && m.owner === owner) {
        if (stp === StpMode.CancelResting) continue;
        return { fill, stopped: true };
      }
      fill += m.leaves;
    }
    return { fill: Math.min(fill, need), stopped: false };
  }

  private matchAndDispose(
    id: number,
    owner: number,
    side: Side,
    limit: number | null,
    size: number,
    stp: StpMode,
    restAfter: NaiveOrder | null,
  ): void {
    const opp = side === Side.Buy ? Side.Sell : Side.Buy;
    let leaves = size;
    let stopped = false;
    let levelPrice: number | null = null;
    let touched = false;
    for (const m of this.sorted(opp)) {
      if (leaves === 0 || !NaiveBook.crosses(side, limit, m.price)) break;
      if (levelPrice !== null && m.price !== levelPrice && touched) {
        this.emitLevel(opp, levelPrice);
        touched = false;
      }
      levelPrice = m.price;
      if (stp !== StpMode.None && m.owner === owner) {
        if (stp === StpMode.CancelIncoming) {
          stopped = true;
          break;
        }
        this.listener.onCancel(m.id, m.leaves, CancelReason.SelfTrade);
        this.remove(m);
        touched = true;
        if (stp === StpMode.CancelBoth) {
          stopped = true;
          break;
        }
        continue;
      }
      const q = Math.min(leaves, m.leaves);
      leaves -= q;
      m.leaves -= q;
      if (m.leaves === 0) this.remove(m);
      touched = true;
      this.listener.onTrade(id, m.id, m.price, q, leaves, m.leaves);
    }
    if (touched && levelPrice !== null) this.emitLevel(opp, levelPrice);
    if (leaves === 0) return;
    if (stopped) {
      this.listener.onCancel(id, leaves, CancelReason.SelfTrade);
    } else if (restAfter !== null) {
      restAfter.leaves = leaves;
      restAfter.seq = ++this.seq;
      this.orders.push(restAfter);
      this.listener.onRest(id, side, restAfter.price, leaves);
      this.emitLevel(side, restAfter.price);
    } else {
      this.listener.onCancel(id, leaves, CancelReason.ImmediateRemainder);
    }
  }

  submit(
    orderId: number,
    owner: number,
    side: Side,
    type: OrderType,
    priceTicks: number,
    sizeLots: number,
    tif: TimeInForce,
    postOnly: boolean,
    stp: StpMode,
  ): number {
    if (type !== OrderType.Limit && type !== OrderType.Market) return RejectReason.BadOrderType;
    if (!Number.isSafeInteger(sizeLots) || sizeLots <= 0) return RejectReason.BadSize;
    const isMarket = type === OrderType.Market;
    if (!isMarket && !NaiveBook.validPrice(priceTicks)) return RejectReason.BadPrice;
    const opp = side === Side.Buy ? Side.Sell : Side.Buy;
    const oppOrders = this.sorted(opp);
    if (isMarket && oppOrders.length === 0) return RejectReason.NoLiquidity;
    const limit = isMarket ? null : priceTicks;
    const crosses = oppOrders.length > 0 && NaiveBook.crosses(side, limit, oppOrders[0].price);
    if (postOnly && crosses) return RejectReason.PostOnlyWouldCross;
    const restable = !isMarket && (tif === TimeInForce.GTC || tif === TimeInForce.DAY);
    const scan = this.scan(side, limit, owner, stp, sizeLots);
    if (tif === TimeInForce.FOK && scan.fill < sizeLots) return RejectReason.FokCannotFill;
    const wouldRest = restable && scan.fill < sizeLots && !scan.stopped;
    if (wouldRest && this.orders.length >= this.ordersMax) return RejectReason.PoolFull;
    if (wouldRest && !this.prices(side).includes(priceTicks) && this.prices(side).length >= this.levelsMax) {
      return RejectReason.PriceLevelsFull;
    }
    const resting: NaiveOrder | null = restable
      ? { id: orderId, owner, side, price: priceTicks, leaves: sizeLots, tif, postOnly, stp, seq: 0 }
      : null;
    this.matchAndDispose(orderId, owner, side, limit, sizeLots, stp, resting);
    return 0;
  }

  cancel(orderId: number, reason: CancelReason): boolean {
    const o = this.find(orderId);
    if (o === undefined) return false;
    this.listener.onCancel(orderId, o.leaves, reason);
    this.remove(o);
    this.emitLevel(o.side, o.price);
    return true;
  }

  modify(orderId: number, newPriceTicks: number, newSizeLots: number): number {
    const o = this.find(orderId);
    if (o === undefined) return RejectReason.UnknownOrder;
    if (!Number.isSafeInteger(newSizeLots) || newSizeLots <= 0) return RejectReason.BadSize;
    if (!NaiveBook.validPrice(newPriceTicks)) return RejectReason.BadPrice;
    if (newPriceTicks === o.price && newSizeLots === o.leaves) return RejectReason.ModifyNoChange;
    if (newPriceTicks === o.price && newSizeLots < o.leaves) {
      o.leaves = newSizeLots;
      this.emitLevel(o.side, o.price);
      this.lastModifyKeptPriority = true;
      return 0;
    }
    const opp = o.side === Side.Buy ? Side.Sell : Side.Buy;
    const oppOrders = this.sorted(opp);
    const crosses = oppOrders.length > 0 && NaiveBook.crosses(o.side, newPriceTicks, oppOrders[0].price);
    if (o.postOnly && crosses) return RejectReason.PostOnlyWouldCross;
    if (newPriceTicks !== o.price) {
      const scan = this.scan(o.side, newPriceTicks, o.owner, o.stp, newSizeLots);
      const wouldRest = scan.fill < newSizeLots && !scan.stopped;
      const levelsAfterLeaving = this.prices(o.side).length - (this.orders.some((x) => x !== o && x.side === o.side && x.price === o.price) ? 0 : 1);
      if (wouldRest && !this.prices(o.side).includes(newPriceTicks) && levelsAfterLeaving >= this.levelsMax) {
        return RejectReason.PriceLevelsFull;
      }
    }
    this.remove(o);
    if (newPriceTicks !== o.price) this.emitLevel(o.side, o.price);
    this.lastModifyKeptPriority = false;
    const replacement: NaiveOrder = { ...o, price: newPriceTicks, leaves: newSizeLots };
    this.matchAndDispose(orderId, o.owner, o.side, newPriceTicks, newSizeLots, o.stp, replacement);
    return 0;
  }

  bestBid(): number {
    const b = this.sorted(Side.Buy);
    return b.length === 0 ? NO_PRICE : b[0].price;
  }

  bestAsk(): number {
    const a = this.sorted(Side.Sell);
    return a.length === 0 ? NO_PRICE : a[0].price;
  }

  isResting(orderId: number): boolean {
    return this.find(orderId) !== undefined;
  }

  leavesOf(orderId: number): number {
    return this.find(orderId)?.leaves ?? 0;
  }

  priceOf(orderId: number): number {
    return this.find(orderId)?.price ?? NO_PRICE;
  }

  sideOf(orderId: number): Side {
    const o = this.find(orderId);
    if (o === undefined) throw new Error(`order ${orderId} is not resting`);
    return o.side;
  }

  ownerOf(orderId: number): number {
    const o = this.find(orderId);
    if (o === undefined) throw new Error(`order ${orderId} is not resting`);
    return o.owner;
  }

  restingCount(): number {
    return this.orders.length;
  }

  levelCount(side: Side): number {
    return this.prices(side).length;
  }

  depth(side: Side, maxLevels: number, outPrices: Float64Array, outSizes: Float64Array, outCounts: Float64Array): number {
    const prices = this.prices(side).slice(0, Math.min(maxLevels, outPrices.length, outSizes.length, outCounts.length));
    prices.forEach((p, i) => {
      const at = this.orders.filter((o) => o.side === side && o.price === p);
      outPrices[i] = p;
      outSizes[i] = at.reduce((s, o) => s + o.leaves, 0);
      outCounts[i] = at.length;
    });
    return prices.length;
  }

  forEachOrder(side: Side, visit: (orderId: number, priceTicks: number, leavesLots: number, owner: number) => void): void {
    for (const o of this.sorted(side)) visit(o.id, o.price, o.leaves, o.owner);
  }
}
