import { describe, expect, it } from 'vitest';
import { BusinessCalendar, parseDate, tsOfDay } from './calendar.js';
import { Clearing } from './clearing.js';
import { DEFAULT_FRAUD_SCORES, FraudDecisionKind, FraudEngine, KycStatus } from './fraud.js';
import { IdempotencyStore } from './idempotency.js';
import { Direction, type Payment, PaymentPostings, PaymentReason, PaymentState, Rail, canTransition, paymentIdOfRef, paymentRef } from './payment.js';
import { Rails } from './rails.js';
import { BreakClass, Reconciler } from './recon.js';

const H = 3_600_000_000_000;
const MON = parseDate('2026-01-05');

function setup() {
  const cal = new BusinessCalendar(['2026-01-07']);
  const clearing = new Clearing({ currencies: [{ code: 'USD', minorExponent: 2 }], instruments: [], accounts: [{ name: 'a', currency: 0, firm: 0 }], calendar: cal, scenarioDay: MON });
  return { cal, clearing, post: new PaymentPostings(clearing, 1) };
}

function payment(direction: Direction, rail: Rail, amountMinor: number, instantMinor = 0): Payment {
  return { id: 1, key: 'k', requestIndex: 0, account: 0, direction, rail, bank: 0, amountMinor, instantMinor, state: PaymentState.Created, reason: PaymentReason.None, createdNs: 0, updatedNs: 0, version: 0, attempts: 0, bankMoves: [] };
}

function walk(p: Payment, post: PaymentPostings, states: PaymentState[]): void {
  for (const s of states) {
    post.post(p, s, 0);
    p.state = s;
  }
}

describe('payment postings', () => {
  it('an ACH deposit: instant part available at once, the rest at settlement; a return takes it all back', () => {
    const { clearing, post } = setup();
    const p = payment(Direction.Deposit, Rail.Ach, 10_000, 1_000);
    walk(p, post, [PaymentState.Pending]);
    expect(post.availableMinor(0)).toBe(1_000);
    expect(post.pendingDepositMinor(0)).toBe(9_000);
    walk(p, post, [PaymentState.Submitted, PaymentState.Settled]);
    expect(post.availableMinor(0)).toBe(10_000);
    expect(post.bankMinor(0)).toBe(10_000);
    walk(p, post, [PaymentState.Returned]);
    expect(post.availableMinor(0)).toBe(0);
    expect(post.bankMinor(0)).toBe(0);
    clearing.ledger.checkConsistency();
    // The portfolio's net deposits follow cash-available (the clearing's equity identity).
    expect(clearing.portfolio.netDepositsMinor(0)).toBe(0);
  });

  it('a withdrawal: held, in transit, paid; a failure after submission puts it back', () => {
    const { clearing, post } = setup();
    walk(payment(Direction.Deposit, Rail.Wire, 5_000), post, [PaymentState.Pending, PaymentState.Submitted, PaymentState.Settled]);
    const w = payment(Direction.Withdrawal, Rail.Wire, 2_000);
    walk(w, post, [PaymentState.Pending]);
    expect(post.availableMinor(0)).toBe(3_000);
    expect(post.withdrawalHoldMinor(0)).toBe(2_000);
    walk(w, post, [PaymentState.Submitted, PaymentState.Failed]);
    expect(post.availableMinor(0)).toBe(5_000);
    expect(post.bankMinor(0)).toBe(5_000);
    clearing.ledger.checkConsistency();
  });

  it('refuses transitions the state machine does not have; a settled wire is irrevocable', () => {
    const { post } = setup();
    const w = payment(Direction.Deposit, Rail.Wire, 100);
    walk(w, post, [PaymentState.Pending, PaymentState.Submitted, PaymentState.Settled]);
    expect(() => post.post(w, PaymentState.Returned, 0)).toThrow(/no transition settled -> returned/);
    expect(() => post.post(w, PaymentState.Settled, 0)).toThrow(/no transition settled -> settled/);
    expect(canTransition(PaymentState.Settled, PaymentState.Returned, Rail.Ach)).toBe(true);
    expect(canTransition(PaymentState.Created, PaymentState.Settled, Rail.Ach)).toBe(false);
    expect(paymentIdOfRef(paymentRef(42))).toBe(42);
    expect(paymentIdOfRef('FEE-1')).toBe(0);
  });
});

