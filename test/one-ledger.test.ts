import { describe, expect, it } from 'vitest';
import { BackOffice, LIQUIDATION_CLORDID_BASE, type BackOfficeConfig } from '../engine/back-office.js';
import { BusinessCalendar, NS_PER_DAY, parseDate } from '../engine/calendar.js';
import { CommandRecord, CommandType } from '../engine/command.js';
import { EventRecord, EventType, type EventSink } from '../engine/event.js';
import { Exchange } from '../engine/exchange.js';
import { DEFAULT_FRAUD_SCORES, KycStatus } from '../engine/fraud.js';
import type { Instrument } from '../engine/instrument.js';
import { equityTerms } from '../engine/margin.js';
import { notionalRule } from '../engine/money.js';
import { Direction, PaymentReason, PaymentState, Rail, isTerminal } from '../engine/payment.js';
import { OrderType, RejectReason, Side, StpMode, TimeInForce } from '../engine/types.js';
import { TimerQueue } from '../sim/clock.js';
import type { PaymentRequestSpec, PaymentsConfig } from '../sim/payments-config.js';
import { PaymentsSystem } from '../sim/payments.js';
import { rngStream } from '../sim/rng.js';

/**
 * One ledger for trading and payments, driven through the REAL exchange, back office and
 * payments system on one virtual clock, from a seed: random orders (a market maker and
 * customers funded only by deposits), random deposits and withdrawals by ACH and wire with
 * scripted and random returns, client re-sends, and bank faults (timeouts, 5xx, 429,
 * duplicate and out-of-order callbacks, late returns). After every event: the ledger
 * balances per asset; cash + positions at mark = equity from P&L for every account;
 * customers' positions sum to zero; the bank account holds exactly the movements the
 * payments recorded; a cash account is negative only after one of its deposits came back;
 * a withdrawal goes pending only within what open orders and unsettled purchases leave free;
 * no payment settles or returns twice. After every command: ledger = portfolio = risk.
 */

const NS_S = 1_000_000_000;
const NS_H = 3600 * NS_S;
const USD = { code: 'USD', minorExponent: 2 };
const START = parseDate('2026-01-05');
const DAYS = 8; // Monday to the next Monday's morning: six business days, a weekend
const INSTRUMENTS: Instrument[] = [{ index: 0, symbol: 'ACME', tickSize: '0.01', lotSize: '1', referencePriceTicks: 10_000, priceBandBps: 0 }];
const ACCOUNTS = [
  { name: 'mm', type: 'margin' as const, cash: 100_000_000 },
  { name: 'c0', type: 'cash' as const, cash: 0 },
  { name: 'c1', type: 'cash' as const, cash: 0 },
  { name: 'c2', type: 'cash' as const, cash: 0, unsettledUseBps: 5_000 },
  { name: 'm0', type: 'margin' as const, cash: 0 },
];
const OPEN_NS = 9.5 * NS_H;
const CLOSE_NS = 16 * NS_H;

function backOfficeConfig(): BackOfficeConfig {
  const r = notionalRule('0.01', '1', 2);
  return {
    currencies: [USD],
    instruments: [
      { symbol: 'ACME', currency: 0, num: r.num, den: r.den, isFuture: false, makerBps: -0.2, takerBps: 0.5, referencePriceTicks: 10_000, margin: equityTerms(), markTo: 'last' },
    ],
    accounts: ACCOUNTS.map((a) => ({ name: a.name, currency: 0, firm: 0, type: a.type, depositMinor: a.cash, ...(a.unsettledUseBps !== undefined ? { unsettledUseBps: a.unsettledUseBps } : {}) })),
    firms: [{}],
    calendar: new BusinessCalendar([]),
    scenarioDay: START,
    settlementLagDays: 1,
  };
}

