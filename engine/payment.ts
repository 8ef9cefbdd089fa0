/**
 * Payments: a deposit or withdrawal moving through a bank, as a state machine whose every
 * transition is one ledger transfer (or none, where no money moves) and one event.
 *
 *   created --fraud allow--> pending --bank ack--> submitted --bank settled--> settled --ACH return--> returned
 *      |                        |                      |
 *      +--fraud block--> failed +--bank unreachable--> cancelled
 *                                                      +--bank rejected--> failed
 *
 * Ledger (see docs/payments.md; X = amount, I = the instant part of an ACH deposit):
 * - deposit pending:   deposits-in-transit +X, cash-available -I, cash-pending-deposit -(X-I)
 * - deposit settled:   bank +X, deposits-in-transit -X; cash-pending-deposit +(X-I), cash-available -(X-I)
 * - deposit cancelled/failed (before settlement): the pending posting reversed
 * - deposit returned (after settlement): cash-available +X, bank -X (available may go negative:
 *   the customer spent money that never arrived; the deficit is reported, not hidden)
 * - withdrawal pending: cash-available +X, cash-withdrawal-hold -X (funds on hold)
 * - withdrawal submitted: cash-withdrawal-hold +X, payouts-in-transit -X
 * - withdrawal settled: payouts-in-transit +X, bank -X
 * - withdrawal cancelled: hold released; failed: payouts-in-transit back to available;
 *   returned (after settlement): bank +X, cash-available -X
 * Balances are liabilities (credit-normal), so a negative posting raises the customer's figure.
 *
 * `PaymentPostings` is the one place that turns a transition into postings, given a Clearing:
 * whoever owns the Clearing (the back office when the scenario has one, so trading and payments
 * share one ledger; otherwise the payments system itself) applies payment postings through it. It also keeps the portfolio's net deposits in step with
 * cash-available, so the clearing's equity identity still holds.
 */
import { InvariantError } from './assert.js';
import type { Clearing } from './clearing.js';
import { AccountKind, TransferCode } from './ledger.js';

export enum PaymentState {
  Created = 0,
  Pending = 1,
  Submitted = 2,
  Settled = 3,
  Returned = 4,
  Failed = 5,
  Cancelled = 6,
}
export const PAYMENT_STATE_NAME = ['created', 'pending', 'submitted', 'settled', 'returned', 'failed', 'cancelled'] as const;

export enum Direction {
  Deposit = 0,
  Withdrawal = 1,
}
export const DIRECTION_NAME = ['deposit', 'withdrawal'] as const;

export enum Rail {
  Ach = 0,
  Wire = 1,
}
export const RAIL_NAME = ['ach', 'wire'] as const;

/** Why a payment is where it is: ACH return codes, bank outcomes and the fraud rule that decided. */
export enum PaymentReason {
  None = 0,
  R01 = 1,
  R02 = 2,
  R03 = 3,
  R04 = 4,
  R10 = 5,
  R16 = 6,
  R29 = 7,
  /** Retries exhausted: the bank never acknowledged the payment. */
  BankUnavailable = 8,
  /** A wire the beneficiary bank refused before settlement. */
  WireRejected = 9,
  Kyc = 10,
  Velocity = 11,
  AmountLimit = 12,
  NewAccount = 13,
  UnsettledAch = 14,
  InsufficientFunds = 15,
}
export const PAYMENT_REASON_NAME = [
  'none',
  'R01',
  'R02',
  'R03',
  'R04',
  'R10',
  'R16',
  'R29',
  'bank-unavailable',
  'wire-rejected',
  'kyc',
  'velocity',
  'amount-limit',
  'new-account',
  'unsettled-ach',
  'insufficient-funds',
] as const;

export function isTerminal(s: PaymentState): boolean {
  return s === PaymentState.Returned || s === PaymentState.Failed || s === PaymentState.Cancelled || s === PaymentState.Settled;
}

/** Allowed transitions; settled is terminal for wires (irrevocable) and for ACH only a return leaves it. */
export function canTransition(from: PaymentState, to: PaymentState, rail: Rail): boolean {
  switch (from) {
    case PaymentState.Created:
      return to === PaymentState.Pending || to === PaymentState.Failed;
    case PaymentState.Pending:
      return to === PaymentState.Submitted || to === PaymentState.Cancelled;
    case PaymentState.Submitted:
      return to === PaymentState.Settled || to === PaymentState.Failed;
    case PaymentState.Settled:
      return to === PaymentState.Returned && rail === Rail.Ach;
    default:
      return false;
  }
}