describe('rails', () => {
  const { cal } = setup();
  const rails = new Rails(cal, MON, { cutoffsNs: [10.5 * H, 14.5 * H], settlementDays: 1, settleTimeNs: 8.5 * H, returnDelayDays: 2 }, { openNs: 8 * H, cutoffNs: 17 * H, processingNs: H / 2 });
  it('ACH waits for the next cutoff and settles T+1 on business days (Wednesday is a holiday)', () => {
    expect(rails.achBatchNs(9 * H)).toBe(10.5 * H);
    expect(rails.achBatchNs(12 * H)).toBe(14.5 * H);
    // After the last cutoff on Monday: Tuesday's first batch, settling Thursday (Wednesday is a holiday).
    const b = rails.achBatchNs(15 * H);
    expect(b).toBe(tsOfDay(MON, MON + 1, 10.5 * H));
    expect(rails.achSettlementNs(b)).toBe(tsOfDay(MON, MON + 3, 8.5 * H));
    // A return two business days after a Friday settlement arrives on Tuesday.
    expect(rails.achReturnNs(tsOfDay(MON, MON + 4, 8.5 * H))).toBe(tsOfDay(MON, MON + 8, 8.5 * H));
  });
  it('a wire settles the same day before its cutoff, the next business day after it', () => {
    expect(rails.wireSettlementNs(11 * H)).toBe(11.5 * H);
    expect(rails.wireSettlementNs(6 * H)).toBe(8.5 * H);
    expect(rails.wireSettlementNs(tsOfDay(MON, MON + 1, 18 * H))).toBe(tsOfDay(MON, MON + 3, 8.5 * H));
  });
});

describe('idempotency', () => {
  it('same key and body replays, another body conflicts', () => {
    const s = new IdempotencyStore<number>();
    expect(s.check('k', 'a')).toEqual({ kind: 'new' });
    s.remember('k', 'a', 7);
    expect(s.check('k', 'a')).toEqual({ kind: 'replay', result: 7 });
    expect(s.check('k', 'b')).toEqual({ kind: 'conflict', result: 7 });
    expect(() => s.remember('k', 'a', 8)).toThrow();
  });
});

describe('fraud rules', () => {
  const rules = { maxDepositsPerDay: 1, depositLimitMinor: 1_000, withdrawalLimitMinor: 500, newAccountDays: 10, achInstantMinor: 100, alertScore: 60, scores: DEFAULT_FRAUD_SCORES };
  const f = () => new FraudEngine(rules, [{ kyc: KycStatus.Verified, openedDay: 0 }, { kyc: KycStatus.Pending, openedDay: 0 }, { kyc: KycStatus.Verified, openedDay: MON - 2 }]);
  const dep = (account: number, amountMinor: number, rail = Rail.Ach) => ({ account, direction: Direction.Deposit, rail, amountMinor, day: MON });
  const wd = (account: number, amountMinor: number) => ({ account, direction: Direction.Withdrawal, rail: Rail.Ach, amountMinor, day: MON });
  const bal = (availableMinor: number, unsettledInstantMinor = 0) => ({ availableMinor, unsettledInstantMinor });
  it('each rule decides and names itself', () => {
    const e = f();
    expect(e.decide(dep(0, 500), bal(0))).toMatchObject({ decision: FraudDecisionKind.Allow, instantMinor: 100 });
    expect(e.decide(dep(0, 500), bal(0))).toMatchObject({ decision: FraudDecisionKind.Block, rule: PaymentReason.Velocity });
    expect(e.decide(dep(2, 2_000), bal(0))).toMatchObject({ decision: FraudDecisionKind.Block, rule: PaymentReason.AmountLimit, score: 90, alert: true });
    expect(e.decide(dep(2, 200), bal(0))).toMatchObject({ decision: FraudDecisionKind.Hold, rule: PaymentReason.NewAccount, instantMinor: 0 });
    expect(e.decide(wd(1, 10), bal(100))).toMatchObject({ decision: FraudDecisionKind.Block, rule: PaymentReason.Kyc, alert: true });
    expect(e.decide(wd(2, 10), bal(100))).toMatchObject({ decision: FraudDecisionKind.Block, rule: PaymentReason.NewAccount });
    expect(e.decide(wd(0, 200), bal(100))).toMatchObject({ decision: FraudDecisionKind.Block, rule: PaymentReason.InsufficientFunds });
    expect(e.decide(wd(0, 50), bal(100, 100))).toMatchObject({ decision: FraudDecisionKind.Block, rule: PaymentReason.UnsettledAch });
    expect(e.decide(wd(0, 50), bal(100, 50))).toMatchObject({ decision: FraudDecisionKind.Allow });
    expect(e.decide(dep(0, 500, Rail.Wire), bal(0)).instantMinor).toBe(0);
  });
});

