import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BackOffice, type BackOfficeConfig } from '../engine/back-office.js';
import { BusinessCalendar, parseDate } from '../engine/calendar.js';
import { CommandRecord, CommandType } from '../engine/command.js';
import { EventType, type EventRecord } from '../engine/event.js';
import { Exchange, type OrderHooks } from '../engine/exchange.js';
import { equityTerms } from '../engine/margin.js';
import { notionalRule } from '../engine/money.js';
import { QueueModel } from '../engine/replay-venue.js';
import { OrderType, RejectReason, Side, StpMode, TimeInForce } from '../engine/types.js';
import { runScenario } from '../sim/run.js';
import { loadScenario } from '../sim/scenario.js';

/**
 * The back office on a replayed instrument: own fills against the recorded market go through
 * the order hooks (positions, fees, P&L, risk's open orders and reservations, the ledger), with
 * the street accounts as the recorded market's side, so the ledger balances after every event.
 */

const root = join(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'exsim-replay-bo-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const INS = [{ index: 0, symbol: 'XYZ', tickSize: '0.01', lotSize: '1', referencePriceTicks: 10_000, priceBandBps: 0 }];
const ACCTS = [
  { name: 'q', type: 'cash' as const, cash: 2_000_000 },
  { name: 'm', type: 'margin' as const, cash: 1_000_000 },
];

function config(): BackOfficeConfig {
  const r = notionalRule('0.01', '1', 2);
  return {
    currencies: [{ code: 'USD', minorExponent: 2 }],
    instruments: [{ symbol: 'XYZ', currency: 0, num: r.num, den: r.den, isFuture: false, makerBps: -2, takerBps: 10, referencePriceTicks: 10_000, margin: equityTerms(), markTo: 'last', street: true }],
    accounts: ACCTS.map((a) => ({ name: a.name, currency: 0, firm: 0, type: a.type, depositMinor: a.cash })),
    firms: [{}],
    calendar: new BusinessCalendar([]),
    scenarioDay: parseDate('2012-06-21'),
    settlementLagDays: 1,
  };
}

function setup(): { ex: Exchange; bo: BackOffice; events: EventRecord[]; cmd: (f: Partial<CommandRecord>) => void } {
  const bo = new BackOffice(config());
  const events: EventRecord[] = [];
  const cl = bo.clearing;
  const ex = new Exchange(
    { instruments: INS, accounts: ACCTS.map((a) => ({ name: a.name, stp: StpMode.None })), quotes: false, levels: 0, replay: [QueueModel.Pessimistic], orderHooks: bo },
    {
      emit(e) {
        events.push(Object.assign(Object.create(Object.getPrototypeOf(e) as object) as EventRecord, e));
        const where = `after seq ${e.seq} (${EventType[e.type]})`;
        expect(cl.ledger.trialBalance().every((v) => v === 0), `ledger balanced ${where}`).toBe(true);
        let pos = 0;
        for (let a = 0; a < ACCTS.length; a++) {
          pos += cl.positionLots(a, 0);
          expect(cl.equityMinor(a, bo.marks), `equity identity ${where}`).toBe(cl.portfolio.accountEquityMinor(a, bo.marks));
        }
        // The customers' positions are what the venue delivered from / to the recorded market.
        expect(cl.ledger.normalBalance(cl.streetSecuritiesAccount(0)), `street securities ${where}`).toBe(pos);
        expect(cl.ledger.balance(cl.clearingSecuritiesAccount(0))).toBe(0);
      },
    },
  );
  bo.attach(ex);
  bo.fundAccounts(0);
  const c = new CommandRecord();
  let t = 34_200_000_000_000;
  const cmd = (f: Partial<CommandRecord>): void => {
    c.clear();
    c.tsNs = ++t;
    Object.assign(c, f);
    ex.apply(c);
  };
  ex.openSession(t);
  // The recorded book: bid 100.00 x 50; asks 100.10 x 40, 100.20 x 60, 100.40 x 30.
  cmd({ type: CommandType.HistAdd, side: Side.Buy, priceTicks: 10_000, sizeLots: 50 });
  cmd({ type: CommandType.HistAdd, side: Side.Sell, priceTicks: 10_010, sizeLots: 40 });
  cmd({ type: CommandType.HistAdd, side: Side.Sell, priceTicks: 10_020, sizeLots: 60 });
  cmd({ type: CommandType.HistAdd, side: Side.Sell, priceTicks: 10_040, sizeLots: 30 });
  return { ex, bo, events, cmd };
}

const fees = (events: EventRecord[]): number[] => events.filter((e) => e.type === EventType.Fee).map((e) => e.amountMinor);

describe('back office on a replayed instrument', () => {
  it('a crossing own order fills against the street: position, taker fees, unsettled cash, risk released', () => {
    const { bo, events, cmd } = setup();
    cmd({ type: CommandType.Submit, account: 0, clOrdId: 1, side: Side.Buy, orderType: OrderType.Limit, tif: TimeInForce.IOC, priceTicks: 10_020, sizeLots: 70 });
    const fills = events.filter((e) => e.type === EventType.Fill);
    expect(fills.map((e) => [e.priceTicks, e.sizeLots])).toEqual([[10_010, 40], [10_020, 30]]);
    // 40 x 100.10 = 4,004.00 -> fee 4.004 -> 4.01; 30 x 100.20 = 3,006.00 -> 3.006 -> 3.01 (10 bp, rounded up).
    expect(fees(events)).toEqual([401, 301]);
    const cl = bo.clearing;
    expect(cl.positionLots(0, 0)).toBe(70);
    expect(bo.risk.position(0, 0)).toBe(70);
    expect(cl.portfolio.accountFeesMinor(0)).toBe(702);
    expect(cl.unsettledCashMinor(0)).toBe(-(400_400 + 300_600 + 702));
    // An asset of the venue: negative while it owes the recorded market for what it bought there.
    expect(cl.ledger.normalBalance(cl.streetCashAccount(0))).toBe(-(400_400 + 300_600));
    expect(bo.risk.openOrders(0)).toBe(0);
    expect(bo.risk.reservedMinor(0)).toBe(0);
  });

  it('a resting own order filled through by the recorded market pays the maker rate and keeps its open-order count until done', () => {
    const { bo, events, cmd } = setup();
    cmd({ type: CommandType.Submit, account: 1, clOrdId: 1, side: Side.Sell, orderType: OrderType.Limit, tif: TimeInForce.GTC, priceTicks: 10_030, sizeLots: 20 });
    expect(bo.risk.openOrders(1)).toBe(1);
    // A recorded execution at 100.40 on the ask side: our 100.30 offer would have been hit first.
    cmd({ type: CommandType.HistExecute, side: Side.Sell, priceTicks: 10_040, sizeLots: 12, clOrdId: 7 });
    const fill = events.find((e) => e.type === EventType.Fill)!;
    expect([fill.priceTicks, fill.sizeLots, fill.leavesLots]).toEqual([10_030, 12, 8]);
    // 12 x 100.30 = 1,203.60 -> rebate 0.24072 -> 0.24 (rounded down in magnitude).
    expect(fees(events)).toEqual([-24]);
    expect(bo.clearing.positionLots(1, 0)).toBe(-12);
    expect(bo.risk.position(1, 0)).toBe(-12);
    expect(bo.risk.openOrders(1)).toBe(1);
    cmd({ type: CommandType.Cancel, account: 1, clOrdId: 1 });
    expect(bo.risk.openOrders(1)).toBe(0);
    expect(bo.risk.reservedMinor(1)).toBe(0);
  });

  it('a market order is reserved at the worst displayed price it reaches, and buying power counts street fills', () => {
    const { bo, events, cmd } = setup();
    // 20,000.00 of cash; 199 lots walk past every displayed ask, so the reservation is at the
    // last one, 100.40: 199 x (100.40 + 0.11 fee reserve) = 20,001.49 > 20,000.00 -> refused.
    cmd({ type: CommandType.Submit, account: 0, clOrdId: 1, side: Side.Buy, orderType: OrderType.Market, tif: TimeInForce.IOC, sizeLots: 199 });
    expect(events.at(-1)!.type).toBe(EventType.OrderRejected);
    expect(events.at(-1)!.reason).toBe(RejectReason.InsufficientBuyingPower);
    cmd({ type: CommandType.Submit, account: 0, clOrdId: 2, side: Side.Buy, orderType: OrderType.Market, tif: TimeInForce.IOC, sizeLots: 100 });
    expect(bo.clearing.positionLots(0, 0)).toBe(100);
    expect(bo.risk.reservedMinor(0)).toBe(0);
    // What is left (about 20,000 - 10,019 - fees) does not buy another 100 at 100.20-100.40.
    cmd({ type: CommandType.Submit, account: 0, clOrdId: 3, side: Side.Buy, orderType: OrderType.Limit, tif: TimeInForce.IOC, priceTicks: 10_040, sizeLots: 100 });
    expect(events.at(-1)!.type).toBe(EventType.OrderRejected);
    expect(events.at(-1)!.reason).toBe(RejectReason.InsufficientBuyingPower);
  });

  it('marks a replayed instrument to the recorded market at the close', () => {
    const { bo, ex, cmd } = setup();
    cmd({ type: CommandType.Submit, account: 0, clOrdId: 1, side: Side.Buy, orderType: OrderType.Limit, tif: TimeInForce.IOC, priceTicks: 10_010, sizeLots: 10 });
    cmd({ type: CommandType.HistTrade, side: Side.Buy, priceTicks: 9_990, sizeLots: 5, flags: 4, clOrdId: 9 });
    expect(ex.lastTrade(0)).toBe(9_990);
    expect(bo.updateMarks()[0]).toBe(9_990);
    expect(bo.equityMinor(0)).toBe(2_000_000 - 100_100 - 101 + 10 * 9_990);
  });

  it('refuses order hooks without onFill on a venue with a replayed instrument', () => {
    const bo = new BackOffice(config());
    const partial: OrderHooks = { check: (c, id) => bo.check(c, id), onAccepted: () => {}, onTrade: () => {}, onReduced: () => {}, onModified: () => {} };
    expect(() => new Exchange({ instruments: INS, accounts: [{ name: 'q', stp: StpMode.None }], quotes: false, levels: 0, replay: [QueueModel.Pessimistic], orderHooks: partial }, { emit: () => {} })).toThrow(/onFill/);
  });

  const data = join(root, 'fixtures', 'data', 'lobster', 'AAPL_2012-06-21_message_50_first672.csv');
  it.skipIf(!existsSync(data))('replay-aapl-accounts: positions, fees, P&L and the ledger after the fills', async () => {
    const sc = loadScenario(join(root, 'scenarios', 'replay-aapl-accounts.json'));
    const out = join(work, 'aapl');
    await runScenario({ scenario: sc, outDir: out, feedThread: 'inline', outputThread: 'inline', audit: false });
    const pos = JSON.parse(readFileSync(join(out, 'positions.json'), 'utf8')) as { accounts: Record<string, string>[]; positions: Record<string, string>[]; marks: Record<string, string> };
    expect(pos.marks).toEqual({ AAPL: '585.44' });
    expect(pos.positions).toHaveLength(1);
    expect(pos.positions[0]).toMatchObject({ instrument: 'AAPL', position: '135', mark: '585.44', fees: '2.25' });
    expect(pos.accounts[0]).toMatchObject({ account: 'quant', cashAvailable: '20899.08', cashUnsettled: '0.00', equity: '99933.48', fees: '2.25', pnl: '-66.52' });
    const pnl = JSON.parse(readFileSync(join(out, 'pnl.json'), 'utf8')) as { daily: Record<string, string>[] };
    expect(pnl.daily.map((d) => [d.date, d.day])).toEqual([['2012-06-21', '-66.52'], ['2012-06-22', '0.00']]);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { extra: { accounts: { ledger: { balanced: boolean } } } };
    expect(summary.extra.accounts.ledger.balanced).toBe(true);
  });
});
