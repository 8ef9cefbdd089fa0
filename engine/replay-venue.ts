import { InvariantError } from './assert.js';
import { LevelBook } from './level-book.js';
import { CancelReason, NO_PRICE, OrderType, RejectReason, Side, TimeInForce } from './types.js';

/**
 * The venue for an instrument whose market comes from recorded data (LOBSTER,
 * Tardis L2). The recorded book is a LevelBook of displayed size per price; our
 * own orders (scenario actions, strategies) live beside it with a queue
 * position, and meet the recorded market by these rules (docs/replay.md):
 *
 * - An own order that crosses takes displayed liquidity at the displayed
 *   prices; what it took is gone for the rest of the run (later recorded events
 *   on that level apply to what remains, clamped at zero).
 * - A resting own order's queue ahead is the displayed size at its price when
 *   it arrives. Recorded executions at that price eat the queue ahead first;
 *   recorded cancels there shrink it by the queue model. It fills from
 *   executions (and trade prints) at its price once nothing is ahead, and from
 *   any execution at a worse price (the market traded through it), each
 *   execution's size shared out once, best price first, then arrival.
 * - A recorded order added across a resting own order trades with it at the
 *   own order's price (the own order was there first).
 *
 * Own orders do not match each other here: the recorded market is the only
 * counterparty. The same calls as OrderBook (submit, cancel, modify, depth...)
 * so the Exchange treats both alike; the recorded events come in through
 * hist*(). Nothing is allocated per recorded event.
 */

export enum QueueModel {
  /** Cancels at our price come from behind us; only what behind cannot cover comes from ahead. */
  Pessimistic = 0,
  /** Cancels come from ahead and behind in proportion to their sizes (rounded towards us staying back). */
  Proportional = 1,
}
export const QUEUE_MODEL_NAME = ['pessimistic', 'proportional'] as const;

/** How an own order met the recorded market. */
export enum FillLiquidity {
  /** It crossed and took displayed liquidity. */
  Taker = 1,
  /** It rested, the queue ahead was eaten, and an execution at its price reached it. */
  Queue = 2,
  /** The market executed at a worse price than it offered: it would have been hit first. */
  Through = 3,
  /** A recorded order was added across its price. */
  Crossed = 4,
}
export const FILL_LIQUIDITY_NAME: Record<FillLiquidity, string> = {
  [FillLiquidity.Taker]: 'taker',
  [FillLiquidity.Queue]: 'queue',
  [FillLiquidity.Through]: 'through',
  [FillLiquidity.Crossed]: 'crossed',
};

/** What a recorded print was. */
export enum MarketTradeKind {
  /** Execution of a displayed order (LOBSTER 4): the level shrinks. */
  Visible = 1,
  /** Execution of a hidden order (LOBSTER 5): no displayed size moved. */
  Hidden = 2,
  /** Auction cross (LOBSTER 6): outside continuous trading; fills no own order. */
  Cross = 3,
  /** A trade from a trades file beside an L2 feed (Tardis): the L2 rows carry the size change. */
  Print = 4,
}
export const MARKET_TRADE_KIND_NAME: Record<MarketTradeKind, string> = {
  [MarketTradeKind.Visible]: 'visible',
  [MarketTradeKind.Hidden]: 'hidden',
  [MarketTradeKind.Cross]: 'cross',
  [MarketTradeKind.Print]: 'print',
};

/** Side value for "not known" (a print without an aggressor) and for "both sides" in a clear. */
export const SIDE_UNKNOWN = 2;
export const SIDE_BOTH = 2;

export interface ReplayListener {
  onFill(orderId: number, priceTicks: number, sizeLots: number, leavesLots: number, liquidity: FillLiquidity, queueAtEntryLots: number, queueNs: number): void;
  onRest(orderId: number, side: Side, priceTicks: number, leavesLots: number): void;
  onCancel(orderId: number, cancelledLots: number, reason: CancelReason): void;
  /** Displayed size at a level changed: recorded size plus own orders; orderCount is 0 (the data has none). */
  onLevel(side: Side, priceTicks: number, sizeLots: number, orderCount: number): void;
  /** restingSide is SIDE_UNKNOWN when the data does not say who was aggressor. */
  onMarketTrade(restingSide: number, priceTicks: number, sizeLots: number, kind: MarketTradeKind, dataId: number): void;
}

