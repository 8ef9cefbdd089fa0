import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { LevelBook, OrderIndex } from './level-book.js';
import { NO_PRICE, Side } from './types.js';

function topOf(book: LevelBook, side: Side, k: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < k && i < book.depth(side); i++) out.push([book.price(side, i), book.size(side, i)]);
  return out;
}

describe('LevelBook', () => {
  it('keeps each side sorted best first and aggregates sizes per price', () => {
    const b = new LevelBook();
    b.add(Side.Buy, 100, 5);
    b.add(Side.Buy, 102, 1);
    b.add(Side.Buy, 101, 2);
    b.add(Side.Buy, 101, 3);
    b.add(Side.Sell, 105, 4);
    b.add(Side.Sell, 103, 7);
    expect(topOf(b, Side.Buy, 5)).toEqual([[102, 1], [101, 5], [100, 5]]);
    expect(topOf(b, Side.Sell, 5)).toEqual([[103, 7], [105, 4]]);
    expect(b.bestBid()).toBe(102);
    expect(b.bestAsk()).toBe(103);
    expect(b.sizeAt(Side.Buy, 101)).toBe(5);
    expect(b.sizeAt(Side.Buy, 99)).toBe(0);
    expect(b.price(Side.Sell, 2)).toBe(NO_PRICE);
    b.checkInvariants();
  });

  it('reduces a level it never saw an add for, and clamps at what the level holds', () => {
    const b = new LevelBook();
    b.set(Side.Sell, 200, 10); // as if seeded from a book row: no orders known
    expect(b.reduce(Side.Sell, 200, 4)).toBe(4);
    expect(b.sizeAt(Side.Sell, 200)).toBe(6);
    expect(b.reduce(Side.Sell, 200, 9)).toBe(6);
    expect(b.depth(Side.Sell)).toBe(0);
    expect(b.reduce(Side.Sell, 300, 1)).toBe(0);
  });

  it('set replaces, set 0 deletes, deleteAtOrBetter drops the inside of a side', () => {
    const b = new LevelBook();
    for (const p of [10, 11, 12, 13]) b.set(Side.Buy, p, p);
    for (const p of [20, 21, 22, 23]) b.set(Side.Sell, p, p);
    b.set(Side.Buy, 12, 99);
    b.set(Side.Buy, 13, 0);
    expect(topOf(b, Side.Buy, 9)).toEqual([[12, 99], [11, 11], [10, 10]]);
    expect(b.deleteAtOrBetter(Side.Sell, 21)).toBe(2);
    expect(topOf(b, Side.Sell, 9)).toEqual([[22, 22], [23, 23]]);
    expect(b.deleteAtOrBetter(Side.Buy, 23)).toBe(0); // no bid at or above 23
    expect(b.deleteAtOrBetter(Side.Buy, 11)).toBe(2); // 11 and 12 are at or better than 11
    expect(topOf(b, Side.Buy, 9)).toEqual([[10, 10]]);
    expect(b.delete(Side.Buy, 10)).toBe(10);
    expect(b.depth(Side.Buy)).toBe(0);
  });

  it('top() pads beyond the depth', () => {
    const b = new LevelBook();
    b.add(Side.Sell, 7, 1);
    const px = new Float64Array(3);
    const sz = new Float64Array(3);
    expect(b.top(Side.Sell, 3, px, sz)).toBe(1);
    expect(Array.from(px)).toEqual([7, NO_PRICE, NO_PRICE]);
    expect(Array.from(sz)).toEqual([1, 0, 0]);
  });

  it('refuses to grow past levelsMax', () => {
    const b = new LevelBook(4);
    for (let p = 1; p <= 4; p++) b.add(Side.Buy, p, 1);
    expect(() => b.add(Side.Buy, 5, 1)).toThrow(/more than 4 price levels/);
  });

  it('matches a Map-based oracle on a random stream', () => {
    const seed = 'level-book-1';
    const rng = seedrandom(seed);
    const b = new LevelBook(64);
    const oracle = [new Map<number, number>(), new Map<number, number>()];
    for (let step = 0; step < 20_000; step++) {
      const side = rng() < 0.5 ? Side.Buy : Side.Sell;
      const price = 1000 + Math.floor(rng() * 40);
      const size = 1 + Math.floor(rng() * 10);
      const m = oracle[side]!;
      const op = rng();
      if (op < 0.45) {
        b.add(side, price, size);
        m.set(price, (m.get(price) ?? 0) + size);
      } else if (op < 0.85) {
        const had = m.get(price) ?? 0;
        expect(b.reduce(side, price, size), `seed ${seed} step ${step}`).toBe(Math.min(had, size));
        if (had > size) m.set(price, had - size);
        else m.delete(price);
      } else if (op < 0.95) {
        b.set(side, price, size);
        m.set(price, size);
      } else {
        b.deleteAtOrBetter(side, price);
        for (const p of [...m.keys()]) if (side === Side.Buy ? p >= price : p <= price) m.delete(p);
      }
      if (step % 97 === 0) {
        b.checkInvariants();
        for (const s of [Side.Buy, Side.Sell]) {
          const want = [...oracle[s]!.entries()].sort((x, y) => (s === Side.Buy ? y[0] - x[0] : x[0] - y[0]));
          expect(topOf(b, s, 1000), `seed ${seed} step ${step}`).toEqual(want);
        }
      }
    }
  });
});

describe('OrderIndex', () => {
  it('matches a Map on a random stream of inserts, updates and removals, through growth and tombstones', () => {
    const seed = 'order-index-1';
    const rng = seedrandom(seed);
    const idx = new OrderIndex(100_000, 16);
    const oracle = new Map<number, [number, number, number]>();
    const ids: number[] = [];
    for (let step = 0; step < 50_000; step++) {
      const op = rng();
      if (op < 0.5 || ids.length === 0) {
        // Large ids too: LOBSTER's go past 2^31 in longer files.
        const id = rng() < 0.5 ? Math.floor(rng() * 1e6) : Math.floor(rng() * 2 ** 40);
        const side = rng() < 0.5 ? Side.Buy : Side.Sell;
        const ok = idx.insert(id, side, 100 + (id % 7), 1 + (id % 13));
        expect(ok, `seed ${seed} step ${step}`).toBe(!oracle.has(id));
        if (ok) {
          oracle.set(id, [side, 100 + (id % 7), 1 + (id % 13)]);
          ids.push(id);
        }
      } else {
        const j = Math.floor(rng() * ids.length);
        const id = ids[j]!;
        const slot = idx.find(id);
        const want = oracle.get(id)!;
        expect([idx.side(slot), idx.price(slot), idx.size(slot)], `seed ${seed} step ${step}`).toEqual(want);
        const left = want[2] - 1 - Math.floor(rng() * 3);
        idx.setSize(slot, left);
        if (left > 0) want[2] = left;
        else {
          oracle.delete(id);
          ids[j] = ids[ids.length - 1]!;
          ids.pop();
          expect(idx.find(id)).toBe(-1);
        }
      }
      expect(idx.count).toBe(oracle.size);
    }
  });

  it('refuses more live orders than ordersMax', () => {
    const idx = new OrderIndex(2);
    idx.insert(1, Side.Buy, 1, 1);
    idx.insert(2, Side.Buy, 1, 1);
    expect(() => idx.insert(3, Side.Buy, 1, 1)).toThrow(/more than 2 live orders/);
  });
});
