import { describe, expect, it } from 'vitest';
import seedrandom from 'seedrandom';
import { CommandRecord } from '../../engine/command.js';
import type { FeedSource } from './feed.js';
import { mergeFeeds } from './merge.js';

/** A source emitting the given timestamps, tagging each command with (source, position). */
function tsFeed(src: number, ts: number[]): FeedSource {
  let i = 0;
  return {
    next(out: CommandRecord): boolean {
      if (i >= ts.length) return false;
      out.clear();
      out.tsNs = ts[i]!;
      out.account = src;
      out.clOrdId = i++;
      return true;
    },
  };
}

function drain(f: FeedSource): [number, number, number][] {
  const c = new CommandRecord();
  const out: [number, number, number][] = [];
  while (f.next(c)) out.push([c.tsNs, c.account, c.clOrdId]);
  return out;
}

describe('mergeFeeds', () => {
  it('orders by time, ties by source index', () => {
    const got = drain(mergeFeeds([tsFeed(0, [5, 5, 9]), tsFeed(1, [1, 5, 9]), tsFeed(2, []), tsFeed(3, [5])]));
    expect(got).toEqual([
      [1, 1, 0],
      [5, 0, 0],
      [5, 0, 1],
      [5, 1, 1],
      [5, 3, 0],
      [9, 0, 2],
      [9, 1, 2],
    ]);
    expect(drain(mergeFeeds([]))).toEqual([]);
  });

  it('equals a stable sort of all inputs on random sources', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const rnd = seedrandom(`merge/${seed}`);
      const k = 1 + Math.floor(rnd() * 9);
      const lists: number[][] = [];
      for (let s = 0; s < k; s++) {
        let t = 0;
        lists.push(Array.from({ length: Math.floor(rnd() * 50) }, () => (t += Math.floor(rnd() * 4))));
      }
      const want = lists.flatMap((ts, s) => ts.map((t, i): [number, number, number] => [t, s, i])).sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
      expect(drain(mergeFeeds(lists.map((ts, s) => tsFeed(s, ts)))), `seed ${seed}`).toEqual(want);
    }
  });

  it('asserts when a source goes back in time', () => {
    const f = mergeFeeds([tsFeed(0, [5, 3]), tsFeed(1, [10])]);
    expect(() => drain(f)).toThrow(/back in time/);
  });
});