/** Own orders one replayed instrument can hold at once; a named limit (reject pool-full beyond). */
export const REPLAY_OWN_ORDERS_MAX_DEFAULT = 4096;

const NIL = -1;

export class ReplayVenue {
  /** Recorded displayed liquidity, minus what own orders took. */
  readonly hist: LevelBook;
  /** Virtual time, set by the exchange before each call (time in queue is measured with it). */
  nowNs = 0;
  lastModifyKeptPriority = false;

  private readonly oId: Float64Array;
  private readonly oOwner: Int32Array;
  private readonly oSide: Uint8Array;
  private readonly oPrice: Float64Array;
  private readonly oLeaves: Float64Array;
  private readonly oAhead: Float64Array;
  private readonly oEntryAhead: Float64Array;
  private readonly oEntryNs: Float64Array;
  /** Live slots in arrival order (time priority among own orders). */
  private readonly live: Int32Array;
  private liveCount = 0;
  private readonly free: Int32Array;
  private freeCount: number;

  /** The recorded levels' order and sizes, and the own-order slots' bookkeeping; for tests and --check-invariants. */
  checkInvariants(): void {
    this.hist.checkInvariants();
    if (this.liveCount < 0 || this.freeCount < 0 || this.liveCount + this.freeCount !== this.ownOrdersMax) {
      throw new InvariantError(`replay venue: ${this.liveCount} live + ${this.freeCount} free own-order slots != ${this.ownOrdersMax}`);
    }
    for (let i = 0; i < this.liveCount; i++) {
      const s = this.live[i]!;
      const leaves = this.oLeaves[s]!;
      if (!(leaves > 0 && Number.isSafeInteger(leaves))) throw new InvariantError(`replay venue: own order ${this.oId[s]} live with leaves ${leaves}`);
    }
  }

  constructor(
    private readonly listener: ReplayListener,
    readonly queueModel: QueueModel = QueueModel.Pessimistic,
    readonly ownOrdersMax = REPLAY_OWN_ORDERS_MAX_DEFAULT,
  ) {
    this.hist = new LevelBook();
    const n = ownOrdersMax;
    this.oId = new Float64Array(n);
    this.oOwner = new Int32Array(n);
    this.oSide = new Uint8Array(n);
    this.oPrice = new Float64Array(n);
    this.oLeaves = new Float64Array(n);
    this.oAhead = new Float64Array(n);
    this.oEntryAhead = new Float64Array(n);
    this.oEntryNs = new Float64Array(n);
    this.live = new Int32Array(n);
    this.free = new Int32Array(n);
    for (let i = 0; i < n; i++) this.free[i] = n - 1 - i;
    this.freeCount = n;
  }

  // ---- queries (the OrderBook surface the exchange uses) --------------------

  /** Best recorded bid: what an own sell can cross. */
  bestBid(): number {
    return this.hist.bestBid();
  }
  bestAsk(): number {
    return this.hist.bestAsk();
  }
  /** Best displayed price of a side, own orders included (depth's first level; NO_PRICE if empty). */
  bestPrice(side: Side): number {
    const hp = this.hist.price(side, 0);
    const op = this.ownNextPrice(side, NO_PRICE);
    if (hp === NO_PRICE) return op;
    return op === NO_PRICE || better(side, hp, op) ? hp : op;
  }
  /** Displayed lots at the best price of a side, recorded and own (0 if empty). */
  bestSize(side: Side): number {
    const p = this.bestPrice(side);
    if (p === NO_PRICE) return 0;
    return (this.hist.price(side, 0) === p ? this.hist.size(side, 0) : 0) + this.ownSizeAt(side, p);
  }
  restingCount(): number {
    return this.liveCount;
  }
  isResting(orderId: number): boolean {
    return this.slotOf(orderId) !== NIL;
  }
  priceOf(orderId: number): number {
    const s = this.slotOf(orderId);
    return s === NIL ? NO_PRICE : this.oPrice[s]!;
  }
  leavesOf(orderId: number): number {
    const s = this.slotOf(orderId);
    return s === NIL ? 0 : this.oLeaves[s]!;
  }
  /** Displayed size still ahead of an own order in its queue (0 if not resting). */
  queueAheadOf(orderId: number): number {
    const s = this.slotOf(orderId);
    return s === NIL ? 0 : this.oAhead[s]!;
  }

