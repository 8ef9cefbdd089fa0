import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OrderType, Side, StpMode, TimeInForce } from '../engine/types.js';
import { UserError } from './errors.js';
import { FEED_CLORDID_BASE, formatJsonPath, loadScenario, parseScenario } from './scenario.js';
import { DAYS_AFTER_SESSION_MAX, formatNs, parseDateDays, parseDateTimeNs, parseTimeOfDayNs } from './scenario-time.js';

const F = 'scenarios/x.json';

type Json = Record<string, unknown>;

/** A fresh copy of the brief's example scenario for each test to mutate. */
function base(): Json {
  return {
    name: 'quickstart',
    description: 'optional free text',
    seed: 42,
    session: { date: '2026-01-05', open: '09:30:00', close: '16:00:00' },
    instruments: [{ symbol: 'ACME', tickSize: '0.01', lotSize: '1', referencePrice: '100.00', priceBandBps: 1000 }],
    accounts: [{ id: 'alice', stp: 'cancel-resting' }, { id: 'bob' }, { id: 'zi-acme' }],
    marketData: { quotes: true, levels: 5 },
    feeds: [
      {
        type: 'synthetic',
        instrument: 'ACME',
        account: 'zi-acme',
        orders: 20000,
        rates: { limit: 50, cancel: 45, market: 5 },
        volatilityTicks: 0.5,
        depthTicks: 20,
        size: { min: '1', max: '10' },
        dayOrderFraction: 0,
      },
    ],
    actions: [
      {
        at: '09:30:00.000001',
        type: 'submit',
        account: 'alice',
        ref: 'a1',
        instrument: 'ACME',
        side: 'buy',
        orderType: 'limit',
        price: '100.00',
        size: '10',
        tif: 'GTC',
        postOnly: false,
        stp: 'cancel-both',
      },
      {
        at: '09:30:01',
        type: 'submit',
        account: 'bob',
        ref: 's1',
        instrument: 'ACME',
        side: 'sell',
        orderType: 'stop-limit',
        stopPrice: '99.50',
        price: '99.40',
        size: '5',
        tif: 'DAY',
      },
      { at: '09:30:02', type: 'modify', account: 'alice', ref: 'a1', price: '100.01', size: '8' },
      { at: '09:30:03', type: 'cancel', account: 'alice', ref: 'a1' },
    ],
  };
}

// Typed views into the example for mutation.
const ins0 = (o: Json) => (o.instruments as Json[])[0]!;
const feed0 = (o: Json) => (o.feeds as Json[])[0]!;
const act = (o: Json, k: number) => (o.actions as Json[])[k]!;
const acts = (o: Json) => o.actions as Json[];

function messageOf(text: string): string {
  try {
    parseScenario(text, F);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).exitCode).toBe(2);
    return (e as Error).message;
  }
  throw new Error('expected the scenario to be rejected');
}

/** The message for the example after `mutate`. */
function errorAfter(mutate: (o: Json) => void): string {
  const o = base();
  mutate(o);
  return messageOf(JSON.stringify(o, null, 2));
}

