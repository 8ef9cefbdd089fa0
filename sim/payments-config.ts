/**
 * The normalised `payments` section of a scenario: integer ns and minor units only.
 * Parsed and checked by sim/payments-scenario.ts; consumed by sim/payments.ts and sim/bank.ts.
 */
import type { FraudAccount, FraudRules } from '../engine/fraud.js';
import type { Direction, PaymentReason, Rail } from '../engine/payment.js';
import type { AchRules, WireRules } from '../engine/rails.js';
import type { BreakClass } from '../engine/recon.js';

export interface BankFaults {
  /** Probability a call times out (the bank may still have processed it: `timeoutProcessed`). */
  readonly timeout: number;
  readonly timeoutProcessed: number;
  /** Probability of a 5xx (not processed). */
  readonly serverError: number;
  /** Probability of a 429 with retryAfterNs (not processed). */
  readonly rateLimit: number;
  readonly retryAfterNs: number;
  /** Probability each callback is delivered twice. */
  readonly duplicateCallback: number;
  /** Probability a payment's callbacks are delivered in reverse order. */
  readonly outOfOrder: number;
  /** Probability an ACH return comes `lateReturnDays` business days later than usual. */
  readonly lateReturn: number;
  readonly lateReturnDays: number;
  /** Probability an ACH payment without a scripted outcome is returned (random code). */
  readonly returnRate: number;
  /** Windows of virtual time in which every call fails with a server error. */
  readonly outages: readonly { fromNs: number; toNs: number }[];
}

export interface BankConfig {
  readonly name: string;
  readonly rateLimitPerSec: number;
  readonly latencyNs: number;
  readonly callbackLatencyNs: number;
  readonly faults: BankFaults;
}

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly baseDelayNs: number;
  readonly maxDelayNs: number;
  /** Fraction of the delay added at random (seeded): 0.2 = up to +20%. */
  readonly jitter: number;
  readonly timeoutNs: number;
}

/** What the bank will do with a payment, scripted per request (or drawn from returnRate). */
export type ScriptedOutcome = { kind: 'settle' } | { kind: 'return'; code: PaymentReason } | { kind: 'reject' };

export interface PaymentRequestSpec {
  readonly index: number;
  readonly atNs: number;
  readonly type: 'deposit' | 'withdrawal' | 'hold';
  readonly direction: Direction;
  readonly rail: Rail;
  readonly account: number;
  readonly amountMinor: number;
  readonly idempotencyKey: string;
  readonly bank: number;
  readonly outcome: ScriptedOutcome | null;
}

/**
 * Not a break class: the bank prints a payment's line without our reference (under one of its
 * own, `delayDays` business days late). Reconciliation must match it by amount and date window;
 * it becomes a break only when that fails (outside the window).
 */
export const LOST_REFERENCE = 'lost-reference';
export type InjectedClass = BreakClass | typeof LOST_REFERENCE;
/** The reference the bank prints on a lost-reference line when the scenario names none. */
export const LOST_REFERENCE_DEFAULT = 'NO-REFERENCE';

export interface InjectedBreak {
  readonly cls: InjectedClass;
  /** Idempotency key of the payment whose statement item is altered (null for an unknown item). */
  readonly key: string | null;
  readonly bank: number;
  /** For unknown-item and missing-in-ledger: the statement day and amount (+in / -out). */
  readonly day: number;
  readonly amountMinor: number;
  readonly reference: string;
  /** For timing and lost-reference: how many business days late the item shows. */
  readonly delayDays: number;
}

export interface PaymentsConfig {
  readonly currency: { code: string; minorExponent: number };
  /** Epoch day of the scenario date. */
  readonly startDay: number;
  /** Calendar days the payments component runs its daily jobs for. */
  readonly days: number;
  readonly holidays: readonly string[];
  readonly ach: AchRules;
  readonly wire: WireRules;
  readonly retry: RetryPolicy;
  readonly banks: readonly BankConfig[];
  readonly accounts: readonly FraudAccount[];
  readonly rules: FraudRules;
  /** In time order. */
  readonly requests: readonly PaymentRequestSpec[];
  readonly recon: { windowDays: number; statementTimeNs: number; breaks: readonly InjectedBreak[] };
}