  /** Top levels of the displayed book (recorded plus own), best first; counts are own orders at the level. */
  depth(side: Side, maxLevels: number, outPrices: Float64Array, outSizes: Float64Array, outCounts: Float64Array): number {
    const h = this.hist;
    let i = 0;
    let op = this.ownNextPrice(side, NO_PRICE);
    let out = 0;
    while (out < maxLevels) {
      const hp = h.price(side, i);
      if (hp === NO_PRICE && op === NO_PRICE) break;
      const p = hp === NO_PRICE ? op : op === NO_PRICE ? hp : better(side, hp, op) ? hp : op;
      let size = 0;
      if (hp === p) size += h.size(side, i++);
      if (op === p) {
        size += this.ownSizeAt(side, p);
        op = this.ownNextPrice(side, p);
      }
      outPrices[out] = p;
      outSizes[out] = size;
      outCounts[out] = 0;
      out++;
    }
    return out;
  }

  /** Own resting orders of a side, best price first, arrival order within a price. */
  forEachOrder(side: Side, visit: (orderId: number, priceTicks: number, leavesLots: number, owner: number) => void): void {
    const slots: number[] = [];
    for (let k = 0; k < this.liveCount; k++) if (this.oSide[this.live[k]!] === side) slots.push(k);
    // Stable: arrival order (the index in live) breaks price ties.
    slots.sort((a, b) => {
      const pa = this.oPrice[this.live[a]!]!;
      const pb = this.oPrice[this.live[b]!]!;
      return pa === pb ? a - b : side === Side.Buy ? pb - pa : pa - pb;
    });
    for (const k of slots) {
      const s = this.live[k]!;
      visit(this.oId[s]!, this.oPrice[s]!, this.oLeaves[s]!, this.oOwner[s]!);
    }
  }

  // ---- own orders ------------------------------------------------------------

  /** As OrderBook.submit; self-trade prevention does not apply (own orders never meet each other here). */
  submit(orderId: number, owner: number, side: Side, type: OrderType, priceTicks: number, sizeLots: number, tif: TimeInForce, postOnly: boolean, _stp?: number): number {
    if (type !== OrderType.Limit && type !== OrderType.Market) return RejectReason.BadOrderType;
    if (!(sizeLots > 0) || !Number.isSafeInteger(sizeLots)) return RejectReason.BadSize;
    const isMarket = type === OrderType.Market;
    const opp = (side ^ 1) as Side;
    const oppBest = this.hist.price(opp, 0);
    if (isMarket && oppBest === NO_PRICE) return RejectReason.NoLiquidity;
    const crosses = oppBest !== NO_PRICE && (isMarket || crossesPrice(side, priceTicks, oppBest));
    if (postOnly && crosses) return RejectReason.PostOnlyWouldCross;
    const restable = !isMarket && (tif === TimeInForce.GTC || tif === TimeInForce.DAY);
    if (tif === TimeInForce.FOK && (!crosses || this.fillable(side, isMarket, priceTicks, sizeLots) < sizeLots)) return RejectReason.FokCannotFill;
    if (restable && this.freeCount === 0 && (!crosses || this.fillable(side, false, priceTicks, sizeLots) < sizeLots)) return RejectReason.PoolFull;
    let leaves = sizeLots;
    if (crosses) leaves = this.take(orderId, side, isMarket, priceTicks, sizeLots);
    if (leaves > 0) {
      if (restable) this.rest(orderId, owner, side, priceTicks, leaves);
      else this.listener.onCancel(orderId, leaves, CancelReason.ImmediateRemainder);
    }
    return 0;
  }

  cancel(orderId: number, reason: CancelReason): boolean {
    const s = this.slotOf(orderId);
    if (s === NIL) return false;
    this.listener.onCancel(orderId, this.oLeaves[s]!, reason);
    const side = this.oSide[s] as Side;
    const price = this.oPrice[s]!;
    this.release(s);
    this.emitLevel(side, price);
    return true;
  }

