import type { BookListener } from './book-listener.js';
import { assert, InvariantError } from './assert.js';
import { CancelReason, NO_PRICE, OrderType, RejectReason, Side, StpMode, TimeInForce } from './types.js';

/** Default cap on resting orders in one book. */
export const ORDERS_MAX_DEFAULT = 1 << 22;
/** Default cap on active price levels per side. */
export const LEVELS_MAX_DEFAULT = 1 << 16;
/** Default first pool size; also the chunk the pool is grown by (rounded, doubling). */
export const INITIAL_ORDERS_DEFAULT = 1024;
const INITIAL_LEVELS = 64;
const INT32_MAX = 0x7fffffff;
const NIL = -1;
const FLAG_SELL = 1;
const FLAG_STP_SHIFT = 1;
const FLAG_TIF_SHIFT = 3;
const FLAG_POST_ONLY = 1 << 5;

/**
 * Side arrays hold a sort key per level, ascending, so the best level of both
 * sides sits at the end: key = price for bids, -price for asks. Every int32 price
 * except NO_PRICE negates into int32, which is why NO_PRICE is not a valid price.
 * A taker on side s crosses the opposite best level when oppBestKey >= its key
 * limit (-limitPrice for a buy, limitPrice for a sell); a market order uses a key
 * limit below every key.
 */
const KEY_LIMIT_MARKET = -4294967296;

/** Below this many candidate levels a scan from the touch beats bisection. */
const LINEAR_PROBE_LEVELS = 8;
/** Below this a hand loop beats copyWithin's call overhead. */
const SHIFT_LOOP_MAX = 32;

export interface OrderBookOptions {
  /** Maximum resting orders; a submit that would rest beyond it is rejected with PoolFull. */
  ordersMax?: number;
  /** Maximum active price levels per side; a new level beyond it is rejected with PriceLevelsFull. */
  levelsMax?: number;
  /** Initial pool size, and the chunk the pool grows by. */
  initialOrders?: number;
  /** Initial size of the id -> slot map (ids are dense; it doubles past this). */
  initialIds?: number;
}

/**
 * Price-time priority limit order book for one instrument.
 *
 * Orders live in a struct-of-arrays pool with free-list reuse; each price level
 * is an intrusive doubly linked FIFO list of slots. Matching and cancels
 * allocate nothing. Everything the book does is reported through the listener,
 * which must not call back into the book.
 */
export class OrderBook {
  private readonly listener: BookListener;
  readonly ordersMax: number;
  readonly levelsMax: number;
  private readonly chunkOrders: number;

  // Order pool (struct of arrays), indexed by slot.
  private ordersCap = 0;
  private oId = new Int32Array(0);
  private oOwner = new Int32Array(0);
  private oLeaves = new Float64Array(0);
  /**
   * FIFO links, prev at 2*slot and next at 2*slot+1: an unlink reads both from
   * one cache line. While a slot is free, its next link threads the free list.
   */
  private oLink = new Int32Array(0);
  private oLevel = new Int32Array(0);
  /**
   * Side, STP mode, time in force and post-only packed into one byte: resting
   * an order then writes one array instead of four. The price is the level's.
   */
  private oFlags = new Uint8Array(0);
  private freeSlot = NIL;
  private restingN = 0;

  /** orderId -> slot + 1 (0: not resting). Ids are dense, so an array beats a Map. */
  private idSlot: Int32Array<ArrayBuffer>;

  // Level pool, indexed by level index; free list threaded through lvHead.
  private levelsCap = 0;
  private lvPrice = new Int32Array(0);
  /** Kept per level so a cancel learns its side without touching the order's flags. */
  private lvSide = new Uint8Array(0);
  private lvSize = new Float64Array(0);
  private lvCount = new Int32Array(0);
  private lvHead = new Int32Array(0);
  private lvTail = new Int32Array(0);
  private freeLevel = NIL;

  /** Per side: sorted level keys in [side*levelsCap, side*levelsCap + sideLen[side]), best last. */
  private keys = new Int32Array(0);
  private keyLevel = new Int32Array(0);
  private readonly sideLen = new Int32Array(2);

  /** Set by match() when self-trade prevention ended the incoming order. */
  private selfTradeStop = false;
  /** Set by scanFillable() when self-trade prevention would end the incoming order before it is filled. */
  private scanStoppedBySelf = false;

  /** Whether the last successful modify kept time priority. */
  lastModifyKeptPriority = false;

