import { assert, assertSafeInt } from './assert.js';
import { hashId } from './hash.js';
import { NO_PRICE, Side } from './types.js';

/**
 * A price-level book: aggregate size per occupied price, per side, without
 * individual orders. It is the book a replay needs (LOBSTER, Tardis L2): the
 * feed says which level changed and by how much, and a level-based book can
 * absorb events for orders it never saw (placed before the file starts),
 * because it only needs the price and size the message carries.
 *
 * Each side is a sorted pair of typed arrays with the best level at the END,
 * so the busy part of a real book (the touch) is where inserts and deletes
 * shift the fewest elements. The sort key is the price for bids and the
 * negated price for asks, so both sides are kept ascending by key.
 *
 * Prices and sizes are safe integers in whatever unit the caller uses
 * (LOBSTER's dollars x 10000, or instrument ticks); Float64Array because a
 * LOBSTER price can exceed 2^31.
 */
export const LEVEL_BOOK_LEVELS_MAX_DEFAULT = 1 << 20;
const LEVEL_BOOK_INITIAL_CAPACITY = 1024;
/** Below this many elements a JS loop shifts faster than copyWithin (measured on the AAPL replay). */
const SHIFT_NATIVE_MIN = 64;

export class LevelBook {
  /** keys[side][i] ascending; best level at index count-1. */
  private keys: [Float64Array, Float64Array];
  private sizes: [Float64Array, Float64Array];
  private counts: [number, number] = [0, 0];

  constructor(readonly levelsMax = LEVEL_BOOK_LEVELS_MAX_DEFAULT) {
    assert(Number.isSafeInteger(levelsMax) && levelsMax > 0, 'levelsMax must be a positive integer');
    const cap = Math.min(LEVEL_BOOK_INITIAL_CAPACITY, levelsMax);
    this.keys = [new Float64Array(cap), new Float64Array(cap)];
    this.sizes = [new Float64Array(cap), new Float64Array(cap)];
  }

  /** Number of occupied levels on a side. */
  depth(side: Side): number {
    return this.counts[side];
  }

  /** Price of the i-th best level (0 = touch), or NO_PRICE beyond the depth. */
  price(side: Side, i: number): number {
    const n = this.counts[side];
    if (i < 0 || i >= n) return NO_PRICE;
    const k = this.keys[side][n - 1 - i]!;
    return side === Side.Buy ? k : -k;
  }

  /** Aggregate size of the i-th best level, 0 beyond the depth. */
  size(side: Side, i: number): number {
    const n = this.counts[side];
    if (i < 0 || i >= n) return 0;
    return this.sizes[side][n - 1 - i]!;
  }

  bestBid(): number {
    return this.price(Side.Buy, 0);
  }

  bestAsk(): number {
    return this.price(Side.Sell, 0);
  }

  /** Size resting at an exact price, 0 if the level is not there. */
  sizeAt(side: Side, price: number): number {
    const i = this.find(side, side === Side.Buy ? price : -price);
    return i >= 0 ? this.sizes[side][i]! : 0;
  }

  /** Adds size at a price (a new order, or more at an existing level). */
  add(side: Side, price: number, sizeLots: number): void {
    assert(sizeLots > 0, 'add: size must be positive');
    const key = side === Side.Buy ? price : -price;
    const i = this.find(side, key);
    if (i >= 0) this.sizes[side][i] += sizeLots;
    else this.insertAt(side, ~i, key, sizeLots);
  }

  /**
   * Removes up to `sizeLots` at a price (cancel, delete, execution) and returns
   * the size actually removed. A level that reaches zero is deleted. Removing
   * more than the level holds, or from an absent level, is not an error: it is
   * what a depth-limited feed produces for a level the replay never knew.
   */
  reduce(side: Side, price: number, sizeLots: number): number {
    const key = side === Side.Buy ? price : -price;
    const i = this.find(side, key);
    if (i < 0) return 0;
    const sizes = this.sizes[side];
    const have = sizes[i]!;
    if (sizeLots < have) {
      sizes[i] = have - sizeLots;
      return sizeLots;
    }
    this.removeAt(side, i);
    return have;
  }

  /** Sets a level to an absolute size (L2 updates, resync); size 0 deletes it. */
  set(side: Side, price: number, sizeLots: number): void {
    assert(sizeLots >= 0, 'set: size must not be negative');
    const key = side === Side.Buy ? price : -price;
    const i = this.find(side, key);
    if (i >= 0) {
      if (sizeLots === 0) this.removeAt(side, i);
      else this.sizes[side][i] = sizeLots;
    } else if (sizeLots > 0) {
      this.insertAt(side, ~i, key, sizeLots);
    }
  }

