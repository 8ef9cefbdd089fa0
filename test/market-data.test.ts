import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../sim/scenario.js';
import { runScenario } from '../sim/run.js';

/**
 * A market-data consumer reading events.ndjson: it may start from the first line
 * or join at any book-snapshot, apply level events after it, and must end with
 * the venue's final L2 view (book.json), with no gap in mdSeq.
 */
const root = join(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'exsim-md-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

type Line = Record<string, unknown> & { type: string; instrument: string; mdSeq: number; side: string; price: string; size: string };

describe('L2 market data in the event stream', () => {
  it('a consumer joining at any snapshot rebuilds the final top-N view; so does one reading from the start', async () => {
    const sc = loadScenario(join(root, 'scenarios/quickstart.json'));
    expect(sc.marketData.levels).toBe(5);
    expect(sc.marketData.snapshotEveryNs).toBeGreaterThan(0);
    const out = join(work, 'qs');
    await runScenario({ scenario: sc, outDir: out, feedThread: 'inline', outputThread: 'inline', audit: false });
    const lines = readFileSync(join(out, 'events.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line);
    const book = JSON.parse(readFileSync(join(out, 'book.json'), 'utf8')) as { instruments: { symbol: string; mdSeq: number; l2: { bids: { price: string; size: string }[]; asks: { price: string; size: string }[] } }[] };

    for (const inst of book.instruments) {
      const mine = lines.filter((l) => l.instrument === inst.symbol);
      const snapshots = mine.map((l, k) => (l.type === 'book-snapshot' ? k : -1)).filter((k) => k >= 0);
      expect(snapshots.length, `${inst.symbol} snapshots`).toBeGreaterThanOrEqual(5);
      const expected = [
        ...inst.l2.bids.slice(0, 5).map((b) => `buy:${b.price}=${b.size}`),
        ...inst.l2.asks.slice(0, 5).map((a) => `sell:${a.price}=${a.size}`),
      ].sort();
      for (const start of [-1, ...snapshots]) {
        const view = new Map<string, string>();
        let seq = 0;
        let k = 0;
        if (start >= 0) {
          const head = mine[start]!;
          seq = head.mdSeq;
          const n = (head['bidLevels'] as number) + (head['askLevels'] as number);
          for (k = start + 1; k <= start + n; k++) {
            const s = mine[k]!;
            expect(s.type).toBe('snapshot-level');
            expect(s.mdSeq).toBe(seq);
            view.set(`${s.side}:${s.price}`, s.size);
          }
        }
        for (; k < mine.length; k++) {
          const l = mine[k]!;
          if (l.type !== 'level') continue;
          if (l.mdSeq <= seq) continue;
          expect(l.mdSeq, `${inst.symbol}: gap after mdSeq ${seq}`).toBe(seq + 1);
          seq = l.mdSeq;
          if (l.size === '0' || /^0(\.0+)?$/.test(l.size)) view.delete(`${l.side}:${l.price}`);
          else view.set(`${l.side}:${l.price}`, l.size);
        }
        expect(seq).toBe(inst.mdSeq);
        expect([...view.entries()].map(([p, s]) => `${p}=${s}`).sort(), `${inst.symbol} joined at ${start}`).toEqual(expected);
      }
    }
  });
});
