import { describe, expect, it } from 'vitest';
import { rngStream } from '../rng.js';
import { DelayQueue } from './delay-queue.js';
import { LatencyChannel } from './latency.js';

describe('LatencyChannel', () => {
  it('never lets a message overtake an earlier one, and a burst shares one draw', () => {
    const seed = 12345;
    const ch = new LatencyChannel({ type: 'lognormal', medianNs: 100_000, sigma: 1, maxNs: 5_000_000 }, rngStream(seed, 'test/latency'));
    let prev = 0;
    let t = 0;
    const draws: number[] = [];
    for (let k = 0; k < 5000; k++) {
      t += 10_000 + (k % 7) * 3_000;
      const a = ch.arrival(t);
      expect(a, `seed ${seed}, message ${k}`).toBeGreaterThanOrEqual(Math.max(prev, t));
      expect(ch.arrival(t)).toBe(a);
      draws.push(a - t);
      prev = a;
    }
    expect(Math.max(...draws)).toBeLessThanOrEqual(5_000_000 * 2);
  });

  it('draws reproduce from the seed; the median is near medianNs; uniform stays in range', () => {
    const draw = (seed: number) => {
      const ch = new LatencyChannel({ type: 'lognormal', medianNs: 100_000, sigma: 0.5, maxNs: 10_000_000 }, rngStream(seed, 'x'));
      return Array.from({ length: 2001 }, () => ch.draw());
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    const s = draw(7).sort((a, b) => a - b);
    expect(s[1000]!).toBeGreaterThan(90_000);
    expect(s[1000]!).toBeLessThan(110_000);
    expect(s.every((x) => Number.isSafeInteger(x))).toBe(true);
    const u = new LatencyChannel({ type: 'uniform', minNs: 10, maxNs: 12 }, rngStream(1, 'u'));
    const us = new Set(Array.from({ length: 300 }, () => u.draw()));
    expect([...us].sort()).toEqual([10, 11, 12]);
  });
});

describe('DelayQueue', () => {
  it('is a FIFO of records that grows and keeps its contents', () => {
    const q = new DelayQueue(3, 2);
    for (let k = 0; k < 50; k++) {
      const at = q.push(k * 10);
      q.buffer.set([k, k * 2, k * 3], at);
      if (k % 3 === 2) {
        const h = q.headOffset();
        const first = q.buffer[h]!;
        q.shift();
        expect(q.buffer[h + 1]).toBe(first * 2);
      }
    }
    const seen: number[] = [];
    while (q.length > 0) {
      seen.push(q.buffer[q.headOffset()]!);
      q.shift();
    }
    expect(seen).toEqual(Array.from({ length: 50 }, (_, k) => k).slice(16));
    expect(() => {
      q.push(100);
      q.push(50);
    }).toThrow(/must not decrease/);
  });
});
