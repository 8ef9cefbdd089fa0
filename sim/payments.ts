/**
 * The payments back office of a run: takes deposit and withdrawal requests (idempotent by
 * key), runs the fraud rules, drives each payment through the bank with retries, applies
 * the bank's callbacks (deduplicated and put back in order), and reconciles every business
 * day against each bank's statement. Every state change is an event published through the
 * venue's sink (one sequence), and every money movement a ledger transfer on a Clearing.
 *
 * Multi-day: the session of the exchange stays one day; the payments system schedules its
 * own business days (scenario `payments.days` calendar days from the session date) on the
 * same virtual clock, which simply runs past midnight. See docs/payments.md.
 */
import { BusinessCalendar, dayOfTs, tsOfDay } from '../engine/calendar.js';
import { Clearing } from '../engine/clearing.js';
import { fromUnits } from '../engine/decimal.js';
import { type EventRecord, EventType } from '../engine/event.js';
import { FraudDecisionKind, FraudEngine } from '../engine/fraud.js';
import { IdempotencyStore } from '../engine/idempotency.js';
import {
  DIRECTION_NAME,
  Direction,
  PAYMENT_REASON_NAME,
  PAYMENT_STATE_NAME,
  type Payment,
  PaymentPostings,
  PaymentReason,
  PaymentState,
  CB_DUPLICATE,
  CB_EARLY,
  CB_STALE,
  RAIL_NAME,
  Rail,
  paymentIdOfRef,
  paymentRef,
} from '../engine/payment.js';
import { Rails } from '../engine/rails.js';
import { BREAK_CLASS_NAME, type ReconBreak, type ReconItem, Reconciler, breakTotals } from '../engine/recon.js';
import { type BankCallback, type CallResult, SimBank, type Scheduler } from './bank.js';
import type { PaymentRequestSpec, PaymentsConfig, ScriptedOutcome } from './payments-config.js';
import { type Rng, rngStream } from './rng.js';

/** Where payment events go: the exchange implements it, so they share its sequence. */
export interface EventPublisher {
  /** A cleared record of `type` at `tsNs` (instrument -1); fill it, then call publishExtra(). */
  beginExtra(type: EventType, tsNs: number): EventRecord;
  publishExtra(): void;
}

const CALL_RESULT_CODE = { ok: 0, timeout: 1, 'server-error': 2, 'rate-limited': 3 } as const;
const CALLBACK_STATUS_CODE = { settled: 0, returned: 1, failed: 2 } as const;

/** Retries scheduled per payment are bounded by the policy; this bounds the policy. */
export const RETRY_ATTEMPTS_MAX = 32;

export interface FraudAuditRow {
  paymentId: number;
  rule: string;
  decision: string;
  score: number;
  alert: boolean;
}

export class PaymentsSystem {
  readonly clearing: Clearing;
  readonly postings: PaymentPostings;
  readonly payments: Payment[] = [];
  readonly banks: SimBank[];
  readonly reconcilers: Reconciler[];
  readonly fraudAudit: FraudAuditRow[] = [];
  readonly calendar: BusinessCalendar;
  readonly rails: Rails;
  readonly minorUnit: string;
  private readonly idem = new IdempotencyStore<number>();
  private readonly fraud: FraudEngine;
  private readonly retryRng: Rng[];
  private readonly nextSlotNs: number[];
  private readonly unsettledInstant: Float64Array;
  private readonly early = new Map<number, BankCallback[]>();
  /** Scripted bank outcomes by payment id (what the simulated bank will do; not our knowledge). */
  private readonly outcomes = new Map<number, ScriptedOutcome | null>();
  private breakSeq = 0;
  requestsSeen = 0;
  replays = 0;
  conflicts = 0;
  callbacksApplied = 0;
  callbacksDuplicate = 0;
  callbacksEarly = 0;
  callbacksStale = 0;
  bankCalls = 0;
  holdsAccepted = 0;
  holdsRejected = 0;

