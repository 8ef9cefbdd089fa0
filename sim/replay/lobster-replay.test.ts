import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../test/shared-data.js';
import { UserError } from '../errors.js';
import { replayLobster } from './lobster-replay.js';

const SHARED = sharedData('lobster');
const DATA = SHARED.dir + '/';
const HAVE_DATA = SHARED.have;

const AAPL672_MSG = DATA + 'AAPL_2012-06-21_message_50_first672.csv';
const AAPL672_OB = DATA + 'AAPL_2012-06-21_orderbook_50_first672.csv';

describe.skipIf(!HAVE_DATA)(SHARED.title('replayLobster floors on the shared files'), () => {
  it('AAPL first 672, 50 levels, top 49: 671 of 671 matched', () => {
    const r = replayLobster({ messages: AAPL672_MSG, orderbook: AAPL672_OB, compare: 49 });
    expect(r).toMatchObject({ rows: 671, matched: 671, resynced: 0, firstMismatchRow: null, levels: 50, deadLetterCount: 0 });
  });

  it('AAPL first 672 at all 50 levels: the one level-50 row a 50-level file cannot know is resynced', () => {
    const r = replayLobster({ messages: AAPL672_MSG, orderbook: AAPL672_OB, compare: 50 });
    expect(r.rows).toBe(671);
    expect(r.matched + r.resynced).toBe(671);
    expect(r.resynced).toBeGreaterThan(0);
    expect(r.firstMismatchRow).toBe(507);
  });

  it('with order ids tracked: same matches, and the pre-open orders counted (figures from an awk pass over the file)', () => {
    const r = replayLobster({ messages: AAPL672_MSG, orderbook: AAPL672_OB, compare: 49, trackOrders: true });
    expect(r).toMatchObject({ rows: 671, matched: 671, resynced: 0 });
    expect(r.orders).toEqual({ unknown: 12, inconsistent: 0, duplicateAdds: 0, liveAtEnd: 288 });
    const hour = replayLobster({
      messages: DATA + 'AAPL_2012-06-21_34200000_37800000_message_50.csv',
      orderbook: DATA + 'AAPL_2012-06-21_34200000_37800000_orderbook_50_top1.csv',
      seedBook: AAPL672_OB,
      compare: 1,
      trackOrders: true,
    });
    expect(hour.matched).toBeGreaterThanOrEqual(91_994);
    expect(hour.orders).toEqual({ unknown: 85, inconsistent: 0, duplicateAdds: 0, liveAtEnd: 380 });
  });

  it('TSLA sample, top 9: 49 of 49 (the type-6 cross leaves the book alone)', () => {
    const r = replayLobster({
      messages: DATA + 'TSLA_2015-01-07_34200000_57600000_message_10_SAMPLE.csv',
      orderbook: DATA + 'TSLA_2015-01-07_34200000_57600000_orderbook_10_SAMPLE.csv',
      compare: 9,
    });
    expect(r).toMatchObject({ rows: 49, matched: 49, resynced: 0 });
  });

  it('AAPL hour seeded from the first672 book, top 1 against the top-of-book file', () => {
    const r = replayLobster({
      messages: DATA + 'AAPL_2012-06-21_34200000_37800000_message_50.csv',
      orderbook: DATA + 'AAPL_2012-06-21_34200000_37800000_orderbook_50_top1.csv',
      seedBook: AAPL672_OB,
      compare: 1,
    });
    expect(r.rows).toBe(91_996);
    expect(r.matched).toBeGreaterThanOrEqual(91_994);
    expect(r.resynced).toBeLessThanOrEqual(2);
    expect(r.matched + r.resynced).toBe(91_996);
  });

  it('GOOG 1-level day: at least 43,312 of 49,481', () => {
    const r = replayLobster({
      messages: DATA + 'GOOG_2012-06-21_34200000_57600000_message_1.csv',
      orderbook: DATA + 'GOOG_2012-06-21_34200000_57600000_orderbook_1.csv',
      compare: 1,
    });
    expect(r.rows).toBe(49_481);
    expect(r.matched).toBeGreaterThanOrEqual(43_312);
    expect(r.matched + r.resynced).toBe(49_481);
  });

  it('--book-out reproduces the first672 file row for row on the compared levels', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'lobster-')), 'book.csv');
    replayLobster({ messages: AAPL672_MSG, orderbook: AAPL672_OB, compare: 49, bookOut: out });
    const got = readFileSync(out, 'utf8').trimEnd().split('\n');
    const want = readFileSync(AAPL672_OB, 'utf8').trimEnd().split(/\r?\n/);
    expect(got.length).toBe(672);
    const cut = (row: string) => row.split(',').slice(0, 49 * 4).join(',');
    for (let k = 0; k < want.length; k++) expect(cut(got[k]!), `row ${k + 1}`).toBe(cut(want[k]!));
    // Level 50 is the one a 50-level file cannot always know: a level moving in
    // from beyond shows up at rows 507-514 only. Every other row matches whole.
    const differing = want.map((w, k) => (w === got[k] ? 0 : k + 1)).filter((x) => x > 0);
    expect(differing).toEqual([507, 508, 509, 510, 511, 512, 513, 514]);
  });

  it('a malformed message row is a dead letter, the replay goes on, and strict stops with file:line', () => {
    const lines = readFileSync(AAPL672_MSG, 'latin1').split('\n');
    lines[9] = '34200.2,1,oops,18,5853300,1';
    const bad = Buffer.from(lines.join('\n'), 'latin1');
    const ob = readFileSync(AAPL672_OB);
    const r = replayLobster({ messages: bad, orderbook: ob, compare: 49 });
    expect(r.deadLetterCount).toBe(1);
    expect(r.deadLetters[0]).toMatchObject({ file: '<messages>', line: 10, reason: 'order id is not an integer' });
    expect(r.rows).toBe(671);
    expect(r.matched + r.resynced).toBe(671);
    expect(() => replayLobster({ messages: bad, orderbook: ob, compare: 49, strict: true })).toThrow(/^<messages>:10: order id is not an integer/);
  });
});