  constructor(listener: BookListener, opts: OrderBookOptions = {}) {
    this.listener = listener;
    this.ordersMax = opts.ordersMax ?? ORDERS_MAX_DEFAULT;
    this.levelsMax = opts.levelsMax ?? LEVELS_MAX_DEFAULT;
    const initial = opts.initialOrders ?? Math.min(INITIAL_ORDERS_DEFAULT, this.ordersMax);
    assert(Number.isInteger(this.ordersMax) && this.ordersMax > 0 && this.ordersMax <= INT32_MAX, `ordersMax ${this.ordersMax}`);
    assert(Number.isInteger(this.levelsMax) && this.levelsMax > 0 && this.levelsMax <= 1 << 28, `levelsMax ${this.levelsMax}`);
    assert(Number.isInteger(initial) && initial > 0 && initial <= this.ordersMax, `initialOrders ${initial}`);
    this.chunkOrders = initial;
    const initialIds = opts.initialIds ?? 1024;
    assert(Number.isInteger(initialIds) && initialIds > 0 && initialIds <= INT32_MAX, `initialIds ${initialIds}`);
    this.idSlot = new Int32Array(initialIds);
    this.growOrders(initial);
    this.growLevels(Math.min(INITIAL_LEVELS, this.levelsMax));
  }

  // ───────────────────────────── queries ─────────────────────────────

  bestBid(): number {
    const n = this.sideLen[Side.Buy];
    return n === 0 ? NO_PRICE : this.keys[n - 1];
  }

  bestAsk(): number {
    const n = this.sideLen[Side.Sell];
    return n === 0 ? NO_PRICE : -this.keys[this.levelsCap + n - 1];
  }

  /** Best price of a side (NO_PRICE if empty). Small enough that V8 inlines it wherever it is called: the exchange's quote asks it after every command. */
  bestPrice(side: Side): number {
    const n = this.sideLen[side];
    return n === 0 ? NO_PRICE : this.lvPrice[this.keyLevel[side * this.levelsCap + n - 1]!]!;
  }

  /** Lots at the best price of a side (0 if empty). */
  bestSize(side: Side): number {
    const n = this.sideLen[side];
    return n === 0 ? 0 : this.lvSize[this.keyLevel[side * this.levelsCap + n - 1]!]!;
  }

  restingCount(): number {
    return this.restingN;
  }

  levelCount(side: Side): number {
    return this.sideLen[side];
  }

  isResting(orderId: number): boolean {
    return this.slotOf(orderId) !== NIL;
  }

  leavesOf(orderId: number): number {
    const s = this.slotOf(orderId);
    return s === NIL ? 0 : this.oLeaves[s];
  }

  priceOf(orderId: number): number {
    const s = this.slotOf(orderId);
    return s === NIL ? NO_PRICE : this.lvPrice[this.oLevel[s]];
  }

  sideOf(orderId: number): Side {
    const s = this.slotOf(orderId);
    if (s === NIL) throw new InvariantError(`sideOf: order ${orderId} is not resting`);
    return (this.oFlags[s] & FLAG_SELL) as Side;
  }

  /** Time in force of a resting order (GTC or DAY; the exchange expires DAY orders). */
  tifOf(orderId: number): TimeInForce {
    const s = this.slotOf(orderId);
    if (s === NIL) throw new InvariantError(`tifOf: order ${orderId} is not resting`);
    return ((this.oFlags[s] >> FLAG_TIF_SHIFT) & 3) as TimeInForce;
  }

  ownerOf(orderId: number): number {
    const s = this.slotOf(orderId);
    if (s === NIL) throw new InvariantError(`ownerOf: order ${orderId} is not resting`);
    return this.oOwner[s];
  }

  /** Capacity of the order pool as grown so far (for tests of growth). */
  poolCapacity(): number {
    return this.ordersCap;
  }

  depth(side: Side, maxLevels: number, outPrices: Float64Array, outSizes: Float64Array, outCounts: Float64Array): number {
    const n = this.sideLen[side];
    const base = side * this.levelsCap;
    let k = maxLevels < n ? maxLevels : n;
    if (outPrices.length < k) k = outPrices.length;
    if (outSizes.length < k) k = outSizes.length;
    if (outCounts.length < k) k = outCounts.length;
    for (let i = 0; i < k; i++) {
      const lv = this.keyLevel[base + n - 1 - i];
      outPrices[i] = this.lvPrice[lv];
      outSizes[i] = this.lvSize[lv];
      outCounts[i] = this.lvCount[lv];
    }
    return k;
  }