  /** Size down at the same price keeps the queue position; anything else re-enters the queue at the back. */
  modify(orderId: number, newPriceTicks: number, newSizeLots: number): number {
    const s = this.slotOf(orderId);
    if (s === NIL) return RejectReason.UnknownOrder;
    if (!(newSizeLots > 0) || !Number.isSafeInteger(newSizeLots)) return RejectReason.BadSize;
    const oldPrice = this.oPrice[s]!;
    const oldLeaves = this.oLeaves[s]!;
    const side = this.oSide[s] as Side;
    if (newPriceTicks === oldPrice) {
      if (newSizeLots === oldLeaves) return RejectReason.ModifyNoChange;
      if (newSizeLots < oldLeaves) {
        this.oLeaves[s] = newSizeLots;
        this.lastModifyKeptPriority = true;
        this.emitLevel(side, oldPrice);
        return 0;
      }
    }
    const owner = this.oOwner[s]!;
    this.lastModifyKeptPriority = false;
    this.release(s);
    if (newPriceTicks !== oldPrice) this.emitLevel(side, oldPrice);
    const opp = (side ^ 1) as Side;
    const oppBest = this.hist.price(opp, 0);
    let leaves = newSizeLots;
    if (oppBest !== NO_PRICE && crossesPrice(side, newPriceTicks, oppBest)) leaves = this.take(orderId, side, false, newPriceTicks, newSizeLots);
    if (leaves > 0) this.rest(orderId, owner, side, newPriceTicks, leaves);
    return 0;
  }

  // ---- the recorded market -----------------------------------------------------

  histAdd(side: Side, priceTicks: number, sizeLots: number): void {
    let rest = sizeLots;
    const opp = (side ^ 1) as Side;
    // The recorded order would have met our resting orders on the other side first.
    for (;;) {
      if (rest === 0) break;
      const s = this.bestOwnCrossing(opp, priceTicks);
      if (s === NIL) break;
      const q = rest < this.oLeaves[s]! ? rest : this.oLeaves[s]!;
      rest -= q;
      this.fillOwn(s, q, FillLiquidity.Crossed);
    }
    if (rest > 0) this.hist.add(side, priceTicks, rest);
    this.emitLevel(side, priceTicks);
  }

  histReduce(side: Side, priceTicks: number, sizeLots: number): void {
    const before = this.hist.sizeAt(side, priceTicks);
    if (before === 0) return;
    const removed = this.hist.reduce(side, priceTicks, sizeLots);
    const after = before - removed;
    for (let k = 0; k < this.liveCount; k++) {
      const s = this.live[k]!;
      if (this.oSide[s] !== side || this.oPrice[s] !== priceTicks) continue;
      let ahead = this.oAhead[s]!;
      if (ahead > before) ahead = before;
      let fromAhead: number;
      if (this.queueModel === QueueModel.Proportional) {
        const prod = removed * ahead;
        fromAhead = Math.floor(Number.isSafeInteger(prod) ? prod / before : (removed / before) * ahead);
      } else {
        const behind = before - ahead;
        fromAhead = removed > behind ? removed - behind : 0;
      }
      ahead -= fromAhead;
      // Whatever the model, no more can be ahead than is displayed.
      this.oAhead[s] = ahead > after ? after : ahead;
    }
    this.emitLevel(side, priceTicks);
  }

  histExecute(side: Side, priceTicks: number, sizeLots: number, dataId: number): void {
    const before = this.hist.sizeAt(side, priceTicks);
    this.hist.reduce(side, priceTicks, sizeLots);
    this.listener.onMarketTrade(side, priceTicks, sizeLots, MarketTradeKind.Visible, dataId);
    this.emitLevel(side, priceTicks);
    this.ownAfterTrade(side, priceTicks, sizeLots, true, before);
  }

  /** A print that moves no displayed size. restingSide may be SIDE_UNKNOWN. */
  histTrade(restingSide: number, priceTicks: number, sizeLots: number, kind: MarketTradeKind, dataId: number): void {
    this.listener.onMarketTrade(restingSide, priceTicks, sizeLots, kind, dataId);
    if (restingSide === SIDE_UNKNOWN || kind === MarketTradeKind.Cross) return;
    // A hidden order at our price ranks behind displayed ones, so only a trade through us counts.
    const side = restingSide as Side;
    this.ownAfterTrade(side, priceTicks, sizeLots, kind === MarketTradeKind.Print, this.hist.sizeAt(side, priceTicks));
  }

