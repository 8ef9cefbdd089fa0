import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../sim/run.js';
import { loadScenario, parseScenario } from '../sim/scenario.js';
import { queryAudit } from '../sim/sinks/audit-query.js';

const base = {
  name: 't',
  seed: 1,
  session: { date: '2026-01-05', open: '09:30:00', close: '10:00:00' },
  instruments: [{ symbol: 'ACME', tickSize: '0.01', lotSize: '1', referencePrice: '100.00' }],
  accounts: [{ id: 'alice', type: 'cash', cash: '1000.00' }],
};
const parse = (patch: Record<string, unknown>) => parseScenario(JSON.stringify({ ...base, ...patch }), 'x.json');

describe('scenario accounts section', () => {
  it('has no back office (and no hooks) when nothing asks for one', () => {
    const s = parseScenario(JSON.stringify({ ...base, accounts: [{ id: 'alice' }] }), 'x.json');
    expect(s.backOffice).toBeNull();
    expect(s.sessions).toHaveLength(1);
  });

  it('normalises money, limits and firms into integers', () => {
    const s = parse({
      firms: [{ id: 'desk', limits: { positions: { ACME: { long: '150' } } } }],
      accounts: [{ id: 'alice', type: 'margin', firm: 'desk', cash: '1000.50', limits: { maxOrderNotional: '20000.00', useUnsettledFraction: 0.5 } }, { id: 'bob' }],
    });
    const bo = s.backOffice!;
    expect(bo.accounts[0]).toMatchObject({ depositMinor: 100_050, type: 'margin', firm: 0, unsettledUseBps: 5_000 });
    expect(bo.accounts[0]!.limits!.maxOrderNotionalMinor).toBe(2_000_000);
    expect(bo.firms[0]!.instrumentLimits).toEqual([{ instrument: 0, maxLongLots: 150 }]);
    // bob has no firm: his own, named after him.
    expect(bo.firmNames).toEqual(['desk', 'bob']);
    expect(bo.accounts[1]).toMatchObject({ type: 'cash', firm: 1, depositMinor: 0 });
  });

  it('reports bad accounts input with the file and the JSON path', () => {
    expect(() => parse({ accounts: [{ id: 'alice', cash: '10.001' }] })).toThrow('x.json: accounts[0].cash: "10.001" has more decimals than USD has minor units (2)');
    expect(() => parse({ accounts: [{ id: 'alice', firm: 'nope' }] })).toThrow('x.json: accounts[0].firm: unknown firm "nope"');
    expect(() => parse({ instruments: [{ ...base.instruments[0], margin: { style: 'equity', initialBps: 2000, maintenanceBps: 3000 } }] })).toThrow(
      'x.json: instruments[0].margin.maintenanceBps: expected at most initialBps 2000, got 3000',
    );
    expect(() => parse({ actions: [{ at: '09:31:00', type: 'killSwitch', on: true }] })).toThrow('x.json: actions[0]: a killSwitch names exactly one of "account" or "firm"');
    expect(() => parse({ accounts: [{ id: 'alice', limits: { maxOrderLot: 5 } }] })).toThrow('accounts[0].limits.maxOrderLot: unknown field; did you mean "maxOrderLots"?');
    expect(() => parse({ instruments: [{ ...base.instruments[0], fees: { makerBps: -0.5, takerBps: 0.3 } }] })).toThrow('instruments[0].fees.makerBps: a rebate of 0.5 bp is larger than the taker fee');
  });

  it('reports a holiday that is no real date as a scenario error (exit 2), not a crash of the calendar', () => {
    for (const [k, h] of ['2026-02-30', '2026-13-01', '01/19/2026', '2026-1-19'].entries()) {
      // One-day and multi-day sessions: the calendar is built on both paths.
      expect(() => parse({ calendar: { holidays: ['2026-01-19', h] } }), `case ${k}`).toThrow(/^x\.json: calendar\.holidays\[1\]: /);
      expect(() => parse({ session: { ...base.session, days: 2 }, calendar: { holidays: [h] } }), `case ${k}`).toThrow('x.json: calendar.holidays[0]: ');
    }
    try {
      parse({ calendar: { holidays: ['2026-02-30'] } });
      expect.unreachable();
    } catch (e) {
      expect((e as Error).constructor.name).toBe('UserError');
      expect((e as Error).message).toBe('x.json: calendar.holidays[0]: expected a date "YYYY-MM-DD", like "2026-01-05", got "2026-02-30"');
    }
    // Scenarios without accounts check it too.
    expect(() => parseScenario(JSON.stringify({ ...base, accounts: [{ id: 'alice' }], calendar: { holidays: ['2026-02-30'] } }), 'x.json')).toThrow('calendar.holidays[0]');
  });

  it('names paths and firms correctly in limits and firm errors', () => {
    expect(() => parse({ accounts: [{ id: 'alice', limits: { positions: { ZZZ: { long: '1' } } } }] })).toThrow('x.json: accounts[0].limits.positions.ZZZ: unknown instrument "ZZZ"');
    // bob is his own firm, not a firm alice can name.
    expect(() => parse({ accounts: [{ id: 'bob' }, { id: 'alice', firm: 'bob' }] })).toThrow('x.json: accounts[1].firm: unknown firm "bob"; none are defined');
    expect(() => parse({ firms: [{ id: 'desk' }], accounts: [{ id: 'bob' }, { id: 'alice', firm: 'nofirm' }] })).toThrow('unknown firm "nofirm"; expected one of "desk"');
  });

  it('lays out business days for a multi-day session, skipping weekends and holidays', () => {
    const s = parse({ session: { ...base.session, date: '2026-01-15', days: 3 }, calendar: { holidays: ['2026-01-19'] } });
    expect(s.sessions.map((x) => x.day - s.sessions[0]!.day)).toEqual([0, 1, 5]);
    expect(() => parse({ session: { ...base.session, date: '2026-01-17', days: 2 } })).toThrow('session.date: "2026-01-17" is a Saturday');
  });

  it('a run writes positions.json, pnl.json and a balanced journal in ledger.sqlite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exsim-acc-'));
    try {
      const sc = loadScenario(join(import.meta.dirname, '..', 'scenarios', 'fees-rebates.json'));
      await runScenario({ scenario: sc, outDir: dir, feedThread: 'inline', outputThread: 'inline', audit: false });
      const pos = JSON.parse(readFileSync(join(dir, 'positions.json'), 'utf8')) as { accounts: { account: string; fees: string }[] };
      expect(pos.accounts.find((a) => a.account === 'mm')!.fees).toBe('-0.23');
      const db = new Database(join(dir, 'ledger.sqlite'), { readonly: true });
      try {
        const rows = db.prepare('SELECT a.asset AS asset, SUM(j.amount) AS s FROM journal j JOIN ledger_accounts a ON a.id = j.account GROUP BY a.asset').all() as { s: number }[];
        expect(rows.length).toBeGreaterThan(0);
        for (const r of rows) expect(r.s).toBe(0);
        const trades = db.prepare("SELECT COUNT(DISTINCT transfer_id) AS n FROM journal WHERE code = 'trade'").get() as { n: number };
        expect(trades.n).toBe(5);
      } finally {
        db.close();
      }
      const pnl = JSON.parse(readFileSync(join(dir, 'pnl.json'), 'utf8')) as { daily: Record<string, string>[]; firmDaily: Record<string, string>[] };
      expect(pnl.daily).toHaveLength(3);
      // Firm rows are the sums of their accounts' rows of the same date.
      const cents = (x: string) => Math.round(Number(x) * 100);
      expect(pnl.firmDaily.length).toBeGreaterThan(0);
      for (const f of pnl.firmDaily) {
        const rows = pnl.daily.filter((d) => d.date === f.date && d.firm === f.firm);
        expect(rows.length).toBeGreaterThan(0);
        for (const k of ['realized', 'unrealized', 'fees', 'total', 'day']) expect(cents(f[k]!), `${f.date} ${f.firm} ${k}`).toBe(rows.reduce((s, r) => s + cents(r[k]!), 0));
      }
      const positions = JSON.parse(readFileSync(join(dir, 'positions.json'), 'utf8')) as { firms: { accounts: string[]; equity: string }[]; accounts: { account: string; equity: string }[] };
      for (const f of positions.firms) expect(cents(f.equity)).toBe(f.accounts.reduce((s, a) => s + cents(positions.accounts.find((x) => x.account === a)!.equity), 0));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exposure-limits: net and gross exposure refusals, and buying power from half of an unsettled sale, end to end', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exsim-acc-'));
    try {
      const sc = loadScenario(join(import.meta.dirname, '..', 'scenarios', 'exposure-limits.json'));
      await runScenario({ scenario: sc, outDir: dir, feedThread: 'inline', outputThread: 'inline', audit: false });
      const ev = readFileSync(join(dir, 'events.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      const outcome = (account: string, size: string, instrument: string) => {
        const r = ev.find((e) => (e.type === 'accepted' || e.type === 'rejected') && e.account === account && e.size === size && e.instrument === instrument)!;
        return r.type === 'rejected' ? r.reason : 'accepted';
      };
      expect(outcome('g', '90', 'ACME')).toBe('accepted');
      expect(outcome('g', '30', 'BETA')).toBe('net-exposure-limit');
      expect(outcome('g', '150', 'BETA')).toBe('gross-exposure-limit');
      expect(outcome('g', '100', 'BETA')).toBe('accepted');
      expect(outcome('c', '8', 'ACME')).toBe('insufficient-buying-power');
      expect(outcome('c', '7', 'ACME')).toBe('accepted');
      // 700.00 is more than c's settled cash: only half of the 500.00 receivable made it possible.
      expect(sc.backOffice!.accounts[2]!.unsettledUseBps).toBe(5_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('follows one order from accepted to fill, cleared and settled (audit query by order id), with the delivery on the ledger', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exsim-acc-'));
    try {
      const sc = loadScenario(join(import.meta.dirname, '..', 'scenarios', 'settlement-holiday.json'));
      await runScenario({ scenario: sc, outDir: dir, feedThread: 'inline', outputThread: 'inline', audit: true });
      // buyer's sell of Friday 2026-01-16 (order 4): T+1 skips the weekend and Monday's holiday.
      const rows = queryAudit(join(dir, 'audit.sqlite'), { orderId: 4 });
      expect(rows.map((r) => r.type)).toEqual(['accepted', 'trade', 'cleared', 'trade-settled']);
      const [, trade, cleared, settled] = rows;
      expect(cleared).toMatchObject({ account: 'buyer', tradeId: trade!.tradeId, orderId: 4, side: 'sell', price: '101.00', size: '5', amount: '505.00', settleDate: '2026-01-20' });
      expect(settled).toMatchObject({ account: 'buyer', tradeId: trade!.tradeId, orderId: 4, side: 'sell', size: '5', amount: '505.00', date: '2026-01-20' });
      const db = new Database(join(dir, 'ledger.sqlite'), { readonly: true });
      try {
        const legs = db
          .prepare("SELECT a.name AS name, j.amount AS amount FROM journal j JOIN ledger_accounts a ON a.id = j.account WHERE j.code = 'settlement' AND a.name LIKE 'buyer:%' ORDER BY j.rowid")
          .all() as { name: string; amount: number }[];
        // Thursday's buy delivered on Friday, Friday's sell delivered on Tuesday: cash and lots in the same transfer.
        expect(legs).toEqual([
          { name: 'buyer:cash-unsettled', amount: -100_000 },
          { name: 'buyer:cash-available', amount: 100_000 },
          { name: 'buyer:ACME:unsettled', amount: 10 },
          { name: 'buyer:ACME', amount: -10 },
          { name: 'buyer:cash-unsettled', amount: 50_500 },
          { name: 'buyer:cash-available', amount: -50_500 },
          { name: 'buyer:ACME:unsettled', amount: -5 },
          { name: 'buyer:ACME', amount: 5 },
        ]);
      } finally {
        db.close();
      }
      const pos = JSON.parse(readFileSync(join(dir, 'positions.json'), 'utf8')) as { accounts: { account: string; initialRequirement: string | null }[]; positions: { account: string; settled: string; unsettled: string }[] };
      expect(pos.positions.find((p) => p.account === 'buyer')).toMatchObject({ position: '5', settled: '5', unsettled: '0' });
      expect(pos.accounts.find((a) => a.account === 'buyer')!.initialRequirement).toBeNull();
      expect(pos.accounts.find((a) => a.account === 'mm')!.initialRequirement).toBe('252.50');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('payments beside a back office: one ledger', () => {
  const payments = (requests: Record<string, unknown>[], extra: Record<string, unknown> = {}) => ({ banks: [{ name: 'b' }], requests, ...extra });
  const deposit = { at: '10:00:00', type: 'deposit', rail: 'ach', account: 'alice', amount: '100.00', idempotencyKey: 'd1' };

  it('refuses a hold request (orders commit cash now) and a payments currency the accounts do not hold', () => {
    expect(() => parse({ payments: payments([deposit, { at: '10:01:00', type: 'hold', account: 'alice', amount: '10.00' }]) })).toThrow(
      'x.json: payments.requests[1].type: "hold" is for scenarios without accounts trading on cash',
    );
    expect(() => parse({ payments: payments([deposit], { currency: { code: 'EUR', minorExponent: 2 } }) })).toThrow(
      'x.json: payments.currency: EUR with 2 decimals, but accounts[0] ("alice") holds USD with 2',
    );
    // Without a back office a hold still stands in for spending.
    expect(parseScenario(JSON.stringify({ ...base, accounts: [{ id: 'alice' }], payments: payments([deposit, { at: '10:01:00', type: 'hold', account: 'alice', amount: '10.00' }]) }), 'x.json').payments).not.toBeNull();
  });

  it('payments-ach-return writes one journal: trades and payment transfers in ledger.sqlite, the deficit in positions.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exsim-one-ledger-'));
    try {
      const sc = loadScenario(join(import.meta.dirname, '..', 'scenarios', 'payments-ach-return.json'));
      await runScenario({ scenario: sc, outDir: dir, feedThread: 'inline', outputThread: 'inline', audit: false });
      const db = new Database(join(dir, 'ledger.sqlite'), { readonly: true });
      try {
        const codes = db.prepare('SELECT code, COUNT(DISTINCT transfer_id) AS n FROM journal GROUP BY code ORDER BY code').all() as { code: string; n: number }[];
        expect(Object.fromEntries(codes.map((c) => [c.code, c.n]))).toMatchObject({ trade: 3, deposit: 3, adjustment: 1, settlement: 6 });
        const names = (db.prepare('SELECT name FROM ledger_accounts').all() as { name: string }[]).map((r) => r.name);
        expect(names).toEqual(expect.arrayContaining(['alice:cash-available', 'alice:cash-pending-deposit', 'deposits-in-transit:USD', 'alice:ACME']));
        const sums = db.prepare('SELECT a.asset AS asset, SUM(j.amount) AS s FROM journal j JOIN ledger_accounts a ON a.id = j.account GROUP BY a.asset').all() as { s: number }[];
        for (const r of sums) expect(r.s).toBe(0);
      } finally {
        db.close();
      }
      const pos = JSON.parse(readFileSync(join(dir, 'positions.json'), 'utf8')) as { accounts: Record<string, string>[] };
      expect(pos.accounts.find((a) => a.account === 'alice')).toMatchObject({ cashAvailable: '-4400.00', equity: '-88.00' });
      const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { extra: { payments: { accounts: { account: string; available: string }[] } } };
      // The payments' view and the accounts' view are one ledger.
      expect(summary.extra.payments.accounts.find((a) => a.account === 'alice')!.available).toBe('-4400.00');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