describe('a valid scenario', () => {
  it('normalises to integer ticks, lots and nanoseconds', () => {
    const s = parseScenario(JSON.stringify(base()), F);
    expect(s.file).toBe(F);
    expect(s.name).toBe('quickstart');
    expect(s.description).toBe('optional free text');
    expect(s.seed).toBe(42);
    expect(s.sessionDate).toBe('2026-01-05');
    expect(s.openNs).toBe(34_200_000_000_000);
    expect(s.closeNs).toBe(57_600_000_000_000);
    expect(s.instruments).toEqual([{ index: 0, symbol: 'ACME', tickSize: '0.01', lotSize: '1', referencePriceTicks: 10_000, priceBandBps: 1000 }]);
    expect(s.accounts).toEqual([
      { index: 0, name: 'alice', stp: StpMode.CancelResting },
      { index: 1, name: 'bob', stp: StpMode.None },
      { index: 2, name: 'zi-acme', stp: StpMode.None },
    ]);
    expect(s.marketData).toEqual({ quotes: true, levels: 5, snapshotEveryNs: 0 });
    expect(s.feeds).toEqual([
      {
        kind: 'synthetic',
        instrument: 0,
        account: 2,
        ordersMax: 20_000,
        limitRatePerSec: 50,
        cancelRatePerSec: 45,
        marketRatePerSec: 5,
        tickVolatility: 0.5,
        depthTicks: 20,
        sizeMinLots: 1,
        sizeMaxLots: 10,
        dayOrderFraction: 0,
        referencePriceTicks: 10_000,
        startNs: 34_200_000_000_000,
        endNs: 57_600_000_000_000,
        clOrdIdStart: FEED_CLORDID_BASE,
        purpose: 'feed/0/ACME',
      },
    ]);
    expect(s.actions).toEqual([
      {
        index: 0,
        path: 'actions[0]',
        atNs: 34_200_000_001_000,
        ref: 'a1',
        command: {
          type: 'submit',
          tsNs: 34_200_000_001_000,
          instrument: 0,
          account: 0,
          clOrdId: 1,
          side: Side.Buy,
          orderType: OrderType.Limit,
          tif: TimeInForce.GTC,
          priceTicks: 10_000,
          sizeLots: 10,
          postOnly: false,
          stp: StpMode.CancelBoth,
        },
      },
      {
        index: 1,
        path: 'actions[1]',
        atNs: 34_201_000_000_000,
        ref: 's1',
        command: {
          type: 'submit',
          tsNs: 34_201_000_000_000,
          instrument: 0,
          account: 1,
          clOrdId: 1,
          side: Side.Sell,
          orderType: OrderType.StopLimit,
          tif: TimeInForce.DAY,
          priceTicks: 9_940,
          sizeLots: 5,
          stopPriceTicks: 9_950,
        },
      },
      {
        index: 2,
        path: 'actions[2]',
        atNs: 34_202_000_000_000,
        ref: 'a1',
        command: { type: 'modify', tsNs: 34_202_000_000_000, instrument: 0, account: 0, clOrdId: 1, priceTicks: 10_001, sizeLots: 8 },
      },
      {
        index: 3,
        path: 'actions[3]',
        atNs: 34_203_000_000_000,
        ref: 'a1',
        command: { type: 'cancel', tsNs: 34_203_000_000_000, instrument: 0, account: 0, clOrdId: 1 },
      },
    ]);
    expect(s.raw).toEqual(base());
  });

  it('fills defaults: description, priceBandBps, stp, marketData, feeds, actions, rates, dayOrderFraction', () => {
    const o = base();
    delete o.description;
    delete ins0(o).priceBandBps;
    delete o.marketData;
    delete (o.accounts as Json[])[0]!.stp;
    const f = feed0(o);
    delete f.dayOrderFraction;
    f.rates = { limit: 10 };
    delete o.actions;
    const s = parseScenario(JSON.stringify(o), F);
    expect(s.description).toBe('');
    expect(s.instruments[0]!.priceBandBps).toBe(0);
    expect(s.accounts[0]!.stp).toBe(StpMode.None);
    expect(s.marketData).toEqual({ quotes: true, levels: 0, snapshotEveryNs: 0 });
    expect(s.feeds[0]!).toMatchObject({ limitRatePerSec: 10, cancelRatePerSec: 0, marketRatePerSec: 0, dayOrderFraction: 0 });
    expect(s.actions).toEqual([]);
    delete o.feeds;
    expect(parseScenario(JSON.stringify(o), F).feeds).toEqual([]);
  });

  it('defaults tif to IOC for market orders and GTC otherwise; assigns clOrdIds per account in order of appearance', () => {
    const o = base();
    acts(o).push(
      { at: '09:30:04', type: 'submit', account: 'bob', ref: 'm1', instrument: 'ACME', side: 'buy', orderType: 'market', size: '3' },
      { at: '09:30:04', type: 'submit', account: 'bob', ref: 'st', instrument: 'ACME', side: 'buy', orderType: 'stop-market', stopPrice: '101', size: '3' },
      { at: '09:30:05', type: 'submit', account: 'alice', ref: 'a2', instrument: 'ACME', side: 'sell', orderType: 'limit', price: '101.5', size: '1' },
    );
    const s = parseScenario(JSON.stringify(o), F);
    const [m1, st, a2] = s.actions.slice(4).map((a) => a.command);
    expect(m1).toEqual({ type: 'submit', tsNs: 34_204_000_000_000, instrument: 0, account: 1, clOrdId: 2, side: Side.Buy, orderType: OrderType.Market, tif: TimeInForce.IOC, priceTicks: 0, sizeLots: 3 });
    expect(st).toMatchObject({ clOrdId: 3, orderType: OrderType.StopMarket, tif: TimeInForce.GTC, stopPriceTicks: 10_100, priceTicks: 0 });
    expect(a2).toMatchObject({ account: 0, clOrdId: 2, priceTicks: 10_150, postOnly: false });
  });

  it('gives each feed its own clOrdId range, purpose and optional start/end', () => {
    const o = base();
    o.instruments = [...(o.instruments as Json[]), { symbol: 'bolt.x', tickSize: '0.05', lotSize: '0.001', referencePrice: '20' }];
    const f1 = { ...feed0(o), instrument: 'bolt.x', size: { min: '0.005', max: '1.5' }, start: '10:00:00', end: '2026-01-06T16:00:00' };
    o.feeds = [feed0(o), f1];
    const s = parseScenario(JSON.stringify(o), F);
    expect(s.instruments[1]).toEqual({ index: 1, symbol: 'bolt.x', tickSize: '0.05', lotSize: '0.001', referencePriceTicks: 400, priceBandBps: 0 });
    expect(s.feeds[1]).toMatchObject({
      instrument: 1,
      sizeMinLots: 5,
      sizeMaxLots: 1500,
      referencePriceTicks: 400,
      startNs: 36_000_000_000_000,
      endNs: 86_400_000_000_000 + 57_600_000_000_000,
      clOrdIdStart: 2 * FEED_CLORDID_BASE,
      purpose: 'feed/1/bolt.x',
    });
  });

  it('applies a seed override and rejects a bad one', () => {
    const text = JSON.stringify(base());
    expect(parseScenario(text, F, { seed: 7 }).seed).toBe(7);
    expect(() => parseScenario(text, F, { seed: -1 })).toThrow('--seed: expected a non-negative whole number up to 9007199254740991, got -1');
    // JSON.parse reads 1e400 as Infinity; the message says it was out of range.
    expect(() => parseScenario(text.replace('"seed":42', '"seed":1e400'), F)).toThrow('seed: expected a non-negative whole number up to 9007199254740991, got a number beyond the range of a double (parsed as Infinity)');
  });

  it('allows actions after the close and on later days, and equal times', () => {
    const o = base();
    acts(o).push(
      { at: '17:00:00', type: 'cancel', account: 'bob', ref: 's1' },
      { at: '2026-01-06T09:30:00', type: 'cancel', account: 'bob', ref: 's1' },
      { at: '2026-01-06T09:30:00', type: 'cancel', account: 'bob', ref: 's1' },
    );
    const s = parseScenario(JSON.stringify(o), F);
    expect(s.actions.slice(4).map((a) => a.atNs)).toEqual([61_200_000_000_000, 86_400_000_000_000 + 34_200_000_000_000, 86_400_000_000_000 + 34_200_000_000_000]);
  });

  it('accepts a byte order mark', () => {
    expect(parseScenario('\uFEFF' + JSON.stringify(base()), F).name).toBe('quickstart');
  });
});