  constructor(
    readonly cfg: PaymentsConfig,
    readonly accountNames: readonly string[],
    seed: number,
    private readonly scheduler: Scheduler,
    private readonly pub: EventPublisher,
    clearing?: Clearing,
    /**
     * With a back office on the same Clearing: what an account may withdraw now
     * (BackOffice.withdrawableMinor: available less cash committed to open orders and unsettled
     * purchases). Without it a withdrawal is checked against cash-available alone.
     */
    private readonly withdrawable?: (account: number) => number,
  ) {
    this.calendar = new BusinessCalendar(cfg.holidays);
    this.rails = new Rails(this.calendar, cfg.startDay, cfg.ach, cfg.wire);
    this.minorUnit = cfg.currency.minorExponent === 0 ? '1' : `0.${'0'.repeat(cfg.currency.minorExponent - 1)}1`;
    this.clearing =
      clearing ??
      new Clearing({
        currencies: [cfg.currency],
        instruments: [],
        accounts: accountNames.map((name) => ({ name, currency: 0, firm: 0 })),
        calendar: this.calendar,
        scenarioDay: cfg.startDay,
      });
    this.postings = new PaymentPostings(this.clearing, accountNames.length);
    this.fraud = new FraudEngine(cfg.rules, cfg.accounts);
    this.unsettledInstant = new Float64Array(accountNames.length);
    // Injections name payments by idempotency key, known only once the request arrives: resolved when a statement is written.
    this.banks = cfg.banks.map((b, i) => new SimBank(i, b, seed, this.rails, scheduler, (cb, t) => this.onCallback(cb, t), cfg.recon.breaks, (key) => this.refOfKey(key)));
    this.retryRng = cfg.banks.map((b) => rngStream(seed, `payments/retry/${b.name}`));
    this.nextSlotNs = cfg.banks.map(() => 0);
    this.reconcilers = cfg.banks.map(
      (_, i) =>
        new Reconciler({
          bank: i,
          withinWindow: (a, b) => this.calendar.addBusinessDays(a, cfg.recon.windowDays) >= b,
          paymentIdOf: (ref) => {
            const id = paymentIdOfRef(ref);
            return id > 0 && id <= this.payments.length ? id : 0;
          },
          nextBreakId: () => ++this.breakSeq,
        }),
    );
  }

  private refOfKey(key: string): string {
    const id = this.idem.resultOf(key);
    return id === undefined ? key : paymentRef(id);
  }

  /** Schedule every request and every business day's reconciliation. */
  start(): void {
    for (const r of this.cfg.requests) this.scheduler.schedule(r.atNs, (t) => this.request(r, t));
    for (let d = this.cfg.startDay; d < this.cfg.startDay + this.cfg.days; d++) {
      if (!this.calendar.isBusinessDay(d)) continue;
      this.scheduler.schedule(tsOfDay(this.cfg.startDay, d, this.cfg.recon.statementTimeNs), (t) => {
        for (let b = 0; b < this.banks.length; b++) this.reconcile(b, d, t);
      });
    }
  }

  // ---- requests ----------------------------------------------------------------------

  request(r: PaymentRequestSpec, t: number): void {
    this.requestsSeen++;
    if (r.type === 'hold') {
      this.cashHold(r, t);
      return;
    }
    const fp = `${r.type}|${RAIL_NAME[r.rail]}|${r.account}|${r.amountMinor}|${r.bank}`;
    const chk = this.idem.check(r.idempotencyKey, fp);
    if (chk.kind !== 'new') {
      if (chk.kind === 'replay') this.replays++;
      else this.conflicts++;
      this.emitRequested(r, t, chk.result, chk.kind === 'replay' ? 1 : 2);
      return;
    }
    const p: Payment = {
      id: this.payments.length + 1,
      key: r.idempotencyKey,
      requestIndex: r.index,
      account: r.account,
      direction: r.direction,
      rail: r.rail,
      bank: r.bank,
      amountMinor: r.amountMinor,
      instantMinor: 0,
      state: PaymentState.Created,
      reason: PaymentReason.None,
      createdNs: t,
      updatedNs: t,
      version: 0,
      attempts: 0,
      bankMoves: [],
    };
    this.payments.push(p);
    this.idem.remember(r.idempotencyKey, fp, p.id);
    this.emitRequested(r, t, p.id, 0);
    this.outcomes.set(p.id, r.outcome);

    const day = dayOfTs(this.cfg.startDay, t);
    const d = this.fraud.decide(
      { account: p.account, direction: p.direction, rail: p.rail, amountMinor: p.amountMinor, day },
      { availableMinor: this.freeCashMinor(p.account), unsettledInstantMinor: this.unsettledInstant[p.account]! },
    );
    this.fraudAudit.push({ paymentId: p.id, rule: PAYMENT_REASON_NAME[d.rule], decision: ['allow', 'hold', 'block'][d.decision]!, score: d.score, alert: d.alert });
    const e = this.pub.beginExtra(EventType.FraudDecision, t);
    e.ref = p.id;
    e.account = p.account;
    e.code = d.decision;
    e.reason = d.rule;
    e.priceTicks = d.score;
    e.flags = d.alert ? 1 : 0;
    this.pub.publishExtra();
    if (d.decision === FraudDecisionKind.Block) {
      this.transition(p, PaymentState.Failed, d.rule, t);
      return;
    }
    p.instantMinor = d.instantMinor;
    this.transition(p, PaymentState.Pending, d.rule, t);
    this.attempt(p, t);
  }