function paymentsConfig(seed: number): PaymentsConfig {
  const rng = rngStream(seed, 'test/one-ledger/requests');
  const requests: PaymentRequestSpec[] = [];
  let t = 8 * NS_H;
  for (let i = 0; i < 70; i++) {
    t += rng.int(10, 150 * 60) * NS_S;
    if (t >= (DAYS - 1) * NS_PER_DAY) break;
    const u = rng.next();
    if (u < 0.1 && requests.length > 0) {
      const r = rng.pick(requests);
      requests.push({ ...r, index: requests.length, atNs: t, amountMinor: rng.next() < 0.3 ? r.amountMinor + 1 : r.amountMinor });
      continue;
    }
    const deposit = u < 0.6;
    const rail = rng.next() < 0.7 ? Rail.Ach : Rail.Wire;
    requests.push({
      index: requests.length,
      atNs: t,
      type: deposit ? 'deposit' : 'withdrawal',
      direction: deposit ? Direction.Deposit : Direction.Withdrawal,
      rail,
      account: rng.int(1, ACCOUNTS.length - 1),
      amountMinor: rng.int(10, 3000) * 100,
      idempotencyKey: `k${i}`,
      bank: 0,
      outcome: deposit && rail === Rail.Ach && rng.next() < 0.3 ? { kind: 'return', code: PaymentReason.R01 } : null,
    });
  }
  return {
    currency: USD,
    startDay: START,
    days: DAYS,
    holidays: [],
    ach: { cutoffsNs: [10.5 * NS_H, 14.5 * NS_H], settlementDays: 1, settleTimeNs: 8.5 * NS_H, returnDelayDays: 1 },
    wire: { openNs: 8 * NS_H, cutoffNs: 17 * NS_H, processingNs: 1800 * NS_S },
    retry: { maxAttempts: 4, baseDelayNs: NS_S, maxDelayNs: 30 * NS_S, jitter: 0.5, timeoutNs: 10 * NS_S },
    banks: [
      {
        name: 'bank',
        rateLimitPerSec: 5,
        latencyNs: 200_000_000,
        callbackLatencyNs: NS_S,
        faults: { timeout: 0.15, timeoutProcessed: 0.5, serverError: 0.1, rateLimit: 0.05, retryAfterNs: 2 * NS_S, duplicateCallback: 0.4, outOfOrder: 0.3, lateReturn: 0.2, lateReturnDays: 1, returnRate: 0.05, outages: [] },
      },
    ],
    accounts: ACCOUNTS.map(() => ({ kyc: KycStatus.Verified, openedDay: 0 })),
    rules: { maxDepositsPerDay: 0, depositLimitMinor: 0, withdrawalLimitMinor: 0, newAccountDays: 0, achInstantMinor: 50_000, alertScore: 50, scores: DEFAULT_FRAUD_SCORES },
    requests,
    recon: { windowDays: 1, statementTimeNs: 23 * NS_H, breaks: [] },
  };
}

interface Tally {
  events: number;
  trades: number;
  settled: Map<number, number>;
  returned: Map<number, number>;
  bpRejects: number;
  withdrawalsBlocked: number;
  withdrawalsPaid: number;
  negativeSeen: number;
}