describe('invalid JSON', () => {
  it('reports line and column of a syntax error', () => {
    expect(messageOf('{\n  "name": "x",\n  "seed": 42,\n}')).toBe(`${F}:4:1: invalid JSON: unexpected "}" after "," (JSON does not allow a trailing comma)`);
    expect(messageOf('{\n  "name": "x"\n  "seed": 1\n}')).toBe(`${F}:3:3: invalid JSON: unexpected "\\"" (expected "," or "}")`);
    expect(messageOf('{"a": [1, 2')).toBe(`${F}:1:12: invalid JSON: unexpected end of file (expected "," or "]")`);
    expect(messageOf("{'a': 1}")).toBe(`${F}:1:2: invalid JSON: unexpected "'" (expected a field name in double quotes)`);
    expect(messageOf('{"a": 01}')).toBe(`${F}:1:7: invalid JSON: invalid number "01"`);
    expect(messageOf('{"a": "x\ny"}')).toBe(`${F}:1:9: invalid JSON: control character in string (write newlines and tabs as \\n and \\t)`);
    expect(messageOf('{"a": tru}')).toBe(`${F}:1:7: invalid JSON: unexpected "t" (expected a value: object, array, string, number, true, false or null)`);
    expect(messageOf('{} x')).toBe(`${F}:1:4: invalid JSON: unexpected "x" after the end of the JSON value`);
    expect(messageOf('')).toBe(`${F}:1:1: invalid JSON: unexpected end of file (expected a value)`);
  });

  it('counts columns in characters, not UTF-16 units', () => {
    expect(messageOf('{"d": "😀", x}')).toBe(`${F}:1:12: invalid JSON: unexpected "x" (expected a field name in double quotes)`);
  });

  it('rejects duplicate fields, which JSON.parse would silently merge', () => {
    expect(messageOf('{\n  "seed": 1,\n  "seed": 2\n}')).toBe(`${F}:3:3: duplicate field "seed"`);
  });

  it('accepts everything JSON.parse accepts on valid input', () => {
    const text = '{"a": [1, -2.5e+3, 0.0, true, false, null, "\\u00e9\\n\\"", {}, []], "b": {"c": "d"}}';
    // Valid JSON that is not a scenario: the complaint must come from the shape checks, not the scanner.
    expect(messageOf(text)).not.toContain('invalid JSON');
    expect(messageOf(text)).toContain(`${F}: a: unknown field`);
  });
});

