/**
 * The live orders of every account by client order id: (account, clOrdId) -> venue order id.
 * The exchange asks it on every submit (a duplicate clOrdId is refused), cancel and modify,
 * and adds and removes an entry with every order that comes and goes.
 *
 * An open-addressing hash table in typed arrays (linear probing, at most half full, deletion
 * by shifting the probe run back, so no tombstones), rather than a Map per account: a Map
 * reallocates its table as entries come and go, about 25 bytes for every order on the
 * exchange's hottest path, and garbage collection then took ~4% of matching. This table
 * allocates only when the number of live orders first exceeds half its size (doubling).
 * Nothing iterates it, so the hash order never reaches the output. Not OrderIndex
 * (level-book.ts): its key is one id, and its deletes leave tombstones that a sweep clears by
 * reallocating, which the exchange's constant churn of orders would trigger again and again.
 *
 * Keys: any account index >= 0 and any clOrdId a command carries; clOrdIds compare with
 * SameValueZero (as a Map does: -0 and 0 are one id, and NaN is one id).
 */
import { InvariantError } from './assert.js';
import { hashId } from './hash.js';

const EMPTY = -1;
/** Slots to start with (a power of two). */
const INITIAL = 1 << 10;

export class ClientOrders {
  /** Per slot: the account (EMPTY when the slot is free). */
  private acct: Int32Array = new Int32Array(INITIAL).fill(EMPTY);
  private cl: Float64Array = new Float64Array(INITIAL);
  private id: Int32Array = new Int32Array(INITIAL);
  private mask = INITIAL - 1;
  private n = 0;

  /** Live entries. */
  get size(): number {
    return this.n;
  }

  /** The live order id of (account, clOrdId), or 0. */
  get(account: number, clOrdId: number): number {
    const s = this.find(account, clOrdId);
    return s < 0 ? 0 : this.id[s]!;
  }

  has(account: number, clOrdId: number): boolean {
    return this.find(account, clOrdId) >= 0;
  }

  /** Adds (account, clOrdId) -> orderId; the pair must not be live (the exchange checks first). */
  add(account: number, clOrdId: number, orderId: number): void {
    if (!(Number.isInteger(account) && account >= 0 && account <= 0x7fffffff)) throw new InvariantError(`client orders: bad account ${account}`);
    if (!(Number.isInteger(orderId) && orderId > 0 && orderId <= 0x7fffffff)) throw new InvariantError(`client orders: bad order id ${orderId}`);
    if ((this.n + 1) * 2 > this.mask + 1) this.rehash((this.mask + 1) * 2);
    const acct = this.acct;
    let s = slotOf(account, clOrdId, this.mask);
    while (acct[s] !== EMPTY) {
      if (acct[s] === account && same(this.cl[s]!, clOrdId)) throw new InvariantError(`client orders: (${account}, ${clOrdId}) is already live`);
      s = (s + 1) & this.mask;
    }
    acct[s] = account;
    this.cl[s] = clOrdId;
    this.id[s] = orderId;
    this.n++;
  }

  /** Removes (account, clOrdId) if live. */
  delete(account: number, clOrdId: number): void {
    let s = this.find(account, clOrdId);
    if (s < 0) return;
    this.n--;
    // Shift the rest of the probe run back over the hole, so a lookup never stops early at
    // it: an entry moves when its home slot is not cyclically in (hole, its slot].
    const acct = this.acct;
    const cl = this.cl;
    const id = this.id;
    const mask = this.mask;
    let j = s;
    for (;;) {
      j = (j + 1) & mask;
      const a = acct[j]!;
      if (a === EMPTY) break;
      const home = slotOf(a, cl[j]!, mask);
      if (((j - home) & mask) >= ((j - s) & mask)) {
        acct[s] = a;
        cl[s] = cl[j]!;
        id[s] = id[j]!;
        s = j;
      }
    }
    acct[s] = EMPTY;
  }

  private find(account: number, clOrdId: number): number {
    const acct = this.acct;
    const mask = this.mask;
    let s = slotOf(account, clOrdId, mask);
    for (;;) {
      const a = acct[s]!;
      if (a === EMPTY) return -1;
      if (a === account && same(this.cl[s]!, clOrdId)) return s;
      s = (s + 1) & mask;
    }
  }

  private rehash(size: number): void {
    const acct = this.acct;
    const cl = this.cl;
    const id = this.id;
    this.acct = new Int32Array(size).fill(EMPTY);
    this.cl = new Float64Array(size);
    this.id = new Int32Array(size);
    this.mask = size - 1;
    for (let s = 0; s < acct.length; s++) {
      const a = acct[s]!;
      if (a === EMPTY) continue;
      let t = slotOf(a, cl[s]!, this.mask);
      while (this.acct[t] !== EMPTY) t = (t + 1) & this.mask;
      this.acct[t] = a;
      this.cl[t] = cl[s]!;
      this.id[t] = id[s]!;
    }
  }
}

/** SameValueZero for numbers. */
const same = (x: number, y: number): boolean => x === y || (x !== x && y !== y);

/** Home slot of (account, clOrdId): the id's hash (engine/hash.ts), the account mixed in. */
const slotOf = (account: number, clOrdId: number, mask: number): number => (hashId(clOrdId) ^ Math.imul(account + 1, 0x85ebca77)) & mask;