  /**
   * The price at which `lots` taken from `side` (best level first) would be filled in full:
   * the level where their sum reaches `lots`, or the last level if the side holds less;
   * NO_PRICE if the side is empty. Walks the levels in place (no copy): pre-trade risk asks
   * this of every market order.
   */
  priceToFill(side: Side, lots: number): number {
    const n = this.sideLen[side];
    if (n === 0) return NO_PRICE;
    const base = side * this.levelsCap;
    let left = lots;
    let lv = 0;
    for (let i = n - 1; i >= 0; i--) {
      lv = this.keyLevel[base + i];
      left -= this.lvSize[lv];
      if (left <= 0) break;
    }
    return this.lvPrice[lv];
  }

  forEachOrder(side: Side, visit: (orderId: number, priceTicks: number, leavesLots: number, owner: number) => void): void {
    const n = this.sideLen[side];
    const base = side * this.levelsCap;
    for (let i = n - 1; i >= 0; i--) {
      const lv = this.keyLevel[base + i];
      const price = this.lvPrice[lv];
      for (let s = this.lvHead[lv]; s !== NIL; s = this.oLink[2 * s + 1]) {
        visit(this.oId[s], price, this.oLeaves[s], this.oOwner[s]);
      }
    }
  }

  // ───────────────────────────── commands ─────────────────────────────

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
    if (!(sizeLots > 0) || !Number.isSafeInteger(sizeLots)) return RejectReason.BadSize;
    const isMarket = type === OrderType.Market;
    if (!isMarket && ((priceTicks | 0) !== priceTicks || priceTicks === NO_PRICE)) return RejectReason.BadPrice;
    // Ids and owners come from the exchange, not the client: a bad one is a bug.
    if ((orderId | 0) !== orderId || orderId <= 0 || (owner | 0) !== owner || (side !== Side.Buy && side !== Side.Sell)) {
      throw new InvariantError(`submit: bad orderId ${orderId}, owner ${owner} or side ${side}`);
    }
    if (orderId < this.idSlot.length && this.idSlot[orderId] !== 0) {
      throw new InvariantError(`submit: order ${orderId} is already resting`);
    }

    const opp = side ^ 1;
    const oppLen = this.sideLen[opp];
    let keyLimit: number;
    if (isMarket) {
      if (oppLen === 0) return RejectReason.NoLiquidity;
      keyLimit = KEY_LIMIT_MARKET;
    } else {
      keyLimit = side === Side.Buy ? -priceTicks : priceTicks;
    }
    const crosses = oppLen > 0 && this.keys[opp * this.levelsCap + oppLen - 1] >= keyLimit;
    if (postOnly && crosses) return RejectReason.PostOnlyWouldCross;
    const restable = !isMarket && (tif === TimeInForce.GTC || tif === TimeInForce.DAY);

    if (tif === TimeInForce.FOK) {
      if (!crosses || this.scanFillable(side, keyLimit, owner, stp, sizeLots) < sizeLots) return RejectReason.FokCannotFill;
    } else if (restable) {
      const reason = this.restLimitReason(side, priceTicks, keyLimit, crosses, owner, stp, sizeLots, false, false);
      if (reason !== 0) return reason;
    }