  /** Cash a withdrawal may take: cash-available, or less when the venue has committed some of it. */
  private freeCashMinor(account: number): number {
    const avail = this.postings.availableMinor(account);
    if (this.withdrawable === undefined) return avail;
    const w = this.withdrawable(account);
    return w < avail ? w : avail;
  }

  private cashHold(r: PaymentRequestSpec, t: number): void {
    const avail = this.postings.availableMinor(r.account);
    const ok = r.amountMinor <= avail;
    if (ok) {
      this.clearing.hold(t, r.account, r.amountMinor);
      this.holdsAccepted++;
    } else {
      this.holdsRejected++;
    }
    const e = this.pub.beginExtra(EventType.CashHold, t);
    e.account = r.account;
    e.actionIndex = r.index;
    e.amountMinor = r.amountMinor;
    e.amount2Minor = this.postings.availableMinor(r.account);
    e.code = ok ? 0 : 1;
    this.pub.publishExtra();
  }

  private emitRequested(r: PaymentRequestSpec, t: number, paymentId: number, outcome: number): void {
    const e = this.pub.beginExtra(EventType.PaymentRequested, t);
    e.ref = paymentId;
    e.actionIndex = r.index;
    e.account = r.account;
    e.side = r.direction;
    e.orderType = r.rail;
    e.tif = r.bank;
    e.amountMinor = r.amountMinor;
    e.code = outcome;
    this.pub.publishExtra();
  }

  // ---- state machine -------------------------------------------------------------------

  /** @param valueDay the bank's value date of a settlement or return (recon books movements on it). */
  private transition(p: Payment, to: PaymentState, reason: PaymentReason, t: number, valueDay = dayOfTs(this.cfg.startDay, t)): void {
    const from = p.state;
    const res = this.postings.post(p, to, t);
    if (p.direction === Direction.Deposit && p.instantMinor > 0) {
      if (to === PaymentState.Pending) this.unsettledInstant[p.account] += p.instantMinor;
      else if ((from === PaymentState.Pending || from === PaymentState.Submitted) && to !== PaymentState.Submitted) this.unsettledInstant[p.account] -= p.instantMinor;
    }
    p.state = to;
    if (reason !== PaymentReason.None) p.reason = reason;
    p.updatedNs = t;
    if (res.bankMinor !== 0) p.bankMoves.push({ day: valueDay, amountMinor: res.bankMinor, reconciled: false });
    const e = this.pub.beginExtra(EventType.PaymentState, t);
    e.ref = p.id;
    e.account = p.account;
    e.flags = from;
    e.code = to;
    e.reason = reason;
    e.amountMinor = res.amountMinor;
    e.amount2Minor = this.postings.availableMinor(p.account);
    this.pub.publishExtra();
  }

  // ---- bank calls ----------------------------------------------------------------------

  private attempt(p: Payment, t: number): void {
    if (p.state !== PaymentState.Pending) return;
    const bank = this.banks[p.bank]!;
    // Client-side rate limit: calls to one partner are spaced by 1/rate.
    const slot = this.nextSlotNs[p.bank]!;
    if (slot > t) {
      this.scheduler.schedule(slot, (t2) => this.attempt(p, t2));
      return;
    }
    this.nextSlotNs[p.bank] = t + Math.ceil(1e9 / bank.cfg.rateLimitPerSec);
    p.attempts++;
    this.bankCalls++;
    const attemptNo = p.attempts;
    const e = this.pub.beginExtra(EventType.BankCall, t);
    e.ref = p.id;
    e.tif = p.bank;
    e.code = 0;
    e.mdSeq = attemptNo;
    this.pub.publishExtra();
    const outcome = this.outcomes.get(p.id) ?? null;
    const r = bank.call(t, { paymentId: p.id, direction: p.direction, rail: p.rail, amountMinor: p.amountMinor, outcome });
    const at = t + (r.kind === 'timeout' ? this.cfg.retry.timeoutNs : bank.cfg.latencyNs);
    this.scheduler.schedule(at, (t2) => this.onResponse(p, r, attemptNo, t2));
  }

