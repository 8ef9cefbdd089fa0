/**
 * A simulated bank partner: accepts payment submissions (idempotently, by our payment id),
 * moves the money on the rail's schedule, sends status callbacks, and writes a daily statement.
 * It misbehaves on purpose, from its own seeded stream (rngStream(seed, 'bank/<name>')):
 * timeouts (sometimes after processing the call), server errors, rate limits with a
 * retry-after, outage windows, duplicate and out-of-order callbacks, late ACH returns, and
 * statement discrepancies configured in the scenario's `recon.breaks`.
 *
 * Everything runs on the virtual clock through the scheduler it is given (the run's
 * ctx.schedule): the bank never reads a wall clock.
 */
import { dayOfTs } from '../engine/calendar.js';
import { type CallbackStatus, Direction, PaymentReason, Rail, paymentRef } from '../engine/payment.js';
import { ACH_RETURN_CODE_LIST, type Rails } from '../engine/rails.js';
import { BreakClass, type ReconItem } from '../engine/recon.js';
import { LOST_REFERENCE, type BankConfig, type InjectedBreak, type ScriptedOutcome } from './payments-config.js';
import { type Rng, rngStream } from './rng.js';

export interface Scheduler {
  schedule(timeNs: number, fire: (timeNs: number) => void): number;
}

export type CallResult = { kind: 'ok' } | { kind: 'timeout' } | { kind: 'server-error' } | { kind: 'rate-limited'; retryAfterNs: number };


export interface BankCallback {
  readonly paymentId: number;
  readonly bank: number;
  /** 1 for the first status of a payment, 2 for a return after settlement. */
  readonly version: number;
  readonly status: CallbackStatus;
  readonly reason: PaymentReason;
  readonly amountMinor: number;
  /** Epoch day the bank booked the money (its value date); the ledger records movements on it. */
  readonly valueDay: number;
}

export interface BankSubmission {
  readonly paymentId: number;
  readonly direction: Direction;
  readonly rail: Rail;
  readonly amountMinor: number;
  readonly outcome: ScriptedOutcome | null;
}

const RETURN_REASONS: PaymentReason[] = ACH_RETURN_CODE_LIST.map((c) => PaymentReason[c]);

export class SimBank {
  private readonly rng: Rng;
  /** Payment ids the bank has accepted: a retried submission never creates a second transfer. */
  private readonly accepted = new Set<number>();
  /** Money the bank actually moved, by booking day. */
  private readonly booked: ReconItem[] = [];
  private readonly injections: InjectedBreak[] = [];
  /** Times of calls within the last second, for the bank's own rate limit. */
  private readonly recentCalls: number[] = [];
  callsReceived = 0;
  callbacksSent = 0;

  constructor(
    readonly index: number,
    readonly cfg: BankConfig,
    seed: number,
    private readonly rails: Rails,
    private readonly scheduler: Scheduler,
    private readonly deliver: (cb: BankCallback, tsNs: number) => void,
    injections: readonly InjectedBreak[],
    /** Our reference of the payment requested with an idempotency key (asked when a statement is written). */
    private readonly refOfKey: (key: string) => string,
  ) {
    this.rng = rngStream(seed, `bank/${cfg.name}`);
    for (const inj of injections) if (inj.bank === index) this.injections.push(inj);
  }

  get transfers(): number {
    return this.accepted.size;
  }

  /** Every movement the bank booked (settlements and returns), as it happened: no injected statement discrepancy. */
  get movements(): readonly ReconItem[] {
    return this.booked;
  }

  /** A submission arrives at `nowNs`. The result is what the caller will see (after latency). */
  call(nowNs: number, sub: BankSubmission): CallResult {
    this.callsReceived++;
    const f = this.cfg.faults;
    for (const o of f.outages) if (nowNs >= o.fromNs && nowNs < o.toNs) return { kind: 'server-error' };
    // The bank's own limit: a client that ignores the rate gets 429s.
    const windowStart = nowNs - 1_000_000_000;
    while (this.recentCalls.length > 0 && this.recentCalls[0]! <= windowStart) this.recentCalls.shift();
    if (this.recentCalls.length >= this.cfg.rateLimitPerSec) return { kind: 'rate-limited', retryAfterNs: this.recentCalls[0]! - windowStart };
    this.recentCalls.push(nowNs);
    const u = this.rng.next();
    if (u < f.rateLimit) return { kind: 'rate-limited', retryAfterNs: f.retryAfterNs };
    if (u < f.rateLimit + f.serverError) return { kind: 'server-error' };
    if (u < f.rateLimit + f.serverError + f.timeout) {
      if (this.rng.next() < f.timeoutProcessed) this.accept(nowNs, sub);
      return { kind: 'timeout' };
    }
    this.accept(nowNs, sub);
    return { kind: 'ok' };
  }