/** One payment. Plain object: payments are few (thousands a day), not a hot path. */
export interface Payment {
  readonly id: number;
  readonly key: string;
  readonly requestIndex: number;
  readonly account: number;
  readonly direction: Direction;
  readonly rail: Rail;
  readonly bank: number;
  readonly amountMinor: number;
  /** Part of an ACH deposit made available before settlement (buying power); 0 otherwise. */
  instantMinor: number;
  state: PaymentState;
  reason: PaymentReason;
  createdNs: number;
  /** Virtual time of the last transition. */
  updatedNs: number;
  /** Highest bank callback version applied (callbacks are applied in version order). */
  version: number;
  attempts: number;
  /**
   * What our ledger moved at the bank account for this payment: +in / -out, on the bank's value
   * day (for reconciliation). `reconciled` once a daily run has taken it (a late callback books
   * a movement after its value day's run: the next run takes it).
   */
  readonly bankMoves: { day: number; amountMinor: number; reconciled: boolean }[];
}

export interface PaymentPostingResult {
  /** The customer-facing amount the transition moved (0 when it posts nothing). */
  amountMinor: number;
  /** The ledger's signed movement at the bank account: +money in, -money out, 0 none. */
  bankMinor: number;
}

export class PaymentPostings {
  private readonly pendingDepId: Int32Array;
  private readonly wdHoldId: Int32Array;
  private readonly inTransitId: number[] = [];
  private readonly payoutsId: number[] = [];
  private readonly bankId: number[] = [];
  private readonly currencyOf: Int32Array;

  constructor(
    readonly clearing: Clearing,
    accountCount: number,
  ) {
    const L = clearing.ledger;
    const byAsset = new Map<number, number>();
    this.currencyOf = new Int32Array(accountCount);
    for (let a = 0; a < accountCount; a++) {
      const asset = L.accountAsset(clearing.cashAvailableAccount(a));
      let c = byAsset.get(asset);
      if (c === undefined) {
        c = this.bankId.length;
        byAsset.set(asset, c);
        const code = L.assetCode(asset);
        // The clearing's bank account for this currency is the one whose asset matches.
        let bank = -1;
        for (let k = 0; bank < 0; k++) if (L.accountAsset(clearing.bankAccount(k)) === asset) bank = clearing.bankAccount(k);
        this.bankId.push(bank);
        this.inTransitId.push(L.openAccount(`deposits-in-transit:${code}`, asset, AccountKind.Asset));
        this.payoutsId.push(L.openAccount(`payouts-in-transit:${code}`, asset, AccountKind.Liability));
      }
      this.currencyOf[a] = c;
    }
    this.pendingDepId = Int32Array.from({ length: accountCount }, (_, a) => {
      const name = L.accountName(clearing.cashAvailableAccount(a)).replace(/:cash-available$/, '');
      return L.openAccount(`${name}:cash-pending-deposit`, L.accountAsset(clearing.cashAvailableAccount(a)), AccountKind.Liability);
    });
    this.wdHoldId = Int32Array.from({ length: accountCount }, (_, a) => {
      const name = L.accountName(clearing.cashAvailableAccount(a)).replace(/:cash-available$/, '');
      return L.openAccount(`${name}:cash-withdrawal-hold`, L.accountAsset(clearing.cashAvailableAccount(a)), AccountKind.Liability);
    });
  }

  availableMinor(account: number): number {
    return this.clearing.ledger.normalBalance(this.clearing.cashAvailableAccount(account));
  }
  pendingDepositMinor(account: number): number {
    return this.clearing.ledger.normalBalance(this.pendingDepId[account]!);
  }
  withdrawalHoldMinor(account: number): number {
    return this.clearing.ledger.normalBalance(this.wdHoldId[account]!);
  }
  bankMinor(account: number): number {
    return this.clearing.ledger.normalBalance(this.bankId[this.currencyOf[account]!]!);
  }
  pendingDepositAccount(account: number): number {
    return this.pendingDepId[account]!;
  }
  withdrawalHoldAccount(account: number): number {
    return this.wdHoldId[account]!;
  }