    let leaves = sizeLots;
    this.selfTradeStop = false;
    if (crosses) leaves = this.match(orderId, owner, side, keyLimit, sizeLots, stp);
    if (leaves > 0) {
      if (this.selfTradeStop) {
        this.listener.onCancel(orderId, leaves, CancelReason.SelfTrade);
      } else if (restable) {
        const slot = this.allocSlot();
        const o = this;
        o.oId[slot] = orderId;
        o.oOwner[slot] = owner;
        o.oFlags[slot] = side | (stp << FLAG_STP_SHIFT) | (tif << FLAG_TIF_SHIFT) | (postOnly ? FLAG_POST_ONLY : 0);
        this.rest(slot, side, priceTicks, leaves);
      } else {
        if (tif === TimeInForce.FOK) throw new InvariantError(`FOK order ${orderId} left ${leaves} unfilled after its fill check`);
        this.listener.onCancel(orderId, leaves, CancelReason.ImmediateRemainder);
      }
    }
    this.assertNotCrossed();
    return 0;
  }

  cancel(orderId: number, reason: CancelReason): boolean {
    const slot = this.slotOf(orderId);
    if (slot === NIL) return false;
    this.listener.onCancel(orderId, this.oLeaves[slot], reason);
    this.unlink(slot, true);
    this.releaseSlot(slot, orderId);
    return true;
  }

  modify(orderId: number, newPriceTicks: number, newSizeLots: number): number {
    const slot = this.slotOf(orderId);
    if (slot === NIL) return RejectReason.UnknownOrder;
    if (!(newSizeLots > 0) || !Number.isSafeInteger(newSizeLots)) return RejectReason.BadSize;
    if ((newPriceTicks | 0) !== newPriceTicks || newPriceTicks === NO_PRICE) return RejectReason.BadPrice;
    const oldPrice = this.lvPrice[this.oLevel[slot]];
    const oldLeaves = this.oLeaves[slot];
    const flags = this.oFlags[slot];
    const side = (flags & FLAG_SELL) as Side;
    if (newPriceTicks === oldPrice) {
      if (newSizeLots === oldLeaves) return RejectReason.ModifyNoChange;
      if (newSizeLots < oldLeaves) {
        // Size down at the same price keeps priority: nobody behind is harmed.
        const lv = this.oLevel[slot];
        this.oLeaves[slot] = newSizeLots;
        this.lvSize[lv] -= oldLeaves - newSizeLots;
        this.listener.onLevel(side, oldPrice, this.lvSize[lv], this.lvCount[lv]);
        this.lastModifyKeptPriority = true;
        return 0;
      }
    }

    const owner = this.oOwner[slot];
    const stp = ((flags >> FLAG_STP_SHIFT) & 3) as StpMode;
    const opp = side ^ 1;
    const oppLen = this.sideLen[opp];
    const keyLimit = side === Side.Buy ? -newPriceTicks : newPriceTicks;
    const crosses = oppLen > 0 && this.keys[opp * this.levelsCap + oppLen - 1] >= keyLimit;
    if (crosses && (flags & FLAG_POST_ONLY) !== 0) return RejectReason.PostOnlyWouldCross;
    if (newPriceTicks !== oldPrice) {
      const freesLevel = this.lvCount[this.oLevel[slot]] === 1;
      const reason = this.restLimitReason(side, newPriceTicks, keyLimit, crosses, owner, stp, newSizeLots, true, freesLevel);
      if (reason !== 0) return reason;
    }

    // Cancel-replace under the same id and slot. The old level is reported now
    // unless the order goes back to the same price, where resting reports it.
    this.unlink(slot, newPriceTicks !== oldPrice);
    this.lastModifyKeptPriority = false;
    let leaves = newSizeLots;
    this.selfTradeStop = false;
    if (crosses) leaves = this.match(orderId, owner, side, keyLimit, newSizeLots, stp);
    if (leaves > 0 && !this.selfTradeStop) {
      this.rest(slot, side, newPriceTicks, leaves);
    } else {
      if (leaves > 0) this.listener.onCancel(orderId, leaves, CancelReason.SelfTrade);
      this.releaseSlot(slot, orderId);
    }
    this.assertNotCrossed();
    return 0;
  }

  // ───────────────────────────── matching ─────────────────────────────

  /**
   * Trade the incoming quantity against the opposite side while it crosses.
   * Each touched level is reported once, when matching leaves it. Returns the
   * unfilled quantity; selfTradeStop says whether STP ended the order.
   */
  private match(takerId: number, owner: number, side: Side, keyLimit: number, sizeLots: number, stp: StpMode): number {
    const listener = this.listener;
    const opp = (side ^ 1) as Side;
    const base = opp * this.levelsCap;
    const keys = this.keys;
    const keyLevel = this.keyLevel;
    const oLink = this.oLink;
    const oLeaves = this.oLeaves;
    const oOwner = this.oOwner;
    const oId = this.oId;
    const lvSize = this.lvSize;
    const lvCount = this.lvCount;
    let leaves = sizeLots;
    while (leaves > 0) {
      const len = this.sideLen[opp];
      if (len === 0 || keys[base + len - 1] < keyLimit) break;
      const lv = keyLevel[base + len - 1];
      const price = this.lvPrice[lv];
      let slot = this.lvHead[lv];
      let touched = false;
      let stop = false;
      while (slot !== NIL && leaves > 0) {
        const next = oLink[2 * slot + 1];
        if (stp !== StpMode.None && oOwner[slot] === owner) {
          if (stp === StpMode.CancelIncoming) {
            stop = true;
            break;
          }
          const makerLeaves = oLeaves[slot];
          const makerId = oId[slot];
          listener.onCancel(makerId, makerLeaves, CancelReason.SelfTrade);
          lvSize[lv] -= makerLeaves;
          lvCount[lv]--;
          this.releaseSlot(slot, makerId);
          slot = next;
          touched = true;
          if (stp === StpMode.CancelBoth) {
            stop = true;
            break;
          }
          continue;
        }
        const makerLeaves = oLeaves[slot];
        const q = leaves < makerLeaves ? leaves : makerLeaves;
        leaves -= q;
        const rem = makerLeaves - q;
        lvSize[lv] -= q;
        touched = true;
        const makerId = oId[slot];
        listener.onTrade(takerId, makerId, price, q, leaves, rem);
        if (rem === 0) {
          lvCount[lv]--;
          this.releaseSlot(slot, makerId);
          slot = next;
        } else {
          oLeaves[slot] = rem;
        }
      }
      // Makers only ever leave from the head, so the new head is where we stopped.
      this.lvHead[lv] = slot;
      if (slot === NIL) this.lvTail[lv] = NIL;
      else this.oLink[2 * slot] = NIL;
      if (touched) listener.onLevel(opp, price, lvSize[lv], lvCount[lv]);
      if (slot === NIL) {
        if (lvCount[lv] !== 0 || lvSize[lv] !== 0) throw new InvariantError(`level ${price} emptied with count ${lvCount[lv]} size ${lvSize[lv]}`);
        this.sideLen[opp] = len - 1;
        this.releaseLevel(lv);
      }
      if (stop) {
        this.selfTradeStop = true;
        break;
      }
    }
    return leaves;
  }

  /**
   * How much of `needLots` the opposite side would fill for this taker,
   * honouring STP: own orders are skipped under CancelResting and end the scan
   * under CancelIncoming/CancelBoth (then scanStoppedBySelf is set).
   */
  private scanFillable(side: Side, keyLimit: number, owner: number, stp: StpMode, needLots: number): number {
    this.scanStoppedBySelf = false;
    const opp = side ^ 1;
    const base = opp * this.levelsCap;
    let sum = 0;
    for (let i = this.sideLen[opp] - 1; i >= 0 && sum < needLots; i--) {
      if (this.keys[base + i] < keyLimit) break;
      const lv = this.keyLevel[base + i];
      if (stp === StpMode.None) {
        sum += this.lvSize[lv];
        continue;
      }
      for (let s = this.lvHead[lv]; s !== NIL && sum < needLots; s = this.oLink[2 * s + 1]) {
        if (this.oOwner[s] === owner) {
          if (stp === StpMode.CancelResting) continue;
          this.scanStoppedBySelf = true;
          return sum;
        }
        sum += this.oLeaves[s];
      }
    }
    return sum < needLots ? sum : needLots;
  }

  /**
   * PoolFull or PriceLevelsFull when a restable limit would need a slot or a
   * level that the limits do not allow, 0 otherwise. Decided before matching so
   * a reject changes nothing; the exact "would it rest" scan runs only when a
   * limit is actually reached. A replace (`replacing`) keeps its slot, and
   * `freesLevel` says its old level empties when it leaves.
   */
  private restLimitReason(
    side: Side,
    priceTicks: number,
    keyLimit: number,
    crosses: boolean,
    owner: number,
    stp: StpMode,
    sizeLots: number,
    replacing: boolean,
    freesLevel: boolean,
  ): number {
    const poolFull = !replacing && this.restingN >= this.ordersMax;
    const levelsFull =
      this.sideLen[side] - (freesLevel ? 1 : 0) >= this.levelsMax && !this.levelExists(side, priceTicks);
    if (!poolFull && !levelsFull) return 0;
    this.scanStoppedBySelf = false;
    const fill = crosses ? this.scanFillable(side, keyLimit, owner, stp, sizeLots) : 0;
    if (fill >= sizeLots || this.scanStoppedBySelf) return 0;
    return poolFull ? RejectReason.PoolFull : RejectReason.PriceLevelsFull;
  }

  // ───────────────────────────── resting ─────────────────────────────

  /** Append a prepared slot to the tail of its price level, then report it. */
  private rest(slot: number, side: Side, priceTicks: number, leaves: number): void {
    const lv = this.levelFor(side, priceTicks);
    // Sizes are bounded by the exchange; this only guards the aggregate's exactness.
    if (!(this.lvSize[lv] + leaves <= Number.MAX_SAFE_INTEGER)) throw new InvariantError(`level ${priceTicks} size would exceed a safe integer`);
    const o = this;
    const orderId = o.oId[slot];
    o.oLeaves[slot] = leaves;
    o.oLevel[slot] = lv;
    o.oLink[2 * slot + 1] = NIL;
    const tail = o.lvTail[lv];
    o.oLink[2 * slot] = tail;
    if (tail === NIL) o.lvHead[lv] = slot;
    else o.oLink[2 * tail + 1] = slot;
    o.lvTail[lv] = slot;
    o.lvSize[lv] += leaves;
    o.lvCount[lv]++;
    if (orderId >= o.idSlot.length) this.growIds(orderId);
    o.idSlot[orderId] = slot + 1;
    this.listener.onRest(orderId, side, priceTicks, leaves);
    this.listener.onLevel(side, priceTicks, o.lvSize[lv], o.lvCount[lv]);
  }

  /**
   * Take a resting order out of its level (the slot stays allocated and
   * mapped). Removes the level when it empties; reports it when `report`.
   */
  private unlink(slot: number, report: boolean): void {
    const lv = this.oLevel[slot];
    const prev = this.oLink[2 * slot];
    const next = this.oLink[2 * slot + 1];
    if (prev === NIL) this.lvHead[lv] = next;
    else this.oLink[2 * prev + 1] = next;
    if (next === NIL) this.lvTail[lv] = prev;
    else this.oLink[2 * next] = prev;
    this.lvSize[lv] -= this.oLeaves[slot];
    const count = --this.lvCount[lv];
    const side = this.lvSide[lv] as Side;
    if (report) this.listener.onLevel(side, this.lvPrice[lv], this.lvSize[lv], count);
    if (count === 0) this.removeLevel(side, lv);
  }

  // ───────────────────────────── levels ─────────────────────────────

  /**
   * Position of `key` in the side's ascending key array, or the insertion
   * point as -(pos + 1). Keys are distinct integers, so a key d below the best
   * sits at most d places from the end: in a book dense near the touch the
   * first probe hits, otherwise it bounds a short scan or bisection.
   */
  private findKey(side: Side, key: number): number {
    const n = this.sideLen[side];
    if (n === 0) return -1;
    const keys = this.keys;
    const base = side * this.levelsCap;
    const top = keys[base + n - 1];
    if (key >= top) return key === top ? n - 1 : -(n + 1);
    const d = top - key;
    let lo = n - 1 - d;
    if (lo < 0) lo = 0;
    const kLo = keys[base + lo];
    if (kLo === key) return lo;
    if (kLo > key) return -(lo + 1); // only when lo was clamped to 0
    // keys[lo] < key < keys[n - 1]: the answer lies strictly between.
    let hi = n - 2;
    lo++;
    if (hi - lo < LINEAR_PROBE_LEVELS) {
      for (let i = hi; i >= lo; i--) {
        const k = keys[base + i];
        if (k === key) return i;
        if (k < key) return -(i + 2);
      }
      return -(lo + 1);
    }
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const k = keys[base + mid];
      if (k === key) return mid;
      if (k < key) lo = mid + 1;
      else hi = mid - 1;
    }
    return -(lo + 1);
  }

  private levelExists(side: Side, priceTicks: number): boolean {
    return this.findKey(side, side === Side.Buy ? priceTicks : -priceTicks) >= 0;
  }

  /** The level at a price, created (and inserted in sort order) if absent. */
  private levelFor(side: Side, priceTicks: number): number {
    const key = side === Side.Buy ? priceTicks : -priceTicks;
    const found = this.findKey(side, key);
    if (found >= 0) return this.keyLevel[side * this.levelsCap + found];
    const n = this.sideLen[side];
    if (n >= this.levelsMax) throw new InvariantError(`side ${side} already has levelsMax=${this.levelsMax} levels`);
    if (n === this.levelsCap) this.growLevels(Math.min(this.levelsCap * 2, this.levelsMax));
    const pos = -found - 1;
    const base = side * this.levelsCap;
    const keys = this.keys;
    const keyLevel = this.keyLevel;
    const shift = n - pos;
    if (shift <= SHIFT_LOOP_MAX) {
      for (let j = base + n; j > base + pos; j--) {
        keys[j] = keys[j - 1];
        keyLevel[j] = keyLevel[j - 1];
      }
    } else {
      keys.copyWithin(base + pos + 1, base + pos, base + n);
      keyLevel.copyWithin(base + pos + 1, base + pos, base + n);
    }
    const lv = this.freeLevel;
    this.freeLevel = this.lvHead[lv];
    this.lvPrice[lv] = priceTicks;
    this.lvSide[lv] = side;
    this.lvSize[lv] = 0;
    this.lvCount[lv] = 0;
    this.lvHead[lv] = NIL;
    this.lvTail[lv] = NIL;
    keys[base + pos] = key;
    keyLevel[base + pos] = lv;
    this.sideLen[side] = n + 1;
    return lv;
  }

  private removeLevel(side: Side, lv: number): void {
    const price = this.lvPrice[lv];
    const pos = this.findKey(side, side === Side.Buy ? price : -price);
    if (pos < 0) throw new InvariantError(`level ${price} missing from side ${side}`);
    const n = this.sideLen[side];
    const base = side * this.levelsCap;
    const keys = this.keys;
    const keyLevel = this.keyLevel;
    if (n - 1 - pos <= SHIFT_LOOP_MAX) {
      for (let j = base + pos; j < base + n - 1; j++) {
        keys[j] = keys[j + 1];
        keyLevel[j] = keyLevel[j + 1];
      }
    } else {
      keys.copyWithin(base + pos, base + pos + 1, base + n);
      keyLevel.copyWithin(base + pos, base + pos + 1, base + n);
    }
    this.sideLen[side] = n - 1;
    this.releaseLevel(lv);
  }

  private releaseLevel(lv: number): void {
    this.lvHead[lv] = this.freeLevel;
    this.freeLevel = lv;
  }

  // ───────────────────────────── pools ─────────────────────────────

  private slotOf(orderId: number): number {
    if (!(orderId > 0) || orderId >= this.idSlot.length) return NIL;
    const s = this.idSlot[orderId];
    return s === undefined ? NIL : s - 1;
  }

  private allocSlot(): number {
    if (this.freeSlot === NIL) {
      assert(this.ordersCap < this.ordersMax, `order pool full at ordersMax=${this.ordersMax}`);
      // Doubling in whole chunks keeps total copying linear in the final size.
      const chunks = Math.ceil(this.ordersCap / this.chunkOrders);
      this.growOrders(Math.min(this.ordersMax, Math.max(chunks * 2, 1) * this.chunkOrders));
    }
    const slot = this.freeSlot;
    this.freeSlot = this.oLink[2 * slot + 1];
    this.restingN++;
    return slot;
  }

  /** Return a slot to the free list and forget its id (passed in: callers hold it, saving a read). */
  private releaseSlot(slot: number, orderId: number): void {
    this.idSlot[orderId] = 0;
    this.oLink[2 * slot + 1] = this.freeSlot;
    this.freeSlot = slot;
    this.restingN--;
  }

  private growOrders(cap: number): void {
    const old = this.ordersCap;
    assert(cap > old, `growOrders ${old} -> ${cap}`);
    const grow32 = (a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    };
    const grow8 = (a: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> => {
      const b = new Uint8Array(cap);
      b.set(a);
      return b;
    };
    this.oId = grow32(this.oId);
    this.oOwner = grow32(this.oOwner);
    const leaves = new Float64Array(cap);
    leaves.set(this.oLeaves);
    this.oLeaves = leaves;
    const link = new Int32Array(2 * cap);
    link.set(this.oLink);
    this.oLink = link;
    this.oLevel = grow32(this.oLevel);
    this.oFlags = grow8(this.oFlags);
    // New slots go on the free list lowest first so reuse order is predictable.
    for (let s = cap - 1; s >= old; s--) {
      this.oLink[2 * s + 1] = this.freeSlot;
      this.freeSlot = s;
    }
    this.ordersCap = cap;
  }

  private growIds(orderId: number): void {
    let n = this.idSlot.length;
    while (n <= orderId) n *= 2;
    const b = new Int32Array(n);
    b.set(this.idSlot);
    this.idSlot = b;
  }

  /** Grow per-side capacity to `cap` levels; both sides' key regions move. */
  private growLevels(cap: number): void {
    const old = this.levelsCap;
    assert(cap > old, `growLevels ${old} -> ${cap}`);
    const keys = new Int32Array(2 * cap);
    const keyLevel = new Int32Array(2 * cap);
    for (let side = 0; side < 2; side++) {
      const n = this.sideLen[side];
      keys.set(this.keys.subarray(side * old, side * old + n), side * cap);
      keyLevel.set(this.keyLevel.subarray(side * old, side * old + n), side * cap);
    }
    this.keys = keys;
    this.keyLevel = keyLevel;
    const lvCap = 2 * cap;
    const g32 = (a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => {
      const b = new Int32Array(lvCap);
      b.set(a);
      return b;
    };
    this.lvPrice = g32(this.lvPrice);
    const lvSide = new Uint8Array(lvCap);
    lvSide.set(this.lvSide);
    this.lvSide = lvSide;
    this.lvCount = g32(this.lvCount);
    this.lvHead = g32(this.lvHead);
    this.lvTail = g32(this.lvTail);
    const size = new Float64Array(lvCap);
    size.set(this.lvSize);
    this.lvSize = size;
    for (let lv = lvCap - 1; lv >= 2 * old; lv--) {
      this.lvHead[lv] = this.freeLevel;
      this.freeLevel = lv;
    }
    this.levelsCap = cap;
  }

  // ───────────────────────────── invariants ─────────────────────────────

  private assertNotCrossed(): void {
    const nb = this.sideLen[Side.Buy];
    const na = this.sideLen[Side.Sell];
    if (nb !== 0 && na !== 0 && !(this.keys[nb - 1] < -this.keys[this.levelsCap + na - 1])) {
      throw new InvariantError(`book crossed: bid ${this.bestBid()} >= ask ${this.bestAsk()}`);
    }
  }

  checkInvariants(): void {
    let seen = 0;
    const levelSeen = new Uint8Array(2 * this.levelsCap);
    const bruteBest = [NO_PRICE, NO_PRICE];
    for (let side = 0; side < 2; side++) {
      const n = this.sideLen[side];
      assert(n >= 0 && n <= this.levelsCap && n <= this.levelsMax, `side ${side} level count ${n}`);
      const base = side * this.levelsCap;
      for (let i = 0; i < n; i++) {
        const key = this.keys[base + i];
        if (i > 0) assert(this.keys[base + i - 1] < key, `side ${side} keys not strictly ascending at ${i}`);
        const lv = this.keyLevel[base + i];
        assert(lv >= 0 && lv < 2 * this.levelsCap && levelSeen[lv] === 0, `side ${side} level index ${lv} bad or shared`);
        levelSeen[lv] = 1;
        const price = this.lvPrice[lv];
        assert(key === (side === Side.Buy ? price : -price), `level key ${key} does not match price ${price}`);
        let count = 0;
        let size = 0;
        let prev = NIL;
        for (let s = this.lvHead[lv]; s !== NIL; s = this.oLink[2 * s + 1]) {
          assert(s >= 0 && s < this.ordersCap, `slot ${s} out of range`);
          assert(this.oLink[2 * s] === prev, `slot ${s} prev link ${this.oLink[2 * s]} != ${prev}`);
          assert(this.oLevel[s] === lv, `slot ${s} level ${this.oLevel[s]} != ${lv}`);
          assert((this.oFlags[s] & FLAG_SELL) === side, `slot ${s} side`);
          assert(this.lvSide[lv] === side, `level ${price} side`);
          const leaves = this.oLeaves[s];
          assert(leaves > 0 && Number.isSafeInteger(leaves), `slot ${s} leaves ${leaves}`);
          const id = this.oId[s];
          assert(id > 0 && id < this.idSlot.length && this.idSlot[id] === s + 1, `order ${id} id map does not point at slot ${s}`);
          count++;
          size += leaves;
          prev = s;
          assert(count <= this.ordersCap, `level ${price} list has a cycle`);
          const best = bruteBest[side];
          if (best === NO_PRICE || (side === Side.Buy ? leaves > 0 && price > best : price < best)) bruteBest[side] = price;
        }
        assert(count > 0, `empty level ${price} kept on side ${side}`);
        assert(this.lvTail[lv] === prev, `level ${price} tail ${this.lvTail[lv]} != ${prev}`);
        assert(this.lvCount[lv] === count, `level ${price} count ${this.lvCount[lv]} != ${count}`);
        assert(this.lvSize[lv] === size, `level ${price} size ${this.lvSize[lv]} != ${size}`);
        seen += count;
      }
    }
    assert(seen === this.restingN, `resting count ${this.restingN} != ${seen} orders in levels`);
    let free = 0;
    for (let s = this.freeSlot; s !== NIL; s = this.oLink[2 * s + 1]) {
      free++;
      assert(free <= this.ordersCap, 'free list has a cycle');
    }
    assert(free + seen === this.ordersCap, `free ${free} + resting ${seen} != capacity ${this.ordersCap}`);
    let freeLevels = 0;
    for (let lv = this.freeLevel; lv !== NIL; lv = this.lvHead[lv]) {
      assert(levelSeen[lv] === 0, `level ${lv} both free and active`);
      freeLevels++;
      assert(freeLevels <= 2 * this.levelsCap, 'level free list has a cycle');
    }
    assert(freeLevels + this.sideLen[0] + this.sideLen[1] === 2 * this.levelsCap, 'level pool leak');
    let mapped = 0;
    for (let id = 0; id < this.idSlot.length; id++) if (this.idSlot[id] !== 0) mapped++;
    assert(mapped === seen, `id map holds ${mapped} ids for ${seen} resting orders`);
    assert(this.bestBid() === bruteBest[Side.Buy], `bestBid ${this.bestBid()} != brute ${bruteBest[Side.Buy]}`);
    assert(this.bestAsk() === bruteBest[Side.Sell], `bestAsk ${this.bestAsk()} != brute ${bruteBest[Side.Sell]}`);
    this.assertNotCrossed();
  }
}