  /** Deletes a level outright; returns the size it held (0 if absent). */
  delete(side: Side, price: number): number {
    const i = this.find(side, side === Side.Buy ? price : -price);
    if (i < 0) return 0;
    const had = this.sizes[side][i]!;
    this.removeAt(side, i);
    return had;
  }

  /**
   * Deletes every level at or better than `price` (all levels when price is
   * NO_PRICE). Resync uses it before writing the levels a depth-limited file
   * knows, so a stale level inside that range cannot survive.
   */
  deleteAtOrBetter(side: Side, price: number): number {
    const n = this.counts[side];
    if (price === NO_PRICE) {
      this.counts[side] = 0;
      return n;
    }
    const key = side === Side.Buy ? price : -price;
    const i = this.find(side, key);
    const from = i >= 0 ? i : ~i;
    this.counts[side] = from;
    return n - from;
  }

  clear(): void {
    this.counts[0] = 0;
    this.counts[1] = 0;
  }

  /** Empties one side (a snapshot replaces the book). */
  clearSide(side: Side): void {
    this.counts[side] = 0;
  }

  /**
   * Writes the top `k` levels of a side into `prices`/`sizes` from `at`
   * (NO_PRICE / 0 beyond the depth) and returns the number of real levels.
   */
  top(side: Side, k: number, prices: Float64Array, sizes: Float64Array, at = 0): number {
    const n = this.counts[side];
    const keys = this.keys[side];
    const sz = this.sizes[side];
    const real = k < n ? k : n;
    for (let i = 0; i < real; i++) {
      const k2 = keys[n - 1 - i]!;
      prices[at + i] = side === Side.Buy ? k2 : -k2;
      sizes[at + i] = sz[n - 1 - i]!;
    }
    for (let i = real; i < k; i++) {
      prices[at + i] = NO_PRICE;
      sizes[at + i] = 0;
    }
    return real;
  }

  /** Throws if a side is out of order or holds a non-positive size; for tests and debug checks. */
  checkInvariants(): void {
    for (const side of [Side.Buy, Side.Sell]) {
      const n = this.counts[side];
      const keys = this.keys[side];
      const sizes = this.sizes[side];
      for (let i = 0; i < n; i++) {
        assertSafeInt(keys[i]!, 'level price');
        assert(sizes[i]! > 0, `level ${i} on side ${side} has size ${sizes[i]}`);
        if (i > 0) assert(keys[i - 1]! < keys[i]!, `side ${side} not sorted at ${i}`);
      }
    }
  }

  /**
   * Binary search for `key`: its index, or ~insertionPoint. The touch is at the
   * end, and most replay traffic is near it, so the last slot is checked first.
   */
  private find(side: Side, key: number): number {
    const keys = this.keys[side];
    const n = this.counts[side];
    if (n === 0) return ~0;
    const last = keys[n - 1]!;
    if (key === last) return n - 1;
    if (key > last) return ~n;
    let lo = 0;
    let hi = n - 2;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const k = keys[mid]!;
      if (k < key) lo = mid + 1;
      else if (k > key) hi = mid - 1;
      else return mid;
    }
    return ~lo;
  }

  private insertAt(side: Side, i: number, key: number, sizeLots: number): void {
    const n = this.counts[side];
    if (n === this.keys[side].length) this.grow(side);
    const keys = this.keys[side];
    const sizes = this.sizes[side];
    if (n - i > SHIFT_NATIVE_MIN) {
      keys.copyWithin(i + 1, i, n);
      sizes.copyWithin(i + 1, i, n);
    } else {
      // A short move near the touch: a plain loop beats the builtin's call overhead.
      for (let j = n; j > i; j--) {
        keys[j] = keys[j - 1]!;
        sizes[j] = sizes[j - 1]!;
      }
    }
    keys[i] = key;
    sizes[i] = sizeLots;
    this.counts[side] = n + 1;
  }

  private removeAt(side: Side, i: number): void {
    const n = this.counts[side];
    const keys = this.keys[side];
    const sizes = this.sizes[side];
    if (n - 1 - i > SHIFT_NATIVE_MIN) {
      keys.copyWithin(i, i + 1, n);
      sizes.copyWithin(i, i + 1, n);
    } else {
      for (let j = i + 1; j < n; j++) {
        keys[j - 1] = keys[j]!;
        sizes[j - 1] = sizes[j]!;
      }
    }
    this.counts[side] = n - 1;
  }

  private grow(side: Side): void {
    const cap = this.keys[side].length;
    if (cap >= this.levelsMax) throw new RangeError(`level book: more than ${this.levelsMax} price levels on one side`);
    const next = Math.min(cap * 2, this.levelsMax);
    const keys = new Float64Array(next);
    keys.set(this.keys[side]);
    const sizes = new Float64Array(next);
    sizes.set(this.sizes[side]);
    this.keys[side] = keys;
    this.sizes[side] = sizes;
  }
}