  /**
   * Post the ledger transfer of `p` moving to `to` (p.state is still the old state).
   * Throws InvariantError on a transition the state machine does not allow.
   */
  post(p: Payment, to: PaymentState, tsNs: number): PaymentPostingResult {
    if (!canTransition(p.state, to, p.rail)) {
      throw new InvariantError(`payment ${p.id}: no transition ${PAYMENT_STATE_NAME[p.state]} -> ${PAYMENT_STATE_NAME[to]}`);
    }
    const L = this.clearing.ledger;
    const a = p.account;
    const cur = this.currencyOf[a]!;
    const X = p.amountMinor;
    const I = p.instantMinor;
    const avail = this.clearing.cashAvailableAccount(a);
    const pend = this.pendingDepId[a]!;
    const hold = this.wdHoldId[a]!;
    const bank = this.bankId[cur]!;
    const transit = this.inTransitId[cur]!;
    const payouts = this.payoutsId[cur]!;
    const availBefore = L.normalBalance(avail);
    let amount = X;
    let bankMinor = 0;
    const from = p.state;
    if (p.direction === Direction.Deposit) {
      if (to === PaymentState.Pending) {
        L.begin(tsNs, TransferCode.Deposit, p.id);
        L.post(transit, X);
        L.post(avail, -I);
        L.post(pend, -(X - I));
        L.commit();
      } else if (to === PaymentState.Settled) {
        L.begin(tsNs, TransferCode.Deposit, p.id);
        L.post(bank, X);
        L.post(transit, -X);
        L.post(pend, X - I);
        L.post(avail, -(X - I));
        L.commit();
        bankMinor = X;
      } else if ((to === PaymentState.Cancelled || to === PaymentState.Failed) && from !== PaymentState.Created) {
        L.begin(tsNs, TransferCode.Adjustment, p.id);
        L.post(avail, I);
        L.post(pend, X - I);
        L.post(transit, -X);
        L.commit();
      } else if (to === PaymentState.Returned) {
        L.move(tsNs, TransferCode.Adjustment, p.id, avail, bank, X);
        bankMinor = -X;
      } else {
        amount = 0;
      }
    } else {
      if (to === PaymentState.Pending) {
        L.move(tsNs, TransferCode.Hold, p.id, avail, hold, X);
      } else if (to === PaymentState.Submitted) {
        L.move(tsNs, TransferCode.Withdrawal, p.id, hold, payouts, X);
      } else if (to === PaymentState.Settled) {
        L.move(tsNs, TransferCode.Withdrawal, p.id, payouts, bank, X);
        bankMinor = -X;
      } else if (to === PaymentState.Cancelled) {
        L.move(tsNs, TransferCode.Release, p.id, hold, avail, X);
      } else if (to === PaymentState.Failed && from === PaymentState.Submitted) {
        L.move(tsNs, TransferCode.Adjustment, p.id, payouts, avail, X);
      } else if (to === PaymentState.Returned) {
        L.move(tsNs, TransferCode.Adjustment, p.id, bank, avail, X);
        bankMinor = X;
      } else {
        amount = 0;
      }
    }
    const delta = L.normalBalance(avail) - availBefore;
    if (delta !== 0) this.clearing.portfolio.onDeposit(a, delta);
    return { amountMinor: amount, bankMinor };
  }
}

/** Our reference for a payment, as sent to the bank and printed on its statement. */
export function paymentRef(id: number): string {
  return `PMT${String(id).padStart(6, '0')}`;
}

/** The payment id of one of our references, 0 for any other string. */
export function paymentIdOfRef(ref: string): number {
  const m = /^PMT(\d{6,15})$/.exec(ref);
  return m ? Number(m[1]) : 0;
}

// Enums carried by payment events (`code` of each type), named in the canonical line.
/** payment-requested: a new payment, an idempotent replay of one, or a key reused with another body. */
export const REQUEST_OUTCOME_NAME = ['new', 'replay', 'conflict'] as const;
/** bank-call `op`: only submissions today. */
export const BANK_OP_NAME = ['submit'] as const;
/** bank-response `result`. */
export const CALL_RESULT_NAME = ['ok', 'timeout', 'server-error', 'rate-limited'] as const;
export type CallResultName = (typeof CALL_RESULT_NAME)[number];
/** bank-callback `status`. */
export const CALLBACK_STATUS_NAME = ['settled', 'returned', 'failed'] as const;
export type CallbackStatus = (typeof CALLBACK_STATUS_NAME)[number];
/** cash-hold `result`. */
export const CASH_HOLD_RESULT_NAME = ['accepted', 'insufficient-funds'] as const;
/** bank-callback flags. */
export const CB_DUPLICATE = 1;
export const CB_EARLY = 2;
export const CB_STALE = 4;