function run(seed: number): Tally {
  const tally: Tally = { events: 0, trades: 0, settled: new Map(), returned: new Map(), bpRejects: 0, withdrawalsBlocked: 0, withdrawalsPaid: 0, negativeSeen: 0 };
  const bo = new BackOffice(backOfficeConfig());
  const cl = bo.clearing;
  const L = cl.ledger;
  let sys: PaymentsSystem | null = null;
  const depositReturned = new Uint8Array(ACCOUNTS.length);
  let initialBank = 0;
  const fail = (what: string, e: EventRecord): never => {
    throw new Error(`seed ${seed}: ${what} after seq ${e.seq} (${EventType[e.type]}) at ${e.tsNs} ns`);
  };
  const sink: EventSink = {
    emit(e: EventRecord): void {
      tally.events++;
      if (e.type === EventType.Trade) tally.trades++;
      if (e.type === EventType.OrderRejected && e.reason === RejectReason.InsufficientBuyingPower) tally.bpRejects++;
      if (e.type === EventType.PaymentState && sys !== null) {
        const p = sys.payments[e.ref - 1]!;
        if (e.code === PaymentState.Settled) tally.settled.set(e.ref, (tally.settled.get(e.ref) ?? 0) + 1);
        if (e.code === PaymentState.Returned) tally.returned.set(e.ref, (tally.returned.get(e.ref) ?? 0) + 1);
        if (p.direction === Direction.Deposit && e.code === PaymentState.Returned) depositReturned[p.account] = 1;
        if (p.direction === Direction.Withdrawal && e.code === PaymentState.Failed && e.flags === PaymentState.Created) tally.withdrawalsBlocked++;
        if (p.direction === Direction.Withdrawal && e.code === PaymentState.Settled) tally.withdrawalsPaid++;
        // Funds on hold came out of what was free: nothing committed to orders or purchases was paid out.
        if (p.direction === Direction.Withdrawal && e.code === PaymentState.Pending && bo.withdrawableMinor(p.account) < 0) fail(`withdrawal ${p.id} of ${p.amountMinor} took committed cash (withdrawable now ${bo.withdrawableMinor(p.account)})`, e);
      }
      const tb = L.trialBalance();
      if (tb.some((v) => v !== 0)) fail(`ledger out of balance: ${tb.join(',')}`, e);
      const marks = bo.marks;
      let pos = 0;
      for (let a = 0; a < ACCOUNTS.length; a++) {
        const equity = cl.equityMinor(a, marks);
        const fromPnl = cl.portfolio.accountEquityMinor(a, marks);
        if (equity !== fromPnl) fail(`account ${ACCOUNTS[a]!.name}: cash + positions at mark ${equity} != equity from P&L ${fromPnl}`, e);
        if (!bo.isMarginAccount(a) && cl.cashMinor(a) < 0) {
          if (depositReturned[a] === 0) fail(`cash account ${ACCOUNTS[a]!.name} negative (${cl.cashMinor(a)}) without a returned deposit`, e);
          tally.negativeSeen++;
        }
        pos += cl.positionLots(a, 0);
      }
      if (pos !== 0 || L.balance(cl.clearingSecuritiesAccount(0)) !== 0) fail(`positions sum to ${pos}`, e);
      if (sys !== null) {
        let moved = 0;
        for (const p of sys.payments) for (const m of p.bankMoves) moved += m.amountMinor;
        if (L.normalBalance(cl.bankAccount(0)) !== initialBank + moved) fail(`bank holds ${L.normalBalance(cl.bankAccount(0))}, payments moved ${moved} on ${initialBank}`, e);
      }
    },
  };
  const ex = new Exchange({ instruments: INSTRUMENTS, accounts: ACCOUNTS.map((a) => ({ name: a.name, stp: StpMode.None })), quotes: false, levels: 0, orderHooks: bo }, sink);
  bo.attach(ex);
  bo.fundAccounts(0);
  initialBank = L.normalBalance(cl.bankAccount(0));
  const timers = new TimerQueue<(t: number) => void>();
  let now = 0;
  const scheduler = { schedule: (t: number, f: (t: number) => void) => timers.schedule(Math.max(t, now), f) };
  const cfg = paymentsConfig(seed);
  sys = new PaymentsSystem(cfg, ACCOUNTS.map((a) => a.name), seed, scheduler, ex, cl, (a) => bo.withdrawableMinor(a));
  sys.start();

  const rng = rngStream(seed, 'test/one-ledger/orders');
  const cmd = new CommandRecord();
  const liq = new CommandRecord();
  const nextClOrd = new Array<number>(ACCOUNTS.length).fill(0);
  let mid = 10_000;
  let liqSeq = 0;
  const calendar = new BusinessCalendar([]);
  const order = (t: number): void => {
    const a = rng.next() < 0.3 ? 0 : rng.int(1, ACCOUNTS.length - 1);
    mid = Math.max(100, mid + rng.int(-4, 4));
    const u = rng.next();
    cmd.clear();
    cmd.tsNs = t;
    cmd.instrument = 0;
    cmd.account = a;
    if (u < 0.65 || nextClOrd[a] === 0) {
      cmd.type = CommandType.Submit;
      cmd.clOrdId = ++nextClOrd[a]!;
      cmd.side = rng.next() < 0.5 ? Side.Buy : Side.Sell;
      const market = u > 0.55 && u < 0.65;
      cmd.orderType = market ? OrderType.Market : OrderType.Limit;
      cmd.tif = market ? TimeInForce.IOC : TimeInForce.GTC;
      cmd.priceTicks = market ? 0 : mid + (cmd.side === Side.Buy ? -1 : 1) * rng.int(-3, 10);
      cmd.sizeLots = a === 0 ? rng.int(10, 80) : rng.int(1, 40);
    } else {
      cmd.type = CommandType.Cancel;
      cmd.clOrdId = rng.int(1, nextClOrd[a]!);
    }
    ex.apply(cmd);
    for (let round = 0; round < 4; round++) {
      const victims = bo.accountsToLiquidate();
      if (victims.length === 0) break;
      for (const v of victims) {
        const plan = bo.planLiquidation(v);
        if (plan.length === 0) continue;
        bo.announceLiquidation(t, v);
        for (const o of plan) bo.submitLiquidation(t, v, o, LIQUIDATION_CLORDID_BASE + ++liqSeq, (c) => ex.apply(c), liq);
      }
    }
    for (let k = 0; k < ACCOUNTS.length; k++) {
      const p = cl.positionLots(k, 0);
      if (p !== cl.portfolio.position(k, 0) || p !== bo.risk.position(k, 0)) throw new Error(`seed ${seed}: account ${k}: ledger ${p}, portfolio ${cl.portfolio.position(k, 0)}, risk ${bo.risk.position(k, 0)}`);
    }
  };
  for (let d = START; d < START + DAYS - 1; d++) {
    if (!calendar.isBusinessDay(d)) continue;
    const base = (d - START) * NS_PER_DAY;
    timers.schedule(base + OPEN_NS, (t) => ex.openSession(t));
    let t = base + OPEN_NS + NS_S;
    for (let n = 0; n < 400; n++) {
      t += rng.int(1, 100) * NS_S / 2;
      if (t >= base + CLOSE_NS) break;
      timers.schedule(t, order);
    }
    timers.schedule(base + CLOSE_NS, (t) => {
      ex.closeSession(t);
      const r = bo.jobs.begin(d, t);
      if (!r.done) throw new Error(`seed ${seed}: end-of-day jobs did not finish`);
    });
  }
  for (let k = 0; timers.size > 0; k++) {
    if (k > 2_000_000) throw new Error(`seed ${seed}: runaway timers`);
    now = timers.peekTime();
    timers.pop()!(now);
  }
  L.checkConsistency();
  for (const p of sys.payments) if (!isTerminal(p.state)) throw new Error(`seed ${seed}: payment ${p.id} ended ${p.state}`);
  const keys = new Set(cfg.requests.map((r) => r.idempotencyKey));
  if (sys.payments.length !== keys.size) throw new Error(`seed ${seed}: ${sys.payments.length} payments for ${keys.size} keys`);
  return tally;
}