  /** A snapshot is about to restate the book. Queue positions stay; the next events at a level clamp them. */
  histClear(side: number): void {
    for (let sd = 0; sd < 2; sd++) {
      if (side !== SIDE_BOTH && side !== sd) continue;
      const h = this.hist;
      const n = h.depth(sd);
      for (let i = 0; i < n; i++) {
        const p = h.price(sd, i);
        this.listener.onLevel(sd, p, this.ownSizeAt(sd, p), 0);
      }
      h.clearSide(sd);
    }
  }

  // ---- internals ---------------------------------------------------------------

  /**
   * Shares one execution of `sizeLots` on `side` at `priceTicks` out to own
   * orders: first those offering a better price (traded through), best first,
   * then, when `atPrice`, those at the price, in arrival order, each once its
   * queue ahead is eaten. `levelBefore` is the recorded size there before.
   * What reaches an order at the price is the size beyond its queue ahead less
   * what own orders before it at that price already took: one execution is
   * never counted twice.
   */
  private ownAfterTrade(side: Side, priceTicks: number, sizeLots: number, atPrice: boolean, levelBefore: number): void {
    let volume = sizeLots;
    while (volume > 0) {
      const s = this.bestOwnBetterThan(side, priceTicks);
      if (s === NIL) break;
      const q = volume < this.oLeaves[s]! ? volume : this.oLeaves[s]!;
      volume -= q;
      this.fillOwn(s, q, FillLiquidity.Through);
    }
    if (!atPrice) return;
    let given = 0;
    for (let k = 0; k < this.liveCount; ) {
      const s = this.live[k]!;
      if (this.oSide[s] !== side || this.oPrice[s] !== priceTicks) {
        k++;
        continue;
      }
      let ahead = this.oAhead[s]!;
      if (ahead > levelBefore) ahead = levelBefore;
      const eat = ahead < sizeLots ? ahead : sizeLots;
      this.oAhead[s] = ahead - eat;
      let avail = sizeLots - eat - given;
      if (avail > volume) avail = volume;
      const leaves = this.oLeaves[s]!;
      const q = avail < leaves ? avail : leaves;
      if (q > 0) {
        volume -= q;
        given += q;
        if (this.fillOwn(s, q, FillLiquidity.Queue)) continue; // slot left live; k now names the next order
      }
      k++;
    }
  }

  /** Fills an own resting order; returns true if it left the book. */
  private fillOwn(s: number, q: number, liquidity: FillLiquidity): boolean {
    const leaves = this.oLeaves[s]! - q;
    this.oLeaves[s] = leaves;
    const side = this.oSide[s] as Side;
    const price = this.oPrice[s]!;
    this.listener.onFill(this.oId[s]!, price, q, leaves, liquidity, this.oEntryAhead[s]!, this.nowNs - this.oEntryNs[s]!);
    const gone = leaves === 0;
    if (gone) this.release(s);
    this.emitLevel(side, price);
    return gone;
  }

  /** Takes displayed liquidity for an incoming own order; returns what is left of it. */
  private take(orderId: number, side: Side, isMarket: boolean, limit: number, sizeLots: number): number {
    const opp = (side ^ 1) as Side;
    const h = this.hist;
    let leaves = sizeLots;
    while (leaves > 0) {
      const p = h.price(opp, 0);
      if (p === NO_PRICE) break;
      if (!isMarket && !crossesPrice(side, limit, p)) break;
      const avail = h.size(opp, 0);
      const q = leaves < avail ? leaves : avail;
      h.reduce(opp, p, q);
      leaves -= q;
      this.listener.onFill(orderId, p, q, leaves, FillLiquidity.Taker, 0, 0);
      this.emitLevel(opp, p);
    }
    return leaves;
  }