describe('shape errors name the file, the JSON path, what was expected and what was found', () => {
  it('the example from the issue: a number where a decimal string belongs', () => {
    expect(errorAfter((o) => (ins0(o).tickSize = 0.01))).toBe(`${F}: instruments[0].tickSize: expected a decimal string like "0.01", got 0.01`);
  });

  it('unknown fields at any depth, with a suggestion when close to a known one', () => {
    expect(errorAfter((o) => (o.sead = 1))).toBe(`${F}: sead: unknown field; did you mean "seed"?`);
    expect(errorAfter((o) => ((feed0(o).rates as Json).bogus = 1))).toBe(`${F}: feeds[0].rates.bogus: unknown field; expected one of: limit, cancel, market`);
    expect(errorAfter((o) => (act(o, 3).prize = '1'))).toBe(`${F}: actions[3].prize: unknown field; expected one of: at, type, account, ref`);
    expect(errorAfter((o) => (act(o, 0).prize = '1'))).toBe(`${F}: actions[0].prize: unknown field; did you mean "price"?`);
    expect(errorAfter((o) => ((o.session as Json)['odd key'] = 1))).toBe(`${F}: session["odd key"]: unknown field; expected one of: date, open, close, days`);
  });

  it('missing required fields', () => {
    expect(errorAfter((o) => delete o.seed)).toBe(`${F}: seed: missing; expected a non-negative whole number up to 9007199254740991`);
    expect(errorAfter((o) => delete ins0(o).lotSize)).toBe(`${F}: instruments[0].lotSize: missing; expected a decimal string like "1"`);
  });

  it('the top level must be an object', () => {
    expect(messageOf('[1, 2, 3]')).toBe(`${F}: top level: expected a JSON object with the scenario sections (name, seed, session, instruments, accounts, ...), got an array of 3 entries`);
  });

  it('name and seed', () => {
    expect(errorAfter((o) => (o.name = 'has space'))).toBe(`${F}: name: expected a name of 1 to 64 letters, digits, ".", "_" or "-" starting with a letter or digit, like "quickstart", got "has space"`);
    for (const seed of [-1, 1.5, 2 ** 53, '42', null]) {
      expect(errorAfter((o) => (o.seed = seed))).toBe(`${F}: seed: expected a non-negative whole number up to 9007199254740991, got ${seed === '42' ? '"42"' : String(seed)}`);
    }
  });

  it('session date, open and close', () => {
    expect(errorAfter((o) => ((o.session as Json).date = '2026-1-5'))).toBe(`${F}: session.date: expected a date "YYYY-MM-DD", like "2026-01-05", got "2026-1-5"`);
    expect(errorAfter((o) => ((o.session as Json).date = '2026-02-29'))).toBe(`${F}: session.date: expected a real calendar date "YYYY-MM-DD", got "2026-02-29"`);
    expect(errorAfter((o) => ((o.session as Json).open = '9:30'))).toBe(
      `${F}: session.open: expected a time of day "HH:MM:SS" with up to 9 fractional digits, like "09:30:00" or "09:30:00.000000001", got "9:30"`,
    );
    expect(errorAfter((o) => ((o.session as Json).close = '24:00:00'))).toBe(`${F}: session.close: expected a time of day from 00:00:00 to 23:59:59.999999999, got "24:00:00"`);
    expect(errorAfter((o) => ((o.session as Json).open = '09:30:00.0000000001'))).toContain(`${F}: session.open: expected a time of day`);
    expect(errorAfter((o) => ((o.session as Json).close = '09:30:00'))).toBe(`${F}: session.close: expected a time after session.open "09:30:00", got "09:30:00"`);
  });

  it('instruments: symbol, sizes, reference price on the tick, band, uniqueness', () => {
    expect(errorAfter((o) => (o.instruments = []))).toBe(`${F}: instruments: expected an array of 1 to 1000 instruments, got an array of 0 entries`);
    expect(errorAfter((o) => (ins0(o).symbol = 'AC ME'))).toBe(`${F}: instruments[0].symbol: expected a symbol of 1 to 16 letters, digits, ".", "_" or "-", like "ACME", got "AC ME"`);
    expect(errorAfter((o) => (ins0(o).tickSize = '0'))).toBe(`${F}: instruments[0].tickSize: expected a positive decimal string like "0.01", got "0"`);
    expect(errorAfter((o) => (ins0(o).lotSize = '-1'))).toBe(`${F}: instruments[0].lotSize: expected a decimal string like "1", got "-1"`);
    expect(errorAfter((o) => (ins0(o).referencePrice = '100.005'))).toBe(`${F}: instruments[0].referencePrice: "100.005" is not a whole multiple of the tick size "0.01" of ACME`);
    expect(errorAfter((o) => (ins0(o).referencePrice = '0.00'))).toBe(`${F}: instruments[0].referencePrice: expected a positive decimal string like "100.00", got "0.00"`);
    expect(errorAfter((o) => (ins0(o).referencePrice = '99999999999'))).toBe(`${F}: instruments[0].referencePrice: "99999999999" is 9999999999900 ticks; at most 2147483647 are allowed`);
    expect(errorAfter((o) => (ins0(o).priceBandBps = -5))).toBe(`${F}: instruments[0].priceBandBps: expected a whole number from 0 to 100000, got -5`);
    expect(errorAfter((o) => (ins0(o).priceBandBps = 2.5))).toBe(`${F}: instruments[0].priceBandBps: expected a whole number from 0 to 100000, got 2.5`);
    expect(errorAfter((o) => (o.instruments = [ins0(o), { ...ins0(o), symbol: 'acme' }]))).toBe(
      `${F}: instruments[1].symbol: "acme" is already used by instruments[0] (symbols are compared ignoring case)`,
    );
  });

  it('accounts: id, stp, uniqueness', () => {
    expect(errorAfter((o) => ((o.accounts as Json[])[1]!.id = ''))).toBe(`${F}: accounts[1].id: expected an account id of 1 to 32 letters, digits, ".", "_" or "-", like "alice", got ""`);
    expect(errorAfter((o) => ((o.accounts as Json[])[1]!.stp = 'cancel'))).toBe(`${F}: accounts[1].stp: expected one of "none", "cancel-resting", "cancel-incoming", "cancel-both", got "cancel"`);
    expect(errorAfter((o) => (o.accounts as Json[]).push({ id: 'Bob' }))).toBe(`${F}: accounts[3].id: "Bob" is already used by accounts[1] (ids are compared ignoring case)`);
  });

  it('marketData: quotes and levels', () => {
    expect(errorAfter((o) => (o.marketData = { quotes: 'yes' }))).toBe(`${F}: marketData.quotes: expected true or false, got "yes"`);
    expect(errorAfter((o) => (o.marketData = { levels: 51 }))).toBe(`${F}: marketData.levels: expected a whole number from 0 to 50, got 51`);
    expect(errorAfter((o) => (o.marketData = { levels: 5, snapshotEverySeconds: 1.5 }))).toBe(`${F}: marketData.snapshotEverySeconds: expected a whole number from 0 to 86400, got 1.5`);
    expect(parseScenario(JSON.stringify({ ...JSON.parse(JSON.stringify(base())), marketData: { levels: 5, snapshotEverySeconds: 60 } }), F).marketData.snapshotEveryNs).toBe(60_000_000_000);
  });

  it('feeds: type, references, orders, rates, ticks, sizes, fraction', () => {
    expect(errorAfter((o) => (feed0(o).type = 'itch'))).toBe(`${F}: feeds[0].type: expected one of "synthetic", "lobster", "tardis", got "itch"`);
    expect(errorAfter((o) => delete feed0(o).type)).toBe(`${F}: feeds[0].type: missing; expected one of "synthetic", "lobster", "tardis"`);
    expect(errorAfter((o) => (o.feeds = [7]))).toBe(`${F}: feeds[0]: expected a feed object like {"type": "synthetic", ...}, got 7`);
    expect(errorAfter((o) => (feed0(o).instrument = 'XYZ'))).toBe(`${F}: feeds[0].instrument: unknown instrument "XYZ"; expected one of "ACME"`);
    expect(errorAfter((o) => (feed0(o).account = 'carol'))).toBe(`${F}: feeds[0].account: unknown account "carol"; expected one of "alice", "bob", "zi-acme"`);
    expect(errorAfter((o) => (feed0(o).orders = 0))).toBe(`${F}: feeds[0].orders: expected a whole number from 1 to 50000000, got 0`);
    expect(errorAfter((o) => (feed0(o).orders = 50_000_001))).toBe(`${F}: feeds[0].orders: expected a whole number from 1 to 50000000, got 50000001`);
    expect(errorAfter((o) => ((feed0(o).rates as Json).cancel = -1))).toBe(`${F}: feeds[0].rates.cancel: expected a non-negative number of orders per second, got -1`);
    expect(errorAfter((o) => (feed0(o).rates = { limit: 0 }))).toBe(`${F}: feeds[0].rates: expected at least one positive rate, got all zero`);
    expect(errorAfter((o) => (feed0(o).volatilityTicks = -0.1))).toBe(`${F}: feeds[0].volatilityTicks: expected a non-negative number of ticks, got -0.1`);
    expect(errorAfter((o) => (feed0(o).depthTicks = 0))).toBe(`${F}: feeds[0].depthTicks: expected a whole number from 1 to 1000000, got 0`);
    expect(errorAfter((o) => (feed0(o).size = { min: '1.5', max: '10' }))).toBe(`${F}: feeds[0].size.min: "1.5" is not a whole multiple of the lot size "1" of ACME`);
    expect(errorAfter((o) => (feed0(o).size = { min: '0', max: '10' }))).toBe(`${F}: feeds[0].size.min: expected a positive decimal string like "1", got "0"`);
    expect(errorAfter((o) => (feed0(o).size = { min: '5', max: '4' }))).toBe(`${F}: feeds[0].size.max: expected at least size.min "5", got "4"`);
    expect(errorAfter((o) => (feed0(o).dayOrderFraction = 1.5))).toBe(`${F}: feeds[0].dayOrderFraction: expected a number from 0 to 1, got 1.5`);
    expect(errorAfter((o) => (feed0(o).end = '09:00:00'))).toBe(`${F}: feeds[0].end: the feed must end after it starts (start 09:30:00.000000000, end 09:00:00.000000000)`);
  });
});