describe('reconciler', () => {
  it('classifies by reference, then by amount and window, and resolves timing breaks', () => {
    let id = 0;
    const r = new Reconciler({ bank: 0, withinWindow: (a, b) => b - a <= 1, paymentIdOf: (ref) => (ref.startsWith('P') ? Number(ref.slice(1)) : 0), nextBreakId: () => ++id });
    const d1 = r.runDay(
      1,
      [
        { ref: 'P1', day: 1, amountMinor: 100 },
        { ref: 'P2', day: 1, amountMinor: 200 },
        { ref: 'P3', day: 1, amountMinor: 300 },
        { ref: 'P4', day: 1, amountMinor: 400 },
      ],
      [
        { ref: 'P1', day: 1, amountMinor: 100 },
        { ref: 'P1', day: 1, amountMinor: 100 },
        { ref: 'P2', day: 1, amountMinor: 250 },
        { ref: 'LOSTREF', day: 1, amountMinor: 400 },
        { ref: 'P9', day: 1, amountMinor: 900 },
        { ref: 'FEE', day: 1, amountMinor: -5 },
      ],
    );
    expect(d1.matched).toBe(2);
    expect(d1.found.map((b) => [BreakClass[b.cls], b.ref])).toEqual([
      ['AmountMismatch', 'P2'],
      ['Duplicate', 'P1'],
      ['MissingInBank', 'P3'],
      ['MissingInLedger', 'P9'],
      ['UnknownItem', 'FEE'],
    ]);
    const d2 = r.runDay(2, [], [{ ref: 'P3', day: 2, amountMinor: 300 }]);
    expect(d2.resolved.map((b) => [BreakClass[b.cls], b.ref, b.status])).toEqual([['Timing', 'P3', 'resolved']]);
    expect(r.openBreaks).toBe(4);
  });

  it('matches a line that lost its reference by amount across days inside the window, and not outside it', () => {
    let id = 0;
    // Window of 2 days; our references start with P.
    const r = new Reconciler({ bank: 0, withinWindow: (a, b) => b - a <= 2, paymentIdOf: (ref) => (ref.startsWith('P') ? Number(ref.slice(1)) : 0), nextBreakId: () => ++id });
    const d1 = r.runDay(
      10,
      [
        { ref: 'P1', day: 10, amountMinor: 100 },
        { ref: 'P2', day: 10, amountMinor: 200 },
        { ref: 'P3', day: 10, amountMinor: -300 },
      ],
      [],
    );
    expect(d1.found.map((b) => b.ref)).toEqual(['P1', 'P2', 'P3']);
    // Day 12 (inside the window): an untraced 200 resolves P2; a -300 with the wrong sign as +300 does not touch P3.
    const d2 = r.runDay(12, [], [
      { ref: 'TRACE-A', day: 12, amountMinor: 200 },
      { ref: 'TRACE-B', day: 12, amountMinor: 300 },
    ]);
    expect(d2.resolved.map((b) => [b.ref, BreakClass[b.cls], b.status, b.resolvedDay, b.bankAmountMinor])).toEqual([['P2', 'Timing', 'resolved', 12, 200]]);
    expect(d2.found.map((b) => [BreakClass[b.cls], b.ref])).toEqual([['UnknownItem', 'TRACE-B']]);
    // Day 13 (outside the window of day 10): an untraced 100 no longer matches P1.
    const d3 = r.runDay(13, [], [{ ref: 'TRACE-C', day: 13, amountMinor: 100 }]);
    expect(d3.resolved).toEqual([]);
    expect(d3.found.map((b) => [BreakClass[b.cls], b.ref])).toEqual([['UnknownItem', 'TRACE-C']]);
    expect(r.breaks.find((b) => b.ref === 'P1')!.status).toBe('open');
    // Same day, a ledger item booked late (value day 11) and an untraced line of day 13: outside 2 days, no match.
    const d4 = r.runDay(14, [{ ref: 'P4', day: 11, amountMinor: 50 }], [{ ref: 'TRACE-D', day: 14, amountMinor: 50 }]);
    expect(d4.matched).toBe(0);
    expect(d4.found.map((b) => [BreakClass[b.cls], b.ref])).toEqual([['MissingInBank', 'P4'], ['UnknownItem', 'TRACE-D']]);
  });
});