/** Orders tracked at most by default when a LevelBook is asked to track ids. */
export const ORDER_INDEX_ORDERS_MAX_DEFAULT = 1 << 22;

const SLOT_EMPTY = 0;
const SLOT_USED = 1;
const SLOT_GONE = 2;

/**
 * Order id -> (side, price, size) for order-level feeds, kept beside a
 * LevelBook so a feed's cancel or execution of a known order can be checked
 * against what the order was. Open addressing with linear probing in typed
 * arrays: no object per order. Ids are safe integers (LOBSTER's fit in 2^53).
 */
export class OrderIndex {
  private ids: Float64Array;
  private state: Uint8Array;
  private sides: Uint8Array;
  private prices: Float64Array;
  private sizes: Float64Array;
  private mask: number;
  private used = 0;
  private gone = 0;

  constructor(readonly ordersMax = ORDER_INDEX_ORDERS_MAX_DEFAULT, initialOrders = 1 << 12) {
    assert(Number.isSafeInteger(ordersMax) && ordersMax > 0, 'ordersMax must be a positive integer');
    let cap = 16;
    while (cap < Math.min(initialOrders, ordersMax) * 2) cap *= 2;
    this.ids = new Float64Array(cap);
    this.state = new Uint8Array(cap);
    this.sides = new Uint8Array(cap);
    this.prices = new Float64Array(cap);
    this.sizes = new Float64Array(cap);
    this.mask = cap - 1;
  }

  get count(): number {
    return this.used;
  }

  /** Slot of `id`, or -1. */
  find(id: number): number {
    const state = this.state;
    const ids = this.ids;
    let i = hashId(id) & this.mask;
    for (;;) {
      const st = state[i]!;
      if (st === SLOT_EMPTY) return -1;
      if (st === SLOT_USED && ids[i] === id) return i;
      i = (i + 1) & this.mask;
    }
  }

  /** Adds an order; false if the id is already live. */
  insert(id: number, side: Side, price: number, sizeLots: number): boolean {
    if (this.find(id) >= 0) return false;
    if (this.used >= this.ordersMax) throw new RangeError(`order index: more than ${this.ordersMax} live orders`);
    if ((this.used + this.gone + 1) * 4 > this.state.length * 3) this.rehash();
    let i = hashId(id) & this.mask;
    while (this.state[i] === SLOT_USED) i = (i + 1) & this.mask;
    if (this.state[i] === SLOT_GONE) this.gone--;
    this.state[i] = SLOT_USED;
    this.ids[i] = id;
    this.sides[i] = side;
    this.prices[i] = price;
    this.sizes[i] = sizeLots;
    this.used++;
    return true;
  }

  side(slot: number): Side {
    return this.sides[slot] as Side;
  }

  price(slot: number): number {
    return this.prices[slot]!;
  }

  size(slot: number): number {
    return this.sizes[slot]!;
  }

  setSize(slot: number, sizeLots: number): void {
    if (sizeLots > 0) this.sizes[slot] = sizeLots;
    else this.removeSlot(slot);
  }

  removeSlot(slot: number): void {
    assert(this.state[slot] === SLOT_USED, 'order index: removing an empty slot');
    this.state[slot] = SLOT_GONE;
    this.used--;
    this.gone++;
  }

  clear(): void {
    this.state.fill(SLOT_EMPTY);
    this.used = 0;
    this.gone = 0;
  }

  /** Grows (or just sweeps tombstones) in one whole step; rare by construction. */
  private rehash(): void {
    const oldIds = this.ids;
    const oldState = this.state;
    const oldSides = this.sides;
    const oldPrices = this.prices;
    const oldSizes = this.sizes;
    let cap = oldState.length;
    if ((this.used + 1) * 2 > cap) cap *= 2;
    this.ids = new Float64Array(cap);
    this.state = new Uint8Array(cap);
    this.sides = new Uint8Array(cap);
    this.prices = new Float64Array(cap);
    this.sizes = new Float64Array(cap);
    this.mask = cap - 1;
    this.gone = 0;
    for (let j = 0; j < oldState.length; j++) {
      if (oldState[j] !== SLOT_USED) continue;
      let i = hashId(oldIds[j]!) & this.mask;
      while (this.state[i] === SLOT_USED) i = (i + 1) & this.mask;
      this.state[i] = SLOT_USED;
      this.ids[i] = oldIds[j]!;
      this.sides[i] = oldSides[j]!;
      this.prices[i] = oldPrices[j]!;
      this.sizes[i] = oldSizes[j]!;
    }
  }
}
