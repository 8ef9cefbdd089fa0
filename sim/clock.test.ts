import { describe, expect, it } from 'vitest';
import seedrandom from 'seedrandom';
import { TimerQueue, VirtualClock } from './clock.js';

describe('VirtualClock', () => {
  it('advances forward and refuses to go back or take fractions', () => {
    const c = new VirtualClock(100);
    expect(c.nowNs()).toBe(100);
    c.advanceTo(100);
    c.advanceTo(250);
    expect(c.nowNs()).toBe(250);
    expect(() => c.advanceTo(249)).toThrow(/backwards/);
    expect(() => c.advanceTo(300.5)).toThrow(/safe integer/);
    expect(() => c.advanceTo(2 ** 53)).toThrow(/safe integer/);
  });
});

describe('TimerQueue', () => {
  it('pops by time, ties in scheduling order', () => {
    const q = new TimerQueue<string>(2);
    expect(q.peekTime()).toBe(Infinity);
    expect(q.pop()).toBeUndefined();
    q.schedule(50, 'c1');
    q.schedule(10, 'a');
    q.schedule(50, 'c2');
    q.schedule(20, 'b');
    q.schedule(50, 'c3');
    expect(q.size).toBe(5);
    expect(q.peekTime()).toBe(10);
    const out: string[] = [];
    for (let p = q.pop(); p !== undefined; p = q.pop()) out.push(p);
    expect(out).toEqual(['a', 'b', 'c1', 'c2', 'c3']);
    expect(q.size).toBe(0);
  });

  it('cancel removes exactly the timer, once; fired timers cannot be cancelled', () => {
    const q = new TimerQueue<number>();
    const a = q.schedule(5, 1);
    const b = q.schedule(5, 2);
    const c = q.schedule(7, 3);
    expect(q.cancel(a)).toBe(true);
    expect(q.cancel(a)).toBe(false);
    expect(q.size).toBe(2);
    expect(q.peekTime()).toBe(5);
    expect(q.pop()).toBe(2);
    expect(q.cancel(b)).toBe(false); // already fired
    expect(q.cancel(999)).toBe(false);
    expect(q.cancel(c)).toBe(true);
    expect(q.peekTime()).toBe(Infinity);
    expect(q.pop()).toBeUndefined();
    expect(q.size).toBe(0);
  });

  it('rejects non-integer times', () => {
    const q = new TimerQueue<number>();
    expect(() => q.schedule(1.5, 0)).toThrow(/safe integer/);
  });

  it('matches a sorted reference on random schedule/cancel/pop sequences', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rnd = seedrandom(`timers/${seed}`);
      const q = new TimerQueue<number>(4);
      const ref: { t: number; seq: number; id: number }[] = [];
      try {
        for (let step = 0; step < 3000; step++) {
          const op = rnd();
          if (op < 0.5) {
            const t = Math.floor(rnd() * 50); // few distinct times: many ties
            const id = q.schedule(t, step);
            ref.push({ t, seq: step, id });
          } else if (op < 0.65 && ref.length > 0) {
            const k = Math.floor(rnd() * ref.length);
            expect(q.cancel(ref[k]!.id)).toBe(true);
            ref.splice(k, 1);
          } else {
            ref.sort((x, y) => x.t - y.t || x.seq - y.seq);
            expect(q.peekTime()).toBe(ref.length ? ref[0]!.t : Infinity);
            const want = ref.shift();
            expect(q.pop()).toBe(want?.seq);
          }
          expect(q.size).toBe(ref.length);
        }
      } catch (e) {
        console.error(`TimerQueue reference test failed with seed ${seed}`);
        throw e;
      }
    }
  });
});