  private accept(nowNs: number, sub: BankSubmission): void {
    if (this.accepted.has(sub.paymentId)) return;
    this.accepted.add(sub.paymentId);
    const f = this.cfg.faults;
    const rails = this.rails;
    const ref = paymentRef(sub.paymentId);
    const sign = sub.direction === Direction.Deposit ? 1 : -1;
    let outcome = sub.outcome;
    if (outcome === null) {
      outcome = sub.rail === Rail.Ach && this.rng.next() < f.returnRate ? { kind: 'return', code: this.rng.pick(RETURN_REASONS) } : { kind: 'settle' };
    }
    const day = (ts: number): number => dayOfTs(rails.scenarioDay, ts);
    const lat = this.cfg.callbackLatencyNs;
    const cb = (version: number, status: CallbackStatus, reason: PaymentReason, valueNs: number): BankCallback => ({
      paymentId: sub.paymentId,
      bank: this.index,
      version,
      status,
      reason,
      amountMinor: sub.amountMinor,
      valueDay: day(valueNs),
    });
    if (sub.rail === Rail.Wire) {
      const t = rails.wireSettlementNs(nowNs);
      if (outcome.kind === 'reject') {
        this.send(t + lat, cb(1, 'failed', PaymentReason.WireRejected, t));
        return;
      }
      // A wire is irrevocable once settled: a scripted return on a wire settles it.
      this.booked.push({ ref, day: day(t), amountMinor: sign * sub.amountMinor });
      this.send(t + lat, cb(1, 'settled', PaymentReason.None, t));
      return;
    }
    const batch = rails.achBatchNs(nowNs);
    if (outcome.kind === 'reject') {
      this.send(batch + lat, cb(1, 'failed', PaymentReason.R04, batch));
      return;
    }
    const settle = rails.achSettlementNs(batch);
    this.booked.push({ ref, day: day(settle), amountMinor: sign * sub.amountMinor });
    if (outcome.kind === 'settle') {
      this.send(settle + lat, cb(1, 'settled', PaymentReason.None, settle));
      return;
    }
    const late = this.rng.next() < f.lateReturn ? f.lateReturnDays : 0;
    const ret = rails.achReturnNs(settle, late);
    this.booked.push({ ref, day: day(ret), amountMinor: -sign * sub.amountMinor });
    const reorder = this.rng.next() < f.outOfOrder;
    this.send(reorder ? ret + 2 * lat : settle + lat, cb(1, 'settled', PaymentReason.None, settle));
    this.send(ret + lat, cb(2, 'returned', outcome.code, ret));
  }

  private send(tsNs: number, cb: BankCallback): void {
    const dup = this.rng.next() < this.cfg.faults.duplicateCallback;
    this.scheduler.schedule(tsNs, (t) => {
      this.callbacksSent++;
      this.deliver(cb, t);
    });
    if (dup) {
      this.scheduler.schedule(tsNs + this.cfg.callbackLatencyNs + 1, (t) => {
        this.callbacksSent++;
        this.deliver(cb, t);
      });
    }
  }

  /**
   * The bank's statement of `day`: what it moved, as it reports it, including the
   * configured discrepancies (an item left out, listed twice, with another amount, a
   * day late, without our reference, or an item that is not ours).
   */
  statement(day: number): ReconItem[] {
    const injectedByRef = new Map<string, InjectedBreak>();
    const out: ReconItem[] = [];
    for (const inj of this.injections) {
      if (inj.cls === BreakClass.UnknownItem || inj.cls === BreakClass.MissingInLedger) {
        if (inj.day === day) out.push({ ref: inj.key === null ? inj.reference : this.refOfKey(inj.key), day, amountMinor: inj.amountMinor });
      } else {
        injectedByRef.set(this.refOfKey(inj.key!), inj);
      }
    }
    const seen = new Set<string>();
    for (const it of this.booked) {
      // Injections alter a payment's first movement (its settlement), not a later return.
      const first = !seen.has(it.ref);
      seen.add(it.ref);
      const inj = first ? injectedByRef.get(it.ref) : undefined;
      let shownDay = it.day;
      if ((inj?.cls === BreakClass.Timing || inj?.cls === LOST_REFERENCE) && inj.delayDays > 0) shownDay = this.rails.calendar.addBusinessDays(it.day, inj.delayDays);
      if (shownDay !== day) continue;
      if (inj?.cls === BreakClass.MissingInBank) continue;
      const amountMinor = inj?.cls === BreakClass.AmountMismatch ? Math.sign(it.amountMinor) * inj.amountMinor : it.amountMinor;
      out.push({ ref: inj?.cls === LOST_REFERENCE ? inj.reference : it.ref, day, amountMinor });
      if (inj?.cls === BreakClass.Duplicate) out.push({ ref: it.ref, day, amountMinor });
    }
    return out;
  }
}
