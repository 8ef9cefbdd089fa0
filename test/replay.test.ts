import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runScenario } from '../sim/run.js';
import { loadScenario, parseScenario } from '../sim/scenario.js';
import { replayLobster } from '../sim/replay/lobster-replay.js';
import { queryAudit } from '../sim/sinks/audit-query.js';
import { verifyAudit } from '../sim/sinks/audit.js';
import { deadLetterLines } from '../cli/print.js';

/**
 * Recorded data inside scenarios: tiny LOBSTER and Tardis files written here,
 * run through the whole path (scenario -> feed ring -> replay venue -> events),
 * and the recording round trip on quickstart's synthetic day.
 */
const root = join(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'exsim-replay-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

type Json = Record<string, unknown>;
const lines = (dir: string): Json[] =>
  readFileSync(join(dir, 'events.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Json);

function scenarioText(feed: Json, actions: Json[] = [], instrument: Json = { symbol: 'XYZ', tickSize: '0.01', lotSize: '1', referencePrice: '10.00' }): string {
  return JSON.stringify({
    name: 'tiny-replay',
    seed: 1,
    session: { date: '2012-06-21', open: '09:30:00', close: '09:31:00' },
    instruments: [instrument],
    accounts: [{ id: 'q' }],
    marketData: { quotes: true, levels: 2 },
    feeds: [feed],
    actions,
  });
}

/** Book after message 1: ask 10.05 x 100, bid 10.00 x 50 (2 levels). */
const ORDERBOOK = '100500,100,100000,50,9999999999,0,-9999999999,0\n';
const MESSAGES = [
  '34200.000000001,1,1,100,100500,-1', // the seed row already shows it
  '34200.5,1,2,30,100000,1', // 30 more at the bid, behind us
  '34200.6,2,3,20,100000,1', // a partial cancel at the bid
  '34200.7,oops,3,20,100000,1', // malformed: dead letter
  '34200.8,1,4,5,100001,1', // price off the 0.01 tick: dead letter
  '34200.9,4,5,55,100000,1', // execution at the bid: 50 ahead of us, 5 reach us
  '34201,5,0,7,100400,-1', // hidden execution inside the spread
].join('\n');

function write(name: string, body: string): string {
  const p = join(work, name);
  writeFileSync(p, body);
  return p;
}

describe('a LOBSTER feed in a scenario', () => {
  write('m.csv', MESSAGES + '\n');
  write('b.csv', ORDERBOOK.repeat(7));
  const feed = { type: 'lobster', instrument: 'XYZ', messages: 'm.csv', orderbook: 'b.csv', levels: 2, deadLetter: 'dead.csv' };
  const actions = [{ at: '09:30:00.2', type: 'submit', account: 'q', ref: 'bid', instrument: 'XYZ', side: 'buy', orderType: 'limit', price: '10.00', size: '10' }];

  it('replays through the ring into the venue, maps prices and times exactly, fills own orders and counts dead letters', async () => {
    const sc = parseScenario(scenarioText(feed, actions), join(work, 'tiny.json'));
    const out = join(work, 'out-lobster');
    const r = await runScenario({ scenario: sc, outDir: out, feedThread: 'worker', outputThread: 'inline', audit: true });
    const ev = lines(out);
    // The seed at message 1's exact time: nanoseconds from the decimal string.
    const seed = ev.filter((e) => e.type === 'level' && e.ts === 34_200_000_000_001);
    expect(seed.map((e) => [e.side, e.price, e.size])).toEqual([
      ['sell', '10.05', '100'],
      ['buy', '10.00', '50'],
    ]);
    const fills = ev.filter((e) => e.type === 'fill');
    expect(fills).toHaveLength(1);
    // Queue at entry 50; the cancel of 20 came from behind (pessimistic); the execution of 55 ate 50 and 5 reached us.
    expect(fills[0]).toMatchObject({ ts: 34_200_900_000_000, price: '10.00', size: '5', leaves: '5', liquidity: 'queue', queueAtEntry: '50', queueNs: 700_000_000 });
    const prints = ev.filter((e) => e.type === 'market-trade');
    expect(prints.map((e) => [e.price, e.size, e.aggressor, e.kind])).toEqual([
      ['10.00', '55', 'sell', 'visible'],
      ['10.04', '7', 'buy', 'hidden'],
    ]);
    expect(r.summary.extra).toEqual({
      replay: { feeds: [{ feed: 'feeds[0]', type: 'lobster', instrument: 'XYZ', files: ['m.csv', 'b.csv'], rows: 7, deadLetters: 2, deadLetterFile: 'dead.csv' }] },
    });
    const dead = readFileSync(join(work, 'dead.csv'), 'utf8');
    expect(dead).toContain(',4,type is not one of 1..7,');
    expect(dead).toContain(',5,price 100001 is not a whole number of ticks of 0.01,');
    // Own fills are in the audit log, with their queue fields, and the chain verifies.
    const audited = queryAudit(join(out, 'audit.sqlite'), { type: 'fill' });
    expect(audited).toEqual([fills[0]]);
    expect(verifyAudit(join(out, 'audit.sqlite')).ok).toBe(true);
  });

  it('without a deadLetter path, bad rows go to deadletter-<SYMBOL>.csv in the run directory and the printed summary says so', async () => {
    const { deadLetter: _d, ...noPath } = feed;
    const sc = parseScenario(scenarioText(noPath, actions), join(work, 'tiny.json'));
    const out = join(work, 'out-lobster-default-dl');
    const r = await runScenario({ scenario: sc, outDir: out, feedThread: 'inline', outputThread: 'inline', audit: false });
    expect((r.summary.extra as { replay: { feeds: Json[] } }).replay.feeds[0]).toMatchObject({ deadLetters: 2, deadLetterFile: 'deadletter-XYZ.csv' });
    const dead = readFileSync(join(out, 'deadletter-XYZ.csv'), 'utf8').trim().split('\n');
    expect(dead[0]).toBe('file,line,reason,raw');
    expect(dead.slice(1)).toEqual([
      expect.stringMatching(/m\.csv,4,type is not one of 1\.\.7,"34200\.7,oops,3,20,100000,1"$/),
      expect.stringMatching(/m\.csv,5,price 100001 is not a whole number of ticks of 0\.01,"34200\.8,1,4,5,100001,1"$/),
    ]);
    const printed = deadLetterLines(sc, out, r.summary);
    expect(printed).toHaveLength(1);
    expect(printed[0]).toContain('dead letters: XYZ 2 malformed rows skipped');
    expect(printed[0]).toContain(join(out, 'deadletter-XYZ.csv'));
    // An explicit path is what the printed line names.
    const sc2 = parseScenario(scenarioText(feed, actions), join(work, 'tiny.json'));
    const r2 = await runScenario({ scenario: sc2, outDir: join(work, 'out-lobster-dl2'), feedThread: 'inline', outputThread: 'inline', audit: false });
    expect(deadLetterLines(sc2, join(work, 'out-lobster-dl2'), r2.summary)[0]).toContain(join(work, 'dead.csv'));
    expect(existsSync(join(work, 'out-lobster-dl2', 'deadletter-XYZ.csv'))).toBe(false);
  });

  it('--strict stops before the run with the file and line; a missing file names the JSON path', async () => {
    const strict = parseScenario(scenarioText({ ...feed, strict: true }), join(work, 'tiny.json'));
    await expect(runScenario({ scenario: strict, outDir: join(work, 'out-strict'), feedThread: 'inline', outputThread: 'inline', audit: false })).rejects.toThrow(/m\.csv:4: /);
    expect(existsSync(join(work, 'out-strict'))).toBe(false);
    expect(() => parseScenario(scenarioText({ ...feed, messages: 'nope.csv' }), join(work, 'tiny.json'))).toThrow(/feeds\[0\]\.messages.*nope\.csv.*no such file/);
    expect(() => parseScenario(scenarioText({ ...feed, queueModel: 'optimistic' }), join(work, 'tiny.json'))).toThrow(/feeds\[0\]\.queueModel/);
  });
});

describe('a Tardis feed in a scenario', () => {
  const l2 = [
    'exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount',
    'binance,BTCUSDT,1575158400000000,1575158401000000,true,ask,100.5,2.0',
    'binance,BTCUSDT,1575158400000000,1575158401000000,true,bid,100.0,1.0',
    // after our buy took 1.0 of the 2.0 ask: someone cancels 0.5 of it
    'binance,BTCUSDT,1575158402000000,1575158403000000,false,ask,100.5,1.5',
    'binance,BTCUSDT,1575158402000000,1575158404000000,false,bid,100.0,1.25',
  ].join('\n');
  const trades = [
    'exchange,symbol,timestamp,local_timestamp,id,side,price,amount',
    'binance,BTCUSDT,1575158404000000,1575158405000000,7,sell,99.9,0.5',
  ].join('\n');

  it('turns absolute L2 sizes into changes, so what own orders took stays taken; prints fill through', async () => {
    write('l2.csv', l2 + '\n');
    write('t.csv', trades + '\n');
    const text = scenarioText(
      { type: 'tardis', instrument: 'BTCUSDT', l2: 'l2.csv', trades: 't.csv' },
      [
        { at: '00:00:02', type: 'submit', account: 'q', ref: 'take', instrument: 'BTCUSDT', side: 'buy', orderType: 'market', size: '1.0' },
        { at: '00:00:02', type: 'submit', account: 'q', ref: 'bid', instrument: 'BTCUSDT', side: 'buy', orderType: 'limit', price: '100.01', size: '0.3' },
      ],
      { symbol: 'BTCUSDT', tickSize: '0.01', lotSize: '0.001', referencePrice: '100.00' },
    ).replace('"2012-06-21","open":"09:30:00","close":"09:31:00"', '"2019-12-01","open":"00:00:00","close":"00:01:00"');
    const sc = parseScenario(text, join(work, 'tiny-tardis.json'));
    const out = join(work, 'out-tardis');
    await runScenario({ scenario: sc, outDir: out, feedThread: 'inline', outputThread: 'inline', audit: false });
    const ev = lines(out);
    const askLevels = ev.filter((e) => e.type === 'level' && e.side === 'sell').map((e) => [e.ts, e.size]);
    // 2.000 from the snapshot; 1.000 after our market buy; the file's 1.5 means 0.5 cancelled: 0.500 remain.
    expect(askLevels).toEqual([
      [1_000_000_000, '2.000'],
      [2_000_000_000, '1.000'],
      [3_000_000_000, '0.500'],
    ]);
    const fills = ev.filter((e) => e.type === 'fill').map((e) => [e.ts, e.price, e.size, e.liquidity]);
    expect(fills).toEqual([
      [2_000_000_000, '100.50', '1.000', 'taker'],
      // A sell print at 99.90 went through our 100.01 bid.
      [5_000_000_000, '100.01', '0.300', 'through'],
    ]);
    expect(ev.find((e) => e.type === 'market-trade')).toMatchObject({ price: '99.90', size: '0.500', aggressor: 'sell', kind: 'print', dataId: 7 });
  });
});

describe('recording a run as LOBSTER files', () => {
  it("round trip: quickstart's synthetic day, replayed with exsim lobster, matches every row; the run itself is unchanged", async () => {
    const sc = loadScenario(join(root, 'scenarios', 'quickstart.json'));
    const out = join(work, 'qs');
    const r = await runScenario({ scenario: sc, outDir: out, feedThread: 'inline', outputThread: 'inline', audit: false, recordLobster: { levels: 10 } });
    const golden = JSON.parse(readFileSync(join(root, 'fixtures', 'golden', 'quickstart', 'summary.json'), 'utf8')) as Json;
    expect(r.summary).toEqual(golden);
    for (const sym of ['ACME', 'BOLT']) {
      const m = join(out, `${sym}_message.csv`);
      expect(existsSync(m)).toBe(true);
      const res = replayLobster({ messages: m, orderbook: join(out, `${sym}_orderbook.csv`) });
      expect(res.rows).toBeGreaterThan(1000);
      expect(res.deadLetterCount).toBe(0);
      expect(res.matched).toBe(res.rows);
    }
  });
});

describe('the AAPL slice scenario', () => {
  it('gives the golden events with the feed in a worker too', async () => {
    const sc = loadScenario(join(root, 'scenarios', 'replay-aapl.json'));
    const out = join(work, 'aapl-worker');
    await runScenario({ scenario: sc, outDir: out, feedThread: 'worker', outputThread: 'worker', audit: false });
    expect(readFileSync(join(out, 'events.ndjson')).equals(readFileSync(join(root, 'fixtures', 'golden', 'replay-aapl', 'events.ndjson')))).toBe(true);
  });
});