describe('action errors', () => {
  it('type, account, instrument', () => {
    expect(errorAfter((o) => (act(o, 0).type = 'replace'))).toBe(`${F}: actions[0].type: expected one of "submit", "cancel", "modify", "killSwitch", "mark", got "replace"`);
    expect(errorAfter((o) => (act(o, 1).account = 'carol'))).toBe(`${F}: actions[1].account: unknown account "carol"; expected one of "alice", "bob", "zi-acme"`);
    expect(errorAfter((o) => (act(o, 1).instrument = 'XYZ'))).toBe(`${F}: actions[1].instrument: unknown instrument "XYZ"; expected one of "ACME"`);
    expect(errorAfter((o) => (act(o, 0).side = 'BUY'))).toBe(`${F}: actions[0].side: expected one of "buy", "sell", got "BUY"`);
    expect(errorAfter((o) => (act(o, 0).orderType = 'iceberg'))).toBe(`${F}: actions[0].orderType: expected one of "limit", "market", "stop-market", "stop-limit", got "iceberg"`);
    expect(errorAfter((o) => (act(o, 0).tif = 'GTD'))).toBe(`${F}: actions[0].tif: expected one of "GTC", "DAY", "IOC", "FOK", got "GTD"`);
    expect(errorAfter((o) => (act(o, 0).postOnly = 'no'))).toBe(`${F}: actions[0].postOnly: expected true or false, got "no"`);
  });

  it('refs: non-empty, unique per account, cancel/modify name an earlier submit of the same account', () => {
    expect(errorAfter((o) => (act(o, 0).ref = ''))).toBe(`${F}: actions[0].ref: expected a non-empty string of at most 64 characters naming the order, like "a1", got ""`);
    expect(errorAfter((o) => (act(o, 3).ref = 'a9'))).toBe(`${F}: actions[3].ref: "a9" does not name an earlier submit of account "alice"`);
    expect(errorAfter((o) => (act(o, 3).account = 'bob'))).toBe(`${F}: actions[3].ref: "a1" does not name an earlier submit of account "bob"`);
    // A submit later in the file does not count, even at the same time.
    expect(
      errorAfter((o) => {
        o.actions = [{ at: '09:30:01', type: 'cancel', account: 'bob', ref: 's1' }, act(o, 1)];
      }),
    ).toBe(`${F}: actions[0].ref: "s1" does not name an earlier submit of account "bob"`);
    expect(errorAfter((o) => acts(o).push({ ...act(o, 0), at: '09:31:00' }))).toBe(`${F}: actions[4].ref: "a1" is already used by actions[0] of account "alice"; refs must be unique per account`);
  });

  it('price and stopPrice presence by order type', () => {
    expect(errorAfter((o) => delete act(o, 0).price)).toBe(`${F}: actions[0].price: missing; a limit order needs a price, like "100.00"`);
    expect(errorAfter((o) => (act(o, 1).orderType = 'stop-market'))).toBe(`${F}: actions[1].price: not allowed on a stop-market order (it has no limit price)`);
    // A market order may say postOnly: false; only true is contradictory.
    expect(errorAfter((o) => Object.assign(act(o, 0), { orderType: 'market', postOnly: true, price: undefined }))).toBe(
      `${F}: actions[0].postOnly: not allowed on a market order (only limit orders can be post-only)\n${F}: actions[2].price: not allowed: the order "a1" has no limit price`,
    );
    expect(errorAfter((o) => delete act(o, 1).stopPrice)).toBe(`${F}: actions[1].stopPrice: missing; a stop-limit order needs a stopPrice, like "99.50"`);
    expect(errorAfter((o) => (act(o, 0).stopPrice = '99.00'))).toBe(`${F}: actions[0].stopPrice: not allowed on a limit order (only stop-market and stop-limit orders have one)`);
    expect(errorAfter((o) => (act(o, 1).postOnly = true))).toBe(`${F}: actions[1].postOnly: not allowed on a stop-limit order (only limit orders can be post-only)`);
  });

  it('prices on the tick, sizes positive whole lots', () => {
    expect(errorAfter((o) => (act(o, 0).price = '100.001'))).toBe(`${F}: actions[0].price: "100.001" is not a whole multiple of the tick size "0.01" of ACME`);
    expect(errorAfter((o) => (act(o, 1).stopPrice = '99.505'))).toBe(`${F}: actions[1].stopPrice: "99.505" is not a whole multiple of the tick size "0.01" of ACME`);
    expect(errorAfter((o) => (act(o, 0).price = 100))).toBe(`${F}: actions[0].price: expected a positive decimal string like "100.00", got 100`);
    expect(errorAfter((o) => (act(o, 0).size = '-5'))).toBe(`${F}: actions[0].size: expected a positive decimal string like "10", got "-5"`);
    expect(errorAfter((o) => (act(o, 0).size = '2.5'))).toBe(`${F}: actions[0].size: "2.5" is not a whole multiple of the lot size "1" of ACME`);
    expect(errorAfter((o) => (act(o, 0).size = '0'))).toBe(`${F}: actions[0].size: expected a positive decimal string like "10", got "0"`);
    expect(errorAfter((o) => (act(o, 0).size = '1e3'))).toBe(`${F}: actions[0].size: expected a positive decimal string like "10", got "1e3"`);
  });

  it('modify: price required when the order has one, forbidden otherwise; size required and on the lot', () => {
    expect(errorAfter((o) => delete act(o, 2).price)).toBe(`${F}: actions[2].price: missing; the order "a1" has a limit price, so a modify must give one, like "100.00"`);
    expect(errorAfter((o) => delete act(o, 2).size)).toBe(`${F}: actions[2].size: missing; expected a positive decimal string like "10"`);
    expect(errorAfter((o) => (act(o, 2).size = '0.5'))).toBe(`${F}: actions[2].size: "0.5" is not a whole multiple of the lot size "1" of ACME`);
    expect(errorAfter((o) => (act(o, 2).price = '100.015'))).toBe(`${F}: actions[2].price: "100.015" is not a whole multiple of the tick size "0.01" of ACME`);
    expect(
      errorAfter((o) => acts(o).push(
        { at: '09:31:00', type: 'submit', account: 'bob', ref: 'm', instrument: 'ACME', side: 'buy', orderType: 'stop-market', stopPrice: '101', size: '1' },
        { at: '09:31:00', type: 'modify', account: 'bob', ref: 'm', price: '101', size: '1' },
      )),
    ).toBe(`${F}: actions[5].price: not allowed: the order "m" has no limit price`);
  });

  it('times: format, session date, order, before the open', () => {
    expect(errorAfter((o) => (act(o, 0).at = '9:30'))).toBe(
      `${F}: actions[0].at: expected a time "HH:MM:SS[.fffffffff]" on the session date or "YYYY-MM-DDTHH:MM:SS[.fffffffff]" on a later date, like "09:30:00.5" or "2026-01-06T09:30:00", got "9:30"`,
    );
    expect(errorAfter((o) => (act(o, 0).at = 34_200))).toContain(`${F}: actions[0].at: expected a time "HH:MM:SS[.fffffffff]"`);
    expect(errorAfter((o) => (act(o, 0).at = '2026-01-04T10:00:00'))).toBe(`${F}: actions[0].at: "2026-01-04T10:00:00" is before the session date 2026-01-05`);
    expect(errorAfter((o) => (act(o, 0).at = '2026-04-16T10:00:00'))).toBe(`${F}: actions[0].at: "2026-04-16T10:00:00" is more than 100 days after the session date 2026-01-05`);
    expect(errorAfter((o) => (act(o, 0).at = '09:00:00'))).toBe(`${F}: actions[0].at: "09:00:00" is before the session opens (session.open "09:30:00")`);
    expect(errorAfter((o) => (act(o, 3).at = '09:30:01.5'))).toBe(`${F}: actions[3].at: "09:30:01.5" is earlier than actions[2].at "09:30:02"; actions must be in time order`);
  });

  it('reports several problems in document order, at most ten, then a count', () => {
    const msg = errorAfter((o) => {
      ins0(o).tickSize = 0.01;
      o.sead = 1;
    });
    expect(msg.split('\n')).toEqual([`${F}: instruments[0].tickSize: expected a decimal string like "0.01", got 0.01`, `${F}: sead: unknown field; did you mean "seed"?`]);
    const many = errorAfter((o) => {
      for (let k = 0; k < 12; k++) acts(o).push({ at: '09:40:00', type: 'cancel', account: 'alice', ref: `zz${k}` });
    });
    const lines = many.split('\n');
    expect(lines).toHaveLength(11);
    expect(lines[0]).toBe(`${F}: actions[4].ref: "zz0" does not name an earlier submit of account "alice"`);
    expect(lines[10]).toBe(`${F}: ... and 2 more errors`);
  });
});