  private backoffNs(bank: number, attempt: number): number {
    const R = this.cfg.retry;
    const base = Math.min(R.maxDelayNs, R.baseDelayNs * 2 ** Math.min(attempt - 1, 30));
    return base + Math.floor(base * R.jitter * this.retryRng[bank]!.next());
  }

  private onResponse(p: Payment, r: CallResult, attemptNo: number, t: number): void {
    const stillPending = p.state === PaymentState.Pending;
    let nextNs = 0;
    if (stillPending && r.kind !== 'ok' && attemptNo < this.cfg.retry.maxAttempts) {
      nextNs = t + (r.kind === 'rate-limited' ? r.retryAfterNs : this.backoffNs(p.bank, attemptNo));
    }
    const e = this.pub.beginExtra(EventType.BankResponse, t);
    e.ref = p.id;
    e.tif = p.bank;
    e.mdSeq = attemptNo;
    e.code = CALL_RESULT_CODE[r.kind];
    e.orderId = nextNs;
    this.pub.publishExtra();
    // A callback may have moved the payment on already (the bank processed a call we saw time out).
    if (!stillPending) return;
    if (r.kind === 'ok') this.transition(p, PaymentState.Submitted, PaymentReason.None, t);
    else if (nextNs > 0) this.scheduler.schedule(nextNs, (t2) => this.attempt(p, t2));
    else this.transition(p, PaymentState.Cancelled, PaymentReason.BankUnavailable, t);
  }

  // ---- callbacks -----------------------------------------------------------------------

  private onCallback(cb: BankCallback, t: number): void {
    const p = this.payments[cb.paymentId - 1]!;
    const queued = this.early.get(p.id);
    let flags = 0;
    if (cb.version <= p.version || queued?.some((q) => q.version === cb.version)) flags = CB_DUPLICATE;
    else if (p.state === PaymentState.Cancelled) flags = CB_STALE;
    else if (cb.version > p.version + 1) flags = CB_EARLY;
    const e = this.pub.beginExtra(EventType.BankCallback, t);
    e.ref = p.id;
    e.tif = cb.bank;
    e.code = CALLBACK_STATUS_CODE[cb.status];
    e.reason = cb.reason;
    e.mdSeq = cb.version;
    e.amountMinor = cb.amountMinor;
    e.flags = flags;
    this.pub.publishExtra();
    if (flags === CB_DUPLICATE) {
      this.callbacksDuplicate++;
      return;
    }
    if (flags === CB_STALE) {
      this.callbacksStale++;
      return;
    }
    if (flags === CB_EARLY) {
      this.callbacksEarly++;
      if (queued) queued.push(cb);
      else this.early.set(p.id, [cb]);
      return;
    }
    this.apply(p, cb, t);
    for (;;) {
      const q = this.early.get(p.id);
      const i = q ? q.findIndex((c) => c.version === p.version + 1) : -1;
      if (i < 0) break;
      const next = q!.splice(i, 1)[0]!;
      if (q!.length === 0) this.early.delete(p.id);
      this.apply(p, next, t);
    }
  }

  private apply(p: Payment, cb: BankCallback, t: number): void {
    this.callbacksApplied++;
    p.version = cb.version;
    // The callback proves the bank accepted the payment, even if our call's answer is still out.
    if (p.state === PaymentState.Pending) this.transition(p, PaymentState.Submitted, PaymentReason.None, t);
    if (cb.status === 'settled') this.transition(p, PaymentState.Settled, PaymentReason.None, t, cb.valueDay);
    else if (cb.status === 'returned') this.transition(p, PaymentState.Returned, cb.reason, t, cb.valueDay);
    else this.transition(p, PaymentState.Failed, cb.reason, t, cb.valueDay);
  }

  // ---- reconciliation ----------------------------------------------------------------

