import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../test/shared-data.js';
import { LevelBook } from '../../engine/level-book.js';
import { Side } from '../../engine/types.js';
import { DeadLetters } from './dead-letter.js';
import { parseTardisL2, parseTardisTrades, replayTardisL2, TARDIS_L2_HEADER, TARDIS_TRADES_HEADER } from './tardis.js';

const SHARED = sharedData('tardis');
const DATA = SHARED.dir + '/';
const HAVE_DATA = SHARED.have;
const L2 = DATA + 'tardis_binance_BTCUSDT_incremental_book_L2_2019-12-01_rows_1_2050.csv';
const TRADES = DATA + 'tardis_binance_BTCUSDT_trades_2019-12-01_rows_1_100.csv';
const GRID = { tickSize: '0.01', lotSize: '0.000001' };

const csv = (header: string, rows: string[]) => Buffer.from([header, ...rows].join('\n') + '\n');

describe('parseTardisL2', () => {
  it('maps decimal strings to ticks and lots exactly, snapshots replace, amount 0 removes', () => {
    const l2 = parseTardisL2(
      csv(TARDIS_L2_HEADER, [
        'x,BTC,10,11,true,ask,100.5,1.25',
        'x,BTC,10,11,true,bid,99,0.000001',
        'x,BTC,12,13,false,ask,100.5,0',
        'x,BTC,12,13,false,ask,101.10,3',
        'x,BTC,20,21,true,bid,98.00,2',
      ]),
      GRID,
    );
    expect(l2.count).toBe(5);
    expect(Array.from(l2.priceTicks)).toEqual([10050, 9900, 10050, 10110, 9800]);
    expect(Array.from(l2.sizeLots)).toEqual([1_250_000, 1, 0, 3_000_000, 2_000_000]);
    expect(Array.from(l2.side)).toEqual([Side.Sell, Side.Buy, Side.Sell, Side.Sell, Side.Buy]);
    expect(Array.from(l2.isSnapshot)).toEqual([1, 1, 0, 0, 1]);
    const book = new LevelBook();
    const seen: string[] = [];
    const r = replayTardisL2(l2, book, (b) => seen.push(`${b.bestBid()}/${b.bestAsk()}`));
    expect(r).toEqual({ rows: 5, snapshots: 2 });
    expect(seen.slice(0, 4)).toEqual([`${-0x80000000}/10050`, '9900/10050', `9900/${-0x80000000}`, '9900/10110']);
    // The second snapshot replaced everything: the ask from before is gone.
    expect(book.depth(Side.Sell)).toBe(0);
    expect(book.bestBid()).toBe(9800);
  });

  it('rejects off-tick prices, off-lot amounts and broken rows into the dead letters', () => {
    const dl = new DeadLetters();
    const l2 = parseTardisL2(
      csv(TARDIS_L2_HEADER, [
        'x,BTC,10,11,true,ask,100.005,1',
        'x,BTC,10,11,true,ask,100.01,0.0000001',
        'x,BTC,10,11,maybe,ask,100.01,1',
        'x,BTC,10,11,true,up,100.01,1',
        'x,BTC,10,11,true,ask,100.01',
        'x,BTC,10,11,true,ask,100.01,1,9',
        'x,BTC,1e3,11,true,ask,100.01,1',
        'x,BTC,10,11,true,ask,100.01,-1.5',
        'x,BTC,10,11,true,ask,-100.01,1',
        'x,BTC,10,11,true,ask,100.01,1',
      ]),
      { ...GRID, file: 'l2.csv', deadLetters: dl },
    );
    expect(l2.count).toBe(1);
    expect(l2.line[0]).toBe(11);
    expect(dl.entries.map((e) => [e.line, e.reason])).toEqual([
      [2, 'price is not a multiple of the tick size 0.01'],
      [3, 'amount is not a multiple of the lot size 0.000001'],
      [4, 'is_snapshot is not true or false'],
      [5, 'side is not bid or ask'],
      [6, 'expected 8 columns'],
      [7, 'expected 8 columns'],
      [8, 'timestamp is not an integer of microseconds'],
      [9, 'negative amount (sizes are never below 0)'],
      [10, 'negative price'],
    ]);
    expect(() => parseTardisL2(csv(TARDIS_L2_HEADER, ['x,BTC,10,11,true,ask,100.005,1']), { ...GRID, file: 'l2.csv', strict: true })).toThrow(
      /^l2\.csv:2: price is not a multiple of the tick size/,
    );
    expect(() => parseTardisL2(Buffer.from('a,b\n'), { ...GRID, file: 'l2.csv' })).toThrow(/^l2\.csv:1: expected the header/);
  });
});

