import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { LevelBook } from '../../engine/level-book.js';
import { Side } from '../../engine/types.js';
import { parseLobsterMessages } from './lobster.js';
import { replayLobster } from './lobster-replay.js';
import { appendBookRow, ByteSink, LobsterRecorder } from './lobster-writer.js';


describe('ByteSink', () => {
  it('formats integers and nanosecond times as LOBSTER writes them', () => {
    const s = new ByteSink(4);
    s.reserve(64);
    s.int(0);
    s.byte(44);
    s.int(-9_999_999_999);
    s.byte(44);
    s.timeNs(34_200_004_241_176);
    s.byte(44);
    s.timeNs(5);
    expect(s.toBuffer().toString()).toBe('0,-9999999999,34200.004241176,0.000000005');
  });

  it('writes empty levels with LOBSTER placeholders', () => {
    const b = new LevelBook();
    b.add(Side.Buy, 58, 3);
    const s = new ByteSink();
    appendBookRow(s, b, 2, 100);
    expect(s.toBuffer().toString()).toBe('9999999999,0,5800,3,9999999999,0,-9999999999,0\n');
  });
});

interface Live {
  id: number;
  side: Side;
  price: number;
  size: number;
}

describe('LobsterRecorder round trip', () => {
  for (const seed of ['rec-1', 'rec-2', 'rec-3']) {
    it(`records a random day (seed ${seed}) that replays with every row matched`, () => {
      const rng = seedrandom(seed);
      const levels = 5;
      const rec = new LobsterRecorder({ levels, pricePerTick: 100 });
      const live: Live[] = [];
      let nextId = 1;
      let t = 34_200_000_000_000;
      const mid = 10_000;
      for (let step = 0; step < 3000; step++) {
        t += 1 + Math.floor(rng() * 1_000_000);
        const op = rng();
        if (live.length < 5 || op < 0.45) {
          const side = rng() < 0.5 ? Side.Buy : Side.Sell;
          const price = side === Side.Buy ? mid - 1 - Math.floor(rng() * 20) : mid + 1 + Math.floor(rng() * 20);
          const o = { id: nextId++, side, price, size: 1 + Math.floor(rng() * 500) };
          live.push(o);
          rec.add(t, o.id, o.side, o.price, o.size);
        } else if (op < 0.95) {
          const i = Math.floor(rng() * live.length);
          const o = live[i]!;
          const part = 1 + Math.floor(rng() * o.size);
          const kind = rng();
          if (part < o.size && kind < 0.5) {
            rec.cancel(t, o.id, o.side, o.price, part);
            o.size -= part;
          } else if (kind < 0.75) {
            rec.execute(t, o.id, o.side, o.price, part);
            o.size -= part;
            if (o.size === 0) live.splice(i, 1);
          } else {
            rec.delete(t, o.id, o.side, o.price, o.size);
            live.splice(i, 1);
          }
        } else if (op < 0.98) {
          rec.executeHidden(t, rng() < 0.5 ? Side.Buy : Side.Sell, mid, 1 + Math.floor(rng() * 100));
        } else {
          rec.halt(t, 0);
        }
      }
      rec.book.checkInvariants();
      const messages = rec.messagesBuffer();
      const orderbook = rec.orderbookBuffer();
      const parsed = parseLobsterMessages(messages);
      expect(parsed.count, `seed ${seed}`).toBe(3000);
      const r = replayLobster({ messages, orderbook, compare: levels, strict: true });
      expect(r, `seed ${seed}`).toMatchObject({ rows: 2999, matched: 2999, resynced: 0, firstMismatchRow: null, deadLetterCount: 0 });
    });
  }

  it('refuses messages out of time order', () => {
    const rec = new LobsterRecorder({ levels: 1, pricePerTick: 1 });
    rec.add(10, 1, Side.Buy, 5, 1);
    expect(() => rec.add(9, 2, Side.Buy, 5, 1)).toThrow(/time order/);
  });
});