describe('one ledger: trading and payments through the real exchange', () => {
  const totals = { returns: 0, negative: 0, bp: 0, blocked: 0, paid: 0 };
  // Seed 9 is the one of these whose flow leaves a cash account in deficit after a returned deposit.
  for (const seed of [1, 2, 3, 4, 5, 6, 9]) {
    it(`seed ${seed}: balances after every event, nothing credited or paid twice, committed cash never withdrawn`, () => {
      const t = run(seed);
      // No deposit credited twice, no withdrawal paid twice, no return applied twice.
      for (const [id, n] of [...t.settled, ...t.returned]) expect(n, `seed ${seed}: payment ${id}`).toBe(1);
      expect(t.trades, `seed ${seed}`).toBeGreaterThan(100);
      expect(t.settled.size, `seed ${seed}`).toBeGreaterThan(5);
      totals.returns += t.returned.size;
      totals.negative += t.negativeSeen;
      totals.bp += t.bpRejects;
      totals.blocked += t.withdrawalsBlocked;
      totals.paid += t.withdrawalsPaid;
    });
  }
  it('the seeds exercised returns after trading, deficits, buying-power rejects and withdrawals both ways', () => {
    expect(totals.returns).toBeGreaterThan(0);
    expect(totals.negative).toBeGreaterThan(0);
    expect(totals.bp).toBeGreaterThan(0);
    expect(totals.blocked).toBeGreaterThan(0);
    expect(totals.paid).toBeGreaterThan(0);
  });
});