  private reconcile(b: number, day: number, t: number): void {
    const ledger: ReconItem[] = [];
    for (const p of this.payments) {
      if (p.bank !== b) continue;
      for (const m of p.bankMoves) {
        if (m.reconciled || m.day > day) continue;
        m.reconciled = true;
        ledger.push({ ref: paymentRef(p.id), day: m.day, amountMinor: m.amountMinor });
      }
    }
    const stmt = this.banks[b]!.statement(day);
    const rec = this.reconcilers[b]!;
    const r = rec.runDay(day, ledger, stmt);
    for (const br of r.found) this.emitBreak(EventType.ReconBreak, br, br.foundAs, t);
    for (const br of r.resolved) this.emitBreak(EventType.ReconResolved, br, br.cls, t);
    const e = this.pub.beginExtra(EventType.ReconRun, t);
    e.tif = b;
    e.mdSeq = day;
    e.orderCount = r.matched;
    e.sizeLots = r.found.length;
    e.leavesLots = rec.openBreaks;
    this.pub.publishExtra();
    this.statements.push(...stmt.map((s) => ({ bank: b, ...s })));
  }

  readonly statements: (ReconItem & { bank: number })[] = [];

  private emitBreak(type: EventType, br: ReconBreak, cls: number, t: number): void {
    const e = this.pub.beginExtra(type, t);
    e.ref = br.id;
    e.orderId = br.paymentId;
    e.tif = br.bank;
    e.code = cls;
    e.mdSeq = br.day;
    e.amountMinor = br.ledgerAmountMinor ?? 0;
    e.amount2Minor = br.bankAmountMinor ?? 0;
    e.flags = (br.ledgerAmountMinor !== null ? 1 : 0) | (br.bankAmountMinor !== null ? 2 : 0);
    this.pub.publishExtra();
  }

  // ---- reports -----------------------------------------------------------------------

  get breaks(): ReconBreak[] {
    return this.reconcilers.flatMap((r) => r.breaks).sort((a, b) => a.id - b.id);
  }

  money(minor: number): string {
    return fromUnits(minor, this.minorUnit);
  }

  /** summary.json's `extra.payments`: a pure function of the run, so goldens pin it. */
  summary(): Record<string, unknown> {
    const byState: Record<string, { count: number; amount: string }> = {};
    const sums: Record<string, number> = {};
    for (const p of this.payments) {
      const k = `${DIRECTION_NAME[p.direction]}:${PAYMENT_STATE_NAME[p.state]}`;
      byState[k] ??= { count: 0, amount: '' };
      byState[k].count++;
      sums[k] = (sums[k] ?? 0) + p.amountMinor;
    }
    const states: Record<string, { count: number; amount: string }> = {};
    for (const k of Object.keys(byState).sort()) states[k] = { count: byState[k]!.count, amount: this.money(sums[k]!) };
    const totals = breakTotals(this.breaks);
    const recon: Record<string, { count: number; open: number; amount: string }> = {};
    for (const n of BREAK_CLASS_NAME) if (totals[n].count > 0) recon[n] = { count: totals[n].count, open: totals[n].open, amount: this.money(totals[n].amountMinor) };
    const tb = this.clearing.ledger.trialBalance();
    return {
      currency: this.cfg.currency.code,
      requests: this.requestsSeen,
      payments: this.payments.length,
      replays: this.replays,
      conflicts: this.conflicts,
      states,
      bankCalls: this.bankCalls,
      callbacks: { applied: this.callbacksApplied, duplicate: this.callbacksDuplicate, early: this.callbacksEarly, stale: this.callbacksStale },
      fraudBlocks: this.fraudAudit.filter((f) => f.decision === 'block').length,
      fraudAlerts: this.fraudAudit.filter((f) => f.alert).length,
      holds: { accepted: this.holdsAccepted, rejected: this.holdsRejected },
      recon,
      ledgerBalanced: tb.every((x) => x === 0),
      accounts: this.accountNames.map((name, a) => ({
        account: name,
        available: this.money(this.postings.availableMinor(a)),
        held: this.money(this.clearing.ledger.normalBalance(this.clearing.cashHeldAccount(a))),
        pendingDeposit: this.money(this.postings.pendingDepositMinor(a)),
        withdrawalHold: this.money(this.postings.withdrawalHoldMinor(a)),
      })),
    };
  }
}