describe('replayLobster input errors', () => {
  it('a missing file is a UserError naming the path', () => {
    expect(() => replayLobster({ messages: '/no/such/m.csv', orderbook: '/no/such/b.csv', compare: 1 })).toThrow(UserError);
    expect(() => replayLobster({ messages: '/no/such/m.csv', orderbook: '/no/such/b.csv', compare: 1 })).toThrow(/\/no\/such\/m\.csv/);
  });

  it('row counts that differ, or a compare deeper than the file, are refused', () => {
    const m = Buffer.from('1.0,1,1,10,100,1\n1.1,1,2,10,101,-1\n');
    const b1 = Buffer.from('9999999999,0,100,10\n');
    expect(() => replayLobster({ messages: m, orderbook: b1, compare: 1 })).toThrow(/has 1 rows but the message file has 2/);
    const b2 = Buffer.from('9999999999,0,100,10\n101,10,100,10\n');
    expect(() => replayLobster({ messages: m, orderbook: b2, compare: 2 })).toThrow(/--compare must be an integer from 0 to 1/);
    expect(replayLobster({ messages: m, orderbook: b2, compare: 1 })).toMatchObject({ rows: 1, matched: 1 });
  });

  it('resyncs a level that moves in from beyond the depth, then matches again', () => {
    // 1-level file: the bid at 99 was never visible, so when 100 is deleted only the file knows 99.
    const m = Buffer.from('1.0,1,1,10,100,1\n1.1,3,1,10,100,1\n1.2,2,0,4,99,1\n');
    const b = Buffer.from('9999999999,0,100,10\n9999999999,0,99,7\n9999999999,0,99,3\n');
    const r = replayLobster({ messages: m, orderbook: b, compare: 1 });
    expect(r).toMatchObject({ rows: 2, matched: 1, resynced: 1, firstMismatchRow: 2 });
  });
});