describe.skipIf(!HAVE_DATA)(SHARED.title('on the shared Tardis files'), () => {
  it('replays the Binance BTCUSDT snapshot and its 50 updates', () => {
    const dl = new DeadLetters();
    const l2 = parseTardisL2(readFileSync(L2), { ...GRID, deadLetters: dl });
    expect(dl.count).toBe(0);
    expect(l2.count).toBe(2050);
    const book = new LevelBook();
    const byLine = new Map<number, string>();
    const r = replayTardisL2(l2, book, (b, k) => {
      if (k === 1999) {
        // End of the snapshot: 1,000 levels a side, touch as in lines 2 and 1002 of the file.
        expect(b.depth(Side.Buy)).toBe(1000);
        expect(b.depth(Side.Sell)).toBe(1000);
        expect([b.bestBid(), b.size(Side.Buy, 0), b.bestAsk(), b.size(Side.Sell, 0)]).toEqual([753941, 226735, 754138, 85806]);
        expect(b.price(Side.Buy, 999)).toBe(736920);
        expect(b.price(Side.Sell, 999)).toBe(766400);
      }
      if (k >= 2000) {
        expect(b.bestBid(), `line ${l2.line[k]}`).toBeLessThan(b.bestAsk());
        byLine.set(l2.line[k]!, `${b.bestBid()}:${b.size(Side.Buy, 0)} ${b.bestAsk()}:${b.size(Side.Sell, 0)} ${b.depth(Side.Buy)}/${b.depth(Side.Sell)}`);
      }
    });
    expect(r).toEqual({ rows: 2050, snapshots: 1 });
    // Checked by hand against the file (line numbers include the header):
    expect(byLine.get(2004)).toBe('753941:226735 754138:85806 1000/1001'); // new ask level 7549.86
    expect(byLine.get(2006)).toBe('753941:226735 754138:85806 1000/1001'); // 7558.04 amount 0 removed
    expect(byLine.get(2007)).toBe('753941:226735 754138:85806 999/1001'); // bid 7490.83 removed
    expect(byLine.get(2013)).toBe('753941:226735 754136:45141 998/1000'); // 7541.36 improves the ask
    expect(byLine.get(2021)).toBe('753941:226735 754135:385806 999/1001');
    expect(byLine.get(2048)).toBe('753941:226735 754127:260806 1000/999');
    expect(byLine.get(2051)).toBe('753941:226735 754127:260806 1000/1000');
    expect(book.sizeAt(Side.Buy, 748000)).toBe(22_517_448); // line 2047: bid 7480 22.517448
    expect(book.sizeAt(Side.Sell, 754138)).toBe(0); // line 2023 removed the snapshot's best ask
  });

  it('parses the 100 trades', () => {
    const t = parseTardisTrades(readFileSync(TRADES), GRID);
    expect(t.count).toBe(100);
    expect([t.timestampUs[0], t.id[0], t.side[0], t.priceTicks[0], t.sizeLots[0]]).toEqual([1575158403572000, 211646077, Side.Sell, 754078, 39741]);
    let buys = 0;
    for (const s of t.side) if (s === Side.Buy) buys++;
    expect(buys).toBe(52);
  });

  it('trades header is checked', () => {
    expect(() => parseTardisTrades(readFileSync(L2), { ...GRID, file: 'l2.csv' })).toThrow(new RegExp(`expected the header ${TARDIS_TRADES_HEADER}`));
  });
});
