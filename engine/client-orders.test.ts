import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { InvariantError } from './assert.js';
import { ClientOrders } from './client-orders.js';

describe('ClientOrders', () => {
  it('finds, refuses a live duplicate, and forgets on delete', () => {
    const t = new ClientOrders();
    t.add(0, 7, 1);
    t.add(1, 7, 2);
    expect(t.get(0, 7)).toBe(1);
    expect(t.get(1, 7)).toBe(2);
    expect(t.get(2, 7)).toBe(0);
    expect(t.has(0, 8)).toBe(false);
    expect(() => t.add(0, 7, 3)).toThrow(InvariantError);
    t.delete(0, 7);
    expect(t.get(0, 7)).toBe(0);
    expect(t.get(1, 7)).toBe(2);
    t.delete(0, 7);
    expect(t.size).toBe(1);
    t.add(0, 7, 4);
    expect(t.get(0, 7)).toBe(4);
  });

  it('keys compare as a Map compares them (SameValueZero), fractions and large ids apart', () => {
    const t = new ClientOrders();
    t.add(0, -0, 1);
    expect(t.get(0, 0)).toBe(1);
    t.add(0, NaN, 2);
    expect(t.get(0, NaN)).toBe(2);
    t.add(0, 1.5, 3);
    t.add(0, 1.25, 4);
    t.add(0, 2 ** 53 - 1, 5);
    t.add(0, 2 ** 53 - 2, 6);
    t.add(0, -5, 7);
    expect([t.get(0, 1.5), t.get(0, 1.25), t.get(0, 2 ** 53 - 1), t.get(0, 2 ** 53 - 2), t.get(0, -5), t.get(0, 1)]).toEqual([3, 4, 5, 6, 7, 0]);
  });

  it('refuses accounts and order ids it cannot store', () => {
    const t = new ClientOrders();
    expect(() => t.add(-1, 1, 1)).toThrow(InvariantError);
    expect(() => t.add(0.5, 1, 1)).toThrow(InvariantError);
    expect(() => t.add(0, 1, 0)).toThrow(InvariantError);
    expect(() => t.add(0, 1, 2 ** 31)).toThrow(InvariantError);
    expect(t.get(-1, 1)).toBe(0);
  });

  // Against a Map per account through growth, long probe runs (keys that share a home slot:
  // ids a table size apart are common with counters) and deletes from the middle of runs.
  it.each([1, 2, 3])('agrees with a Map over 100,000 random adds and deletes (seed %i)', (seed) => {
    const rnd = seedrandom(`client-orders-${seed}`);
    const t = new ClientOrders();
    const ref = new Map<string, number>();
    const live: [number, number][] = [];
    let next = 1;
    for (let i = 0; i < 100_000; i++) {
      const r = rnd();
      if (live.length > 0 && (r < 0.45 || live.length > 5_000)) {
        const k = Math.floor(rnd() * live.length);
        const [a, cl] = live[k]!;
        live[k] = live[live.length - 1]!;
        live.pop();
        t.delete(a, cl);
        ref.delete(`${a}:${cl}`);
        expect(t.get(a, cl)).toBe(0);
      } else {
        const a = Math.floor(rnd() * 8);
        // Counters, counters a power of two apart, and the odd huge or fractional id.
        const kind = rnd();
        const cl = kind < 0.6 ? i : kind < 0.9 ? Math.floor(rnd() * 64) * 1024 + a : kind < 0.95 ? 2 ** 40 + i : i + 0.5;
        if (ref.has(`${a}:${cl}`)) continue;
        t.add(a, cl, next);
        ref.set(`${a}:${cl}`, next);
        live.push([a, cl]);
        next++;
      }
      if (i % 4999 === 0) {
        for (const [a, cl] of live) expect(t.get(a, cl)).toBe(ref.get(`${a}:${cl}`));
      }
    }
    expect(t.size).toBe(ref.size);
    for (const [a, cl] of live) expect(t.get(a, cl)).toBe(ref.get(`${a}:${cl}`));
  });
});