describe('files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'exsim-scenario-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a file and names it in errors', () => {
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify(base(), null, 2));
    expect(loadScenario(good).file).toBe(good);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{\n  "name": 1,\n');
    expect(() => loadScenario(bad)).toThrow(`${bad}:3:1: invalid JSON: unexpected end of file (expected a field name in double quotes)`);
  });

  it('unreadable paths', () => {
    const missing = join(dir, 'nope.json');
    expect(() => loadScenario(missing)).toThrow(new UserError(`cannot read ${missing}: no such file`));
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    expect(() => loadScenario(sub)).toThrow(new UserError(`cannot read ${sub}: is a directory`));
  });

  it('non-UTF-8 bytes', () => {
    const latin1 = join(dir, 'latin1.json');
    writeFileSync(latin1, Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x7d]));
    expect(() => loadScenario(latin1)).toThrow(`${latin1}: not UTF-8 text`);
  });
});

describe('scenario time', () => {
  it('parses times of day from digits, exact to the nanosecond', () => {
    expect(parseTimeOfDayNs('09:30:00.000000001')).toBe(34_200_000_000_001);
    expect(parseTimeOfDayNs('23:59:59.999999999')).toBe(86_399_999_999_999);
    expect(parseTimeOfDayNs('00:00:00')).toBe(0);
    expect(parseTimeOfDayNs('16:00:00.5')).toBe(57_600_500_000_000);
    // 0.1 + 0.2 style float error would show up here if fractions went through floats.
    expect(parseTimeOfDayNs('09:30:00.3')).toBe(34_200_300_000_000);
    expect(() => parseTimeOfDayNs('09:60:00')).toThrow(RangeError);
    expect(() => parseTimeOfDayNs('09:30:00.')).toThrow(RangeError);
  });

  it('parses later dates by integer calendar arithmetic, across a leap day and a year end', () => {
    expect(parseDateTimeNs('2027-12-31', '2028-03-01T00:00:00.000000001')).toBe(61 * 86_400_000_000_000 + 1);
    expect(parseDateTimeNs('2026-01-05', '2026-01-05T09:30:00')).toBe(34_200_000_000_000);
    const far = parseDateTimeNs('2026-01-05', '2026-04-15T23:59:59.999999999');
    expect(far).toBe(DAYS_AFTER_SESSION_MAX * 86_400_000_000_000 + 86_399_999_999_999);
    expect(Number.isSafeInteger(far)).toBe(true);
    expect(parseDateDays('1970-01-01')).toBe(0);
    expect(parseDateDays('2000-03-01')).toBe(11_017);
    expect(parseDateDays('2024-02-29') - parseDateDays('2023-02-28')).toBe(366);
    expect(() => parseDateDays('2100-02-29')).toThrow('expected a real calendar date');
    expect(() => parseDateDays('2000-02-30')).toThrow('expected a real calendar date');
    expect(parseDateDays('2000-02-29')).toBe(11_016);
  });

  it('formats nanoseconds back, round-tripping through the parser', () => {
    expect(formatNs(34_200_000_000_001)).toBe('09:30:00.000000001');
    expect(formatNs(86_400_000_000_000 + 34_200_000_000_000)).toBe('+1d 09:30:00.000000000');
    expect(formatNs(86_400_000_000_000 + 34_200_000_000_000, '2026-12-31')).toBe('2027-01-01T09:30:00.000000000');
    // Deterministic sweep over days and nanosecond offsets (no randomness needed).
    for (let day = 0; day <= DAYS_AFTER_SESSION_MAX; day += 7) {
      for (const tod of [0, 1, 999_999_999, 34_200_123_456_789, 86_399_999_999_999]) {
        const ns = day * 86_400_000_000_000 + tod;
        expect(parseDateTimeNs('2028-02-20', formatNs(ns, '2028-02-20'))).toBe(ns);
      }
    }
  });
});

describe('formatJsonPath', () => {
  it('writes paths the way a reader would look them up', () => {
    expect(formatJsonPath([])).toBe('top level');
    expect(formatJsonPath(['actions', 3, 'ref'])).toBe('actions[3].ref');
    expect(formatJsonPath(['a', 'b c', 0])).toBe('a["b c"][0]');
  });
});