  private fillable(side: Side, isMarket: boolean, limit: number, need: number): number {
    const opp = (side ^ 1) as Side;
    const h = this.hist;
    let got = 0;
    for (let i = 0; got < need; i++) {
      const p = h.price(opp, i);
      if (p === NO_PRICE || (!isMarket && !crossesPrice(side, limit, p))) break;
      got += h.size(opp, i);
    }
    return got;
  }

  private rest(orderId: number, owner: number, side: Side, priceTicks: number, leaves: number): void {
    if (this.freeCount === 0) throw new InvariantError('replay venue: no free own-order slot after the pool check');
    const s = this.free[--this.freeCount]!;
    this.oId[s] = orderId;
    this.oOwner[s] = owner;
    this.oSide[s] = side;
    this.oPrice[s] = priceTicks;
    this.oLeaves[s] = leaves;
    const ahead = this.hist.sizeAt(side, priceTicks);
    this.oAhead[s] = ahead;
    this.oEntryAhead[s] = ahead;
    this.oEntryNs[s] = this.nowNs;
    this.live[this.liveCount++] = s;
    this.listener.onRest(orderId, side, priceTicks, leaves);
    this.emitLevel(side, priceTicks);
  }

  private release(s: number): void {
    const live = this.live;
    const n = this.liveCount;
    let k = 0;
    while (k < n && live[k] !== s) k++;
    if (k === n) throw new InvariantError('replay venue: releasing a slot that is not live');
    for (let j = k + 1; j < n; j++) live[j - 1] = live[j]!;
    this.liveCount = n - 1;
    this.free[this.freeCount++] = s;
  }

  private slotOf(orderId: number): number {
    for (let k = 0; k < this.liveCount; k++) {
      const s = this.live[k]!;
      if (this.oId[s] === orderId) return s;
    }
    return NIL;
  }

  private ownSizeAt(side: number, priceTicks: number): number {
    let sum = 0;
    for (let k = 0; k < this.liveCount; k++) {
      const s = this.live[k]!;
      if (this.oSide[s] === side && this.oPrice[s] === priceTicks) sum += this.oLeaves[s]!;
    }
    return sum;
  }

  /** Best own price on a side strictly worse than `after` (NO_PRICE: the best of all), or NO_PRICE. */
  private ownNextPrice(side: Side, after: number): number {
    let best = NO_PRICE;
    for (let k = 0; k < this.liveCount; k++) {
      const s = this.live[k]!;
      if (this.oSide[s] !== side) continue;
      const p = this.oPrice[s]!;
      if (after !== NO_PRICE && !better(side, after, p)) continue;
      if (best === NO_PRICE || better(side, p, best)) best = p;
    }
    return best;
  }

  /** The own order on `side` first in line (best price, then arrival) among those crossed by a recorded price on the other side. */
  private bestOwnCrossing(side: Side, otherPrice: number): number {
    let best = NIL;
    for (let k = 0; k < this.liveCount; k++) {
      const s = this.live[k]!;
      if (this.oSide[s] !== side || !crossesPrice(side, this.oPrice[s]!, otherPrice)) continue;
      if (best === NIL || better(side, this.oPrice[s]!, this.oPrice[best]!)) best = s;
    }
    return best;
  }

  /** The own order on `side` first in line among those offering a strictly better price than `priceTicks`. */
  private bestOwnBetterThan(side: Side, priceTicks: number): number {
    let best = NIL;
    for (let k = 0; k < this.liveCount; k++) {
      const s = this.live[k]!;
      if (this.oSide[s] !== side || !better(side, this.oPrice[s]!, priceTicks)) continue;
      if (best === NIL || better(side, this.oPrice[s]!, this.oPrice[best]!)) best = s;
    }
    return best;
  }

  private emitLevel(side: Side, priceTicks: number): void {
    this.listener.onLevel(side, priceTicks, this.hist.sizeAt(side, priceTicks) + this.ownSizeAt(side, priceTicks), 0);
  }
}

/** Is price a strictly better than b for a resting order on `side`? */
function better(side: number, a: number, b: number): boolean {
  return side === Side.Buy ? a > b : a < b;
}

/** Does an order on `side` at `limit` cross a resting price on the other side? */
function crossesPrice(side: number, limit: number, otherPrice: number): boolean {
  return side === Side.Buy ? limit >= otherPrice : limit <= otherPrice;
}
